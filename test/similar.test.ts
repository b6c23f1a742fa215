// Similarity search: nearestNeighbors against a brute-force cosine ranking (with
// self-exclusion and a chunked gallery), and `selfsup similar` end to end: rows as
// queries, an image file as a query, and its HTML page rendered in headless Chromium.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliAsync as runCliAsync, type CliResult } from './support/cli-async.js';
import { PNG } from 'pngjs';
import { tensor, setNumThreads } from '../src/tensor/index.js';
import { createBackbone } from '../src/models/index.js';
import { loadFashionMnist } from '../src/data/index.js';
import { nearestNeighbors } from '../src/eval/index.js';
import { encodePng } from '../src/report/images.js';
import { saveEncoder } from '../src/io/encoder-files.js';

setNumThreads(1);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'selfsup-similar-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function bruteForce(q: number[][], g: number[][], k: number, exclude?: number[]): number[][] {
  const norm = (v: number[]) => Math.hypot(...v);
  return q.map((qi, i) => g.map((gj, j) => ({ j, s: qi.reduce((a, v, d) => a + v * gj[d]!, 0) / (norm(qi) * norm(gj)) }))
    .filter((x) => x.j !== exclude?.[i]).sort((a, b) => b.s - a.s).slice(0, k).map((x) => x.j));
}

describe('nearestNeighbors', () => {
  const rand = (n: number, d: number, seed: number) => Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => Math.sin(seed * 1000 + i * 37.1 + j * 5.3)));
  const g = rand(50, 6, 1);
  const q = [g[3]!, ...rand(3, 6, 2)];
  for (const chunk of [7, 1000]) {
    test(`matches a brute-force cosine ranking (gallery chunks of ${chunk})`, () => {
      const qt = tensor(Float32Array.from(q.flat()), { shape: [4, 6] });
      const gt = tensor(Float32Array.from(g.flat()), { shape: [50, 6] });
      const r = nearestNeighbors(qt, gt, 5, { chunk });
      assert.equal(r.k, 5);
      const got = Array.from({ length: 4 }, (_, i) => [...r.indices.subarray(i * 5, i * 5 + 5)]);
      assert.deepEqual(got, bruteForce(q, g, 5));
      assert.equal(got[0]![0], 3, 'a gallery row is its own nearest neighbour');
      assert.ok(Math.abs(r.scores[0]! - 1) < 1e-6);
      const ex = nearestNeighbors(qt, gt, 5, { chunk, exclude: [3, -1, -1, -1] });
      assert.deepEqual([...ex.indices.subarray(0, 5)], bruteForce(q, g, 5, [3])[0]);
      for (let i = 1; i < 20; i++) if (i % 5) assert.ok(ex.scores[i - 1]! >= ex.scores[i]!, 'best first');
      qt.dispose();
      gt.dispose();
    });
  }

  test('shape mismatches and impossible k are clear errors', () => {
    const a = tensor(new Float32Array(6), { shape: [2, 3] });
    const b = tensor(new Float32Array(8), { shape: [2, 4] });
    assert.throws(() => nearestNeighbors(a, b, 1), /need \[Q, D\] queries and \[N, D\] gallery rows, got \[2, 3\] and \[2, 4\]/);
    assert.throws(() => nearestNeighbors(a, a, 0), /k must be a positive integer/);
    a.dispose();
    b.dispose();
  });
});

// The two tests only read the gallery file: they run side by side.
describe('selfsup similar', { concurrency: true }, () => {
  let encoderDir: string;
  let embeddings: string;
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, SELFSUP_NUM_THREADS: '1' }, maxBuffer: 64 << 20 });
  /** The same as cli, without blocking: independent commands run side by side. */
  const cliAsync = (...args: string[]): Promise<CliResult> => runCliAsync(CLI, root, ...args);
  before(() => {
    encoderDir = join(dir, 'encoder');
    mkdirSync(encoderDir);
    const enc = createBackbone('small-cnn', { inChannels: 1, width: 4 });
    saveEncoder(encoderDir, enc, {
      backbone: 'small-cnn', width: 4, inChannels: 1, imageShape: [1, 28, 28], norm: { mean: [0.286], std: [0.353] }, method: 'rotation', data: 'fashion-mnist', rotationAccuracy: null,
    });
    enc.dispose();
    embeddings = join(dir, 'train.safetensors');
    const r = cli('embed', '--encoder', encoderDir, '--limit', '300', '--out', embeddings);
    assert.equal(r.status, 0, r.stderr);
  });

  test('gallery rows and an image file as queries; JSON and an HTML page that renders', () => {
    // A query file: test image 0, written as a PNG.
    const ds = loadFashionMnist({ split: 'test' });
    const query = join(dir, 'query.png');
    writeFileSync(query, encodePng({ pixels: ds.images.subarray(0, 784), width: 28, height: 28, channels: 1 }));
    const html = join(dir, 'similar.html');
    const r = cli('similar', '--embeddings', embeddings, '--query-index', '0,5', query, '--count', '4', '--html', html, '--json');
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(result.results.length, 3);
    assert.equal(result.k, 4);
    for (const q of result.results) assert.equal(q.neighbors.length, 4);
    assert.ok(result.results[0].neighbors.every((n: { row: number }) => n.row !== 0), 'a row query never finds itself');
    assert.ok(existsSync(html));
    const page = readFileSync(html, 'utf8');
    assert.equal((page.match(/<img /g) ?? []).length, 3 * 5);

    const chromium = '/usr/bin/chromium';
    if (!existsSync(chromium)) return;
    const profile = mkdtempSync(join(tmpdir(), 'selfsup-chromium-'));
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--user-data-dir=${profile}`];
    try {
      const shot = join(dir, 'similar.png');
      const s = spawnSync(chromium, [...flags, `--screenshot=${shot}`, '--window-size=1000,700', `file://${html}`], { timeout: 60_000, encoding: 'utf8' });
      assert.equal(s.status, 0, s.stderr);
      const image = PNG.sync.read(readFileSync(shot));
      const colours = new Set<number>();
      for (let i = 0; i < image.data.length; i += 4 * 31) colours.add(image.data.readUInt32BE(i));
      assert.ok(colours.size > 30, `the screenshot shows pictures (${colours.size} colours)`);
      const dom = spawnSync(chromium, [...flags, '--dump-dom', `file://${html}`], { timeout: 60_000, encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.equal((dom.stdout.match(/class="sim-row"/g) ?? []).length, 3);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });

  test('without queries, or with a row outside the gallery, a usage error', async () => {
    const [none, out] = await Promise.all([cliAsync('similar', '--embeddings', embeddings), cliAsync('similar', '--embeddings', embeddings, '--query-index', '300')]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /give query images/);
    assert.equal(out.status, 2);
    assert.match(out.stderr, /the gallery has rows 0\.\.299/);
  });
});
