// Random Gaussian blur. SimCLR (Chen et al. 2020, app. A): p = 0.5, sigma uniform in
// [0.1, 2.0], kernel 10% of the image side; BYOL (Grill et al. 2020): p = 1.0 and 0.1 for
// its two views; DINO (Caron et al. 2021): 1.0 / 0.1 on the global views, 0.5 on local.
// One separable depthwise convolution for the whole batch: the images' channels become
// the groups of one conv2d ([1, B*C, H, W], groups = B*C), each with its image's kernel;
// reflect padding as torchvision. Images not chosen get a delta kernel (exactly x).
// Small grey images: 10% of 28 pixels gives a 3-tap kernel, which at sigma 2 is nearly
// a box blur; SimCLR left blur out for CIFAR-10 (p = 0 does that here).
import { Tensor, op, tidy } from '../../tensor/index.js';
import type { Rng } from '../../data/random.js';
import { checkFloatBatch, checkOrderedPair, checkProbability, coinFlips, paramsLike, uniform } from './validate.js';

export interface GaussianBlurOptions {
  /** Probability that an image is blurred (default 0.5). */
  p?: number;
  /** Range of the per-image standard deviation in pixels (default [0.1, 2]). */
  sigma?: [number, number];
  /** Odd kernel size (default: 10% of the shorter side, made odd, at least 3). */
  kernelSize?: number;
}

export function resolveBlurOptions(o: GaussianBlurOptions = {}, fn = 'gaussianBlur'): { p: number; sigma: [number, number]; kernelSize: number | null } {
  const kernelSize = o.kernelSize ?? null;
  if (kernelSize !== null && !(Number.isInteger(kernelSize) && kernelSize >= 1 && kernelSize % 2 === 1)) {
    throw new RangeError(`${fn}: kernelSize must be an odd positive integer, got ${String(kernelSize)}`);
  }
  return { p: checkProbability(o.p ?? 0.5, fn), sigma: checkOrderedPair(o.sigma ?? [0.1, 2], fn, 'sigma'), kernelSize };
}

/** SimCLR's kernel size: 10% of the shorter image side, made odd, at least 3 (3 for 28x28, 23 for 224x224). */
export function defaultBlurKernelSize(height: number, width: number): number {
  const tenth = Math.floor(0.1 * Math.min(height, width));
  return Math.max(3, tenth % 2 === 0 ? tenth + 1 : tenth);
}

/** A normalised 1-D Gaussian of `size` taps (torchvision's _get_gaussian_kernel1d). */
export function gaussianKernel1d(sigma: number, size: number): Float64Array {
  const half = (size - 1) / 2;
  const taps = Float64Array.from({ length: size }, (_, i) => Math.exp(-0.5 * ((i - half) / sigma) ** 2));
  const total = taps.reduce((a, b) => a + b, 0);
  return taps.map((t) => t / total);
}

/** Blurs image b with a Gaussian of sigmas[b] (sigma 0: left exactly as it is). */
export function blurBatch(x: Tensor, sigmas: ArrayLike<number>, kernelSize?: number): Tensor {
  const [batch, channels, height, width] = checkFloatBatch(x, 'blurBatch');
  if (sigmas.length !== batch) throw new RangeError(`blurBatch: need one sigma per image (${batch}), got ${sigmas.length}`);
  const size = kernelSize ?? defaultBlurKernelSize(height, width);
  resolveBlurOptions({ kernelSize: size }, 'blurBatch');
  const pad = (size - 1) / 2;
  if (pad >= height || pad >= width) throw new RangeError(`blurBatch: kernel size ${size} needs images larger than ${pad}x${pad} for reflect padding, got ${height}x${width}`);
  // One row of taps per (image, channel) group.
  const taps = new Float64Array(batch * channels * size);
  for (let b = 0; b < batch; b++) {
    const sigma = sigmas[b]!;
    if (!(sigma >= 0)) throw new RangeError(`blurBatch: sigma must be >= 0, got ${sigma} for image ${b}`);
    const kernel = sigma === 0 ? Float64Array.from({ length: size }, (_, i) => (i === pad ? 1 : 0)) : gaussianKernel1d(sigma, size);
    for (let c = 0; c < channels; c++) taps.set(kernel, (b * channels + c) * size);
  }
  const groups = batch * channels;
  return tidy(() => {
    const weights = paramsLike(taps, [groups, 1, 1, size], x);
    const planes = op<Tensor>('aten::reflection_pad2d', x.reshape(1, groups, height, width), [pad, pad, pad, pad]);
    const rows = op<Tensor>('aten::conv2d', planes, weights, null, [1, 1], [0, 0], [1, 1], groups);
    const both = op<Tensor>('aten::conv2d', rows, weights.view(groups, 1, size, 1), null, [1, 1], [0, 0], [1, 1], groups);
    return both.reshape(batch, channels, height, width);
  });
}

/** With probability p per image, a Gaussian blur of sigma uniform in `sigma`. */
export function gaussianBlur(x: Tensor, rng: Rng, options: GaussianBlurOptions = {}): Tensor {
  const [batch, , height, width] = checkFloatBatch(x, 'gaussianBlur');
  const { p, sigma: [low, high], kernelSize } = resolveBlurOptions(options);
  const chosen = coinFlips(batch, rng, p);
  // Always one sigma per image too, so p changes no other image's draw.
  const sigmas = Float64Array.from(chosen, (c) => { const s = uniform(rng, low, high); return c ? s : 0; });
  if (!chosen.includes(1)) return x.clone();
  return blurBatch(x, sigmas, kernelSize ?? defaultBlurKernelSize(height, width));
}
