// InfoNCE as MoCo uses it:
// K. He, H. Fan, Y. Wu, S. Xie, R. Girshick, "Momentum Contrast for Unsupervised Visual
// Representation Learning", 2019, https://arxiv.org/abs/1911.05722 (Eq. 1);
// X. Chen, H. Fan, R. Girshick, K. He, "Improved Baselines with Momentum Contrastive
// Learning" (MoCo v2), 2020, https://arxiv.org/abs/2003.04297.
//
// L_q = -log(exp(q.k+ / T) / (exp(q.k+ / T) + sum_i exp(q.k_i / T))), a (1+K)-way softmax
// cross-entropy with the positive key k+ as class 0 and the K queued keys as negatives,
// averaged over the N queries. Queries and keys are l2-normalised here, as MoCo's
// encoders do. Keeping the key encoder and the queue out of the graph is the caller's
// business (MoCo's keys and queue are detached).
//
// Default: temperature 0.2 (MoCo v2; MoCo v1 used 0.07).
import { Tensor, F, arange, cat, zeros, tidy } from '../../tensor/index.js';
import { checkMatrices, checkPositive, checkSameShape, shapeText } from './check.js';

export interface InfoNceOptions {
  /** T in q.k / T; default 0.2. */
  temperature?: number;
}

/**
 * MoCo's InfoNCE: query and key [N, D] (row i of key is query i's positive), negatives
 * [K, D] (the queue). With negatives null, each query's negatives are the other keys of
 * the batch (logits q k^T / T, target i), so training can start with an empty queue.
 */
export function infoNceLoss(query: Tensor, key: Tensor, negatives: Tensor | null, options: InfoNceOptions = {}): Tensor {
  const temperature = options.temperature ?? 0.2;
  checkMatrices('infoNceLoss', negatives === null ? { query, key } : { query, key, negatives });
  checkSameShape('infoNceLoss', { query, key });
  if (negatives !== null && negatives.size(1) !== query.size(1)) {
    throw new RangeError(`infoNceLoss: 'negatives' must be [K, ${query.size(1)}] like the query's dims, got query ${shapeText(query)} and negatives ${shapeText(negatives)}`);
  }
  checkPositive('infoNceLoss', 'temperature', temperature);
  return tidy(() => {
    const n = query.size(0);
    const device = query.device;
    const q = F.normalize(query, 1);
    const k = F.normalize(key, 1);
    if (negatives === null) return F.crossEntropy(q.mm(k.T).div(temperature), arange(0, n, 1, { device }));
    const positiveLogits = q.mul(k).sum(1, true); // [N, 1]
    const negativeLogits = q.mm(F.normalize(negatives, 1).T); // [N, K]
    const logits = cat([positiveLogits, negativeLogits], 1).div(temperature);
    return F.crossEntropy(logits, zeros([n], { dtype: 'int64', device }));
  });
}
