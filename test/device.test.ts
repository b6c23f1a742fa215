// The `device` setting, on any machine: a device name that is not one, or CUDA
// where this build has none, is refused up front with a message that says so,
// from every API that takes a device and from every command that takes --device.
// (Training on a GPU is checked against the CPU in cuda.test.ts.)
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDevice, cuda, memory, randn, tensor, setNumThreads } from '../src/tensor/index.js';
import { createBackbone, Classifier, linearHead, SmallCnn } from '../src/models/index.js';
import { makeDataset } from '../src/data/index.js';
import { pretrainRotation } from '../src/ssl/methods/rotation.js';
import { trainSupervised } from '../src/train/supervised.js';
import { fit } from '../src/train/trainer.js';
import { knnClassify } from '../src/eval/knn.js';
import { linearProbe } from '../src/eval/probe.js';
import { runImageExperiment } from '../src/experiment/image.js';
import { defaultImageConfig } from '../src/experiment/defaults.js';
import { SGD } from '../src/optim/index.js';

setNumThreads(1);

const BAD_NAME = /device must be 'cpu', 'cuda' or 'cuda:N' \(N a GPU index\), got "gpu"/;
// Where CUDA is missing, asking for it fails; where it is there, a GPU index past the last one does.
const MISSING = cuda.isAvailable() ? `cuda:${cuda.deviceCount()}` : 'cuda';
const MISSING_MESSAGE = cuda.isAvailable()
  ? /device 'cuda:\d+' does not exist: libtorch sees \d+ CUDA devices?/
  : /device 'cuda' asked for, but CUDA is not available: this selfsup's libtorch \(.+\) was built without CUDA or sees no GPU\. Use device 'cpu', or rebuild the addon against a CUDA libtorch/;

const tmp = mkdtempSync(join(tmpdir(), 'selfsup-device-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const data = makeDataset({
  name: 'toy', imageShape: [1, 8, 8], images: new Uint8Array(16 * 64).map((_, i) => (i * 29) % 256),
  labels: Int32Array.from({ length: 16 }, (_, i) => i % 2), classNames: ['a', 'b'],
});

describe('device names from the API', () => {
  test('checkDevice accepts cpu (the default) and refuses what is not a device', () => {
    assert.equal(checkDevice(undefined), 'cpu');
    assert.equal(checkDevice('cpu'), 'cpu');
    for (const bad of ['gpu', 'CUDA', 'cuda:', 'cuda:x', 'cuda:-1', 'meta', '']) {
      assert.throws(() => checkDevice(bad, 'here'), (e: unknown) => e instanceof TypeError && e.message.startsWith('here: device must be'), bad);
    }
    assert.throws(() => checkDevice(MISSING, 'here'), MISSING_MESSAGE);
    if (!cuda.isAvailable()) assert.throws(() => checkDevice('cuda:0', 'here'), /CUDA is not available/);
  });

  test('every function with a device option refuses a bad one before doing any work, naming itself', async () => {
    const model = (): Classifier => new Classifier(new SmallCnn({ widths: [2, 2, 2] }), linearHead(2, 2));
    const x = randn([4, 3]);
    const y = tensor([0, 1, 0, 1], { dtype: 'int64' });
    for (const [device, message] of [['gpu', BAD_NAME], [MISSING, MISSING_MESSAGE]] as const) {
      const before = memory().numTensors;
      assert.throws(() => createBackbone('small-cnn', { inChannels: 1, width: 2, device }), (e: unknown) => /^createBackbone: /.test((e as Error).message) && message.test((e as Error).message));
      await assert.rejects(pretrainRotation({ encoder: new SmallCnn({ widths: [2, 2, 2] }), data, epochs: 1, seed: 0, progress: false, device }),
        (e: unknown) => /^pretrainRotation: /.test((e as Error).message) && message.test((e as Error).message));
      await assert.rejects(trainSupervised({ name: 'tiny-run', model: model(), data, batchSize: 4, steps: 1, seed: 0, progress: false, optimizer: { kind: 'sgd', lr: 0.1 }, device }),
        (e: unknown) => /^tiny-run: /.test((e as Error).message) && message.test((e as Error).message));
      const m = model();
      await assert.rejects(fit({
        name: 'fit-run', model: m, optimizer: new SGD(m.parameters(), { lr: 0.1 }), epochs: 1, stepsPerEpoch: 1, progress: false, device,
        batches: () => [], step: () => { throw new Error('no step expected'); },
      }), (e: unknown) => /^fit-run: /.test((e as Error).message) && message.test((e as Error).message));
      assert.throws(() => knnClassify(x, y, x, y, 2, { device }), (e: unknown) => /^knn: /.test((e as Error).message) && message.test((e as Error).message));
      assert.throws(() => linearProbe(x, y, x, y, 2, { device }), (e: unknown) => /^linearProbe: /.test((e as Error).message) && message.test((e as Error).message));
      await assert.rejects(runImageExperiment({ name: 'toy', train: data, test: data }, { ...defaultImageConfig(), device }, join(tmp, 'never'), () => {}),
        (e: unknown) => /^runImageExperiment: /.test((e as Error).message) && message.test((e as Error).message));
      assert.equal(existsSync(join(tmp, 'never')), false, 'the experiment refused before writing anything');
      // The models made above for the calls (a few parameters each) are all that is left.
      assert.ok(memory().numTensors - before < 200, 'no training started');
    }
    x.dispose();
    y.dispose();
  });

  test("a model's device; to() its own device leaves its tensors (and optimizers holding them) alone", () => {
    const m = new Classifier(createBackbone('small-cnn', { inChannels: 1, width: 2, device: 'cpu' }), linearHead(8, 2));
    assert.equal(m.device, 'cpu');
    const params = m.parameters();
    const opt = new SGD(params, { lr: 0.1 });
    assert.equal(m.to('cpu'), m);
    assert.deepEqual(m.parameters(), params, 'the same tensors');
    assert.ok(params.every((p) => !p.isDisposed));
    opt.dispose();
    m.dispose();
  });
});

describe('--device on the command line', () => {
  const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
  const run = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, SELFSUP_NUM_THREADS: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr });
    });
  });
  const COMMANDS = ['pretrain', 'finetune', 'probe', 'knn', 'experiment', 'demo'];

  test('a bad name or a missing CUDA: exit 2 with the reason, before any data is read', async () => {
    const cases = COMMANDS.flatMap((c) => [[c, 'gpu', BAD_NAME], [c, MISSING, MISSING_MESSAGE]] as const);
    // --data of a path that does not exist: had the device check come later, the error would be about the data.
    const extra = (c: string): string[] => [...(c === 'demo' ? [] : ['--data', 'idx:/nonexistent']), ...(['pretrain', 'experiment', 'demo'].includes(c) ? ['--out', join(tmp, 'out')] : [])];
    const results = await Promise.all(cases.map(([c, device]) => run(c, '--device', device, ...extra(c), '--json')));
    for (const [i, [c, device, message]] of cases.entries()) {
      const r = results[i]!;
      assert.equal(r.code, 2, `selfsup ${c} --device ${device}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^selfsup ${c}: error: --device: `), `${c} --device ${device}`);
      assert.match(r.stderr, message, `${c} --device ${device}`);
      assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
      const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      assert.equal(j.ok, false);
      assert.equal(j.exitCode, 2);
      assert.match(j.error, message);
    }
    assert.equal(existsSync(join(tmp, 'out')), false, 'nothing was written');
  });

  test("the experiment's --config device is checked too; --device overrides it; text runs on the cpu only", async () => {
    const config = join(tmp, 'config.json');
    writeFileSync(config, JSON.stringify({ device: 'gpu' }));
    const [fromFile, text] = await Promise.all([
      run('experiment', '--config', config, '--data', 'idx:/nonexistent'),
      run('experiment', '--modality', 'text', '--device', 'cuda'),
    ]);
    assert.equal(fromFile.code, 2);
    assert.match(fromFile.stderr, new RegExp(`${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: device: device must be 'cpu', 'cuda' or 'cuda:N'`));
    assert.equal(text.code, 2);
    assert.match(text.stderr, /--device cuda: the text experiment runs on the cpu only/);
    // --device cpu wins over the file's bad device: the run gets as far as the (missing) data.
    const overridden = await run('experiment', '--config', config, '--device', 'cpu', '--data', 'idx:/nonexistent');
    assert.equal(overridden.code, 1);
    assert.match(overridden.stderr, /data folder not found: \/nonexistent/);
    assert.doesNotMatch(overridden.stderr, /device/);
  });
});
