// Random greyscale with p = 0.2, as in SimCLR (Chen et al. 2020, app. A), BYOL
// (Grill et al. 2020) and DINO (Caron et al. 2021): luma with the ITU-R BT.601 weights
// (torchvision uses 0.2989 for red), kept at C channels so views keep one shape.
// Grey (1-channel) images such as MNIST are already grey: identity.
import { Tensor, tidy } from '../../tensor/index.js';
import type { Rng } from '../../data/random.js';
import { checkFloatBatch, checkGreyOrRgb, checkProbability, coinFlips, imageMask } from './validate.js';

/** Luma weights for red, green and blue (ITU-R BT.601); they sum to 1. */
export const ITU_R_601_WEIGHTS: readonly [number, number, number] = [0.299, 0.587, 0.114];

/** The luma of an RGB batch [B, 3, H, W] as [B, 1, H, W]. */
export function lumaOf(x: Tensor): Tensor {
  const [, channels] = checkFloatBatch(x, 'lumaOf');
  if (channels !== 3) throw new RangeError(`lumaOf: expected 3 (RGB) channels, got ${channels}`);
  const [wr, wg, wb] = ITU_R_601_WEIGHTS;
  // Three scaled adds on [B, 1, H, W] slices: no [B, 3, H, W] temporary.
  return tidy(() => x.narrow(1, 0, 1).mul(wr).add_(x.narrow(1, 1, 1), wg).add_(x.narrow(1, 2, 1), wb));
}

export interface RandomGrayscaleOptions {
  /** Probability that an image becomes grey (default 0.2). */
  p?: number;
}

export function resolveGrayscaleOptions(o: RandomGrayscaleOptions = {}, fn = 'randomGrayscale'): Required<RandomGrayscaleOptions> {
  return { p: checkProbability(o.p ?? 0.2, fn) };
}

/** Turns each RGB image grey (luma in all 3 channels) with probability p; identity for grey images. */
export function randomGrayscale(x: Tensor, rng: Rng, options: RandomGrayscaleOptions = {}): Tensor {
  const [batch, channels] = checkFloatBatch(x, 'randomGrayscale');
  checkGreyOrRgb(channels, 'randomGrayscale');
  const { p } = resolveGrayscaleOptions(options);
  const chosen = coinFlips(batch, rng, p);
  if (channels === 1 || !chosen.includes(1)) return x.clone();
  // `where` takes untouched images bit for bit and broadcasts the luma over 3 channels.
  return tidy(() => lumaOf(x).where(imageMask(chosen, x), x));
}
