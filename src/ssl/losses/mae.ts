// The masked-autoencoder reconstruction loss:
// K. He, X. Chen, S. Xie, Y. Li, P. Dollár, R. Girshick, "Masked Autoencoders Are
// Scalable Vision Learners", 2021, https://arxiv.org/abs/2111.06377 (Sec. 3,
// "Reconstruction target", and the authors' forward_loss).
//
// The mean squared error between predicted and target patches, per patch averaged over
// its values, then averaged over the masked patches only (visible patches do not count).
// With `normPixLoss` (the paper's default, which it finds gives better representations)
// each target patch is first normalised by its own mean and variance (the unbiased
// variance, + eps 1e-6 under the square root, as the authors' code computes it).
// The mask selects patches and gets no gradient; the predictions and (if they need one)
// the targets do.
import { Tensor, tidy, sameDevice } from '../../tensor/index.js';
import { shapeText, checkPositive } from './check.js';

export interface MaeLossOptions {
  /** Normalise each target patch by its mean and std (default true). */
  normPixLoss?: boolean;
  /** Added to the patch variance before the square root (default 1e-6). */
  eps?: number;
}

/**
 * `pred` and `target` [N, L, D] (L patches of D values each), `mask` [N, L] with 1 (or
 * true) for the masked patches and 0 for the visible ones. A mask that selects no patch
 * gives 0.
 */
export function maeLoss(pred: Tensor, target: Tensor, mask: Tensor, o: MaeLossOptions = {}): Tensor {
  const name = 'maeLoss';
  const eps = o.eps ?? 1e-6;
  checkPositive(name, 'eps', eps);
  for (const [k, t] of Object.entries({ pred, target, mask })) {
    if (!(t instanceof Tensor)) throw new TypeError(`${name}: '${k}' must be a Tensor`);
  }
  if (pred.ndim !== 3) throw new RangeError(`${name}: 'pred' must be 3-D [N, patches, values], got shape ${shapeText(pred)}`);
  if (target.ndim !== 3 || target.shape.some((s, i) => s !== pred.shape[i])) {
    throw new RangeError(`${name}: 'pred' and 'target' must have the same shape, got ${shapeText(pred)} and ${shapeText(target)}`);
  }
  if (mask.ndim !== 2 || mask.size(0) !== pred.size(0) || mask.size(1) !== pred.size(1)) {
    throw new RangeError(`${name}: 'mask' must be [${pred.size(0)}, ${pred.size(1)}] (one entry per patch), got ${shapeText(mask)}`);
  }
  if (!pred.isFloatingPoint() || !target.isFloatingPoint()) throw new TypeError(`${name}: 'pred' and 'target' must be floating point, got ${pred.dtype} and ${target.dtype}`);
  if (pred.dtype !== target.dtype) throw new TypeError(`${name}: 'target' is ${target.dtype} but 'pred' is ${pred.dtype}`);
  for (const [k, t] of Object.entries({ target, mask })) {
    if (!sameDevice(t.device, pred.device)) throw new TypeError(`${name}: '${k}' is on ${t.device} but 'pred' is on ${pred.device}; move them to one device`);
  }
  if (target.size(2) < 2 && (o.normPixLoss ?? true)) throw new RangeError(`${name}: normPixLoss needs patches of at least 2 values, got ${target.size(2)}`);
  return tidy(() => {
    let t = target;
    if (o.normPixLoss ?? true) {
      const mean = target.mean(-1, true);
      const variance = target.var(-1, { unbiased: true, keepdim: true });
      t = target.sub(mean).div(variance.add(eps).sqrt());
    }
    const m = mask.detach().to(pred.dtype);
    const perPatch = pred.sub(t).square().mean(-1); // [N, L]
    return perPatch.mul(m).sum().div(m.sum().clamp(1));
  });
}
