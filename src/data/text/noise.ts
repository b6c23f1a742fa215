// Word2vec's noise distribution for negative sampling: unigram counts raised to
// 3/4 and normalised, sampled in O(1) per draw with Walker's alias table, held in
// tensors so that a whole batch of negatives is a few tensor ops.
import { Tensor, tensor, rand, randint, keep, tidy, type Generator } from '../../tensor/index.js';

/** counts^power, normalised to sum to 1. */
export function noiseDistribution(counts: ArrayLike<number>, power = 0.75): Float64Array {
  const p = Float64Array.from(counts, (c) => {
    if (!(c >= 0)) throw new RangeError(`noiseDistribution: counts must be non-negative, got ${c}`);
    return c ** power;
  });
  const total = p.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new RangeError('noiseDistribution: every count is zero');
  for (let i = 0; i < p.length; i++) p[i]! /= total;
  return p;
}

/**
 * Walker's alias table (Vose's construction) for a discrete distribution:
 * draw a column uniformly, keep it with probability prob[column], else take alias[column].
 */
export class AliasSampler implements Disposable {
  readonly prob: Tensor;
  readonly alias: Tensor;
  readonly size: number;

  constructor(probabilities: ArrayLike<number>) {
    const n = probabilities.length;
    if (n === 0) throw new RangeError('AliasSampler: the distribution is empty');
    const total = Array.from(probabilities).reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw new RangeError('AliasSampler: probabilities must sum to a positive number');
    const scaled = Float64Array.from(probabilities, (p) => (p * n) / total);
    const prob = new Float32Array(n);
    const alias = new BigInt64Array(n);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((s, i) => (s < 1 ? small : large).push(i));
    while (small.length && large.length) {
      const s = small.pop()!;
      const l = large.pop()!;
      prob[s] = scaled[s]!;
      alias[s] = BigInt(l);
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    // Whatever is left is 1 up to rounding.
    for (const i of [...small, ...large]) {
      prob[i] = 1;
      alias[i] = BigInt(i);
    }
    this.size = n;
    this.prob = keep(tensor(prob));
    this.alias = keep(tensor(alias));
  }

  /** `shape` draws (int64), from `generator` when given. */
  sample(shape: number[], generator?: Generator): Tensor {
    return tidy(() => {
      const column = randint(0, this.size, shape, { generator });
      const u = rand(shape, { generator });
      const accept = u.lt(this.prob.index([column]));
      return column.where(accept, this.alias.index([column]));
    });
  }

  dispose(): void {
    this.prob.dispose();
    this.alias.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
