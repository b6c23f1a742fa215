// BERT's masking rule (Devlin et al. 2019): choose 15% of the ordinary tokens;
// of those, 80% become [MASK], 10% a random ordinary token and 10% stay as they
// are. The model must predict the original token at every chosen position;
// labels elsewhere are -100, which the loss ignores. Special tokens are never chosen.
import { Tensor, rand, randint, tidy, type Generator } from '../tensor/index.js';

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
    const chosen = rand(ids.shape, { generator: g }).lt(p).logicalAnd(ids.ge(o.firstRegularId));
    const r = rand(ids.shape, { generator: g });
    const toMask = chosen.logicalAnd(r.lt(pMask));
    const toRandom = chosen.logicalAnd(r.ge(pMask)).logicalAnd(r.lt(pMask + pRandom));
    const randomIds = randint(o.firstRegularId, o.vocabSize, ids.shape, { generator: g });
    const input = randomIds.where(toRandom, ids.maskedFill(toMask, o.maskId));
    const labels = ids.maskedFill(chosen.logicalNot(), IGNORE_INDEX);
    return { input, labels, chosen };
  });
}
