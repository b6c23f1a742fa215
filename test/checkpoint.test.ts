import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync, rmSync, readFileSync, writeFileSync, readdirSync, mkdirSync, existsSync, truncateSync, copyFileSync, statSync, linkSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, randn, memory, cuda, type Tensor } from '../src/index.js';
import {
  saveCheckpoint, loadCheckpoint, checkpointPaths, readSafetensorsHeader, saveSafetensors, removeStaleCheckpointTemps, CHECKPOINT_VERSION,
  type HasStateDict, type HasOptimizerState,
} from '../src/io/index.js';

let root: string;
before(() => { root = mkdtempSync(join(tmpdir(), 'selfsup-checkpoint-')); });
after(() => rmSync(root, { recursive: true, force: true }));
const freshDir = (): string => mkdtempSync(join(root, 'case-'));

/** A stand-in for an nn.Module whose parameters all equal `value`, plus an int64 buffer. */
function fakeModel(value: number): HasStateDict & { params: Map<string, Tensor> } {
  const params = new Map<string, Tensor>([
    ['conv.weight', tensor(new Float32Array(2 * 3 * 3).fill(value), { shape: [2, 1, 3, 3] })],
    ['bn.num_batches_tracked', tensor(Math.round(value * 10), { dtype: 'int64' })],
    ['head.0.bias', tensor([value, -value], { dtype: 'float64' })],
  ]);
  return { params, stateDict: () => params };
}

function fakeOptimizer(step: number): HasOptimizerState {
  return {
    stateDict: () => ({
      state: new Map([['0.exp_avg', tensor([step, step * 2])], ['0.step', tensor(step, { dtype: 'int64' })]]),
      meta: { type: 'adam', lr: 0.001, betas: [0.9, 0.999], step },
    }),
  };
}

const values = (m: Map<string, Tensor>): Record<string, unknown> => Object.fromEntries([...m].map(([k, t]) => [k, [t.dtype, t.shape, t.toArray()]]));
const save = (path: string, step: number, extra: { keepPrevious?: boolean } = {}) =>
  saveCheckpoint(path, { model: fakeModel(step), optimizer: fakeOptimizer(step), meta: { epoch: step, step: step * 100 }, ...extra });
const stepOf = (path: string): unknown => loadCheckpoint(path).meta.step;
const snapshot = (d: string): Record<string, string> =>
  Object.fromEntries(readdirSync(d).map((f) => [f, readFileSync(join(d, f)).toString('base64')]));

describe('save and load', () => {
  test('round trip of model, optimizer state and meta', () => {
    const d = freshDir();
    const model = fakeModel(1.5);
    const meta = { config: { lr: 0.1, arch: 'resnet18' }, epoch: 3, step: 1200, metrics: { loss: 0.25, acc: [0.5, 0.75] } };
    const paths = saveCheckpoint(join(d, 'ckpt'), { model, optimizer: fakeOptimizer(4), meta });
    assert.deepEqual(paths, {
      tensors: join(d, 'ckpt.safetensors'), json: join(d, 'ckpt.json'),
      prevTensors: join(d, 'ckpt.prev.safetensors'), prevJson: join(d, 'ckpt.prev.json'),
    });
    assert.deepEqual(readdirSync(d).sort(), ['ckpt.json', 'ckpt.safetensors']);

    const ck = loadCheckpoint(join(d, 'ckpt'));
    assert.deepEqual(values(ck.model), values(model.params));
    assert.deepEqual(values(ck.optimizer!.state), { '0.exp_avg': ['float32', [2], [4, 8]], '0.step': ['int64', [], 4] });
    assert.deepEqual(ck.optimizer!.meta, { type: 'adam', lr: 0.001, betas: [0.9, 0.999], step: 4 });
    assert.deepEqual(ck.meta, meta);
    assert.equal(ck.version, CHECKPOINT_VERSION);
    assert.ok(!Number.isNaN(Date.parse(ck.savedAt)));

    // the files themselves: one safetensors with optimizer state under optim. and the description, its JSON copy
    const header = readSafetensorsHeader(paths.tensors);
    assert.deepEqual(header.tensors.map((t) => t.name).sort(), ['bn.num_batches_tracked', 'conv.weight', 'head.0.bias', 'optim.0.exp_avg', 'optim.0.step']);
    assert.equal(header.metadata!.format, 'selfsup.checkpoint');
    const json = JSON.parse(readFileSync(paths.json, 'utf8'));
    assert.equal(json.format, 'selfsup.checkpoint');
    assert.equal(json.version, 2);
    assert.equal(json.id, header.metadata!.checkpoint_id);
    assert.deepEqual(json.meta, meta);
  });

  test('the .json, the .safetensors and the bare name all load the same checkpoint', () => {
    const d = freshDir();
    save(join(d, 'c'), 2);
    for (const p of ['c', 'c.json', 'c.safetensors']) assert.equal(stepOf(join(d, p)), 200);
  });

  test('a directory holds checkpoint.safetensors and checkpoint.json', () => {
    const d = freshDir();
    save(d, 3);
    assert.deepEqual(readdirSync(d).sort(), ['checkpoint.json', 'checkpoint.safetensors']);
    assert.equal(stepOf(d), 300);
    const created = join(d, 'new-dir') + '/';
    save(created, 4);
    assert.deepEqual(readdirSync(created).sort(), ['checkpoint.json', 'checkpoint.safetensors']);
    assert.equal(stepOf(created), 400);
  });

  test('without an optimizer; model names may then start with optim.', () => {
    const d = freshDir();
    const params = new Map([['optim.w', tensor([1, 2])]]);
    saveCheckpoint(join(d, 'c'), { model: { stateDict: () => params }, meta: {} });
    const ck = loadCheckpoint(join(d, 'c'));
    assert.equal(ck.optimizer, null);
    assert.deepEqual(values(ck.model), { 'optim.w': ['float32', [2], [1, 2]] });
    assert.deepEqual(ck.meta, {});
  });

  test('optimizer state may also come as { tensors, meta }; anything else is refused', () => {
    const d = freshDir();
    const optimizer = { stateDict: () => ({ tensors: new Map([['0.momentum', tensor([7])]]), meta: { lr: 0.5 } }) };
    saveCheckpoint(join(d, 'c'), { model: fakeModel(1), optimizer, meta: {} });
    const ck = loadCheckpoint(join(d, 'c'));
    assert.deepEqual(values(ck.optimizer!.state), { '0.momentum': ['float32', [1], [7]] });
    assert.deepEqual(ck.optimizer!.meta, { lr: 0.5 });
    const wrong = { stateDict: () => ({ state: [tensor([1])], meta: {} }) } as unknown as HasOptimizerState;
    assert.throws(() => saveCheckpoint(join(d, 'e'), { model: fakeModel(1), optimizer: wrong, meta: {} }), /optimizer.stateDict\(\) must return \{ state: Map/);
  });

  test('a model name clashing with the optimizer prefix is refused', () => {
    const d = freshDir();
    const params = new Map([['optim.w', tensor([1, 2])]]);
    assert.throws(() => saveCheckpoint(join(d, 'c'), { model: { stateDict: () => params }, optimizer: fakeOptimizer(1), meta: {} }),
      /model tensor 'optim.w' clashes with the 'optim.' prefix/);
    assert.deepEqual(readdirSync(d), []);
  });

  test('tensors made by stateDict() for the save are freed; the model\'s own are not', () => {
    const d = freshDir();
    const own = randn([3, 3]);
    const model = { stateDict: () => new Map([['own', own], ['copy', own.mul(2)]]) };
    const before = memory().numTensors;
    saveCheckpoint(join(d, 'c'), { model, meta: {} });
    assert.equal(memory().numTensors, before);
    assert.equal(own.isDisposed, false);
    assert.deepEqual(loadCheckpoint(join(d, 'c')).model.get('own')!.toArray(), own.toArray());
  });

  test('loads onto the GPU when asked', { skip: cuda.isAvailable() ? false : 'CUDA is not available on this machine' }, () => {
    const d = freshDir();
    save(join(d, 'c'), 5);
    const ck = loadCheckpoint(join(d, 'c'), { device: 'cuda' });
    for (const t of [...ck.model.values(), ...ck.optimizer!.state.values()]) assert.match(t.device, /^cuda/);
  });
});

describe('atomicity', () => {
  test('a failing stateDict() leaves the existing checkpoint untouched', () => {
    const d = freshDir();
    save(join(d, 'c'), 1);
    const before = snapshot(d);
    const broken = { stateDict: (): Map<string, Tensor> => { throw new Error('simulated crash in stateDict'); } };
    assert.throws(() => saveCheckpoint(join(d, 'c'), { model: broken, meta: {} }), /simulated crash/);
    assert.deepEqual(snapshot(d), before);
  });

  test('a disposed tensor fails the save before anything is replaced', () => {
    const d = freshDir();
    save(join(d, 'c'), 1);
    const before = snapshot(d);
    const gone = tensor([1]);
    gone.dispose();
    assert.throws(() => saveCheckpoint(join(d, 'c'), { model: { stateDict: () => new Map([['gone', gone]]) }, meta: {} }), /disposed/);
    assert.deepEqual(snapshot(d), before);
  });

  test('meta that JSON cannot hold fails before any file is touched', () => {
    const d = freshDir();
    save(join(d, 'c'), 1);
    const before = snapshot(d);
    assert.throws(() => saveCheckpoint(join(d, 'c'), { model: fakeModel(2), meta: { big: 1n } }), /meta or optimizer state cannot be written as JSON/);
    assert.deepEqual(snapshot(d), before);
  });

  test('the tensors are written first: when they fail, no JSON appears', () => {
    const d = freshDir();
    mkdirSync(join(d, 'c.safetensors'));
    writeFileSync(join(d, 'c.safetensors', 'blocker'), 'x'); // a non-empty directory cannot be renamed over
    assert.throws(() => save(join(d, 'c'), 1), /could not write '.*c\.safetensors'/);
    assert.equal(existsSync(join(d, 'c.json')), false);
    assert.deepEqual(readdirSync(d), ['c.safetensors']);
  });

  test('the JSON is written last: when it fails, the new checkpoint is already complete and loads', () => {
    const d = freshDir();
    mkdirSync(join(d, 'c.json'));
    writeFileSync(join(d, 'c.json', 'blocker'), 'x');
    assert.throws(() => save(join(d, 'c'), 1), /could not write '.*c\.json'/);
    assert.equal(readSafetensorsHeader(join(d, 'c.safetensors')).metadata!.format, 'selfsup.checkpoint');
    assert.deepEqual(readdirSync(d).sort(), ['c.json', 'c.safetensors']);
    assert.equal(stepOf(join(d, 'c')), 100);
  });

  test('the .safetensors is the whole checkpoint: a missing or stale .json changes nothing', () => {
    const d = freshDir();
    save(join(d, 'a'), 1);
    save(join(d, 'b'), 2);
    copyFileSync(join(d, 'b.json'), join(d, 'a.json')); // a copy from another save
    assert.equal(stepOf(join(d, 'a')), 100);
    rmSync(join(d, 'a.json'));
    assert.equal(stepOf(join(d, 'a')), 100);
    assert.equal(loadCheckpoint(join(d, 'a')).version, CHECKPOINT_VERSION);
  });

  test('the .json is a readable copy of the description inside the .safetensors', () => {
    const d = freshDir();
    const { json, tensors } = save(join(d, 'c'), 3);
    const copy = JSON.parse(readFileSync(json, 'utf8'));
    const inside = JSON.parse(readSafetensorsHeader(tensors).metadata!.selfsup_checkpoint!);
    assert.deepEqual(copy, inside);
    assert.deepEqual(copy.meta, { epoch: 3, step: 300 });
    assert.equal(readSafetensorsHeader(tensors).metadata!.checkpoint_id, copy.id);
  });
});

describe('damaged checkpoints', () => {
  test('a truncated .safetensors gives an error naming it', () => {
    const d = freshDir();
    const { tensors } = save(join(d, 'c'), 1);
    truncateSync(tensors, statSync(tensors).size - 5);
    assert.throws(() => loadCheckpoint(join(d, 'c')), (err: Error) => {
      assert.match(err.message, /^safetensors file '.*c\.safetensors': tensor ".*": data_offsets \[\d+, \d+\] point past the end of the data \(\d+ bytes\); the file is truncated/);
      return true;
    });
    truncateSync(tensors, 4);
    assert.throws(() => loadCheckpoint(join(d, 'c')), /c\.safetensors': too short \(4 bytes\)/);
  });

  test('a missing checkpoint, or a .json without its .safetensors, is reported as such', () => {
    const d = freshDir();
    const { tensors } = save(join(d, 'c'), 1);
    rmSync(tensors);
    assert.throws(() => loadCheckpoint(join(d, 'c')), /checkpoint '.*c\.json': its tensors file '.*c\.safetensors' does not exist/);
    assert.throws(() => loadCheckpoint(join(d, 'nothing')), /checkpoint '.*nothing\.safetensors' does not exist$/);
  });

  test('a newer format version, or a file that is no checkpoint, is refused', () => {
    const d = freshDir();
    const doc = { format: 'selfsup.checkpoint', version: CHECKPOINT_VERSION + 1, id: 'x', savedAt: '', optimizer: null, meta: {} };
    saveSafetensors(join(d, 'new.safetensors'), { w: tensor([1]) }, { format: 'selfsup.checkpoint', checkpoint_id: 'x', selfsup_checkpoint: JSON.stringify(doc) });
    assert.throws(() => loadCheckpoint(join(d, 'new')), new RegExp(`has format version ${CHECKPOINT_VERSION + 1}; this selfsup reads up to version ${CHECKPOINT_VERSION}`));
    saveSafetensors(join(d, 'plain.safetensors'), { w: tensor([1]) });
    assert.throws(() => loadCheckpoint(join(d, 'plain')), /'.*plain\.safetensors' is not a selfsup checkpoint/);
  });
});

describe('temp files of killed saves', () => {
  test('the next save removes those of processes that are gone, and keeps those of live ones', () => {
    const d = freshDir();
    const gone = spawnSync(process.execPath, ['-e', '']).pid!; // a process that has exited
    const stale = [`.c.safetensors.${gone}.0123456789ab.tmp`, `.c.json.${gone}.0123456789ab.tmp`, `.c.prev.safetensors.${gone}.0123456789ab.tmp`];
    const live = `.c.safetensors.${process.pid}.0123456789ab.tmp`;
    const unrelated = `.other.safetensors.${gone}.0123456789ab.tmp`;
    for (const f of [...stale, live, unrelated]) writeFileSync(join(d, f), 'partial');
    save(join(d, 'c'), 1, { keepPrevious: true });
    assert.deepEqual(readdirSync(d).sort(), [live, unrelated, 'c.json', 'c.safetensors'].sort());
    assert.deepEqual(removeStaleCheckpointTemps(join(d, 'c')), []);
  });
});

describe('version 1 checkpoints (a .safetensors and a .json paired by id) still load', () => {
  // Written by selfsup before format version 2 (test/fixtures/checkpoint-v1: v1.* then v1.prev.*).
  const fixture = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'checkpoint-v1');
  const copyFixture = (): string => {
    const d = freshDir();
    for (const f of readdirSync(fixture)) copyFileSync(join(fixture, f), join(d, f));
    return d;
  };

  test('model, optimizer state and meta', () => {
    const ck = loadCheckpoint(join(fixture, 'v1'));
    assert.equal(ck.version, 1);
    assert.deepEqual(ck.meta, { epoch: 2, step: 14 });
    assert.deepEqual([...ck.model.get('conv.weight')!.data()], new Array(18).fill(2.5));
    assert.deepEqual(ck.optimizer!.meta, { type: 'adam', lr: 0.001 });
    assert.deepEqual(ck.optimizer!.state.get('0.exp_avg')!.toArray(), [0.25, 0.5]);
    assert.equal(loadCheckpoint(join(fixture, 'v1.prev')).meta.step, 7);
  });

  test('a pair from two saves is refused; with fallBackToPrevious the previous pair loads, saying why', () => {
    const d = copyFixture();
    copyFileSync(join(d, 'v1.prev.safetensors'), join(d, 'v1.safetensors')); // as if killed between the two writes
    assert.throws(() => loadCheckpoint(join(d, 'v1')), /checkpoint '.*v1\.json': '.*v1\.safetensors' comes from a different save/);
    const ck = loadCheckpoint(join(d, 'v1'), { fallBackToPrevious: true });
    assert.equal(ck.meta.step, 7);
    assert.equal(ck.paths.tensors, join(d, 'v1.prev.safetensors'));
    assert.match(ck.fallback!, /comes from a different save.*; using the previous complete checkpoint, '.*v1\.prev\.safetensors' \(saved /);
  });

  test('a truncated .json, a missing .json, a wrong size: errors naming the file', () => {
    let d = copyFixture();
    truncateSync(join(d, 'v1.json'), 20);
    assert.throws(() => loadCheckpoint(join(d, 'v1')), /checkpoint '.*v1\.json' is not valid JSON \(truncated or corrupt\?\)/);
    rmSync(join(d, 'v1.json'));
    assert.throws(() => loadCheckpoint(join(d, 'v1')), /checkpoint '.*v1\.json' does not exist \(its \.safetensors does, from an older selfsup/);
    d = copyFixture();
    const doc = JSON.parse(readFileSync(join(d, 'v1.json'), 'utf8'));
    writeFileSync(join(d, 'v1.json'), JSON.stringify({ ...doc, tensorBytes: doc.tensorBytes + 8 }));
    assert.throws(() => loadCheckpoint(join(d, 'v1')), /v1\.safetensors' is \d+ bytes, expected \d+/);
  });

  test('saving over one keeps it as the previous checkpoint, and the new one is version 2', () => {
    const d = copyFixture();
    save(join(d, 'v1'), 5, { keepPrevious: true });
    assert.equal(loadCheckpoint(join(d, 'v1')).version, CHECKPOINT_VERSION);
    assert.equal(stepOf(join(d, 'v1')), 500);
    const prev = loadCheckpoint(join(d, 'v1.prev'));
    assert.equal(prev.version, 1);
    assert.equal(prev.meta.step, 14);
  });
});

describe('keepPrevious', () => {
  test('keeps the checkpoint being replaced as <name>.prev.*', () => {
    const d = freshDir();
    const c = join(d, 'c');
    save(c, 1, { keepPrevious: true }); // nothing to keep yet
    assert.deepEqual(readdirSync(d).sort(), ['c.json', 'c.safetensors']);

    save(c, 2, { keepPrevious: true });
    assert.deepEqual(readdirSync(d).sort(), ['c.json', 'c.prev.json', 'c.prev.safetensors', 'c.safetensors']);
    assert.equal(stepOf(c), 200);
    assert.equal(stepOf(join(d, 'c.prev.json')), 100);
    assert.deepEqual(loadCheckpoint(join(d, 'c.prev')).model.get('conv.weight')!.toArray(), fakeModel(1).params.get('conv.weight')!.toArray());

    save(c, 3, { keepPrevious: true });
    assert.equal(stepOf(c), 300);
    assert.equal(stepOf(join(d, 'c.prev')), 200);

    save(c, 4); // without keepPrevious, the previous pair is left alone
    assert.equal(stepOf(c), 400);
    assert.equal(stepOf(join(d, 'c.prev')), 200);
    assert.deepEqual(readdirSync(d).filter((f) => f.endsWith('.tmp')), []);
  });

  test('a save killed after the current checkpoint was linked as previous: the next save leaves no temp link', () => {
    const d = freshDir();
    const c = join(d, 'c');
    save(c, 1);
    linkSync(join(d, 'c.safetensors'), join(d, 'c.prev.safetensors')); // where the kill came
    save(c, 2, { keepPrevious: true });
    assert.deepEqual(readdirSync(d).sort(), ['c.json', 'c.prev.json', 'c.prev.safetensors', 'c.safetensors']);
    assert.equal(stepOf(c), 200);
    assert.equal(stepOf(join(d, 'c.prev')), 100);
  });

  test('a broken current checkpoint never replaces a good previous one', () => {
    const d = freshDir();
    const c = join(d, 'c');
    save(c, 1);
    save(c, 2, { keepPrevious: true });
    truncateSync(join(d, 'c.safetensors'), 40); // the current checkpoint is now damaged
    save(c, 3, { keepPrevious: true });
    assert.equal(stepOf(c), 300);
    assert.equal(stepOf(join(d, 'c.prev')), 100);
  });

  test('a save failing after the previous pair was kept leaves the current checkpoint loadable', () => {
    const d = freshDir();
    const c = join(d, 'c');
    save(c, 1);
    const gone = tensor([1]);
    gone.dispose();
    assert.throws(() => saveCheckpoint(c, { model: { stateDict: () => new Map([['gone', gone]]) }, meta: {}, keepPrevious: true }), /disposed/);
    assert.equal(stepOf(c), 100);
    assert.equal(stepOf(join(d, 'c.prev')), 100);
  });

  test('the kept files stay intact while the next save replaces the current ones', () => {
    const d = freshDir();
    const { tensors, prevTensors } = checkpointPaths(join(d, 'c'));
    save(join(d, 'c'), 1);
    const first = readFileSync(tensors);
    save(join(d, 'c'), 2, { keepPrevious: true });
    assert.ok(readFileSync(prevTensors).equals(first));
    assert.ok(!readFileSync(tensors).equals(first));
  });
});
