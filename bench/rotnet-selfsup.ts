// The selfsup side of the RotNet step benchmark (see rotnet-step.ts and rotnet_step.py):
// the same model, batch and SGD step; prints one JSON line.
// --profile: after the timed steps, as many more under the op profiler (src/tensor/profiler.ts); adds `ops` (top 30, ms per step).
import { parseArgs } from 'node:util';
import { rand, tidy, manualSeed, getNumThreads, F, memory, cuda, profiler } from '../src/tensor/index.js';
import { Conv2d, BatchNorm2d, ReLU, MaxPool2d, AdaptiveAvgPool2d, Flatten, Linear, Sequential, type Module } from '../src/nn/index.js';
import { SGD } from '../src/optim/index.js';
import { rotationBatch } from '../src/ssl/rotation.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '20' }, warmup: { type: 'string', default: '3' }, batch: { type: 'string', default: '128' },
    device: { type: 'string', default: 'cpu' }, profile: { type: 'boolean', default: false },
  },
});
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const batch = Number(values.batch);
const device = values.device!;

const convBnRelu = (cin: number, cout: number): Module[] => [new Conv2d(cin, cout, 3, { padding: 1, bias: false }), new BatchNorm2d(cout), new ReLU()];

manualSeed(0);
const model = new Sequential(
  ...convBnRelu(1, 32), ...convBnRelu(32, 32), new MaxPool2d(2),
  ...convBnRelu(32, 64), ...convBnRelu(64, 64), new MaxPool2d(2),
  ...convBnRelu(64, 128), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(128, 4),
);
// Initialised on the CPU (same seed, same weights whatever the device), then moved.
if (device !== 'cpu') model.to(device);
const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
const images = rand([batch * 8, 1, 28, 28], { device });

function step(i: number): number {
  return tidy(() => {
    const x = images.slice(0, (i % 8) * batch, (i % 8 + 1) * batch);
    const rotated = rotationBatch(x);
    const loss = F.crossEntropy(model.forward(rotated.x), rotated.y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    return loss.item();
  });
}

for (let i = 0; i < warmup; i++) step(i);
const tensorsBefore = memory().numTensors;
// item() already waits for each step; synchronize() makes the bounds explicit on CUDA.
cuda.synchronize();
const t0 = performance.now();
let last = 0;
for (let i = 0; i < steps; i++) last = step(i);
cuda.synchronize();
const seconds = (performance.now() - t0) / 1000;
const result: Record<string, unknown> = {
  impl: 'selfsup', device, threads: getNumThreads(), images_per_step: batch * 4, steps, seconds,
  img_per_s: (batch * 4 * steps) / seconds, last_loss: last,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  leaked_tensors: memory().numTensors - tensorsBefore,
};
if (values.profile) {
  const { profile } = profiler.run(() => { for (let i = 0; i < steps; i++) step(i); cuda.synchronize(); });
  result.profile_wall_ms = profile.wallMs / steps;
  result.ops_self_ms = profile.rows.reduce((a, r) => a + r.selfMs, 0) / steps;
  result.ops = profile.rows.slice(0, 30).map((r) => ({ name: r.name, calls: r.calls / steps, selfMs: r.selfMs / steps, totalMs: r.totalMs / steps }));
}
console.log(JSON.stringify(result));
