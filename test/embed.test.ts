// Embedding a data set: streamed rows equal evaluation.embed's; a folder is decoded a
// batch at a time and matches loadImageFolder; the three file formats round-trip
// exactly; and `selfsup embed` / `selfsup export` fail clearly on bad input, leaving no
// partial file behind.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readdirSync, rmSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliAsync as runCliAsync, type CliResult } from './support/cli-async.js';
import { manualSeed, setNumThreads, noGrad } from '../src/tensor/index.js';
import type { Module } from '../src/nn/index.js';

/** Puts a NaN into the first parameter (a diverged run). */
function noGradFill(m: Module): void {
  noGrad(() => { m.parameters()[0]!.fill_(NaN); });
}
import { createBackbone } from '../src/models/index.js';
import { loadFashionMnist, subset, datasetSource, folderSource, loadImageFolder, readImage, type ImageSource } from '../src/data/index.js';
import { embed, embedSource } from '../src/eval/index.js';
import { writeEmbeddings, readEmbeddings, npyRowsPath } from '../src/io/index.js';
import { encodePng } from '../src/report/images.js';
import { saveEncoder } from '../src/io/encoder-files.js';

setNumThreads(1);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'dist', 'src', 'cli', 'main.js');
const NORM = { mean: [0.2860], std: [0.3530] };
const dir = mkdtempSync(join(tmpdir(), 'selfsup-embed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(rows: AsyncIterable<Float32Array>): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for await (const r of rows) parts.push(r);
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** A folder of PNGs in two class sub-folders, `n` images of `size` x `size` grey pixels. */
function pngFolder(name: string, n: number, size: number, oddOne?: number): string {
  const folder = join(dir, name);
  for (let i = 0; i < n; i++) {
    const cls = join(folder, i % 2 ? 'dog' : 'cat');
    mkdirSync(cls, { recursive: true });
    const s = i === oddOne ? size + 4 : size;
    const pixels = Uint8Array.from({ length: s * s }, (_, j) => (j * 7 + i * 31) % 256);
    writeFileSync(join(cls, `img${String(i).padStart(3, '0')}.png`), encodePng({ pixels, width: s, height: s, channels: 1 }));
  }
  return folder;
}

describe('embedSource', () => {
  test('streamed rows equal evaluation.embed, for any batch size', async () => {
    manualSeed(1);
    const enc = createBackbone('small-cnn', { inChannels: 1, width: 8 });
    const ds = subset(loadFashionMnist({ split: 'test' }), Int32Array.from({ length: 37 }, (_, i) => i));
    const want = embed(enc, ds, { norm: NORM });
    const wantData = want.data() as Float32Array;
    for (const batchSize of [5, 64]) {
      const got = await collect(embedSource(enc, datasetSource(ds), { norm: NORM, batchSize }));
      assert.equal(got.length, wantData.length);
      let m = 0;
      for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i]! - wantData[i]!));
      assert.ok(m < 1e-5, `batch ${batchSize}: max diff ${m}`);
    }
    want.dispose();
    enc.dispose();
  });

  test('a folder streams in batches with the bytes, labels and paths loadImageFolder gives', async () => {
    const folder = pngFolder('pets', 7, 12);
    const source = await folderSource(folder, { channels: 1 });
    const whole = await loadImageFolder(folder, { channels: 1 });
    assert.equal(source.length, 7);
    assert.deepEqual(source.imageShape, [1, 12, 12]);
    assert.deepEqual(source.classNames, ['cat', 'dog']);
    assert.deepEqual([...source.labels!], [...whole.labels!]);
    assert.ok(source.paths![0]!.endsWith(join('cat', 'img000.png')));
    const bytes: number[] = [];
    const counts: number[] = [];
    for await (const b of source.batches(3)) { counts.push(b.count); bytes.push(...b.images); }
    assert.deepEqual(counts, [3, 3, 1]);
    assert.deepEqual(bytes, [...whole.images]);
  });

  test('a folder of differing sizes is an error naming the odd file, unless resized', async () => {
    const folder = pngFolder('mixed', 4, 10, 2);
    const source = await folderSource(folder, { channels: 1 });
    await assert.rejects(async () => { for await (const _ of source.batches(2)) { /* decode */ } }, /images differ in size: .*img002\.png is 14x14; pass a size/);
    const resized = await folderSource(folder, { channels: 1, size: 8 });
    let n = 0;
    for await (const b of resized.batches(2)) n += b.count;
    assert.equal(n, 4);
  });

  test('readImage decodes a file or a buffer to CHW bytes, resized on request', async () => {
    const pixels = Uint8Array.from({ length: 3 * 4 * 5 }, (_, i) => (i * 13) % 256);
    const png = encodePng({ pixels, width: 5, height: 4, channels: 3 });
    const file = join(dir, 'one.png');
    writeFileSync(file, png);
    for (const input of [file, png]) {
      const r = await readImage(input);
      assert.deepEqual(r.imageShape, [3, 4, 5]);
      assert.deepEqual([...r.pixels], [...pixels]);
    }
    const small = await readImage(png, { size: 2, channels: 1 });
    assert.deepEqual(small.imageShape, [1, 2, 2]);
    await assert.rejects(readImage(Buffer.from('not an image')), /cannot decode image/);
  });
});

describe('embedding files', () => {
  const count = 9;
  const dim = 4;
  // Values that need all of float32's digits, and a path that needs CSV quoting.
  const values = Float32Array.from({ length: count * dim }, (_, i) => Math.fround(Math.sin(i + 1) * 1e3) / 7);
  const labels = Int32Array.from({ length: count }, (_, i) => (i === 4 ? -1 : i % 3));
  const paths = Array.from({ length: count }, (_, i) => `photos/a,"b"/img${i}.png`);
  const classNames = ['cat', 'dog', 'eel'];
  async function* rows(): AsyncGenerator<Float32Array> { yield values.subarray(0, 5 * dim); yield values.subarray(5 * dim); }

  for (const ext of ['safetensors', 'npy', 'csv']) {
    test(`.${ext} round-trips rows, labels and paths exactly`, async () => {
      const path = join(dir, `rt.${ext}`);
      await writeEmbeddings(path, rows(), { count, dim, labels, paths, classNames, metadata: { block: 'block3' } });
      const r = readEmbeddings(path);
      assert.equal(r.count, count);
      assert.equal(r.dim, dim);
      assert.deepEqual([...r.embeddings], [...values]);
      assert.deepEqual(r.paths, paths);
      // Labels come back by class name (CSV files hold names, not numbers).
      assert.deepEqual([...r.labels!].map((l) => (l < 0 ? null : r.classNames![l])), [...labels].map((l) => (l < 0 ? null : classNames[l])));
      if (ext === 'safetensors') assert.equal(r.metadata.block, 'block3');
      if (ext === 'npy') assert.ok(existsSync(npyRowsPath(path)));
    });
  }

  test('rows that do not add up, or an unknown extension, are errors and leave no file', async () => {
    const path = join(dir, 'short.safetensors');
    await assert.rejects(writeEmbeddings(path, rows(), { count: count + 1, dim, labels: null, paths: null, classNames: null }), /9 rows arrived, 10 were announced/);
    assert.equal(existsSync(path), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    await assert.rejects(writeEmbeddings(join(dir, 'x.txt'), rows(), { count, dim, labels: null, paths: null, classNames: null }), /unknown embedding format 'txt'/);
    assert.throws(() => readEmbeddings(join(dir, 'nope.csv')), /does not exist/);
  });
});

describe('selfsup embed and export on bad input', () => {
  let encoderDir: string;
  before(() => {
    encoderDir = join(dir, 'encoder');
    mkdirSync(encoderDir);
    const enc = createBackbone('small-cnn', { inChannels: 1, width: 4 });
    saveEncoder(encoderDir, enc, {
      backbone: 'small-cnn', width: 4, inChannels: 1, imageShape: [1, 28, 28], norm: NORM, method: 'rotation', data: 'fashion-mnist', rotationAccuracy: null,
    });
    enc.dispose();
  });
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, SELFSUP_NUM_THREADS: '1' } });
  /** The same as cli, without blocking: independent commands run side by side. */
  const cliAsync = (...args: string[]): Promise<CliResult> => runCliAsync(CLI, root, ...args);

  test('a folder of embedded images: paths and labels in the file, rows as the library computes them', async () => {
    const folder = pngFolder('big', 6, 28);
    const out = join(dir, 'folder.safetensors');
    const r = cli('embed', '--encoder', encoderDir, '--data', `folder:${folder}`, '--batch-size', '4', '--out', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(result.rows, 6);
    const file = readEmbeddings(out);
    assert.equal(file.paths!.length, 6);
    assert.deepEqual(file.classNames, ['cat', 'dog']);
    assert.deepEqual([...file.labels!], [0, 0, 0, 1, 1, 1]);
    assert.equal(file.metadata.block, 'block3');
  });

  test('clear errors: no encoder, wrong image size, unknown format, unwritable output; no partial files', async () => {
    const folder = pngFolder('small', 3, 12);
    const cases: [string[], RegExp][] = [
      [['embed', '--encoder', join(dir, 'missing'), '--out', join(dir, 'a.npy')], /encoder not found/],
      [['embed', '--encoder', encoderDir, '--data', `folder:${folder}`, '--out', join(dir, 'b.npy')], /images are 12x12 but the encoder was trained on 28x28; resize them with --image-size 28/],
      [['embed', '--encoder', encoderDir, '--out', join(dir, 'c.txt')], /unknown embedding format/],
      [['embed', '--encoder', encoderDir, '--limit', '10', '--out', join(dir, 'no-such-dir', 'd.csv')], /could not write/],
      [['export', '--encoder', join(dir, 'missing'), '--out', join(dir, 'e.onnx')], /encoder not found/],
    ];
    const results = await Promise.all(cases.map(([args]) => cliAsync(...args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i]!;
      assert.notEqual(r.status, 0, `${args.join(' ')} succeeded`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
    }
    for (const f of ['a.npy', 'b.npy', 'c.txt', 'e.onnx']) assert.equal(existsSync(join(dir, f)), false, `${f} was written`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });

  test('a corrupt encoder is a clear error', () => {
    const bad = join(dir, 'corrupt');
    mkdirSync(bad);
    writeFileSync(join(bad, 'encoder.json'), '{ not json');
    const r = cli('export', '--encoder', bad, '--out', join(dir, 'f.onnx'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is not valid JSON/);
    chmodSync(bad, 0o755);
  });

  test('encoder.json cannot name a file outside its folder; an encoder file instead of its folder is explained', async () => {
    const info = JSON.parse(readFileSync(join(encoderDir, 'encoder.json'), 'utf8'));
    writeFileSync(join(dir, 'secret.safetensors'), 'SECRET-BYTES');
    // One folder per bad encoder.json (evil-1/, evil-2/, ... beside secret.safetensors), exported side by side.
    const evilFolder = (n: number, json: Record<string, unknown>): string => {
      const evil = join(dir, `evil-${n}`);
      mkdirSync(evil);
      writeFileSync(join(evil, 'encoder.json'), JSON.stringify(json));
      return evil;
    };
    const missing = { ...info };
    delete missing.blocks;
    const [outside, absolute, noBlocks, file] = await Promise.all([
      cliAsync('export', '--encoder', evilFolder(1, { ...info, weights: '../secret.safetensors' }), '--out', join(dir, 'g1.onnx')),
      cliAsync('export', '--encoder', evilFolder(2, { ...info, weights: '/etc/passwd' }), '--out', join(dir, 'g2.onnx')),
      cliAsync('export', '--encoder', evilFolder(3, missing), '--out', join(dir, 'g3.onnx')),
      cliAsync('export', '--encoder', join(encoderDir, 'encoder.safetensors'), '--out', join(dir, 'g4.onnx')),
    ]);
    for (const r of [outside, absolute]) {
      assert.equal(r.status, 1);
      assert.match(r.stderr, /'weights' must be a file name in .* \(no folders\)/);
      assert.doesNotMatch(r.stderr, /SECRET|root:/);
    }
    assert.match(noBlocks.stderr, /the field 'blocks' is missing/);
    assert.equal(file.status, 1);
    assert.match(file.stderr, /pass the encoder's folder, .*encoder, not one of its files/);
    assert.doesNotMatch(file.stderr, /not valid JSON/);
  });

  test('a named pipe called x.png in an image folder is skipped, not read (it would block forever)', async () => {
    const folder = pngFolder('piped', 2, 8);
    const made = spawnSync('mkfifo', [join(folder, 'cat', 'x.png')]);
    if (made.status !== 0) return;
    const source = await folderSource(folder, { channels: 1 });
    assert.equal(source.length, 2);
    assert.ok(source.paths!.every((p) => !p.endsWith('x.png')));
  });

  test('an encoder whose weights hold NaN is refused by every command that reads it', async () => {
    const nanDir = join(dir, 'nan-encoder');
    mkdirSync(nanDir);
    const enc = createBackbone('small-cnn', { inChannels: 1, width: 4 });
    noGradFill(enc);
    saveEncoder(nanDir, enc, { backbone: 'small-cnn', width: 4, inChannels: 1, imageShape: [1, 28, 28], norm: NORM, method: 'rotation', data: 'fashion-mnist', rotationAccuracy: null });
    enc.dispose();
    const commands = [['knn', '--k', '1', '--seeds', '0', '--limit', '100', '--test-limit', '50'], ['probe', '--k', '1', '--seeds', '0', '--limit', '100', '--test-limit', '50'], ['embed', '--limit', '10', '--out', join(dir, 'nan.npy')]];
    const results = await Promise.all(commands.map((cmd) => cliAsync(cmd[0]!, '--encoder', nanDir, ...cmd.slice(1))));
    for (const [i, cmd] of commands.entries()) {
      const r = results[i]!;
      assert.equal(r.status, 1, `${cmd[0]} exit ${r.status}`);
      assert.match(r.stderr, /holds NaN or infinite values/);
    }
  });
});
