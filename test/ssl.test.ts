// The self-supervised pipeline: rotation batches, kNN and linear probes on toy data
// with known answers, freezing during fine-tuning, and exact resume.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, arange, randn, manualSeed, memory, setNumThreads, tidy, Tensor } from '../src/index.js';
import { rotationBatch } from '../src/ssl/rotation.js';
import { pretrainRotation, rotationAccuracy } from '../src/ssl/methods/rotation.js';
import { knnClassify } from '../src/eval/knn.js';
import { linearProbe, fitLinearProbe, initHeadFromProbe } from '../src/eval/probe.js';
import { extractFeatures, labelTensor } from '../src/eval/evaluate.js';
import { SmallCnn, Classifier, linearHead, mlpHead, createBackbone } from '../src/models/index.js';
import { kPerClass } from '../src/data/index.js';
import { trainSupervised } from '../src/train/supervised.js';
import { fit } from '../src/train/trainer.js';
import { SGD } from '../src/optim/index.js';
import { Linear } from '../src/nn/index.js';
import { F } from '../src/index.js';
import { toyImages } from './support/toy-images.js';

setNumThreads(1);


describe('rotation batch', () => {
  test('labels and pixels are exactly the four rotations', () => {
    const x = arange(2 * 1 * 3 * 3).reshape(2, 1, 3, 3).float();
    const { x: r, y } = rotationBatch(x);
    assert.deepEqual(r.shape, [8, 1, 3, 3]);
    assert.deepEqual(y.toArray(), [0, 0, 1, 1, 2, 2, 3, 3]);
    assert.equal(y.dtype, 'int64');
    const img = [[0, 1, 2], [3, 4, 5], [6, 7, 8]];
    // counter-clockwise by 90 degrees: the last column becomes the first row
    const rot90 = [[2, 5, 8], [1, 4, 7], [0, 3, 6]];
    const rot180 = [[8, 7, 6], [5, 4, 3], [2, 1, 0]];
    const rot270 = [[6, 3, 0], [7, 4, 1], [8, 5, 2]];
    const all = r.toArray() as number[][][][];
    assert.deepEqual(all[0]![0], img);
    assert.deepEqual(all[2]![0], rot90);
    assert.deepEqual(all[4]![0], rot180);
    assert.deepEqual(all[6]![0], rot270);
    assert.deepEqual(all[3]![0], rot90.map((row) => row.map((v) => v + 9)));
  });

  test('non-square or non-4d input is refused', () => {
    assert.throws(() => rotationBatch(randn([2, 1, 3, 4])), /square/);
    assert.throws(() => rotationBatch(randn([3, 3])), /\[B, C, H, W\]/);
  });

  test('leaves no tensors behind', () => {
    const x = randn([4, 1, 8, 8]);
    const before = memory().numTensors;
    for (let i = 0; i < 20; i++) tidy(() => rotationBatch(x).x.sum().item());
    assert.equal(memory().numTensors, before);
  });
});

describe('kNN and linear probe on toy data', () => {
  test('kNN recovers clusters and records k and temperature', () => {
    const train = tensor([[1, 0], [0.9, 0.2], [0.95, -0.1], [0, 1], [0.1, 0.9], [-0.1, 1]]);
    const trainY = tensor([0, 0, 0, 1, 1, 1], { dtype: 'int64' });
    const test_ = tensor([[1, 0.1], [0.05, 1], [0.8, 0.3]]);
    const testY = tensor([0, 1, 0], { dtype: 'int64' });
    const r = knnClassify(train, trainY, test_, testY, 2, { k: 3, temperature: 0.1 });
    assert.equal(r.accuracy, 1);
    assert.deepEqual(Array.from(r.predictions), [0, 1, 0]);
    assert.equal(r.k, 3);
    assert.equal(r.temperature, 0.1);
  });

  test('kNN weighs close neighbours more: one close vote beats two far ones', () => {
    const train = tensor([[1, 0], [0, 1], [0.1, 1]]);
    const trainY = tensor([0, 1, 1], { dtype: 'int64' });
    const q = tensor([[1, 0.3]]);
    // cosine sims: 0.958 to class 0, 0.287 and 0.382 to class 1: at T=0.07 class 0 wins
    assert.equal(knnClassify(train, trainY, q, tensor([0], { dtype: 'int64' }), 2, { k: 3, temperature: 0.07 }).accuracy, 1);
  });

  test('linear probe separates linearly separable features', () => {
    manualSeed(0);
    const n = 200;
    const xs = randn([n, 5]);
    const w = tensor([[1], [-2], [0.5], [0], [1]]);
    const y = tidy(() => xs.matmul(w).squeeze(1).gt(0).long());
    const r = linearProbe(xs.slice(0, 0, 150), y.slice(0, 0, 150), xs.slice(0, 150), y.slice(0, 150), 2, { steps: 300, lr: 0.05 });
    assert.ok(r.accuracy >= 0.94, `probe accuracy ${r.accuracy}`);
    assert.ok(r.trainAccuracy >= 0.95);
  });
});

describe('head initialised from the probe (LP-FT)', () => {
  test('the head gives the probe\'s scores on the labelled images, the encoder is untouched', () => {
    const data = toyImages(48);
    const encoder = new SmallCnn({ widths: [4, 8, 8] });
    const model = new Classifier(encoder, linearHead(8, 4));
    const rows = Int32Array.from({ length: 24 }, (_, i) => 2 * i);
    const before = encoder.stateDict();
    const snapshot = new Map([...before].map(([k, t]) => [k, t.dataNumbers()]));
    manualSeed(3);
    initHeadFromProbe(model, data, rows, 4, { steps: 50, lr: 0.05 });
    for (const [k, t] of encoder.stateDict()) assert.deepEqual(t.dataNumbers(), snapshot.get(k), `${k} changed`);
    // The same probe, fitted again from the same seed, on the features the head sees.
    const features = extractFeatures(encoder, (x) => encoder.features(x), data, { indices: rows });
    const labels = labelTensor(data, rows);
    manualSeed(3);
    const probe = fitLinearProbe(features, labels, 4, { steps: 50, lr: 0.05 });
    const want = tidy(() => probe.classifier.forward(features.sub(probe.mean).div(probe.std))).dataNumbers();
    const got = tidy(() => (model.head as Linear).forward(features)).dataNumbers();
    assert.ok(want.some((v) => Math.abs(v) > 0.5), 'the probe learnt something');
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-4 * (1 + Math.abs(want[i]!)), `score ${i}: ${got[i]} vs ${want[i]}`);
  });

  test('an MLP head or one without a bias is refused with a clear error', () => {
    const data = toyImages(8);
    const mlp = new Classifier(new SmallCnn({ widths: [4, 8, 8] }), mlpHead(8, 4));
    assert.throws(() => initHeadFromProbe(mlp, data, [0, 1], 4), /must be one Linear layer/);
    const noBias = new Classifier(new SmallCnn({ widths: [4, 8, 8] }), new Linear(8, 4, { bias: false }));
    assert.throws(() => initHeadFromProbe(noBias, data, [0, 1], 4), /needs a bias/);
  });
});

describe('fine-tuning with frozen blocks', () => {
  test('frozen weights and BN statistics do not change; the rest does', async () => {
    manualSeed(0);
    const data = toyImages(64);
    const encoder = new SmallCnn({ widths: [4, 8, 8] });
    const model = new Classifier(encoder, linearHead(8, 4));
    model.freeze('encoder.block1');
    const snapshot = (prefix: string): Map<string, number[]> => new Map(
      [...model.stateDict()].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k, t.dataNumbers()]));
    const frozenBefore = snapshot('encoder.block1');
    const trainedBefore = snapshot('encoder.block2');
    assert.ok([...frozenBefore.keys()].some((k) => k.endsWith('running_mean')));
    await trainSupervised({
      name: 't', model, data, batchSize: 16, steps: 8, seed: 0, progress: false,
      optimizer: { kind: 'sgd', lr: 0.1 }, augment: { crop: 1 },
    });
    for (const [k, v] of snapshot('encoder.block1')) assert.deepEqual(v, frozenBefore.get(k), `${k} changed`);
    let changed = 0;
    for (const [k, v] of snapshot('encoder.block2')) if (JSON.stringify(v) !== JSON.stringify(trainedBefore.get(k))) changed++;
    assert.ok(changed >= 4, `only ${changed} tensors of block2 changed`);
  });
});

describe('rotation pretraining', () => {
  test('learns to tell rotations apart on toy images', async () => {
    manualSeed(0);
    const data = toyImages(96);
    const r = await pretrainRotation({
      encoder: new SmallCnn({ widths: [8, 16, 16] }), data, epochs: 6, batchSize: 16, seed: 0, progress: false,
      heldOut: { data, indices: Int32Array.from({ length: 32 }, (_, i) => i) },
      optimizer: { kind: 'adam', lr: 3e-3 },
    });
    assert.ok(r.heldOutRotationAccuracy! > 0.7, `rotation accuracy ${r.heldOutRotationAccuracy}`);
    assert.equal(rotationAccuracy(r.model, data, { indices: [0, 1, 2, 3] }) >= 0, true);
    assert.ok(r.fit.curve.length > 0);
  });
});

describe('checkpoint and resume', () => {
  async function run(epochs: number, dir: string, resume: boolean, stopAfterEpochs?: number, maxSteps?: number): Promise<number[]> {
    manualSeed(3);
    const data = toyImages(48);
    const model = new Classifier(createBackbone('small-cnn', { inChannels: 1, width: 4 }), linearHead(16, 4));
    const optimizer = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const { DataLoader } = await import('../src/data/index.js');
    const loader = new DataLoader(data, { batchSize: 12, seed: 5, crop: 1, flip: true });
    const losses: number[] = [];
    await fit({
      name: 'resume-test', model, optimizer, epochs: stopAfterEpochs ?? epochs, stepsPerEpoch: loader.length, progress: false,
      batches: (e) => loader.batches(e),
      step: (b) => ({ loss: F.crossEntropy(model.forward(b.x), b.y!), count: b.indices.length }),
      callbacks: { onStepEnd: (_s, l) => { losses.push(l.loss); } },
      checkpoint: join(dir, 'ck'), resume, maxSteps,
    });
    return losses;
  }

  test('resuming from a checkpoint gives the same next losses as an uninterrupted run', async () => {
    const a = mkdtempSync(join(tmpdir(), 'selfsup-resume-a-'));
    const b = mkdtempSync(join(tmpdir(), 'selfsup-resume-b-'));
    const full = await run(4, a, false);
    const first = await run(4, b, false, 2);
    assert.ok(existsSync(join(b, 'ck.json')));
    const rest = await run(4, b, true);
    assert.equal(first.length + rest.length, full.length);
    assert.deepEqual([...first, ...rest].map((v) => v.toFixed(5)), full.map((v) => v.toFixed(5)));
  });

  test('a run resumed at its step limit trains no further step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-resume-limit-'));
    const first = await run(4, dir, false, undefined, 7);
    assert.equal(first.length, 7);
    assert.deepEqual(await run(4, dir, true, undefined, 7), [], 'nothing left to train');
    const more = await run(4, dir, true, undefined, 9);
    assert.equal(more.length, 2, 'a higher limit trains only the difference');
  });

  test('a NaN loss stops training with a clear error', async () => {
    const model = new Linear(2, 2);
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const batch = (): Disposable & { x: Tensor } => ({ x: tensor([[NaN, 1]]), [Symbol.dispose]() {} });
    await assert.rejects(fit({
      name: 'nan-test', model, optimizer, epochs: 1, stepsPerEpoch: 1, progress: false,
      batches: () => [batch()],
      step: (b) => ({ loss: model.forward(b.x).sum(), count: 1 }),
    }), /loss became NaN at epoch 1/);
  });
});

test('k labelled examples per class come from kPerClass', () => {
  const data = toyImages(40);
  const idx = kPerClass(data.labels!, 3, 0, 4);
  assert.equal(idx.length, 12);
});
