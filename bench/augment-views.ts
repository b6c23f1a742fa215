// Times the SimCLR two-view pipeline (resized crop, flip, colour jitter, blur, normalise;
// greyscale is left out for grey images) on a [256, 1, 28, 28] batch and prints one line.
// node dist/bench/augment-views.js [--batch 256] [--iters 40] [--warmup 5] [--threads N] [--device cuda]
import { parseArgs } from 'node:util';
import { rand, getNumThreads, setNumThreads, cuda, memory } from '../src/tensor/index.js';
import { Rng } from '../src/data/random.js';
import { simclrViews } from '../src/ssl/transforms/index.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '256' }, iters: { type: 'string', default: '40' }, warmup: { type: 'string', default: '5' },
    threads: { type: 'string' }, device: { type: 'string', default: 'cpu' },
  },
});
if (values.threads) setNumThreads(Number(values.threads));
const batch = Number(values.batch);
const iters = Number(values.iters);
const device = values.device!;

const images = rand([batch, 1, 28, 28], { device });
const views = simclrViews({ size: 28, channels: 1, mean: [0.286], std: [0.353] });
const rng = new Rng(0);
const sync = (): void => { if (device.startsWith('cuda')) cuda.synchronize(); };

// Warm-up: first calls pay for op lookups and allocator growth.
for (let i = 0; i < Number(values.warmup); i++) views.views(images, rng).forEach((v) => v.dispose());
sync();
const tensorsBefore = memory().numTensors;
const start = performance.now();
for (let i = 0; i < iters; i++) views.views(images, rng).forEach((v) => v.dispose());
sync();
const seconds = (performance.now() - start) / 1000;
const imageViews = 2 * batch * iters;
console.log(`SimCLR two-view pipeline, [${batch}, 1, 28, 28] on ${device}, ${getNumThreads()} thread(s): ` +
  `${Math.round(imageViews / seconds)} views/s (${((1000 * seconds) / iters).toFixed(2)} ms per two-view batch, ${iters} batches; ` +
  `tensors ${memory().numTensors - tensorsBefore >= 0 ? '+' : ''}${memory().numTensors - tensorsBefore})`);
images.dispose();
