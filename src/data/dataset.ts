// The in-memory image data set every loader in src/data returns, and helpers on it.
// Whole data sets of this kind (MNIST, CIFAR, small folders) fit in memory as uint8,
// so they are kept as one flat byte array and turned into tensors a batch at a time.
import { Tensor, tensor, tidy } from '../tensor/index.js';

export interface ImageDataset {
  name: string;
  /** Number of images. */
  length: number;
  /** [channels, height, width] of every image. */
  imageShape: [number, number, number];
  /** Class names indexed by label, or null when unknown. */
  classNames: string[] | null;
  labelled: boolean;
  /** length * C * H * W bytes: image i is the CHW block starting at i * C * H * W, row-major. */
  images: Uint8Array;
  /** One label per image, or null for unlabelled data. */
  labels: Int32Array | null;
}

/** Bytes in one image: C * H * W. */
export function imageSize(ds: Pick<ImageDataset, 'imageShape'>): number {
  const [c, h, w] = ds.imageShape;
  return c * h * w;
}

/** Builds a data set and checks that its parts agree (sizes, label range). */
export function makeDataset(parts: {
  name: string;
  imageShape: [number, number, number];
  images: Uint8Array;
  labels?: Int32Array | null;
  classNames?: string[] | null;
}): ImageDataset {
  const { name, imageShape, images } = parts;
  const labels = parts.labels ?? null;
  const classNames = parts.classNames ?? null;
  if (imageShape.length !== 3 || !imageShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TypeError(`${name}: imageShape must be [C, H, W] of positive integers, got [${imageShape.join(', ')}]`);
  }
  const per = imageSize({ imageShape });
  if (images.length % per !== 0) {
    throw new RangeError(`${name}: ${images.length} image bytes is not a whole number of ${imageShape.join('x')} images (${per} bytes each)`);
  }
  const length = images.length / per;
  if (labels) {
    if (labels.length !== length) throw new RangeError(`${name}: ${length} images but ${labels.length} labels`);
    if (classNames) {
      const bad = labels.findIndex((l) => l < 0 || l >= classNames.length);
      if (bad >= 0) throw new RangeError(`${name}: label ${labels[bad]} of image ${bad} is outside 0..${classNames.length - 1} (${classNames.length} classes)`);
    }
  }
  return { name, length, imageShape: [...imageShape], classNames, labelled: labels !== null, images, labels };
}

function checkIndices(ds: ImageDataset, indices: ArrayLike<number>, fn: string): void {
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    if (!Number.isInteger(j) || j < 0 || j >= ds.length) {
      throw new RangeError(`${fn}: index ${j} (position ${i}) is outside 0..${ds.length - 1} of ${ds.name}`);
    }
  }
}

/** Copies the images (CHW bytes) at `indices` into one array, in that order. */
export function gatherImages(ds: ImageDataset, indices: ArrayLike<number>, out?: Uint8Array): Uint8Array {
  const per = imageSize(ds);
  const dst = out ?? new Uint8Array(indices.length * per);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i]! * per;
    dst.set(ds.images.subarray(src, src + per), i * per);
  }
  return dst;
}

/** A new data set holding copies of the images (and labels) at `indices`, in that order. */
export function subset(ds: ImageDataset, indices: ArrayLike<number>, name = `${ds.name}[${indices.length}]`): ImageDataset {
  checkIndices(ds, indices, 'subset');
  const labels = ds.labels ? Int32Array.from(indices, (i) => ds.labels![i]!) : null;
  return makeDataset({ name, imageShape: ds.imageShape, images: gatherImages(ds, indices), labels, classNames: ds.classNames });
}

/**
 * The images at `indices` (all by default) as float32 [N, C, H, W] in [0, 1], and
 * their labels as int64 [N] (null when unlabelled). The caller owns both tensors.
 */
export function toTensors(ds: ImageDataset, indices?: ArrayLike<number>): { x: Tensor; y: Tensor | null } {
  if (indices) checkIndices(ds, indices, 'toTensors');
  const n = indices ? indices.length : ds.length;
  const bytes = indices ? gatherImages(ds, indices) : ds.images;
  return tidy(() => {
    // Convert on the libtorch side: one uint8 tensor in, one float op out.
    const x = tensor(bytes, { shape: [n, ...ds.imageShape] }).to('float32').div(255);
    let y: Tensor | null = null;
    if (ds.labels) {
      const l = indices ? Int32Array.from(indices, (i) => ds.labels![i]!) : ds.labels;
      y = tensor(l, { dtype: 'int64' });
    }
    return { x, y };
  });
}

/**
 * Per-channel mean and standard deviation of the pixel values scaled to [0, 1]
 * (for `DataLoader`'s `mean`/`std`), counted exactly through a byte histogram.
 */
export function channelStats(ds: ImageDataset): { mean: number[]; std: number[] } {
  const [c, h, w] = ds.imageShape;
  const plane = h * w;
  const hist = Array.from({ length: c }, () => new Float64Array(256));
  for (let i = 0; i < ds.length; i++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (i * c + ch) * plane;
      const hc = hist[ch]!;
      for (let p = 0; p < plane; p++) hc[ds.images[base + p]]++;
    }
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (const hc of hist) {
    let n = 0, s = 0, s2 = 0;
    for (let v = 0; v < 256; v++) {
      const x = v / 255;
      n += hc[v];
      s += hc[v] * x;
      s2 += hc[v] * x * x;
    }
    const m = s / n;
    mean.push(m);
    std.push(Math.sqrt(Math.max(0, s2 / n - m * m)));
  }
  return { mean, std };
}
