// The selfsup side of the per-method pretraining-step benchmark (see methods-step.ts and
// methods_step.py): one registered method around the small CNN, its catalog optimizer,
// and the trainer's step (views + forward + backward + optimizer step + after-step) on
// batches of Fashion-MNIST images. Prints one JSON line.
// node dist/bench/methods-selfsup.js --method simclr [--steps 10] [--warmup 3] [--batch 256] [--profile]
// --profile: after the timed steps, as many more under the op profiler (src/tensor/profiler.ts); adds `ops` (top 30, ms per step).
import { parseArgs } from 'node:util';
import { tidy, manualSeed, getNumThreads, memory, profiler, type Tensor } from '../src/tensor/index.js';
import { SmallCnn, createBackbone } from '../src/models/index.js';
import { Rng } from '../src/data/random.js';
import { loadFashionMnist } from '../src/data/fashion-mnist.js';
import { toTensors } from '../src/data/dataset.js';
import { normalizeBatch_ } from '../src/data/augment.js';
import { createMethod, methodInfo, type ViewBatch } from '../src/ssl/index.js';
import type { StepContext } from '../src/train/trainer.js';

const { values } = parseArgs({
  options: {
    method: { type: 'string' }, steps: { type: 'string', default: '10' }, warmup: { type: 'string', default: '3' },
    batch: { type: 'string', default: '256' }, profile: { type: 'boolean', default: false },
  },
});
if (!values.method) throw new Error('methods-selfsup: --method NAME is required');
const name = values.method;
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const batch = Number(values.batch);
// Fashion-MNIST's training-set statistics (both sides use the same constants).
const norm = { mean: [0.2860], std: [0.3530] };
const BATCHES = 8;

manualSeed(0);
const info = methodInfo(name);
// The small CNN, or the first backbone a method names (vit-tiny for MAE), at 28x28.
const backboneName = info.backbones?.includes('small-cnn') === false ? info.backbones[0]! : 'small-cnn';
const backbone = backboneName === 'small-cnn' ? new SmallCnn() : createBackbone(backboneName, { inChannels: 1, imageSize: [28, 28] });
const method = createMethod(name, backbone, { imageShape: [1, 28, 28], norm });
method.train();
// The catalog's optimizer at its base lr; the warm-up/cosine schedule is left out (it costs nothing per step).
const optimizer = method.makeOptimizer(info.defaults.optimizer);

// The first BATCHES * batch training images, as floats before timing: raw [0, 1] for methods
// that make their own views, normalised for rotation (its loader normalises).
const data = loadFashionMnist({ split: 'train' });
const images = tidy(() => {
  const { x, y } = toTensors(data, Int32Array.from({ length: BATCHES * batch }, (_, i) => i));
  y?.dispose();
  return method.rawInput ? x : normalizeBatch_(x, norm.mean, norm.std);
});

// Phase times: the views (or rotations) are timed by wrapping the method's own view maker.
const phases = { views: 0, forward: 0, backward: 0, optimizer: 0, after: 0 };
const timed = <T>(key: keyof typeof phases, fn: () => T): T => {
  const t = performance.now();
  try { return fn(); } finally { phases[key] += performance.now() - t; }
};
const m = method as unknown as Record<string, unknown>;
// MAE has neither: its masking is part of its forward pass (as on the PyTorch side).
const viewMaker = ['makeViews', 'pretextBatch'].find((k) => typeof m[k] === 'function');
if (viewMaker) {
  const original = (m[viewMaker] as (...a: unknown[]) => unknown).bind(method);
  m[viewMaker] = (...a: unknown[]) => timed('views', () => original(...a));
}

const totalSteps = warmup + steps;
function step(i: number): number {
  const x = images.narrow(0, (i % BATCHES) * batch, batch);
  const viewBatch = { x, y: null, indices: new Int32Array(0), rng: new Rng(0, 0, i, 0x55c1), [Symbol.dispose]() { x.dispose(); } } as unknown as ViewBatch;
  const ctx: StepContext = { epoch: 0, step: i, stepInEpoch: i, totalSteps };
  try {
    // The same order as train/trainer.ts's fit: step, zeroGrad, backward, item, optimizer step, after-step.
    return tidy(() => {
      const before = phases.views;
      const t = performance.now();
      const out = method.trainingStep(viewBatch, ctx);
      phases.forward += performance.now() - t - (phases.views - before);
      optimizer.zeroGrad();
      timed('backward', () => (out.loss as Tensor).backward());
      const loss = out.loss.item();
      timed('optimizer', () => optimizer.step());
      timed('after', () => method.afterStep(ctx));
      return loss;
    });
  } finally {
    viewBatch[Symbol.dispose]();
  }
}

const losses: number[] = [];
for (let i = 0; i < warmup; i++) losses.push(step(i));
for (const k of Object.keys(phases) as (keyof typeof phases)[]) phases[k] = 0;
const tensorsBefore = memory().numTensors;
const t0 = performance.now();
for (let i = warmup; i < totalSteps; i++) losses.push(step(i));
const seconds = (performance.now() - t0) / 1000;
const result: Record<string, unknown> = {
  impl: 'selfsup', method: name, threads: getNumThreads(), batch, steps, warmup, seconds,
  // Images of the batch per second (each makes 2 views, or 4 rotations, inside the step).
  img_per_s: (batch * steps) / seconds, ms_per_step: (1000 * seconds) / steps,
  phases_ms: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, v / steps])),
  first_loss: losses[0], last_loss: losses[losses.length - 1], losses,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  leaked_tensors: memory().numTensors - tensorsBefore,
};
if (values.profile) {
  const { profile } = profiler.run(() => { for (let i = totalSteps; i < totalSteps + steps; i++) step(i); });
  result.profile_wall_ms = profile.wallMs / steps;
  result.ops_self_ms = profile.rows.reduce((a, r) => a + r.selfMs, 0) / steps;
  result.ops = profile.rows.slice(0, 30).map((r) => ({ name: r.name, calls: r.calls / steps, selfMs: r.selfMs / steps, totalMs: r.totalMs / steps }));
}
console.log(JSON.stringify(result));
optimizer.dispose();
images.dispose();
method.dispose();
