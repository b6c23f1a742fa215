// Sampled softmax (Jean et al. 2015): cross-entropy over the true token and K
// negatives drawn from a proposal q (shared by every prediction in the batch),
// each logit corrected by -log(K q(token)) so that the loss estimates the full
// softmax's. The output layer then costs K rows instead of the whole vocabulary,
// which lets a masked model use a word-sized vocabulary on a CPU.
import { Tensor, F, tidy, cat, keep, tensor } from '../../tensor/index.js';
import { AliasSampler, noiseDistribution } from '../../data/text/noise.js';
import type { Generator } from '../../tensor/index.js';

export class SampledSoftmax implements Disposable {
  readonly sampler: AliasSampler;
  /** log(K q(token)) per token; tokens q never draws get 0 (they are never negatives, and never targets in training). */
  readonly logExpected: Tensor;

  /** `counts`: how often each token occurs in the training text; q is counts^power, normalised. */
  constructor(counts: ArrayLike<number>, readonly negatives: number, power = 0.75) {
    if (!(Number.isInteger(negatives) && negatives >= 1)) throw new RangeError(`SampledSoftmax: negatives must be a positive integer, got ${negatives}`);
    const q = noiseDistribution(counts, power);
    this.sampler = new AliasSampler(q);
    const logK = Math.log(negatives);
    this.logExpected = keep(tensor(Float32Array.from(q, (p) => (p > 0 ? logK + Math.log(p) : 0))));
  }

  /**
   * Mean loss of predicting `targets` [M] (int64) from vectors `hidden` [M, d] with
   * output rows `weight` [V, d] and `bias` [V]; `correct` counts predictions whose
   * true logit beats every sampled one.
   */
  loss(hidden: Tensor, weight: Tensor, bias: Tensor, targets: Tensor, generator?: Generator): { loss: Tensor; correct: Tensor } {
    return tidy(() => {
      const sampled = this.sampler.sample([this.negatives], generator); // [K]
      const trueLogit = hidden.mul(weight.index([targets])).sum(1).add(bias.index([targets])).sub(this.logExpected.index([targets]));
      const negLogits = F.linear(hidden, weight.index([sampled]), bias.index([sampled]).sub(this.logExpected.index([sampled])));
      // A negative that is the target itself is not a negative ("accidental hit").
      const hits = targets.unsqueeze(1).eq(sampled.unsqueeze(0));
      const logits = cat([trueLogit.unsqueeze(1), negLogits.maskedFill(hits, -Infinity)], 1);
      const zero = targets.mul(0);
      return { loss: F.crossEntropy(logits, zero), correct: logits.argmax(1).eq(zero).sum() };
    });
  }

  dispose(): void {
    this.sampler.dispose();
    this.logExpected.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
