// ELECTRA's replaced-token detection loss:
// K. Clark, M.-T. Luong, Q. V. Le, C. D. Manning, "ELECTRA: Pre-training Text Encoders as
// Discriminators Rather Than Generators", 2020, https://arxiv.org/abs/2003.10555, Eq. 2 (L_Disc).
//
// The discriminator gives one logit per token; sigmoid(logit_t) is here the probability
// that token t of the corrupted input was REPLACED (the paper's D is the probability that
// it is original: the sign is a convention, the binary cross-entropy is the same):
//   L = -mean over the real (non-padding) tokens t of
//       [r_t log sigmoid(logit_t) + (1 - r_t) log(1 - sigmoid(logit_t))],
// r_t = 1 where the generator's sample differs from the original token. A sample that
// happens to equal the original counts as original, as in the paper. The paper sums over
// positions; the mean keeps the loss weight lambda (50) independent of the batch's length.
import { Tensor, F, tidy } from '../../tensor/index.js';
import { shapeText } from './check.js';

/**
 * Mean binary cross-entropy of `logits` [B, L] (float, replaced > 0) against `replaced`
 * [B, L] (bool), over the positions where `real` [B, L] (bool) holds.
 */
export function replacedTokenLoss(logits: Tensor, replaced: Tensor, real: Tensor): Tensor {
  for (const [name, t] of [['logits', logits], ['replaced', replaced], ['real', real]] as const) {
    if (!(t instanceof Tensor)) throw new TypeError(`replacedTokenLoss: '${name}' must be a Tensor`);
    if (t.shape.length !== logits.shape.length || t.shape.some((s, i) => s !== logits.shape[i])) {
      throw new RangeError(`replacedTokenLoss: '${name}' must have the logits' shape ${shapeText(logits)}, got ${shapeText(t)}`);
    }
  }
  if (!logits.isFloatingPoint()) throw new TypeError(`replacedTokenLoss: 'logits' must be floating point, got ${logits.dtype}`);
  if (replaced.dtype !== 'bool' || real.dtype !== 'bool') throw new TypeError(`replacedTokenLoss: 'replaced' and 'real' must be bool, got ${replaced.dtype} and ${real.dtype}`);
  return tidy(() => {
    const scores = logits.maskedSelect(real);
    if (scores.shape[0] === 0) throw new RangeError('replacedTokenLoss: no real tokens (every position is padding)');
    return F.binaryCrossEntropyWithLogits(scores, replaced.maskedSelect(real).to(logits.dtype));
  });
}
