// Colour jitter with torchvision's ColorJitter semantics, applied with probability p.
// SimCLR (Chen et al. 2020, app. A) uses brightness, contrast and saturation 0.8s and
// hue 0.2s with p = 0.8; the defaults here are its strength s = 0.5, the setting it used
// for CIFAR-10. BYOL (Grill et al. 2020) and DINO (Caron et al. 2021) use 0.4, 0.4, 0.2,
// 0.1 with p = 0.8.
// Order: brightness, contrast, saturation, hue, always (torchvision permutes the four per
// image; `shuffleOrder` permutes them once per batch instead, drawn from the Rng).
// Grey (1-channel) images get brightness and contrast only, as in torchvision.
import { Tensor, op, tidy } from '../../tensor/index.js';
import type { Rng } from '../../data/random.js';
import { checkFloatBatch, checkGreyOrRgb, checkNonNegative, checkProbability, paramsLike, uniform } from './validate.js';
import { lumaOf } from './grayscale.js';

export interface ColorJitterOptions {
  /** Brightness factor drawn from [max(0, 1 - b), 1 + b] (default 0.4). */
  brightness?: number;
  /** Contrast factor drawn from [max(0, 1 - c), 1 + c] (default 0.4). */
  contrast?: number;
  /** Saturation factor drawn from [max(0, 1 - s), 1 + s] (default 0.4). */
  saturation?: number;
  /** Hue shift drawn from [-h, h] turns of the colour wheel, h <= 0.5 (default 0.1). */
  hue?: number;
  /** Probability that an image is jittered at all (default 0.8). */
  p?: number;
  /** Permute the four adjustments once per batch (default false: the fixed order above). */
  shuffleOrder?: boolean;
}

export function resolveColorJitterOptions(o: ColorJitterOptions = {}, fn = 'colorJitter'): Required<ColorJitterOptions> {
  const hue = checkNonNegative(o.hue ?? 0.1, fn, 'hue');
  if (hue > 0.5) throw new RangeError(`${fn}: hue must be in [0, 0.5], got ${hue}`);
  return {
    brightness: checkNonNegative(o.brightness ?? 0.4, fn, 'brightness'),
    contrast: checkNonNegative(o.contrast ?? 0.4, fn, 'contrast'),
    saturation: checkNonNegative(o.saturation ?? 0.4, fn, 'saturation'),
    hue,
    p: checkProbability(o.p ?? 0.8, fn),
    shuffleOrder: o.shuffleOrder ?? false,
  };
}

export type ColorAdjustment = 'brightness' | 'contrast' | 'saturation' | 'hue';

/** Per-image factors; images left alone get 1, 1, 1 and a hue shift of 0. */
export interface ColorJitterParams {
  brightness: Float64Array;
  contrast: Float64Array;
  saturation: Float64Array;
  /** Hue shift in turns, in [-0.5, 0.5]. */
  hue: Float64Array;
  /** The order in which the adjustments run for the whole batch. */
  order: ColorAdjustment[];
}

const FIXED_ORDER: ColorAdjustment[] = ['brightness', 'contrast', 'saturation', 'hue'];

/** Draws the factors for `batch` images: five numbers per image, always, so p shifts nothing else. */
export function sampleColorJitter(batch: number, rng: Rng, options: ColorJitterOptions = {}): ColorJitterParams {
  const o = resolveColorJitterOptions(options, 'sampleColorJitter');
  const order = o.shuffleOrder ? rng.shuffle([0, 1, 2, 3]).map((i) => FIXED_ORDER[i]!) : [...FIXED_ORDER];
  const params: ColorJitterParams = {
    brightness: new Float64Array(batch), contrast: new Float64Array(batch),
    saturation: new Float64Array(batch), hue: new Float64Array(batch), order,
  };
  const factor = (strength: number): number => uniform(rng, Math.max(0, 1 - strength), 1 + strength);
  for (let b = 0; b < batch; b++) {
    const apply = rng.next() < o.p;
    const [fb, fc, fs, fh] = [factor(o.brightness), factor(o.contrast), factor(o.saturation), uniform(rng, -o.hue, o.hue)];
    params.brightness[b] = apply ? fb : 1;
    params.contrast[b] = apply ? fc : 1;
    params.saturation[b] = apply ? fs : 1;
    params.hue[b] = apply ? fh : 0;
  }
  return params;
}

// Columns of the per-image parameter tensor [B, 9].
const enum Col { Brightness, Contrast, ContrastRest, Saturation, SaturationRest, HueRed, HueGreen, HueBlue, HueActive }

/** f * x + (1 - f) * other, clamped to [0, 1] (torchvision's _blend); f = 1 leaves x exact. */
function blend(x: Tensor, other: Tensor, factor: Tensor, rest: Tensor): Tensor {
  return x.mul(factor).add_(other.mul(rest)).clamp_(0, 1);
}

/** An in-place op whose extra handle on `t` is freed at once (as Tensor's own in-place methods do). */
function inPlace(name: string, t: Tensor, ...args: unknown[]): void {
  op<Tensor>(name, t, ...args).dispose();
}

/**
 * Hue rotation through HSV without building HSV: for channel n in (5, 3, 1),
 * out = V - C * clamp(min(k, 4 - k), 0, 1), k = (n + 6 * (H + shift)) mod 6,
 * with V the max, C the max - min and H the hue of torchvision's _rgb2hsv.
 */
function rotateHue(x: Tensor, wheelOffsets: Tensor, active: Tensor): Tensor {
  const maxc = op<Tensor>('aten::amax', x, [1], true);
  const minc = op<Tensor>('aten::amin', x, [1], true);
  const chroma = maxc.sub(minc);
  // Grey pixels (chroma 0) keep V whatever their hue, so any non-zero divisor will do.
  const distance = maxc.sub(x).div_(chroma.clamp(1e-12)); // (max - channel) / chroma, [B, 3, H, W]
  const [dr, dg, db] = [distance.narrow(1, 0, 1), distance.narrow(1, 1, 1), distance.narrow(1, 2, 1)];
  const sixths = db.sub(dg).where(maxc.eq(x.narrow(1, 0, 1)), dr.sub(db).add_(2).where(maxc.eq(x.narrow(1, 1, 1)), dg.sub(dr).add_(4)));
  // min(k, 4 - k) = 2 - |k - 2| on [0, 6), computed in place: fresh [B, 3, H, W] buffers cost page faults.
  const k = sixths.add(wheelOffsets);
  inPlace('aten::remainder_.Scalar', k, 6);
  inPlace('aten::abs_', k.sub_(2));
  const ramp = k.mul_(-1).add_(2).clamp_(0, 1);
  return maxc.sub(ramp.mul_(chroma)).where(active, x);
}

/** Applies drawn factors: a few batched ops per adjustment, none for an adjustment that changes nothing. */
export function adjustColors(x: Tensor, params: ColorJitterParams): Tensor {
  const [batch, channels] = checkFloatBatch(x, 'adjustColors');
  checkGreyOrRgb(channels, 'adjustColors');
  for (const key of ['brightness', 'contrast', 'saturation', 'hue'] as const) {
    if (params[key].length !== batch) throw new RangeError(`adjustColors: need one ${key} factor per image (${batch}), got ${params[key].length}`);
  }
  const values = new Float64Array(batch * 9);
  for (let b = 0; b < batch; b++) {
    const turn6 = 6 * params.hue[b]!;
    values.set([params.brightness[b]!, params.contrast[b]!, 1 - params.contrast[b]!, params.saturation[b]!, 1 - params.saturation[b]!,
      turn6 + 5, turn6 + 3, turn6 + 1, params.hue[b] !== 0 ? 1 : 0], b * 9);
  }
  const changes = (key: ColorAdjustment): boolean => params[key].some((f) => f !== (key === 'hue' ? 0 : 1));
  return tidy(() => {
    const p = paramsLike(values, [batch, 9], x);
    const column = (c: Col, n = 1): Tensor => p.narrow(1, c, n).reshape(batch, n, 1, 1);
    let y = x;
    for (const step of params.order) {
      if (!changes(step)) continue;
      if (step === 'brightness') y = y.mul(column(Col.Brightness)).clamp_(0, 1);
      else if (step === 'contrast') {
        const grey = channels === 3 ? lumaOf(y) : y;
        y = blend(y, grey.mean([1, 2, 3], true), column(Col.Contrast), column(Col.ContrastRest));
      } else if (channels === 3 && step === 'saturation') y = blend(y, lumaOf(y), column(Col.Saturation), column(Col.SaturationRest));
      else if (channels === 3 && step === 'hue') y = rotateHue(y, column(Col.HueRed, 3), column(Col.HueActive).ne(0));
    }
    return y === x ? x.clone() : y;
  });
}

/** Random brightness, contrast, saturation and hue per image, each image jittered with probability p. */
export function colorJitter(x: Tensor, rng: Rng, options: ColorJitterOptions = {}): Tensor {
  const [batch] = checkFloatBatch(x, 'colorJitter');
  return adjustColors(x, sampleColorJitter(batch, rng, options));
}
