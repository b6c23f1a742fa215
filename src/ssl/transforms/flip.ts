// Random horizontal flip with p = 0.5, in every recipe of SimCLR (Chen et al. 2020),
// BYOL (Grill et al. 2020) and DINO (Caron et al. 2021). A thin wrapper over the
// data loader's batched flip (src/data/augment.ts) in the calling style of the other
// view transforms: one draw per image from `rng`, a new tensor back.
import type { Tensor } from '../../tensor/index.js';
import type { Rng } from '../../data/random.js';
import { randomFlip } from '../../data/augment.js';
import { checkFloatBatch, checkProbability } from './validate.js';

export interface HorizontalFlipOptions {
  /** Probability that an image is mirrored (default 0.5). */
  p?: number;
}

export function resolveFlipOptions(o: HorizontalFlipOptions = {}, fn = 'randomHorizontalFlip'): Required<HorizontalFlipOptions> {
  return { p: checkProbability(o.p ?? 0.5, fn) };
}

/** Mirrors each image along W with probability p, into a new tensor. */
export function randomHorizontalFlip(x: Tensor, rng: Rng, options: HorizontalFlipOptions = {}): Tensor {
  checkFloatBatch(x, 'randomHorizontalFlip');
  return randomFlip(x, rng, resolveFlipOptions(options).p);
}
