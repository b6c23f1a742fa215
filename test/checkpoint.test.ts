import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync, rmSync, readFileSync, writeFileSync, readdirSync, mkdirSync, existsSync, truncateSync, copyFileSync, statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, randn, memory, cuda, type Tensor } from '../src/index.js';
import {
  saveCheckpoint, loadCheckpoint, checkpointPaths, readSafetensorsHeader, CHECKPOINT_VERSION,
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

    // the files themselves: one safetensors with optimizer state under optim., one JSON
    const header = readSafetensorsHeader(paths.tensors);
    assert.deepEqual(header.tensors.map((t) => t.name).sort(), ['bn.num_batches_tracked', 'conv.weight', 'head.0.bias', 'optim.0.exp_avg', 'optim.0.step']);
    assert.equal(header.metadata!.format, 'selfsup.checkpoint');
    const json = JSON.parse(readFileSync(paths.json, 'utf8'));
    assert.equal(json.format, 'selfsup.checkpoint');
    assert.equal(json.version, 1);
    assert.equal(json.id, header.metadata!.checkpoint_id);
    assert.equal(json.tensorBytes, statSync(paths.tensors).size);
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

  test('the JSON is written last: when it fails, the new tensors are already complete', () => {
    const d = freshDir();
    mkdirSync(join(d, 'c.json'));
    writeFileSync(join(d, 'c.json', 'blocker'), 'x');
    assert.throws(() => save(join(d, 'c'), 1), /could not write '.*c\.json'/);
    assert.equal(readSafetensorsHeader(join(d, 'c.safetensors')).metadata!.format, 'selfsup.checkpoint');
    assert.deepEqual(readdirSync(d).sort(), ['c.json', 'c.safetensors']);
  });

  test('a JSON paired with tensors from another save (an interrupted save) is detected', () => {
    const d = freshDir();
    save(join(d, 'a'), 1);
    save(join(d, 'b'), 2);
    copyFileSync(join(d, 'b.safetensors'), join(d, 'a.safetensors')); // as if the crash came between the two writes
    assert.throws(() => loadCheckpoint(join(d, 'a')), /checkpoint '.*a\.json': '.*a\.safetensors' comes from a different save/);
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

  test('a truncated .json gives an error naming it', () => {
    const d = freshDir();
    const { json } = save(join(d, 'c'), 1);
    truncateSync(json, 20);
    assert.throws(() => loadCheckpoint(join(d, 'c')), /checkpoint '.*c\.json' is not valid JSON \(truncated or corrupt\?\)/);
  });

  test('tensors without their JSON (a first save cut short) are reported as such', () => {
    const d = freshDir();
    const { json } = save(join(d, 'c'), 1);
    rmSync(json);
    assert.throws(() => loadCheckpoint(join(d, 'c')), /checkpoint '.*c\.json' does not exist \(its \.safetensors does: the save was interrupted/);
    assert.throws(() => loadCheckpoint(join(d, 'nothing')), /checkpoint '.*nothing\.json' does not exist$/);
  });

  test('a same-size file with other tensor bytes is caught by the recorded size, a newer format by its version', () => {
    const d = freshDir();
    const { json } = save(join(d, 'c'), 1);
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    writeFileSync(json, JSON.stringify({ ...doc, tensorBytes: doc.tensorBytes + 8 }));
    assert.throws(() => loadCheckpoint(join(d, 'c')), /c\.safetensors' is \d+ bytes, expected \d+/);
    writeFileSync(json, JSON.stringify({ ...doc, version: CHECKPOINT_VERSION + 1 }));
    assert.throws(() => loadCheckpoint(join(d, 'c')), /has format version 2; this selfsup reads up to version 1/);
    writeFileSync(json, JSON.stringify({ hello: 1 }));
    assert.throws(() => loadCheckpoint(join(d, 'c')), /is not a selfsup checkpoint/);
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

  test('a broken current checkpoint never replaces a good previous one', () => {
    const d = freshDir();
    const c = join(d, 'c');
    save(c, 1);
    save(c, 2, { keepPrevious: true });
    save(join(d, 'other'), 9);
    copyFileSync(join(d, 'other.safetensors'), join(d, 'c.safetensors')); // current pair is now inconsistent
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
