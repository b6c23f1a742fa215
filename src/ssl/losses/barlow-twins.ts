// Barlow Twins:
// J. Zbontar, L. Jing, I. Misra, Y. LeCun, S. Deny, "Barlow Twins: Self-Supervised
// Learning via Redundancy Reduction", 2021, https://arxiv.org/abs/2103.03230 (Eq. 1).
//
// Each dim of each branch is standardised over the batch, c = z0n^T z1n / N is the
// cross-correlation matrix [D, D], and
//   loss = sum_i (1 - c_ii)^2 + lambda * sum_{i != j} c_ij^2.
// Standardisation follows the authors' code, BatchNorm1d(affine=False) in training mode:
// (z - mean) / sqrt(biased var + eps), eps 1e-5. (The paper's pseudo-code divides by
// z.std(0), PyTorch's unbiased std without eps, which makes c smaller by (N-1)/N.)
//
// Defaults: lambda 5e-3 (the paper's value; the authors' script uses 0.0051), eps 1e-5.
import { Tensor, eye, op, tidy } from '../../tensor/index.js';
import { gatherWithGrad } from '../../distributed/default-group.js';
import { checkMatrices, checkNonNegative, checkPositive, checkSameShape } from './check.js';

export interface BarlowTwinsOptions {
  /** Weight of the off-diagonal (redundancy reduction) term; default 5e-3. */
  lambda?: number;
  /** Added to the biased variance before the square root; default 1e-5 (BatchNorm1d's). */
  eps?: number;
  /**
   * Data-parallel runs: standardise and correlate over every rank's rows (the global batch, as
   * the authors' code does with SyncBatchNorm and an all-reduced c), not this rank's alone.
   */
  gatherDistributed?: boolean;
}

/** Barlow Twins' loss for the two branches' embeddings z0 and z1 [N, D] (N >= 2). */
export function barlowTwinsLoss(z0: Tensor, z1: Tensor, options: BarlowTwinsOptions = {}): Tensor {
  const lambda = options.lambda ?? 5e-3;
  const eps = options.eps ?? 1e-5;
  // One row has no spread to standardise by (BatchNorm1d refuses it too).
  checkMatrices('barlowTwinsLoss', { z0, z1 }, 2);
  checkSameShape('barlowTwinsLoss', { z0, z1 });
  checkNonNegative('barlowTwinsLoss', 'lambda', lambda);
  checkPositive('barlowTwinsLoss', 'eps', eps);
  return tidy(() => {
    if (options.gatherDistributed) [z0, z1] = [gatherWithGrad(z0), gatherWithGrad(z1)];
    const [n, d] = z0.shape as [number, number];
    const standardise = (z: Tensor): Tensor =>
      z.sub(z.mean(0, true)).div(z.var(0, { unbiased: false, keepdim: true }).add(eps).sqrt());
    const c = standardise(z0).T.mm(standardise(z1)).div(n);
    const onDiagonal = op<Tensor>('aten::diagonal', c, 0, 0, 1).sub(1).square().sum();
    const offDiagonal = c.maskedFill(eye(d, { dtype: 'bool', device: c.device }), 0).square().sum();
    return onDiagonal.add(offDiagonal, lambda);
  });
}
