// BERT's masking rule (Devlin et al. 2019): choose 15% of the ordinary tokens;
// of those, 80% become [MASK], 10% a random ordinary token and 10% stay as they
// are. The model must predict the original token at every chosen position;
// labels elsewhere are -100, which the loss ignores. Special tokens are never chosen.
import { Tensor, rand, randint, tidy, type Generator } from '../../tensor/index.js';
import { keepProbabilities } from '../../data/text/subsample.js';

export const IGNORE_INDEX = -100;

export interface MaskingOptions {
  /** Id of [MASK]. */
  maskId: number;
  /** Ids below this are special ([PAD], [CLS], ...) and never chosen; random replacements come from [firstRegularId, vocabSize). */
  firstRegularId: number;
  vocabSize: number;
  /** Fraction of ordinary tokens chosen (default 0.15). */
  maskProb?: number;
  /** Of the chosen: fraction replaced by [MASK] (default 0.8) and by a random token (default 0.1). */
  maskFraction?: number;
  randomFraction?: number;
  /**
   * Per-token weights [vocab] (float): a token is chosen with probability
   * min(1, maskProb * weight), not maskProb (see frequencyMaskWeights).
   */
  tokenWeights?: Tensor;
  generator?: Generator;
}

export interface MaskedTokens {
  /** The model's input: ids with the chosen positions altered. */
  input: Tensor;
  /** The original id at chosen positions, -100 elsewhere. */
  labels: Tensor;
  /** Bool, true at chosen positions. */
  chosen: Tensor;
}

/** Applies the masking rule to int64 token ids of any shape. */
export function maskTokens(ids: Tensor, o: MaskingOptions): MaskedTokens {
  const p = o.maskProb ?? 0.15;
  const pMask = o.maskFraction ?? 0.8;
  const pRandom = o.randomFraction ?? 0.1;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`maskTokens: maskProb must be in [0, 1], got ${p}`);
  if (!(pMask >= 0 && pRandom >= 0 && pMask + pRandom <= 1)) throw new RangeError(`maskTokens: maskFraction + randomFraction must be within [0, 1], got ${pMask} + ${pRandom}`);
  if (o.firstRegularId >= o.vocabSize) throw new RangeError(`maskTokens: no ordinary tokens (firstRegularId ${o.firstRegularId} >= vocabSize ${o.vocabSize})`);
  return tidy(() => {
    const g = o.generator;
    const threshold = o.tokenWeights ? o.tokenWeights.index([ids]).mul(p) : p;
    const chosen = rand(ids.shape, { generator: g }).lt(threshold).logicalAnd(ids.ge(o.firstRegularId));
    const r = rand(ids.shape, { generator: g });
    const toMask = chosen.logicalAnd(r.lt(pMask));
    const toRandom = chosen.logicalAnd(r.ge(pMask)).logicalAnd(r.lt(pMask + pRandom));
    const randomIds = randint(o.firstRegularId, o.vocabSize, ids.shape, { generator: g });
    const input = randomIds.where(toRandom, ids.maskedFill(toMask, o.maskId));
    const labels = ids.maskedFill(chosen.logicalNot(), IGNORE_INDEX);
    return { input, labels, chosen };
  });
}

/**
 * Weights for maskTokens that choose frequent tokens less often, as word2vec's
 * subsampling keeps them less often (keep probability at threshold `t`), scaled
 * so that the expected fraction of chosen tokens over the corpus is still `maskProb`.
 * Predicting 'the' and 'of' teaches little; the predictions go to rarer words.
 */
export function frequencyMaskWeights(counts: ArrayLike<number>, t: number, maskProb: number): Float32Array {
  if (!(maskProb > 0 && maskProb <= 1)) throw new RangeError(`frequencyMaskWeights: maskProb must be in (0, 1], got ${maskProb}`);
  const keep = keepProbabilities(counts, t);
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (!(total > 0)) throw new RangeError('frequencyMaskWeights: every count is zero');
  const chosenFraction = (scale: number): number => {
    let sum = 0;
    for (let i = 0; i < counts.length; i++) sum += (counts[i]! / total) * Math.min(1, maskProb * scale * keep[i]!);
    return sum;
  };
  // The fraction grows with the scale: bisect for maskProb (unreachable targets get the largest scale).
  let lo = 0;
  let hi = 1;
  while (chosenFraction(hi) < maskProb && hi < 1e12) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (chosenFraction(mid) < maskProb) lo = mid; else hi = mid;
  }
  return Float32Array.from(keep, (k) => k * hi);
}
