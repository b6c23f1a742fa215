// Composable view pipelines for joint-embedding SSL: a view is a chain of batched,
// seeded steps; a MultiViewTransform makes several views of one batch (SimCLR's and
// BYOL's two, DINO's two global plus N local crops), each from its own child Rng.
import { Tensor, tidy } from '../../tensor/index.js';
import { Rng } from '../../data/random.js';
import { normalizeBatch } from '../../data/augment.js';
import { checkFloatBatch } from './validate.js';

/** One step of a view: a new tensor from a [B, C, H, W] batch and the view's Rng. */
export interface ViewTransform {
  apply(x: Tensor, rng: Rng): Tensor;
}

/** Lifts a function `(x, rng) => tensor` into a step. */
export function viewStep(fn: (x: Tensor, rng: Rng) => Tensor): ViewTransform {
  return { apply: fn };
}

/** Runs `steps` in order with one Rng; intermediate batches are freed, the input is untouched. */
export function viewPipeline(steps: ViewTransform[]): ViewTransform {
  if (!Array.isArray(steps) || steps.some((s) => typeof s?.apply !== 'function')) {
    throw new TypeError('viewPipeline: steps must be an array of view transforms (objects with apply(x, rng))');
  }
  const chain = [...steps];
  return {
    apply(x: Tensor, rng: Rng): Tensor {
      checkFloatBatch(x, 'viewPipeline');
      return tidy(() => {
        let y = x;
        for (const step of chain) y = step.apply(y, rng);
        return y === x ? x.clone() : y;
      });
    },
  };
}

/** The final step of most views: (x - mean[c]) / std[c] per channel. Draws nothing from the Rng. */
export function normalizeView(mean: number[], std: number[]): ViewTransform {
  if (!Array.isArray(mean) || !Array.isArray(std) || mean.length === 0 || mean.length !== std.length) {
    throw new RangeError(`normalizeView: need mean and std arrays of one value per channel and of the same length, got ${JSON.stringify(mean)} and ${JSON.stringify(std)}`);
  }
  if (std.some((s) => !(s > 0))) throw new RangeError(`normalizeView: std must be positive, got [${std.join(', ')}]`);
  if (mean.some((m) => !Number.isFinite(m))) throw new RangeError(`normalizeView: mean must be finite, got [${mean.join(', ')}]`);
  const [m, s] = [[...mean], [...std]];
  return { apply: (x) => normalizeBatch(x, m, s) };
}

/**
 * Several views of one batch. Each call draws one seed from the parent Rng and gives
 * view i the child Rng (seed, i): view i depends only on the parent's state and i, so
 * adding or dropping local views leaves the global ones as they were.
 */
export class MultiViewTransform {
  readonly transforms: readonly ViewTransform[];

  constructor(transforms: ViewTransform[]) {
    if (!Array.isArray(transforms) || transforms.length === 0 || transforms.some((t) => typeof t?.apply !== 'function')) {
      throw new TypeError('MultiViewTransform: expected a non-empty array of view transforms (objects with apply(x, rng))');
    }
    this.transforms = [...transforms];
  }

  get numViews(): number {
    return this.transforms.length;
  }

  /** The child Rng of view `index` for a given parent draw (exposed so a view can be redone alone). */
  static childRng(viewSeed: number, index: number): Rng {
    return new Rng(viewSeed, index);
  }

  /** One tensor per view transform, in order; the caller owns them. */
  views(x: Tensor, rng: Rng): Tensor[] {
    checkFloatBatch(x, 'MultiViewTransform.views');
    const viewSeed = Math.floor(rng.next() * 2 ** 32);
    return tidy(() => this.transforms.map((t, i) => t.apply(x, MultiViewTransform.childRng(viewSeed, i))));
  }
}
