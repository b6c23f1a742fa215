// CIFAR-10, binary version: data_batch_1..5.bin (train) and test_batch.bin (test).
// Each record is 3073 bytes: a label byte, then 3x32x32 pixels already in CHW order.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDataset, type ImageDataset } from './dataset.js';
import type { Split } from './fashion-mnist.js';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const IMAGE_BYTES = 3 * 32 * 32;
const RECORD_BYTES = 1 + IMAGE_BYTES;

export function cifar10FileNames(split: Split): string[] {
  if (split === 'train') return [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
  if (split === 'test') return ['test_batch.bin'];
  throw new TypeError(`split must be 'train' or 'test', got '${String(split)}'`);
}

/** `dir` itself, or its `cifar-10-batches-bin` folder (as the archive unpacks) when that holds the files. */
function resolveDir(dir: string, files: string[]): string {
  const nested = join(dir, 'cifar-10-batches-bin');
  if (!existsSync(join(dir, files[0]!)) && existsSync(join(nested, files[0]!))) return nested;
  return dir;
}

/** Class names from batches.meta.txt (one a line) when present, else the standard ten. */
function classNamesIn(dir: string): string[] {
  const meta = join(dir, 'batches.meta.txt');
  if (!existsSync(meta)) return CIFAR10_CLASSES;
  const names = readFileSync(meta, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return names.length > 0 ? names : CIFAR10_CLASSES;
}

/** Loads one split of CIFAR-10 (binary version) from `dir`. */
export function loadCifar10(opts: { dir: string; split: Split }): ImageDataset {
  const names = cifar10FileNames(opts.split);
  const dir = resolveDir(opts.dir, names);
  const paths = names.map((n) => join(dir, n));
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length > 0) {
    throw new Error(`CIFAR-10 ${opts.split} files not found: ${missing.join(', ')} (expected the binary version, cifar-10-binary.tar.gz, unpacked in ${opts.dir})`);
  }
  const files = paths.map((p) => {
    const bytes = readFileSync(p);
    if (bytes.length === 0) throw new Error(`${p} is empty (0 bytes); a CIFAR-10 batch file holds 10,000 records of ${RECORD_BYTES} bytes`);
    if (bytes.length % RECORD_BYTES !== 0) {
      throw new Error(`${p}: ${bytes.length} bytes is not a multiple of the ${RECORD_BYTES}-byte CIFAR-10 record (1 label + 3072 pixels)`);
    }
    return bytes;
  });
  const count = files.reduce((n, f) => n + f.length / RECORD_BYTES, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Int32Array(count);
  let i = 0;
  for (const f of files) {
    for (let r = 0; r < f.length; r += RECORD_BYTES, i++) {
      labels[i] = f[r]!;
      images.set(f.subarray(r + 1, r + RECORD_BYTES), i * IMAGE_BYTES);
    }
  }
  return makeDataset({ name: `cifar10/${opts.split}`, imageShape: [3, 32, 32], images, labels, classNames: classNamesIn(dir) });
}
