// Skip-gram's negative-sampling loss (Mikolov, Sutskever, Chen, Corrado & Dean 2013,
// https://arxiv.org/abs/1310.4546, Eq. 4): a centre word's input vector u should score
// high against its context word's output vector v and low against K noise words' v_k:
//   loss = -log σ(u·v) - Σ_k log σ(-u·v_k), averaged over the batch.
import { Tensor, op, tidy } from '../../tensor/index.js';

/**
 * Mean loss for centre vectors [B, D] and output vectors [B, 1 + K, D]: the context's
 * first, then its K negatives'. One tensor for both, because the caller looks them up
 * in one call: one sparse gradient for the output table, summed in the same order as
 * before this loss had a file of its own (two lookups would sum its rows differently).
 */
export function negativeSamplingLoss(centre: Tensor, contextAndNegatives: Tensor): Tensor {
  if (centre.ndim !== 2 || contextAndNegatives.ndim !== 3 || contextAndNegatives.shape[0] !== centre.shape[0] || contextAndNegatives.shape[2] !== centre.shape[1] || contextAndNegatives.shape[1]! < 2) {
    throw new RangeError(`negativeSamplingLoss: expected centre [B, D] and context + negatives [B, 1 + K, D] with K >= 1, got [${centre.shape.join(', ')}] and [${contextAndNegatives.shape.join(', ')}]`);
  }
  return tidy(() => {
    const scores = contextAndNegatives.bmm(centre.unsqueeze(2)).squeeze(2); // [B, 1 + K]
    const logSigmoid = (x: Tensor): Tensor => op('aten::log_sigmoid', x);
    const positive = scores.select(1, 0);
    const negative = scores.slice(1, 1);
    return logSigmoid(positive).add(logSigmoid(negative.neg()).sum(1)).mean().neg();
  });
}
