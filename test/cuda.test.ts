// selfsup on a CUDA device, checked against the same work on the CPU: transfers,
// errors that must stay JavaScript exceptions, autograd, RotNet training steps,
// optimizer state, checkpoints and the data loader; then the library's own `device`
// option: rotation pretraining (with resume), supervised training, features, kNN,
// the linear probe and the whole image experiment. Skipped where CUDA is missing.
//
// SELFSUP_TEST_DEVICE=cpu runs the same file with the CPU standing in for the GPU:
// every comparison is then trivially equal, but it checks the test code itself on a
// machine without CUDA (scripts/device-check.sh --dry-run does this).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  tensor, zeros, randn, rand, arange, tidy, keep, noGrad, memory, manualSeed, cuda, F,
  Generator, type Tensor, type NestedArray,
} from '../src/tensor/index.js';
import { SmallCnn, Classifier, linearHead, createBackbone } from '../src/models/index.js';
import { SGD, Adam, type OptimizerStateDict } from '../src/optim/index.js';
import { rotationBatch } from '../src/ssl/rotation.js';
import { saveCheckpoint, loadCheckpoint } from '../src/io/index.js';
import { DataLoader } from '../src/data/loader.js';
import { makeDataset, type ImageDataset } from '../src/data/dataset.js';
import { pretrainRotation } from '../src/ssl/methods/rotation.js';
import { trainSupervised } from '../src/train/supervised.js';
import { accuracy, extractFeatures, labelTensor } from '../src/eval/evaluate.js';
import { knnClassify } from '../src/eval/knn.js';
import { linearProbe } from '../src/eval/probe.js';
import { runImageExperiment } from '../src/experiment/image.js';
import { defaultImageConfig } from '../src/experiment/defaults.js';
import { toyImages } from './support/toy-images.js';

const device = process.env.SELFSUP_TEST_DEVICE ?? 'cuda';
const onGpu = device.startsWith('cuda');
const skip = !onGpu || cuda.isAvailable() ? false : 'CUDA is not available on this machine';
// A device that differs from `device`, for the mismatch errors ('meta' when standing in on the CPU).
const otherDevice = onGpu ? 'cpu' : 'meta';
const deviceRe = onGpu ? /^cuda/ : /^cpu/;

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'selfsup-cuda-'));
  dirs.push(d);
  return d;
}
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape, 'shapes differ');
  const x = a.dataNumbers();
  const y = b.dataNumbers();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

function assertNear(got: Tensor, want: Tensor, tol: number, what: string): void {
  const d = maxAbsDiff(got, want);
  assert.ok(d <= tol, `${what}: max |${device} - cpu| = ${d}, above ${tol}`);
}

// On the GPU machine (scripts/device-check.sh) a missing CUDA must fail, not skip.
if (process.env.SELFSUP_REQUIRE_CUDA === '1') {
  test('CUDA is available (SELFSUP_REQUIRE_CUDA=1)', () => {
    assert.ok(cuda.isAvailable(), 'libtorch sees no CUDA device: is the addon linked against libtorch_cuda (-Wl,--no-as-needed)?');
  });
}

describe(`selfsup on ${device}`, { skip }, () => {
  test('tensors go to the device and come back unchanged, for each dtype', () => {
    const cases: [NestedArray, 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool'][] = [
      [[[1.5, -2.25], [3, 4e-8]], 'float32'],
      [[1 / 3, -1e300, 7], 'float64'],
      [[2 ** 40 + 1, -5, 0], 'int64'],
      [[1, -2, 3], 'int32'],
      [[0, 128, 255], 'uint8'],
      [[true, false, true], 'bool'],
    ];
    for (const [data, dtype] of cases) {
      tidy(() => {
        const onDevice = tensor(data, { dtype }).to(device);
        assert.match(onDevice.device, deviceRe, dtype);
        assert.equal(onDevice.dtype, dtype);
        assert.deepEqual(onDevice.cpu().toArray(), tensor(data, { dtype }).toArray(), dtype);
        // Reading values straight from a device tensor copies them to the host.
        assert.deepEqual(onDevice.toArray(), tensor(data, { dtype }).toArray(), dtype);
      });
    }
  });

  test('factories make tensors on the device', () => {
    tidy(() => {
      for (const t of [zeros([2, 3], { device }), randn([4], { device }), rand([2, 2], { device }), arange(0, 5, 1, { device }), tensor([1, 2], { device })]) {
        assert.match(t.device, deviceRe);
      }
      assert.deepEqual(arange(0, 5, 1, { device }).mul(2).toArray(), [0, 2, 4, 6, 8]);
    });
  });

  test('ops on the device match the CPU', () => {
    tidy(() => {
      const a = randn([64, 32]);
      const b = randn([32, 16]);
      const want = a.matmul(b).relu().softmax(1);
      assertNear(a.to(device).matmul(b.to(device)).relu().softmax(1), want, 1e-2, 'matmul-relu-softmax'); // loose in case TF32 is on
      const ad = a.double();
      const bd = b.double();
      assertNear(ad.to(device).matmul(bd.to(device)).sum(1), ad.matmul(bd).sum(1), 1e-9, 'float64 matmul');
    });
  });

  test('errors on the device are JavaScript exceptions, and the device keeps working', () => {
    const a = randn([3], { device });
    const b = randn([3]).to(otherDevice);
    assert.throws(() => a.add(b), (e: unknown) => e instanceof Error && /device/i.test(e.message), 'tensors on two devices');
    assert.throws(() => randn([2, 3], { device }).matmul(randn([4, 5], { device })), /shape|size|mat1|cannot be multiplied/i);
    if (onGpu) {
      // A CPU random generator cannot drive a CUDA kernel.
      assert.throws(() => rand([2], { device, generator: new Generator(1) }), /generator|device/i);
    }
    assert.deepEqual(a.add(1).sub(a).round().toArray(), [1, 1, 1]);
    a.dispose();
    b.dispose();
  });

  test('autograd on the device matches the CPU (float64, conv + batch norm + pooling + cross entropy)', () => {
    const gen = new Generator(3);
    const inputs = tidy(() => ({
      x: randn([6, 2, 10, 10], { generator: gen, dtype: 'float64' }),
      w1: randn([4, 2, 3, 3], { generator: gen, dtype: 'float64' }).mul(0.3),
      gamma: rand([4], { generator: gen, dtype: 'float64' }).add(0.5),
      beta: randn([4], { generator: gen, dtype: 'float64' }),
      w2: randn([3, 4], { generator: gen, dtype: 'float64' }),
    }));
    const target = tensor([0, 1, 2, 0, 1, 2], { dtype: 'int64' });
    const gradsOn = (dev: string): { loss: number; grads: Tensor[] } => {
      // clone(): to('cpu') returns the same tensor, and the inputs must stay untouched leaves.
      const leaves = Object.values(inputs).map((t) => tidy(() => t.to(dev).clone()).requiresGrad_(true));
      const [x, w1, gamma, beta, w2] = leaves as [Tensor, Tensor, Tensor, Tensor, Tensor];
      const loss = tidy(() => {
        const h = F.conv2d(x, w1, null, { padding: 1 });
        const n = F.batchNorm(h, { weight: gamma, bias: beta, training: true });
        const p = F.maxPool2d(n.relu(), 2).mean([2, 3]);
        const l = F.crossEntropy(F.linear(p, w2), target.to(dev));
        l.backward();
        return l.item();
      });
      const grads = leaves.map((t) => keep(t.grad!.cpu()));
      for (const t of leaves) t.dispose();
      return { loss, grads };
    };
    const cpu = gradsOn('cpu');
    const dev = gradsOn(device);
    assert.ok(Math.abs(cpu.loss - dev.loss) < 1e-10, `loss ${dev.loss} on ${device}, ${cpu.loss} on cpu`);
    Object.keys(inputs).forEach((name, i) => assertNear(dev.grads[i]!, cpu.grads[i]!, 1e-9, `grad of ${name}`));
    for (const t of [...cpu.grads, ...dev.grads, ...Object.values(inputs), target]) t.dispose();
  });

  /** SmallCnn + rotation head, initialised on the CPU from a seed, then moved. */
  function rotnet(dev: string): Classifier {
    manualSeed(11);
    const encoder = new SmallCnn({ widths: [8, 16, 32] });
    const model = new Classifier(encoder, linearHead(encoder.featureDim(), 4));
    return dev === 'cpu' ? model : model.to(dev);
  }

  function rotnetStep(model: Classifier, opt: SGD, images: Tensor): number {
    return tidy(() => {
      const { x, y } = rotationBatch(images);
      assert.equal(y.device, images.device, 'rotation labels sit with the images');
      const loss = F.crossEntropy(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      return loss.item();
    });
  }

  const sgdOptions = { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 };

  test('RotNet training steps on the device give the CPU losses and weights; state stays on the device', () => {
    const images = rand([16, 1, 28, 28], { generator: new Generator(5) });
    const run = (dev: string): { losses: number[]; model: Classifier; opt: SGD } => {
      const model = rotnet(dev);
      const opt = new SGD(model.parameters(), sgdOptions);
      const x = images.to(dev);
      const losses = Array.from({ length: 6 }, () => rotnetStep(model, opt, x));
      x.dispose();
      return { losses, model, opt };
    };
    const cpu = run('cpu');
    const dev = run(device);
    // cuDNN may use TF32 for float32 convolutions: close, not equal.
    cpu.losses.forEach((l, i) => assert.ok(Math.abs(l - dev.losses[i]!) < 2e-2, `step ${i}: loss ${dev.losses[i]} on ${device}, ${l} on cpu`));
    assert.ok(dev.losses.at(-1)! < dev.losses[0]!, `training lowers the loss on ${device}: ${dev.losses.join(', ')}`);
    const cpuState = cpu.model.stateDict();
    for (const [name, t] of dev.model.stateDict()) {
      assert.match(t.device, deviceRe, name);
      tidy(() => assertNear(t.cpu().float(), cpuState.get(name)!.float(), 2e-2, name));
    }
    const optState = dev.opt.stateDict().state;
    assert.ok(optState.size > 0, 'SGD keeps momentum buffers');
    for (const [name, t] of optState) assert.match(t.device, deviceRe, `optimizer state ${name}`);
    for (const r of [cpu, dev]) { r.opt.dispose(); r.model.dispose(); }
    images.dispose();
  });

  test('a checkpoint saved from device tensors loads on the CPU and on the device, and training resumes exactly', () => {
    // Generators are CPU generators: draw on the CPU, then move.
    const images = tidy(() => rand([8, 1, 28, 28], { generator: new Generator(6) }).to(device));
    const model = rotnet(device);
    const opt = new SGD(model.parameters(), sgdOptions);
    for (let i = 0; i < 3; i++) rotnetStep(model, opt, images);
    const path = join(freshDir(), 'ck');
    saveCheckpoint(path, { model, optimizer: opt, meta: { step: 3 } });

    const onCpu = loadCheckpoint(path);
    for (const [name, t] of model.stateDict()) {
      const got = onCpu.model.get(name)!;
      assert.equal(got.device, 'cpu');
      assert.equal(maxAbsDiff(got, t), 0, `${name} round-trips exactly`);
    }
    const back = loadCheckpoint(path, { device });
    for (const t of [...back.model.values(), ...back.optimizer!.state.values()]) assert.match(t.device, deviceRe);

    // A fresh model and optimizer restored from the checkpoint take the same next step.
    const restored = rotnet(device);
    restored.loadStateDict(back.model);
    const restoredOpt = new SGD(restored.parameters(), sgdOptions);
    restoredOpt.loadStateDict(back.optimizer as unknown as OptimizerStateDict);
    for (const t of restoredOpt.stateDict().state.values()) assert.match(t.device, deviceRe);
    // Same weights, same batch: equal up to cuDNN's nondeterministic weight-gradient sums.
    const want = rotnetStep(model, opt, images);
    const got = rotnetStep(restored, restoredOpt, images);
    assert.ok(Math.abs(got - want) < 1e-6, `the step after resuming gives loss ${got}, the uninterrupted run ${want}`);
    const modelState = model.stateDict();
    for (const [name, t] of restored.stateDict()) assertNear(t, modelState.get(name)!, 1e-5, `${name} after the resumed step`);

    for (const ck of [onCpu, back]) for (const t of [...ck.model.values(), ...(ck.optimizer?.state.values() ?? [])]) t.dispose();
    for (const m of [model, restored]) m.dispose();
    for (const o of [opt, restoredOpt]) o.dispose();
    images.dispose();
  });

  test('Adam on the device matches Adam on the CPU', () => {
    const start = randn([5, 4], { generator: new Generator(8), dtype: 'float64' });
    const run = (dev: string): Tensor => {
      const w = tidy(() => start.to(dev).clone()).requiresGrad_(true); // a fresh leaf; `start` stays as it is
      const opt = new Adam([w], { lr: 0.1, weightDecay: 0.01 });
      for (let i = 0; i < 5; i++) {
        tidy(() => {
          const loss = w.mul(w).sum().add(w.sum().mul(3));
          opt.zeroGrad();
          loss.backward();
          opt.step();
        });
      }
      for (const st of opt.stateDict().state.values()) if (st.ndim > 0) assert.match(st.device, dev === 'cpu' ? /^cpu/ : deviceRe);
      opt.dispose();
      const out = noGrad(() => w.cpu());
      w.dispose();
      return out;
    };
    const cpu = run('cpu');
    const dev = run(device);
    assertNear(dev, cpu, 1e-12, 'Adam weights');
    for (const t of [start, cpu, dev]) t.dispose();
  });

  test('the data loader delivers augmented, normalized batches on the device, equal to the CPU ones', () => {
    const n = 20;
    const images = new Uint8Array(n * 1 * 12 * 12).map((_, i) => (i * 37) % 256);
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const data = makeDataset({ name: 'toy', imageShape: [1, 12, 12], images, labels, classNames: ['a', 'b', 'c'] });
    const opts = { batchSize: 8, seed: 4, crop: 2, flip: true, mean: [0.5], std: [0.25] };
    const cpuBatches = [...new DataLoader(data, opts)];
    const devBatches = [...new DataLoader(data, { ...opts, device })];
    assert.equal(devBatches.length, cpuBatches.length);
    devBatches.forEach((b, i) => {
      assert.match(b.x.device, deviceRe);
      assert.match(b.y!.device, deviceRe);
      assert.deepEqual([...b.indices], [...cpuBatches[i]!.indices]);
      assertNear(b.x, cpuBatches[i]!.x, 1e-5, `batch ${i} images`); // float rounding may differ by an ulp or two
      assert.deepEqual(b.y!.toArray(), cpuBatches[i]!.y!.toArray());
    });
    for (const b of [...cpuBatches, ...devBatches]) b.dispose();
  });

  test('tidy frees device tensors', () => {
    const before = memory().numTensors;
    const kept = tidy(() => {
      const a = randn([256, 256], { device });
      for (let i = 0; i < 20; i++) a.matmul(a).relu().sum();
      return a.sum();
    });
    assert.equal(memory().numTensors, before + 1);
    kept.dispose();
    assert.equal(memory().numTensors, before);
    if (onGpu) cuda.synchronize();
  });
});


/** The parameters and buffers of `model` (those under `prefix`), copied to the CPU (the caller frees them). */
function cpuState(model: { stateDict(): Map<string, Tensor> }, prefix = ''): Map<string, Tensor> {
  return new Map([...model.stateDict()].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k, keep(noGrad(() => t.cpu().clone()))]));
}

function assertStatesNear(got: Map<string, Tensor>, want: Map<string, Tensor>, tol: number): void {
  assert.deepEqual([...got.keys()], [...want.keys()]);
  for (const [k, t] of got) tidy(() => assertNear(t.float(), want.get(k)!.float(), tol, k));
}

const disposeAll = (m: Map<string, Tensor>): void => { for (const t of m.values()) t.dispose(); };

describe(`the device option on ${device}, against the cpu`, { skip }, () => {
  const data = toyImages(96);
  const heldOut = { data, indices: Int32Array.from({ length: 32 }, (_, i) => i) };
  const trainIdx = Int32Array.from({ length: 64 }, (_, i) => 32 + i);

  /** Rotation pretraining from seed 0: step losses, the weights on the cpu, held-out rotation accuracy. */
  async function pretrain(dev: string, o: { checkpoint?: string; resume?: boolean; interruptAtStep?: number } = {}) {
    manualSeed(0);
    const losses: number[] = [];
    const encoder = createBackbone('small-cnn', { inChannels: 1, width: 4 });
    const r = await pretrainRotation({
      encoder, data, indices: trainIdx, heldOut, epochs: 2, batchSize: 16, seed: 0, progress: false, device: dev,
      optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4, warmupSteps: 2 }, augment: { crop: 1, flip: true },
      checkpoint: o.checkpoint, resume: o.resume,
      callbacks: {
        onStepEnd: (step, l) => {
          losses.push(l.loss);
          if (step === o.interruptAtStep) process.emit('SIGINT'); // as Ctrl-C: the trainer finishes the step, saves and returns
        },
      },
    });
    for (const [name, t] of r.model.stateDict()) assert.match(t.device, deviceRe, `${name} trained on ${dev}`);
    assert.equal(encoder, r.model.encoder, 'the caller\'s encoder is the one trained (moved in place)');
    const state = cpuState(r.model);
    r.model.dispose();
    return { losses, state, rotationAccuracy: r.heldOutRotationAccuracy!, fit: r.fit };
  }

  test('pretrainRotation on the device gives the cpu losses, weights and rotation accuracy', async () => {
    const cpu = await pretrain('cpu');
    const dev = await pretrain(device);
    assert.equal(dev.losses.length, 8);
    cpu.losses.forEach((l, i) => assert.ok(Math.abs(l - dev.losses[i]!) < 2e-2, `step ${i + 1}: loss ${dev.losses[i]} on ${device}, ${l} on cpu`));
    assertStatesNear(dev.state, cpu.state, 2e-2);
    assert.ok(Math.abs(dev.rotationAccuracy - cpu.rotationAccuracy) <= 0.05, `rotation accuracy ${dev.rotationAccuracy} on ${device}, ${cpu.rotationAccuracy} on cpu`);
    disposeAll(cpu.state);
    disposeAll(dev.state);
  });

  test('pretrainRotation interrupted on the device resumes from its checkpoint there, as if never stopped', async () => {
    const whole = await pretrain(device);
    const ck = join(freshDir(), 'rot');
    const first = await pretrain(device, { checkpoint: ck, interruptAtStep: 3 });
    assert.equal(first.fit.interrupted, true);
    assert.equal(first.losses.length, 3);
    const saved = loadCheckpoint(ck, { device });
    for (const t of [...saved.model.values(), ...saved.optimizer!.state.values()]) assert.match(t.device, deviceRe);
    assert.ok(saved.optimizer!.state.size > 0, 'the momentum buffers were saved');
    for (const t of [...saved.model.values(), ...saved.optimizer!.state.values()]) t.dispose();
    const rest = await pretrain(device, { checkpoint: ck, resume: true });
    const resumed = [...first.losses, ...rest.losses];
    assert.equal(resumed.length, whole.losses.length);
    resumed.forEach((l, i) => assert.ok(Math.abs(l - whole.losses[i]!) < 1e-4, `step ${i + 1}: ${l} resumed, ${whole.losses[i]} uninterrupted`));
    assertStatesNear(rest.state, whole.state, 1e-4);
    for (const r of [whole, first, rest]) disposeAll(r.state);
  });

  /** Fine-tuning from seed 1 with block1 frozen: step losses, the weights and the test accuracy. */
  async function finetune(dev: string, kind: 'sgd' | 'adam') {
    manualSeed(1);
    const encoder = new SmallCnn({ widths: [4, 8, 8] });
    const model = new Classifier(encoder, linearHead(8, 4));
    model.freeze('encoder.block1');
    const frozen = cpuState(model, 'encoder.block1.');
    const losses: number[] = [];
    const fit = await trainSupervised({
      name: `finetune on ${dev}`, model, data, indices: trainIdx, batchSize: 16, steps: 6, seed: 2, progress: false, device: dev,
      optimizer: { kind, lr: kind === 'sgd' ? 0.05 : 3e-3 }, augment: { crop: 1, flip: true }, labelSmoothing: 0.1,
      callbacks: { onStepEnd: (_s, l) => { losses.push(l.loss); } },
    });
    assert.equal(fit.steps, 6);
    for (const p of model.parameters()) assert.match(p.device, deviceRe);
    const frozenAfter = cpuState(model, 'encoder.block1.');
    assertStatesNear(frozenAfter, frozen, 0); // frozen weights and BN statistics stay put on any device
    const acc = accuracy(model, data, { indices: heldOut.indices });
    const state = cpuState(model);
    model.dispose();
    disposeAll(frozen);
    disposeAll(frozenAfter);
    return { losses, state, acc };
  }

  for (const kind of ['sgd', 'adam'] as const) {
    test(`trainSupervised (${kind}) on the device gives the cpu losses, weights and accuracy; frozen blocks stay frozen`, async () => {
      const cpu = await finetune('cpu', kind);
      const dev = await finetune(device, kind);
      cpu.losses.forEach((l, i) => assert.ok(Math.abs(l - dev.losses[i]!) < 2e-2, `step ${i + 1}: loss ${dev.losses[i]} on ${device}, ${l} on cpu`));
      assertStatesNear(dev.state, cpu.state, 2e-2);
      assert.ok(Math.abs(dev.acc - cpu.acc) <= 2 / 32, `accuracy ${dev.acc} on ${device}, ${cpu.acc} on cpu`);
      disposeAll(cpu.state);
      disposeAll(dev.state);
    });
  }

  /** Pooled block3 features of a seeded encoder on `dev`, for the train and test parts. */
  function features(dev: string): { train: Tensor; test: Tensor } {
    manualSeed(4);
    const enc = createBackbone('small-cnn', { inChannels: 1, width: 4, device: dev });
    for (const t of enc.stateDict().values()) assert.match(t.device, dev === 'cpu' ? /^cpu/ : deviceRe);
    const f = (indices: Int32Array) => extractFeatures(enc, (x) => enc.features(x, 'block3'), data, { indices });
    const out = { train: f(trainIdx), test: f(heldOut.indices) };
    enc.dispose();
    return out;
  }

  test('features, kNN and the linear probe on the device match the cpu', () => {
    const cpu = features('cpu');
    const dev = features(device);
    assert.match(dev.train.device, deviceRe, 'features come out where the encoder is');
    tidy(() => assertNear(dev.train.cpu(), cpu.train, 2e-2, 'train features')); // cuDNN may use TF32 for convolutions
    const yTrain = labelTensor(data, trainIdx);
    const yTest = labelTensor(data, heldOut.indices);

    const knnCpu = knnClassify(cpu.train, yTrain, cpu.test, yTest, 4, { k: 5 });
    const knnDev = knnClassify(dev.train, yTrain, dev.test, yTest, 4, { k: 5 }); // cpu labels with device features
    const knnMoved = knnClassify(cpu.train, yTrain, cpu.test, yTest, 4, { k: 5, device }); // cpu inputs, compared on the device
    for (const r of [knnDev, knnMoved]) {
      const same = r.predictions.filter((p, i) => p === knnCpu.predictions[i]).length;
      assert.ok(same >= 30, `kNN on ${device} agrees with the cpu on ${same} of 32 test images`);
      assert.ok(Math.abs(r.accuracy - knnCpu.accuracy) <= 2 / 32);
    }

    manualSeed(5);
    const probeCpu = linearProbe(cpu.train, yTrain, cpu.test, yTest, 4, { steps: 50, lr: 0.05 });
    manualSeed(5);
    const probeDev = linearProbe(cpu.train, yTrain, cpu.test, yTest, 4, { steps: 50, lr: 0.05, device });
    for (const t of [...probeDev.classifier.parameters(), probeDev.mean, probeDev.std]) assert.match(t.device, deviceRe);
    assert.ok(Math.abs(probeDev.accuracy - probeCpu.accuracy) <= 1 / 32, `probe accuracy ${probeDev.accuracy} on ${device}, ${probeCpu.accuracy} on cpu`);
    assert.ok(Math.abs(probeDev.trainAccuracy - probeCpu.trainAccuracy) <= 2 / 64);
    tidy(() => assertNear(probeDev.classifier.weight.cpu(), probeCpu.classifier.weight, 2e-2, 'probe weights'));

    for (const r of [probeCpu, probeDev]) { r.classifier.dispose(); r.mean.dispose(); r.std.dispose(); }
    for (const t of [cpu.train, cpu.test, dev.train, dev.test, yTrain, yTest]) t.dispose();
  });

  test('the image experiment with device set gives the cpu results', async () => {
    const c = defaultImageConfig();
    Object.assign(c, { width: 4, ks: [4], seeds: [0], testLimit: 32 });
    c.pretrain = { ...c.pretrain, maxSteps: 4, batchSize: 16, heldOut: 16, optimizer: { ...c.pretrain.optimizer, warmupSteps: 1 } };
    c.transfer = { ...c.transfer, steps: 4, batchSize: 16 };
    c.finetune = { ...c.finetune, steps: 4, stepsPerK: {}, batchSize: 16 };
    c.scratch = { ...c.scratch, steps: 4, stepsPerK: {}, batchSize: 16 };
    c.probe = { ...c.probe, steps: 30 };
    c.knn = { ...c.knn, k: 5 };
    const source = toyImages(64, { seed: 9 });
    const run = (dev: string) => runImageExperiment({ name: 'toy', train: data, test: data, source }, { ...c, device: dev }, freshDir(), () => {});
    const cpu = await run('cpu');
    const dev = await run(device);
    assert.deepEqual(dev.results.map((r) => r.method), cpu.results.map((r) => r.method));
    assert.equal(dev.results.length, 5);
    // 4 of 32 test images may flip: short runs from TF32-rounded convolutions.
    dev.results.forEach((r, i) => assert.ok(Math.abs(r.mean - cpu.results[i]!.mean) <= 4 / 32, `${r.method}: ${r.mean} on ${device}, ${cpu.results[i]!.mean} on cpu`));
    assert.ok(Math.abs(dev.rotationAccuracy! - cpu.rotationAccuracy!) <= 0.1);
    assert.equal((dev.report.config as { device?: string }).device, device);
  });

  test('the CLI trains and evaluates with --device: pretrain, knn, probe, finetune, experiment', async () => {
    const cliPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
    const cli = (...args: string[]): Promise<Record<string, any>> => new Promise((resolve, reject) => {
      execFile(process.execPath, [cliPath, ...args, '--json'], { env: { ...process.env, SELFSUP_NUM_THREADS: '1' }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
        const last = stdout.trim().split('\n').at(-1) ?? '';
        if (err) return reject(new Error(`selfsup ${args.join(' ')} failed (${err.message}):\n${stderr}`));
        try {
          resolve(JSON.parse(last));
        } catch {
          reject(new Error(`selfsup ${args.join(' ')}: the last line is not JSON:\n${stdout}\n${stderr}`));
        }
      });
    });
    // IDX files of toy images (the GPU machine has no data sets): 200 for training, 64 for testing.
    const idx = freshDir();
    const writeIdx = (prefix: string, ds: ImageDataset): void => {
      const [, h, w] = ds.imageShape;
      const header = (magic: number, dims: number[]): Buffer => {
        const b = Buffer.alloc(4 + 4 * dims.length);
        b.writeUInt32BE(magic, 0);
        dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
        return b;
      };
      writeFileSync(join(idx, `${prefix}-images-idx3-ubyte`), Buffer.concat([header(0x803, [ds.length, h, w]), Buffer.from(ds.images)]));
      writeFileSync(join(idx, `${prefix}-labels-idx1-ubyte`), Buffer.concat([header(0x801, [ds.length]), Buffer.from(Uint8Array.from(ds.labels!))]));
    };
    writeIdx('train', toyImages(200, { seed: 3 }));
    writeIdx('t10k', toyImages(64, { seed: 4 }));
    const data = ['--data', `idx:${idx}`];
    const labelled = [...data, '--k', '5', '--seeds', '0'];
    const dirs = { cpu: freshDir(), dev: freshDir() };
    const pre = await Promise.all((['cpu', 'dev'] as const).map((w) => cli('pretrain', ...data, '--width', '4', '--batch-size', '16', '--held-out', '20', '--steps', '4',
      '--out', dirs[w], '--device', w === 'cpu' ? 'cpu' : device)));
    assert.equal(pre[1]!.device, device);
    assert.equal(pre[1]!.steps, 4);
    assert.ok(Math.abs(pre[1]!.rotationAccuracy - pre[0]!.rotationAccuracy) <= 0.1, `rotation accuracy ${pre[1]!.rotationAccuracy} on ${device}, ${pre[0]!.rotationAccuracy} on cpu`);
    const knn = await Promise.all((['cpu', 'dev'] as const).map((w) => cli('knn', '--encoder', dirs[w], ...labelled, '--neighbors', '5', '--device', w === 'cpu' ? 'cpu' : device)));
    assert.equal(knn[1]!.device, device);
    assert.ok(Math.abs(knn[1]!.mean - knn[0]!.mean) <= 4 / 64, `kNN accuracy ${knn[1]!.mean} on ${device}, ${knn[0]!.mean} on cpu`);
    const [probe, finetune, experiment] = await Promise.all([
      cli('probe', '--encoder', dirs.dev, ...labelled, '--steps', '20', '--device', device),
      cli('finetune', '--encoder', dirs.dev, ...labelled, '--steps', '3', '--batch-size', '10', '--device', device),
      cli('experiment', '--quick', ...data, '--ks', '3', '--seeds', '0', '--pretrain-steps', '2',
        '--methods', 'scratch,rotation-finetune,rotation-probe,rotation-knn', '--width', '4', '--out', freshDir(), '--device', device),
    ]);
    for (const [name, r] of Object.entries({ probe, finetune })) {
      assert.equal(r.device, device, name);
      assert.ok(r.mean >= 0 && r.mean <= 1, `${name} accuracy ${r.mean}`);
    }
    assert.equal(experiment.config.device, device);
    assert.equal(experiment.results.length, 4);
  });
});
