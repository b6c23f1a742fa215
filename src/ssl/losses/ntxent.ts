// NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR:
// T. Chen, S. Kornblith, M. Norouzi, G. Hinton, "A Simple Framework for Contrastive
// Learning of Visual Representations", 2020, https://arxiv.org/abs/2002.05709.
//
// The two views of N images make 2N anchors. Anchor i's positive is the other view of
// its image; the other 2N - 2 embeddings are its negatives. With sim the cosine
// similarity, l(i, j) = -log(exp(sim(z_i, z_j) / T) / sum_{k != i} exp(sim(z_i, z_k) / T)),
// averaged over all 2N anchors (the paper's L = 1/(2N) sum_k [l(2k-1, 2k) + l(2k, 2k-1)]).
//
// Default: temperature 0.5, the value of the paper's CIFAR-10 experiments (Appendix B.9);
// its large-batch ImageNet runs use 0.1.
import { Tensor, F, arange, cat, eye, tidy, zeros } from '../../tensor/index.js';
import { checkMatrices, checkPositive, checkSameShape } from './check.js';
import { gatherWithGrad, rankAndWorld } from '../../distributed/default-group.js';

export interface NtXentOptions {
  /** T in sim / T; default 0.5. */
  temperature?: number;
  /**
   * Data-parallel runs: every rank's views are negatives (LightlySSL's gather_distributed),
   * with gradients back to the rank that made them; the mean over ranks of this loss is
   * the one-process loss on the global batch. No effect in one process. Default false.
   */
  gatherDistributed?: boolean;
}

/** SimCLR's NT-Xent over the 2N views: z0 and z1 are [N, D], row i of each from image i. */
export function ntXentLoss(z0: Tensor, z1: Tensor, options: NtXentOptions = {}): Tensor {
  const temperature = options.temperature ?? 0.5;
  checkMatrices('ntXentLoss', { z0, z1 });
  checkSameShape('ntXentLoss', { z0, z1 });
  checkPositive('ntXentLoss', 'temperature', temperature);
  if (options.gatherDistributed && rankAndWorld().worldSize > 1) return gatheredNtXent(z0, z1, temperature);
  return tidy(() => {
    const n = z0.size(0);
    const device = z0.device;
    const z = F.normalize(cat([z0, z1], 0), 1);
    const logits = z.mm(z.T).div(temperature);
    // -inf drops an anchor's similarity with itself from the softmax (and gives it no gradient).
    const maskedLogits = logits.maskedFill(eye(2 * n, { dtype: 'bool', device }), -Infinity);
    // Anchor i < N has its positive at i + N, anchor N + i at i.
    const positives = cat([arange(n, 2 * n, 1, { device }), arange(0, n, 1, { device })], 0);
    return F.crossEntropy(maskedLogits, positives);
  });
}

/** NT-Xent of this rank's 2n anchors against the 2Wn views of all W ranks (rank r's rows sit at r*n). */
function gatheredNtXent(z0: Tensor, z1: Tensor, temperature: number): Tensor {
  return tidy(() => {
    const { rank, worldSize } = rankAndWorld();
    const n = z0.size(0);
    const device = z0.device;
    const [q0, q1] = [F.normalize(z0, 1), F.normalize(z1, 1)];
    const keys = cat([gatherWithGrad(q0!), gatherWithGrad(q1!)], 0);
    const logits = cat([q0!, q1!], 0).mm(keys.T).div(temperature);
    // Anchor i < n is key rank*n + i of the first views, anchor n + i is key W*n + rank*n + i.
    const self = cat([arange(rank * n, (rank + 1) * n, 1, { device }), arange((worldSize + rank) * n, (worldSize + rank + 1) * n, 1, { device })], 0);
    const positives = cat([self.slice(0, n), self.slice(0, 0, n)], 0);
    const mask = zeros([2 * n, 2 * worldSize * n], { dtype: 'bool', device }).scatter(1, self.unsqueeze(1), true);
    return F.crossEntropy(logits.maskedFill(mask, -Infinity), positives);
  });
}
