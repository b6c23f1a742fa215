// Batched image augmentation as a handful of libtorch ops per batch (no per-pixel
// JavaScript). The random choices (one or two numbers per image) come from a
// seeded Rng, so an augmented epoch repeats exactly from its seed.
import { Tensor, op, tensor, tidy } from '../tensor/index.js';
import type { Rng } from './random.js';

export type PadMode = 'zeros' | 'reflect';

function check4d(x: Tensor, fn: string): [number, number, number, number] {
  if (x.ndim !== 4) throw new RangeError(`${fn}: expected a batch [B, C, H, W], got shape [${x.shape.join(', ')}]`);
  return x.shape as [number, number, number, number];
}

/** An int64 index tensor; built as int32 and widened by libtorch (BigInt conversion in JS is slow). */
function longs(values: Int32Array, shape: number[], device: string): Tensor {
  return tensor(values, { shape, dtype: 'int64', device });
}

/** Source positions of a reflect-padded axis: -1 -> 1, n -> n - 2, like numpy's 'reflect'. */
function reflectedPositions(n: number, padding: number): Int32Array {
  return Int32Array.from({ length: n + 2 * padding }, (_, i) => {
    const j = i - padding;
    return j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j;
  });
}

/** Pads H and W by `padding` on every side, with zeros or by reflection. */
export function padBatch(x: Tensor, padding: number, mode: PadMode = 'zeros'): Tensor {
  const [, , height, width] = check4d(x, 'padBatch');
  if (!Number.isInteger(padding) || padding < 0) throw new RangeError(`padBatch: padding must be a non-negative integer, got ${padding}`);
  if (mode === 'zeros') return op('aten::constant_pad_nd', x, [padding, padding, padding, padding], 0);
  if (mode !== 'reflect') throw new TypeError(`padBatch: mode must be 'zeros' or 'reflect', got '${String(mode)}'`);
  if (padding >= height || padding >= width) throw new RangeError(`padBatch: reflection padding ${padding} must be smaller than the image (${height}x${width})`);
  // aten::reflection_pad2d has no uint8 kernel in libtorch 1.13, so gather rows and
  // columns by their reflected positions instead (any dtype, two small index ops).
  return tidy(() => x
    .indexSelect(2, longs(reflectedPositions(height, padding), [height + 2 * padding], x.device))
    .indexSelect(3, longs(reflectedPositions(width, padding), [width + 2 * padding], x.device)));
}

/**
 * Cuts window `b` of size h x w from image `b`, its top-left corner at (dy[b], dx[b]):
 * out[b, c, i, j] = x[b, c, dy[b] + i, dx[b] + j]. Two unfolds make a view of every
 * window position, [B, C, positionsY, positionsX, h, w], without copying; one
 * advanced-indexing op then picks each image's window.
 */
export function cropBatch(x: Tensor, dy: ArrayLike<number>, dx: ArrayLike<number>, size: [number, number]): Tensor {
  const [batch, , height, width] = check4d(x, 'cropBatch');
  const [h, w] = size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h >= 1 && w >= 1 && h <= height && w <= width)) {
    throw new RangeError(`cropBatch: window ${h}x${w} does not fit in ${height}x${width} images`);
  }
  if (dy.length !== batch || dx.length !== batch) throw new RangeError(`cropBatch: need one offset per image (${batch}), got ${dy.length} dy and ${dx.length} dx`);
  const rows = Int32Array.from(dy);
  const cols = Int32Array.from(dx);
  for (let b = 0; b < batch; b++) {
    if (!(rows[b]! >= 0 && rows[b]! + h <= height && cols[b]! >= 0 && cols[b]! + w <= width)) {
      throw new RangeError(`cropBatch: window ${h}x${w} at (${dy[b]}, ${dx[b]}) of image ${b} does not fit in ${height}x${width}`);
    }
  }
  return tidy(() => {
    const windows = op<Tensor>('aten::unfold', op<Tensor>('aten::unfold', x, 2, h, 1), 3, w, 1);
    const dev = x.device;
    const image = longs(Int32Array.from({ length: batch }, (_, b) => b), [batch], dev);
    // Index tensors on dims 0, 2, 3 around a full slice on dim 1 put the batch dim first: [B, C, h, w].
    return windows.index([image, null, longs(rows, [batch], dev), longs(cols, [batch], dev)]);
  });
}

/**
 * Random crops the size of the input after padding by `padding` on every side
 * (the CIFAR-style "pad 4 and crop 32"): each image moves by up to `padding` pixels.
 */
export function randomCrop(x: Tensor, padding: number, rng: Rng, mode: PadMode = 'zeros'): Tensor {
  const [batch, , height, width] = check4d(x, 'randomCrop');
  if (!Number.isInteger(padding) || padding < 0) throw new RangeError(`randomCrop: padding must be a non-negative integer, got ${padding}`);
  if (padding === 0) return x.clone();
  const dy = new Int32Array(batch);
  const dx = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    dy[b] = rng.int(2 * padding + 1);
    dx[b] = rng.int(2 * padding + 1);
  }
  return tidy(() => cropBatch(padBatch(x, padding, mode), dy, dx, [height, width]));
}

/**
 * Mirrors (along W), in place, the images whose `mask` entry is true, and returns `x`.
 * Only the chosen subset is touched: gather it, flip it, copy it back (about twice
 * as fast as flipping the whole batch and choosing with `where`).
 */
export function flipBatch_(x: Tensor, mask: ArrayLike<boolean | number>): Tensor {
  const [batch] = check4d(x, 'flipBatch');
  if (mask.length !== batch) throw new RangeError(`flipBatch: mask has ${mask.length} entries for ${batch} images`);
  const chosen: number[] = [];
  for (let b = 0; b < batch; b++) if (mask[b]) chosen.push(b);
  if (chosen.length === 0) return x;
  tidy(() => {
    const idx = longs(Int32Array.from(chosen), [chosen.length], x.device);
    op<Tensor>('aten::index_copy_', x, 0, idx, x.indexSelect(0, idx).flip(3)); // returns x again: a second handle, freed by tidy
  });
  return x;
}

/** A copy of `x` with the images whose `mask` entry is true mirrored along W. */
export function flipBatch(x: Tensor, mask: ArrayLike<boolean | number>): Tensor {
  check4d(x, 'flipBatch');
  return flipBatch_(x.clone(), mask);
}

/** Mirrors each image with probability `p`: into a copy, or into `x` itself when `inPlace`. */
export function randomFlip(x: Tensor, rng: Rng, p = 0.5, inPlace = false): Tensor {
  const [batch] = check4d(x, 'randomFlip');
  const mask = Array.from({ length: batch }, () => rng.next() < p);
  return inPlace ? flipBatch_(x, mask) : flipBatch(x, mask);
}

/** (x - mean[c]) / std[c] for each channel c of a float batch, in place; returns `x`. */
export function normalizeBatch_(x: Tensor, mean: number[], std: number[]): Tensor {
  const [, channels] = check4d(x, 'normalizeBatch');
  if (mean.length !== channels || std.length !== channels) {
    throw new RangeError(`normalizeBatch: need ${channels} mean and std values (one per channel), got ${mean.length} and ${std.length}`);
  }
  if (std.some((s) => !(s > 0))) throw new RangeError(`normalizeBatch: std must be positive, got [${std.join(', ')}]`);
  if (!x.isFloatingPoint()) throw new TypeError(`normalizeBatch: expected a float batch, got ${x.dtype}`);
  if (channels === 1) return x.sub_(mean[0]!).div_(std[0]!);
  tidy(() => {
    const m = tensor(Float32Array.from(mean), { shape: [1, channels, 1, 1], device: x.device });
    const s = tensor(Float32Array.from(std), { shape: [1, channels, 1, 1], device: x.device });
    x.sub_(m).div_(s);
  });
  return x;
}

/** (x - mean[c]) / std[c] for each channel c of a float batch, into a new tensor. */
export function normalizeBatch(x: Tensor, mean: number[], std: number[]): Tensor {
  check4d(x, 'normalizeBatch');
  return normalizeBatch_(x.clone(), mean, std);
}
