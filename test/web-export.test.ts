// The web export: a folder that runs the encoder in the browser. In headless Chromium,
// from file:// (no server), its self-test embeds the first gallery image with
// onnxruntime-web and must give selfsup's embedding within 1e-4, and the page shows
// that image's neighbours. Skipped where Chromium is not installed.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { manualSeed, noGrad, tidy, tensor, setNumThreads } from '../src/tensor/index.js';
import { createBackbone } from '../src/models/index.js';
import { loadFashionMnist } from '../src/data/index.js';
import { exportWeb } from '../src/io/index.js';

setNumThreads(1);
const chromium = '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'selfsup-web-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const NORM = { mean: [0.286], std: [0.353] };

describe('web export', () => {
  test('the page embeds in the browser as selfsup does and shows the neighbours', { skip: existsSync(chromium) ? false : `${chromium} is not installed` }, () => {
    manualSeed(2);
    const enc = createBackbone('small-cnn', { inChannels: 1, width: 8 });
    enc.eval();
    const ds = loadFashionMnist({ split: 'test' });
    const n = 40;
    const pixels = Array.from({ length: n }, (_, i) => ds.images.slice(i * 784, (i + 1) * 784));
    const embeddings = noGrad(() => tidy(() => {
      const x = tensor(ds.images.subarray(0, n * 784), { shape: [n, 1, 28, 28] }).to('float32').div(255).sub(NORM.mean[0]!).div(NORM.std[0]!);
      return enc.embed(x);
    })).data() as Float32Array;
    const out = join(dir, 'web');
    exportWeb(enc, out, { imageShape: [1, 28, 28], norm: NORM, gallery: { pixels, captions: pixels.map((_, i) => `#${i}`), embeddings }, count: 5 });
    for (const f of ['index.html', 'encoder.onnx', 'model.js', 'gallery.js', 'ort-bundle.js', 'ort-wasm.js']) assert.ok(existsSync(join(out, f)), f);

    const profile = mkdtempSync(join(tmpdir(), 'selfsup-chromium-'));
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--user-data-dir=${profile}`, '--virtual-time-budget=600000'];
    const url = `file://${join(out, 'index.html')}#selftest`;
    try {
      const dom = spawnSync(chromium, [...flags, '--dump-dom', url], { timeout: 120_000, encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.equal(dom.status, 0, dom.stderr);
      const got = /<pre id="selftest">([^<]*)<\/pre>/.exec(dom.stdout)?.[1];
      assert.ok(got, `the self-test wrote an embedding (status: ${/<p id="status">([^<]*)/.exec(dom.stdout)?.[1]})`);
      const values = JSON.parse(got) as number[];
      assert.equal(values.length, 32);
      const diff = Math.max(...values.map((v, j) => Math.abs(v - embeddings[j]!)));
      assert.ok(diff < 1e-4, `browser vs selfsup: max diff ${diff}`);
      assert.equal((dom.stdout.match(/<figure class="neighbor">/g) ?? []).length, 5, 'five neighbours shown');
      assert.match(dom.stdout, /<span class="score">1\.000<\/span><br>#0</, 'the image itself is its nearest gallery image');

      const shot = join(dir, 'web.png');
      const s = spawnSync(chromium, [...flags, `--screenshot=${shot}`, '--window-size=1000,700', url], { timeout: 120_000, encoding: 'utf8' });
      assert.equal(s.status, 0, s.stderr);
      const image = PNG.sync.read(readFileSync(shot));
      const colours = new Set<number>();
      for (let i = 0; i < image.data.length; i += 4 * 31) colours.add(image.data.readUInt32BE(i));
      assert.ok(colours.size > 30, `the screenshot shows pictures (${colours.size} colours)`);
    } finally {
      rmSync(profile, { recursive: true, force: true });
      enc.dispose();
    }
  });

  test('refuses a folder that holds something else, and leaves it alone', () => {
    const enc = createBackbone('small-cnn', { inChannels: 1, width: 4 });
    const other = join(dir, 'mine');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'keep me');
    const gallery = { pixels: [new Uint8Array(784)], captions: ['a'], embeddings: new Float32Array(16) };
    assert.throws(() => exportWeb(enc, other, { imageShape: [1, 28, 28], gallery }), /exists and is not an earlier web export/);
    assert.equal(readFileSync(join(other, 'notes.txt'), 'utf8'), 'keep me');
    assert.throws(() => exportWeb(enc, join(dir, 'x'), { imageShape: [1, 28, 28], gallery: { ...gallery, captions: [] } }), /0 captions for 1 gallery images/);
    enc.dispose();
  });
});
