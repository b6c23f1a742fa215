// What a new user ran into (issue 12, section 6), one test each: --steps that were a cap,
// grey folders loaded as RGB and mirrored, a time budget that left the learning rate at
// its peak, optimizer state kept alive, training inside noGrad(), kNN that needed test
// labels, normalisation passed by hand, error messages that said too little, and the
// text experiment's table.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { memory, noGrad, tensor, randn, manualSeed, setNumThreads, tidy, isGradEnabled } from '../src/tensor/index.js';
import { native } from '../src/native/binding.js';
import { Linear } from '../src/nn/index.js';
import { SGD, BudgetWarmupCosineLR } from '../src/optim/index.js';
import { channelStats, loadImageFolder } from '../src/data/index.js';
import { createBackbone, Classifier, linearHead } from '../src/models/index.js';
import { createMethod, pretrain } from '../src/ssl/index.js';
import { trainSupervised } from '../src/train/supervised.js';
import { linearProbe, knnClassify, embed, accuracy } from '../src/eval/index.js';
import { saveEncoder, loadEncoder } from '../src/io/encoder-files.js';
import { loadData, parseDataSpec } from '../src/cli/data.js';
import { closest, parseOptions } from '../src/cli/options.js';
import { labelsPerClass, pretrainLimits } from '../src/cli/settings.js';
import { COMMANDS } from '../src/cli/commands.js';
import { defaultImageConfig } from '../src/experiment/defaults.js';
import { pretrainSettingsFor } from '../src/experiment/image.js';
import { resultsTable } from '../src/cli/table.js';
import { textResultTables } from '../src/cli/commands/experiment.js';
import { meanPlusMinus, summarize } from '../src/experiment/summary.js';
import { toyImages } from './support/toy-images.js';

setNumThreads(1);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'dist', 'src', 'cli', 'main.js');
const ENV = { ...process.env, SELFSUP_NUM_THREADS: '1' };
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: root, env: ENV, encoding: 'utf8', timeout: 300_000 });

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'selfsup-rough-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A folder with two class sub-folders of 12x12 PNGs, grey (R = G = B) or with a red tint. */
async function pngFolder(dir: string, grey: boolean): Promise<void> {
  for (const [c, cls] of ['one', 'two'].entries()) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < 4; i++) {
      const pixels = Buffer.alloc(12 * 12 * 3);
      for (let p = 0; p < 144; p++) {
        const v = (p * 7 + i * 31 + c * 90) % 256;
        pixels[3 * p] = grey ? v : Math.min(255, v + 40);
        pixels[3 * p + 1] = v;
        pixels[3 * p + 2] = v;
      }
      await sharp(pixels, { raw: { width: 12, height: 12, channels: 3 } }).png().toFile(join(dir, cls, `${i}.png`));
    }
  }
}

const norm1 = { mean: [0.3], std: [0.2] };

describe('steps and schedules', () => {
  test('pretrain --steps N trains N steps even when one epoch is shorter (epochs follow the steps)', () => {
    // 110 images, batch 16: 6 steps an epoch. Before, --epochs 1 capped the run at 6.
    const r = cli('pretrain', '--data', 'mnist-digits', '--limit', '110', '--held-out', '0', '--batch-size', '16', '--steps', '9', '--out', join(tmp, 'steps'), '--json');
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(result.steps, 9);
    assert.equal(result.stepsPerEpoch, 6);
    assert.equal(result.settings.epochs, null, 'no --epochs: as many as the steps take');
  });

  test('experiment and demo: --pretrain-steps alone lets the epochs follow; with --epochs both bind', () => {
    for (const command of ['experiment', 'demo']) {
      const specs = COMMANDS.find((c) => c.name === command)!.options;
      const c = defaultImageConfig();
      assert.deepEqual(pretrainLimits(parseOptions(command, ['--pretrain-steps', '600'], specs), c), { epochsFollowSteps: true });
      assert.equal(c.pretrain.maxSteps, 600);
      // Every method's own budget too (SimCLR's 1,000 steps, jigsaw's 300 ...), not rotation's alone.
      assert.ok(Object.keys(c.methodPretrain ?? {}).length > 0);
      for (const [method, own] of Object.entries(c.methodPretrain ?? {})) assert.equal(own.maxSteps, 600, method);
      assert.equal(pretrainSettingsFor(c, 'simclr').maxSteps, 600);
      const minutes = defaultImageConfig();
      pretrainLimits(parseOptions(command, ['--minutes', '2'], specs), minutes);
      assert.equal(pretrainSettingsFor(minutes, 'vicreg').timeBudgetSeconds, 120);
      assert.notEqual(pretrainSettingsFor(minutes, 'vicreg').maxSteps, undefined, '--minutes alone keeps the step budgets');
      assert.deepEqual(pretrainLimits(parseOptions(command, [], specs), defaultImageConfig()), { epochsFollowSteps: false });
    }
    const specs = COMMANDS.find((c) => c.name === 'experiment')!.options;
    assert.deepEqual(pretrainLimits(parseOptions('experiment', ['--pretrain-steps', '600', '--epochs', '1'], specs), defaultImageConfig()), { epochsFollowSteps: false });
  });

  test('BudgetWarmupCosineLR anneals by the clock when the time budget ends before the steps', async () => {
    const w = new Linear(2, 2);
    const opt = new SGD(w.parameters(), { lr: 0.5 });
    const s = new BudgetWarmupCosineLR(opt, { totalSteps: 1_000_000, budgetSeconds: 0.2 });
    assert.ok(Math.abs(s.lr - 0.5) < 1e-3, `starts at the peak, got ${s.lr}`);
    await new Promise((r) => setTimeout(r, 110));
    s.step();
    assert.ok(s.lr < 0.4 && s.lr > 0.1, `half-way through the budget the cosine is about half-way: ${s.lr}`);
    await new Promise((r) => setTimeout(r, 120));
    s.step();
    assert.equal(s.lr, 0, 'after the budget: the end of the schedule');
    opt.dispose();
    w.dispose();
  });

  test('pretrain under a time budget ends with the learning rate annealed, not at its peak', async () => {
    manualSeed(0);
    const data = toyImages(64);
    const norm = channelStats(data);
    const method = createMethod('rotation', createBackbone('small-cnn', { inChannels: 1, width: 8, imageSize: [12, 12] }), { imageShape: data.imageShape, norm });
    const rates: number[] = [];
    const r = await pretrain(method, {
      data, norm, batchSize: 16, epochs: 100_000, maxSteps: 100_000, seed: 0, timeBudgetSeconds: 1.5,
      optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 }, progress: false,
      callbacks: { onStepEnd: (_step, logs) => void rates.push(logs.lr) },
    });
    assert.ok(r.fit.stoppedByBudget, 'the budget stopped it');
    assert.ok(rates.length >= 3, `${rates.length} steps`);
    // With a step-only schedule over 100,000 steps the last rate would still be ~0.1.
    assert.ok(rates.at(-1)! < 0.02, `last rate ${rates.at(-1)} of peak 0.1 after ${rates.length} steps`);
    method.dispose();
  });
});

describe('grey folders and flips', () => {
  test("a folder of grey images loads with one channel ('auto'); a tinted one keeps three", async () => {
    await pngFolder(join(tmp, 'grey'), true);
    await pngFolder(join(tmp, 'tinted'), false);
    const grey = await loadImageFolder(join(tmp, 'grey'), { channels: 'auto' });
    assert.deepEqual(grey.imageShape, [1, 12, 12]);
    const asRgb = await loadImageFolder(join(tmp, 'grey'));
    assert.deepEqual(asRgb.imageShape, [3, 12, 12], 'the API default stays RGB');
    assert.deepEqual(Array.from(grey.images.subarray(0, 144)), Array.from(asRgb.images.subarray(0, 144)), 'the grey channel is the red one');
    assert.deepEqual((await loadImageFolder(join(tmp, 'tinted'), { channels: 'auto' })).imageShape, [3, 12, 12]);
  });

  test('--data folder: detects grey (so an MNIST source fits), and folders and digits are not mirrored by default', async () => {
    const folder = await loadData(`folder:${join(tmp, 'grey')}`);
    assert.equal(folder.train.imageShape[0], 1);
    assert.equal(folder.mirrorSafe, false, 'a folder might hold digits: no flip unless --augment asks');
    assert.equal((await loadData('mnist-digits')).mirrorSafe, false);
    // An encoder's channels win: an RGB encoder reads the same folder as RGB.
    assert.equal((await loadData(`folder:${join(tmp, 'grey')}`, { channels: 3 })).train.imageShape[0], 3);
  });
});

describe('training loops', () => {
  test('trainSupervised and pretrain leave no tensors behind once the model is freed', async () => {
    manualSeed(0);
    const data = toyImages(32);
    const norm = channelStats(data);
    const before = memory().numTensors;
    const backbone = createBackbone('small-cnn', { inChannels: 1, width: 8, imageSize: [12, 12] });
    const model = new Classifier(backbone, linearHead(backbone.featureDim(), 4));
    await trainSupervised({ name: 't', model, data, norm, batchSize: 8, steps: 3, seed: 0, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 }, progress: false });
    model.dispose();
    assert.equal(memory().numTensors, before, 'trainSupervised');
    const method = createMethod('rotation', createBackbone('small-cnn', { inChannels: 1, width: 8, imageSize: [12, 12] }), { imageShape: data.imageShape, norm });
    await pretrain(method, { data, norm, batchSize: 8, epochs: 1, maxSteps: 3, seed: 0, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 }, progress: false });
    method.dispose();
    assert.equal(memory().numTensors, before, 'pretrain');
  });

  test('linearProbe trains inside noGrad()', () => {
    manualSeed(0);
    const x = randn([40, 5]);
    const y = tensor(BigInt64Array.from({ length: 40 }, (_, i) => BigInt(i % 2)));
    const r = noGrad(() => linearProbe(x, y, x, y, 2, { steps: 20 }));
    assert.ok(r.trainAccuracy >= 0.5);
    for (const t of [r.classifier, r.mean, r.std, x, y]) t.dispose();
  });

  test('fit records gradients even when grad mode is off around it', async () => {
    manualSeed(0);
    const data = toyImages(16);
    const backbone = createBackbone('small-cnn', { inChannels: 1, width: 8, imageSize: [12, 12] });
    const model = new Classifier(backbone, linearHead(backbone.featureDim(), 4));
    // What an async caller's noGrad-like scope leaves behind: grad mode off for the whole run.
    native.gradEnabled(false);
    try {
      const r = await trainSupervised({ name: 'g', model, data, norm: norm1, batchSize: 8, steps: 2, seed: 0, optimizer: { kind: 'sgd', lr: 0.1 }, progress: false });
      assert.equal(r.steps, 2);
      assert.equal(isGradEnabled(), false, 'and the mode is as it was afterwards');
    } finally {
      native.gradEnabled(true);
      model.dispose();
    }
  });

  test('knnClassify labels new images without test labels', () => {
    const train = tensor(new Float32Array([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]), { shape: [4, 2] });
    const labels = tensor(BigInt64Array.from([0n, 0n, 1n, 1n]));
    const queries = tensor(new Float32Array([1, 0.05, 0.05, 1]), { shape: [2, 2] });
    const unlabelled = knnClassify(train, labels, queries, null, 2, { k: 2 });
    assert.equal(unlabelled.accuracy, null);
    assert.deepEqual(Array.from(unlabelled.predictions), [0, 1]);
    const truth = tensor(BigInt64Array.from([0n, 1n]));
    assert.equal(knnClassify(train, labels, queries, truth, 2, { k: 2 }).accuracy, 1);
    for (const t of [train, labels, queries, truth]) t.dispose();
  });
});

describe('an encoder carries its normalisation', () => {
  test('pretrain sets it, saveEncoder stores it, loadEncoder restores it, and embed and accuracy use it by default', async () => {
    manualSeed(0);
    const data = toyImages(24);
    const norm = channelStats(data);
    const method = createMethod('rotation', createBackbone('small-cnn', { inChannels: 1, width: 8, imageSize: [12, 12] }), { imageShape: data.imageShape, norm });
    await pretrain(method, { data, norm, batchSize: 8, epochs: 1, maxSteps: 1, seed: 0, optimizer: { kind: 'sgd', lr: 0.01 }, progress: false });
    const trained = method.takeEncoder(); // frees the rest of the method
    assert.deepEqual(trained.inputNorm, norm);
    const dir = join(tmp, 'enc');
    mkdirSync(dir);
    // No norm in the description: the encoder's own is stored.
    saveEncoder(dir, trained, { backbone: 'small-cnn', width: 8, inChannels: 1, imageShape: data.imageShape, method: 'rotation', data: 'toy', rotationAccuracy: null });
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')).norm, norm);
    trained.dispose();
    const { encoder } = loadEncoder(dir);
    assert.deepEqual(encoder.inputNorm, norm);
    const byDefault = embed(encoder, data);
    const explicit = embed(encoder, data, { norm });
    const raw = embed(encoder, data, { norm: null });
    assert.ok(tidy(() => byDefault.sub(explicit).abs().max().item()) === 0, 'the default is the encoder\'s normalisation');
    assert.ok(tidy(() => byDefault.sub(raw).abs().max().item()) > 1e-3, 'and it differs from raw pixels');
    const model = new Classifier(encoder, linearHead(encoder.featureDim(), 4));
    assert.equal(accuracy(model, data), accuracy(model, data, { norm }), 'a classifier uses its encoder\'s normalisation');
    for (const t of [byDefault, explicit, raw, model]) t.dispose();
  });

  test('saveEncoder without any normalisation says what to pass', () => {
    const b = createBackbone('small-cnn', { inChannels: 1, width: 8 });
    assert.throws(() => saveEncoder(join(tmp, 'no-norm'), b, { backbone: 'small-cnn', width: 8, inChannels: 1, imageShape: [1, 12, 12], method: 'x', data: 'toy', rotationAccuracy: null }),
      /no normalisation to store in .*encoder\.json: pass \{ norm \}/);
    b.dispose();
  });
});

describe('error messages name the file, the field and the fix', () => {
  test('an empty IDX set names the file, not splitIndices', async () => {
    const dir = join(tmp, 'idx-empty');
    mkdirSync(dir);
    const header = (dims: number[]) => {
      const b = Buffer.alloc(4 + 4 * dims.length);
      b.writeUInt32BE(0x0800 | dims.length, 0);
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
      return b;
    };
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), header([0, 28, 28]));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), header([0]));
    await assert.rejects(loadData(`idx:${dir}`), /train-images-idx3-ubyte holds no images/);
  });

  test('encoder.json: a missing field, a norm of the wrong shape and an unknown backbone each name the file and the field', () => {
    const b = createBackbone('small-cnn', { inChannels: 1, width: 8 });
    const dir = join(tmp, 'enc-fields');
    mkdirSync(dir);
    saveEncoder(dir, b, { backbone: 'small-cnn', width: 8, inChannels: 1, imageShape: [1, 12, 12], norm: norm1, method: 'x', data: 'toy', rotationAccuracy: null });
    b.dispose();
    const json = join(dir, 'encoder.json');
    const good = JSON.parse(readFileSync(json, 'utf8'));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good, blocks: undefined }, /encoder\.json: the field 'blocks' is missing/],
      [{ ...good, norm: { mean: [0.1, 0.2], std: [0] } }, /encoder\.json: 'norm' must be \{ "mean": \[1 numbers\], "std": \[1 positive numbers\] \}/],
      [{ ...good, backbone: 'resnet-18' }, /encoder\.json: 'backbone' is "resnet-18", not one of small-cnn/],
      [{ ...good, imageShape: [3, 12, 12] }, /encoder\.json: 'imageShape' must be \[channels, height, width\] with channels = inChannels \(1\)/],
    ];
    for (const [info, message] of cases) {
      writeFileSync(json, JSON.stringify(info));
      assert.throws(() => loadEncoder(dir), message);
    }
  });

  test('a malformed checkpoint on --resume names the file and the way out', () => {
    const dir = join(tmp, 'resume-bad');
    mkdirSync(dir);
    // A checkpoint is one safetensors file (format 2); this one is cut short.
    writeFileSync(join(dir, 'rotation-pretrain.safetensors'), Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x22]));
    const r = cli('pretrain', '--resume', '--out', dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot resume: .*rotation-pretrain\.safetensors.*start over with --force/);
  });

  test('--data, --head and --k: did-you-mean, and --k names all', () => {
    assert.throws(() => parseDataSpec('mnist-digit'), /unknown data 'mnist-digit' \(did you mean mnist-digits\?\)/);
    assert.equal(closest('mpl', ['linear', 'mlp']), 'mlp', 'a swapped pair of letters is one typo');
    const args = parseOptions('knn', ['--k', 'ten'], { k: { type: 'string', help: '' } });
    assert.throws(() => labelsPerClass(args), /--k must be a positive integer or 'all'/);
  });
});

describe('the text experiment table', () => {
  test('one seed prints no ±; several do', () => {
    assert.equal(meanPlusMinus(0.5, 0, 1, (x) => x.toFixed(2)), '0.50');
    assert.equal(meanPlusMinus(0.5, 0.1, 3, (x) => x.toFixed(2)), '0.50 ± 0.10');
    const table = resultsTable([summarize('scratch', 10, [0.5]), summarize('rotation-knn', 10, [0.6, 0.7])]);
    assert.match(table, /scratch\s+50\.0\n/);
    assert.match(table, /rotation-knn\s+65\.0 ± 7\.1/);
  });

  test('every task gets its table, fortunes included', () => {
    const gloss = [summarize('bow-scratch', 10, [0.4, 0.5])];
    const fortunes = [summarize('bow-scratch', 10, [0.3, 0.32])];
    const text = textResultTables(gloss, [
      { task: 'wordnet-glosses', testSize: 100, results: gloss, classNames: [] },
      { task: 'fortunes', testSize: 50, results: fortunes, classNames: [] },
    ], 'wordnet-glosses');
    assert.match(text, /on wordnet-glosses \(100 test documents\)/);
    assert.match(text, /on fortunes \(50 test documents\)[^]*31\.0 ± 1\.4/);
  });
});
