// Random solarization, BYOL's addition (Grill et al. 2020, app. B: p = 0 for the first
// view, 0.2 for the second), kept by DINO (Caron et al. 2021) for its second global view:
// pixels at or above `threshold` become 1 - x (torchvision's solarize for float images).
// Small grey images: MNIST-style digits have a black background below the threshold,
// so only the strokes are inverted; the view changes a lot less than a photo does.
import { Tensor, op, tidy } from '../../tensor/index.js';
import type { Rng } from '../../data/random.js';
import { checkFloatBatch, checkProbability, coinFlips, imageMask } from './validate.js';

export interface RandomSolarizeOptions {
  /** Probability that an image is solarized (default 0.2). */
  p?: number;
  /** Pixels >= threshold are inverted (default 0.5). */
  threshold?: number;
}

export function resolveSolarizeOptions(o: RandomSolarizeOptions = {}, fn = 'randomSolarize'): Required<RandomSolarizeOptions> {
  const threshold = o.threshold ?? 0.5;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) throw new RangeError(`${fn}: threshold must be a finite number, got ${String(threshold)}`);
  return { p: checkProbability(o.p ?? 0.2, fn), threshold };
}

/** With probability p per image: pixels >= threshold become 1 - x. */
export function randomSolarize(x: Tensor, rng: Rng, options: RandomSolarizeOptions = {}): Tensor {
  const [batch] = checkFloatBatch(x, 'randomSolarize');
  const { p, threshold } = resolveSolarizeOptions(options);
  const chosen = coinFlips(batch, rng, p);
  if (!chosen.includes(1)) return x.clone();
  return tidy(() => {
    const invert = x.ge(threshold).logicalAnd(imageMask(chosen, x));
    return op<Tensor>('aten::rsub.Scalar', x, 1).where(invert, x);
  });
}
