// Negative cosine similarity, SimSiam's D(p, z):
// X. Chen, K. He, "Exploring Simple Siamese Representation Learning", 2020,
// https://arxiv.org/abs/2011.10566 (Eq. 1).
//
// D(p, z) = -mean_i cos(p_i, z_i). SimSiam's loss is D(p1, stopgrad(z2)) / 2 +
// D(p2, stopgrad(z1)) / 2; the stop-gradient and the symmetrisation are the caller's
// business. BYOL (Grill et al. 2020, https://arxiv.org/abs/2006.07733) writes its loss as
// the squared distance of the normalised vectors, ||p/|p| - z/|z|||^2 = 2 - 2 cos(p, z):
// per pair the same objective up to the affine map 2 + 2 D, so it has the same minimiser
// and twice the gradient. No options: cosine similarity has no parameters
// (eps 1e-8 on the norms, as PyTorch's cosine_similarity, which SimSiam's code calls).
import { Tensor, F, tidy } from '../../tensor/index.js';
import { checkMatrices, checkSameShape } from './check.js';

/** -mean over rows of cos(p_i, z_i), for predictions p and targets z [N, D]. */
export function negativeCosineSimilarity(p: Tensor, z: Tensor): Tensor {
  checkMatrices('negativeCosineSimilarity', { p, z });
  checkSameShape('negativeCosineSimilarity', { p, z });
  return tidy(() => F.cosineSimilarity(p, z, 1).mean().neg());
}
