// Fashion-MNIST: 28x28 grey images of clothing in ten classes (60k train, 10k test),
// as installed by `apt-get install dataset-fashion-mnist` (IDX files, gzipped).
import { loadIdxPair, findIdxFile } from './idx.js';
import type { ImageDataset } from './dataset.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

export type Split = 'train' | 'test';

/** The IDX file names of one split, as the MNIST family names them (t10k- for test). */
export function idxFileNames(split: Split): { images: string; labels: string } {
  if (split !== 'train' && split !== 'test') throw new TypeError(`split must be 'train' or 'test', got '${String(split)}'`);
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: `${prefix}-images-idx3-ubyte`, labels: `${prefix}-labels-idx1-ubyte` };
}

/** Loads one split of Fashion-MNIST from `dir` (files may be gzipped or not). */
export function loadFashionMnist(opts: { dir?: string; split: Split }): ImageDataset {
  const dir = opts.dir ?? FASHION_MNIST_DIR;
  const names = idxFileNames(opts.split);
  const hint = dir === FASHION_MNIST_DIR
    ? 'Fashion-MNIST is not installed: run `apt-get install dataset-fashion-mnist`, or pass { dir } where its IDX files are'
    : undefined;
  return loadIdxPair(findIdxFile(dir, names.images, hint), findIdxFile(dir, names.labels, hint), {
    name: `fashion-mnist/${opts.split}`,
    classNames: FASHION_MNIST_CLASSES,
  });
}
