// Gradient clipping by total norm, as torch.nn.utils.clip_grad_norm_.
import { Tensor, noGrad, tidy, stack } from '../tensor/index.js';

/**
 * Scales the gradients of `params` in place so that their total `normType`-norm
 * (all gradients seen as one vector) is at most `maxNorm`. Returns the total norm
 * before clipping. Parameters without a gradient are skipped.
 */
export function clipGradNorm_(params: Tensor | Iterable<Tensor>, maxNorm: number, normType = 2, opts: { errorIfNonfinite?: boolean } = {}): number {
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) throw new TypeError(`clipGradNorm_: maxNorm must be a number, got ${String(maxNorm)}`);
  if (typeof normType !== 'number' || Number.isNaN(normType)) throw new TypeError(`clipGradNorm_: normType must be a number (Infinity for the max norm), got ${String(normType)}`);
  const list = params instanceof Tensor ? [params] : [...params];
  return noGrad(() => tidy(() => {
    const grads = list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return 0;
    const total = normType === Infinity
      ? stack(grads.map((g) => g.abs().max())).max()
      : stack(grads.map((g) => g.norm(normType))).norm(normType);
    const value = total.item();
    if (opts.errorIfNonfinite && !Number.isFinite(value)) {
      throw new Error(`clipGradNorm_: the total norm of order ${normType} of the gradients is ${value}, so they cannot be clipped (errorIfNonfinite is set)`);
    }
    // As PyTorch: always multiply, by min(1, maxNorm / (total + 1e-6)), computed in the grads' dtype.
    const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1.0);
    for (const g of grads) g.mul_(coef);
    return value;
  }));
}
