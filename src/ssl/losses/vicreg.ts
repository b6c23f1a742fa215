// VICReg, variance-invariance-covariance regularisation:
// A. Bardes, J. Ponce, Y. LeCun, "VICReg: Variance-Invariance-Covariance Regularization
// for Self-Supervised Learning", ICLR 2022, https://arxiv.org/abs/2105.04906.
//
// Exactly the paper's Algorithm 1 (Appendix A), for branches z0 and z1 [N, D]:
//   invariance = mse(z0, z1)
//   variance   = mean_j relu(1 - sqrt(var_j(z0) + eps)) + (the same for z1)   (unbiased var)
//   covariance = sum_{i != j} cov(z0)_ij^2 / D + (the same for z1)           (cov with N - 1)
//   loss = invarianceWeight * invariance + varianceWeight * variance + covarianceWeight * covariance
// Both regularisers are summed over the branches, as in the paper's Eq. 6 and Algorithm 1.
// The authors' released code (main_vicreg.py) halves the variance term, which is this
// loss with varianceWeight 12.5.
//
// Defaults: the paper's lambda = mu = 25, nu = 1, eps = 1e-4, gamma (the target std) = 1.
import { Tensor, F, eye, tidy } from '../../tensor/index.js';
import { gatherWithGrad } from '../../distributed/default-group.js';
import { checkMatrices, checkNonNegative, checkPositive, checkSameShape } from './check.js';

export interface VicregOptions {
  /** lambda, weight of the mean squared error between the branches; default 25. */
  invarianceWeight?: number;
  /** mu, weight of the std hinge; default 25. */
  varianceWeight?: number;
  /** nu, weight of the off-diagonal covariance penalty; default 1. */
  covarianceWeight?: number;
  /** Added to the variance inside the square root; default 1e-4. */
  eps?: number;
  /** Data-parallel runs: the variance and covariance terms over every rank's rows (the global batch), as the authors' code gathers them. */
  gatherDistributed?: boolean;
}

/** The weighted loss and its three unweighted terms (each already summed over both branches). */
export interface VicregParts {
  loss: Tensor;
  invariance: Tensor;
  variance: Tensor;
  covariance: Tensor;
}

/** VICReg's loss with its parts, for logging: four scalars, all in the graph. */
export function vicregLossParts(z0: Tensor, z1: Tensor, options: VicregOptions = {}): VicregParts {
  const invarianceWeight = options.invarianceWeight ?? 25;
  const varianceWeight = options.varianceWeight ?? 25;
  const covarianceWeight = options.covarianceWeight ?? 1;
  const eps = options.eps ?? 1e-4;
  // The unbiased variance and covariance need two rows.
  checkMatrices('vicregLoss', { z0, z1 }, 2);
  checkSameShape('vicregLoss', { z0, z1 });
  checkNonNegative('vicregLoss', 'invarianceWeight', invarianceWeight);
  checkNonNegative('vicregLoss', 'varianceWeight', varianceWeight);
  checkNonNegative('vicregLoss', 'covarianceWeight', covarianceWeight);
  checkPositive('vicregLoss', 'eps', eps);
  return tidy(() => {
    if (options.gatherDistributed) [z0, z1] = [gatherWithGrad(z0), gatherWithGrad(z1)];
    const [n, d] = z0.shape as [number, number];
    const diagonal = eye(d, { dtype: 'bool', device: z0.device });
    const stdHinge = (z: Tensor): Tensor => z.var(0).add(eps).sqrt().neg().add(1).relu().mean();
    const covariancePenalty = (z: Tensor): Tensor => {
      const centred = z.sub(z.mean(0, true));
      const cov = centred.T.mm(centred).div(n - 1);
      return cov.maskedFill(diagonal, 0).square().sum().div(d);
    };
    const invariance = F.mseLoss(z0, z1);
    const variance = stdHinge(z0).add(stdHinge(z1));
    const covariance = covariancePenalty(z0).add(covariancePenalty(z1));
    const loss = invariance.mul(invarianceWeight).add(variance, varianceWeight).add(covariance, covarianceWeight);
    return { loss, invariance, variance, covariance };
  });
}

/** VICReg's loss (Algorithm 1 of the paper) for the two branches' embeddings [N, D] (N >= 2). */
export function vicregLoss(z0: Tensor, z1: Tensor, options: VicregOptions = {}): Tensor {
  return tidy(() => vicregLossParts(z0, z1, options).loss);
}
