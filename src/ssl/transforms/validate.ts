// Checks and small helpers shared by the view transforms: option validation with
// clear RangeErrors, per-image random draws, and the one small parameter tensor
// each transform sends to the batch's device.
import { Tensor, tensor } from '../../tensor/index.js';
import type { Rng } from '../../data/random.js';

export type BatchShape = [batch: number, channels: number, height: number, width: number];

/** The input of every transform: a 4-D float batch [B, C, H, W]. */
export function checkFloatBatch(x: unknown, fn: string): BatchShape {
  if (!(x instanceof Tensor)) throw new TypeError(`${fn}: expected a Tensor batch [B, C, H, W]`);
  if (x.ndim !== 4) throw new RangeError(`${fn}: expected a batch [B, C, H, W], got shape [${x.shape.join(', ')}]`);
  if (!x.isFloatingPoint()) throw new TypeError(`${fn}: expected a float batch with values in [0, 1], got ${x.dtype}`);
  return x.shape as BatchShape;
}

export function checkProbability(p: number, fn: string, name = 'p'): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`${fn}: ${name} must be a probability in [0, 1], got ${String(p)}`);
  return p;
}

/** A [low, high] pair with 0 < low <= high (or 0 <= low when `allowZero`). */
export function checkOrderedPair(v: unknown, fn: string, name: string, allowZero = false): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((e) => typeof e === 'number' && Number.isFinite(e))) {
    throw new RangeError(`${fn}: ${name} must be a pair [low, high] of finite numbers, got ${JSON.stringify(v)}`);
  }
  const [low, high] = v as [number, number];
  if (!(allowZero ? low >= 0 : low > 0) || low > high) {
    throw new RangeError(`${fn}: ${name} must satisfy ${allowZero ? '0 <=' : '0 <'} low <= high, got [${low}, ${high}]`);
  }
  return [low, high];
}

export function checkNonNegative(v: number, fn: string, name: string): number {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${fn}: ${name} must be a finite number >= 0, got ${String(v)}`);
  return v;
}

/** An image size: one side for square images, or [height, width]. */
export function checkSize(size: number | [number, number], fn: string, name = 'size'): [number, number] {
  const pair = typeof size === 'number' ? [size, size] : size;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new RangeError(`${fn}: ${name} must be a positive integer or [height, width] of positive integers, got ${JSON.stringify(size)}`);
  }
  return pair as [number, number];
}

/** Colour transforms know grey (1) and RGB (3) images only. */
export function checkGreyOrRgb(channels: number, fn: string): 1 | 3 {
  if (channels !== 1 && channels !== 3) throw new RangeError(`${fn}: expected 1 (grey) or 3 (RGB) channels, got ${channels}`);
  return channels;
}

/** Uniform on [low, high). */
export function uniform(rng: Rng, low: number, high: number): number {
  return low + (high - low) * rng.next();
}

/** One Bernoulli(p) draw per image; always B draws, so p does not shift later numbers. */
export function coinFlips(batch: number, rng: Rng, p: number): Uint8Array {
  return Uint8Array.from({ length: batch }, () => (rng.next() < p ? 1 : 0));
}

/** Per-image parameters (computed in double precision) as one tensor of the batch's float dtype, on its device. */
export function paramsLike(values: Float64Array, shape: number[], like: Tensor): Tensor {
  return tensor(values, { shape, dtype: like.dtype, device: like.device });
}

/** A [B, 1, 1, 1] bool mask on the batch's device, to choose whole images with `where`. */
export function imageMask(chosen: Uint8Array, like: Tensor): Tensor {
  return tensor(chosen, { shape: [chosen.length, 1, 1, 1], dtype: 'bool', device: like.device });
}
