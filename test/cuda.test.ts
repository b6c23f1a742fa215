// selfsup on a CUDA device, checked against the same work on the CPU: transfers,
// errors that must stay JavaScript exceptions, autograd, RotNet training steps,
// optimizer state, checkpoints and the data loader. Skipped where CUDA is missing.
//
// SELFSUP_TEST_DEVICE=cpu runs the same file with the CPU standing in for the GPU:
// every comparison is then trivially equal, but it checks the test code itself on a
// machine without CUDA (scripts/device-check.sh --dry-run does this).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  tensor, zeros, randn, rand, arange, tidy, keep, noGrad, memory, manualSeed, cuda, F,
  Generator, type Tensor, type NestedArray,
} from '../src/tensor/index.js';
import { SmallCnn, Classifier, linearHead } from '../src/models/index.js';
import { SGD, Adam, type OptimizerStateDict } from '../src/optim/index.js';
import { rotationBatch } from '../src/ssl/rotation.js';
import { saveCheckpoint, loadCheckpoint } from '../src/io/index.js';
import { DataLoader } from '../src/data/loader.js';
import { makeDataset } from '../src/data/dataset.js';

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
