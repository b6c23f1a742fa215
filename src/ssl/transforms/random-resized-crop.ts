// Random resized crop, the augmentation that matters most in SimCLR (Chen et al. 2020,
// "A Simple Framework for Contrastive Learning of Visual Representations", sec. 3 and
// app. A: scale [0.08, 1], ratio [3/4, 4/3]), also used by BYOL (Grill et al. 2020) and
// as DINO's global and local crops (Caron et al. 2021: scales [0.4, 1] and [0.05, 0.4]).
// Windows are sampled in JS exactly as torchvision's RandomResizedCrop.get_params does
// (10 tries, then a centre crop); the whole batch is then cut and resized by one
// affine_grid_generator + grid_sampler call (bilinear, align_corners false).
// No antialiasing when shrinking (like torchvision's tensor path with antialias=False),
// and bilinear rather than DINO's bicubic.
// Small grey images: a 0.08 window of a 28x28 digit is about 8x8 pixels, often a bare
// stroke; a minimum scale of 0.2-0.3 keeps more of the shape.
import { Tensor, op, tidy } from '../../tensor/index.js';
import type { Rng } from '../../data/random.js';
import { checkFloatBatch, checkOrderedPair, checkSize, paramsLike, uniform } from './validate.js';

export interface RandomResizedCropOptions {
  /** Output size, one side or [height, width] (default: the input's size). */
  size?: number | [number, number];
  /** Range of the window's area as a fraction of the image's (default [0.08, 1]). */
  scale?: [number, number];
  /** Range of the window's aspect ratio, width / height (default [3/4, 4/3]). */
  ratio?: [number, number];
}

/** One crop window per image, in pixels. */
export interface CropBoxes {
  top: Int32Array;
  left: Int32Array;
  height: Int32Array;
  width: Int32Array;
}

export interface ResolvedCropOptions { size: [number, number] | null; scale: [number, number]; ratio: [number, number] }

export function resolveCropOptions(o: RandomResizedCropOptions = {}, fn = 'randomResizedCrop'): ResolvedCropOptions {
  return {
    size: o.size === undefined ? null : checkSize(o.size, fn),
    scale: checkOrderedPair(o.scale ?? [0.08, 1], fn, 'scale'),
    ratio: checkOrderedPair(o.ratio ?? [3 / 4, 4 / 3], fn, 'ratio'),
  };
}

/** Python's round(): halves go to the even neighbour, as in torchvision's sampling. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Draws a crop window for each of `batch` images of height x width (torchvision's get_params). */
export function sampleCropBoxes(batch: number, height: number, width: number, rng: Rng, options: RandomResizedCropOptions = {}): CropBoxes {
  const { scale, ratio } = resolveCropOptions(options, 'sampleCropBoxes');
  const boxes: CropBoxes = { top: new Int32Array(batch), left: new Int32Array(batch), height: new Int32Array(batch), width: new Int32Array(batch) };
  const area = height * width;
  const [logLow, logHigh] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let b = 0; b < batch; b++) {
    let found = false;
    for (let attempt = 0; attempt < 10 && !found; attempt++) {
      const targetArea = area * uniform(rng, scale[0], scale[1]);
      const aspect = Math.exp(uniform(rng, logLow, logHigh));
      const w = roundHalfEven(Math.sqrt(targetArea * aspect));
      const h = roundHalfEven(Math.sqrt(targetArea / aspect));
      if (w > 0 && w <= width && h > 0 && h <= height) {
        boxes.top[b] = rng.int(height - h + 1);
        boxes.left[b] = rng.int(width - w + 1);
        boxes.height[b] = h;
        boxes.width[b] = w;
        found = true;
      }
    }
    if (found) continue;
    // Fallback: the largest centred window whose ratio is within range.
    const inRatio = width / height;
    let [h, w] = [height, width];
    if (inRatio < ratio[0]) h = roundHalfEven(width / ratio[0]);
    else if (inRatio > ratio[1]) w = roundHalfEven(height * ratio[1]);
    boxes.top[b] = Math.floor((height - h) / 2);
    boxes.left[b] = Math.floor((width - w) / 2);
    boxes.height[b] = h;
    boxes.width[b] = w;
  }
  return boxes;
}

/**
 * Cuts window b from image b and resizes it to `size` with bilinear interpolation
 * (align_corners false), the same as upsample_bilinear2d of the cropped window.
 */
export function resizedCrop(x: Tensor, boxes: CropBoxes, size?: number | [number, number]): Tensor {
  const [batch, channels, height, width] = checkFloatBatch(x, 'resizedCrop');
  const [outHeight, outWidth] = size === undefined ? [height, width] : checkSize(size, 'resizedCrop');
  for (const key of ['top', 'left', 'height', 'width'] as const) {
    if (boxes[key].length !== batch) throw new RangeError(`resizedCrop: need one box per image (${batch}), got ${boxes[key].length} ${key} values`);
  }
  // Per image: theta [2, 3] maps output to input coordinates (normalised to [-1, 1]);
  // then the lowest and highest sample positions (x, y) inside the window.
  const params = new Float64Array(batch * 10);
  for (let b = 0; b < batch; b++) {
    const [i, j, h, w] = [boxes.top[b]!, boxes.left[b]!, boxes.height[b]!, boxes.width[b]!];
    if (!(h >= 1 && w >= 1 && i >= 0 && j >= 0 && i + h <= height && j + w <= width)) {
      throw new RangeError(`resizedCrop: box ${h}x${w} at (${i}, ${j}) of image ${b} does not fit in ${height}x${width}`);
    }
    // Output pixel k samples input pixel j + (k + 0.5) * w / outWidth - 0.5, as upsample does.
    params.set([w / width, 0, (2 * j + w) / width - 1, 0, h / height, (2 * i + h) / height - 1,
      (2 * j + 1) / width - 1, (2 * i + 1) / height - 1, (2 * (j + w) - 1) / width - 1, (2 * (i + h) - 1) / height - 1], b * 10);
  }
  return tidy(() => {
    const p = paramsLike(params, [batch, 10], x);
    const theta = p.narrow(1, 0, 6).reshape(batch, 2, 3);
    const grid = op<Tensor>('aten::affine_grid_generator', theta, [batch, channels, outHeight, outWidth], false);
    // Clamping to the window repeats its edge pixels when enlarging, as upsample of the
    // cut window does, instead of blending in pixels from outside the window.
    const low = p.narrow(1, 6, 2).reshape(batch, 1, 1, 2);
    const high = p.narrow(1, 8, 2).reshape(batch, 1, 1, 2);
    const inside = op<Tensor>('aten::clamp.Tensor', grid, low, high);
    const BILINEAR = 0;
    const BORDER = 1;
    return op<Tensor>('aten::grid_sampler', x, inside, BILINEAR, BORDER, false);
  });
}

/** A random window of each image (area fraction in `scale`, aspect in `ratio`), resized to `size`. */
export function randomResizedCrop(x: Tensor, rng: Rng, options: RandomResizedCropOptions = {}): Tensor {
  const [batch, , height, width] = checkFloatBatch(x, 'randomResizedCrop');
  const { size } = resolveCropOptions(options);
  return resizedCrop(x, sampleCropBoxes(batch, height, width, rng, options), size ?? [height, width]);
}
