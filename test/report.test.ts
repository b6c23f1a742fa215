import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import {
  embed2d, embeddingChart, encodePng, escapeHtml, labelEfficiencyChart, pca2d, renderReport, ReportInputError,
  rotationGrid, maeGrid, resultsJson, seededRandom, trainingCurvesChart, wordMapChart, writeReport,
  type MaeSample, type EmbeddingSet, type MethodResult, type ReportData, type RotationSample, type TrainingCurve, type WrittenReport,
} from '../src/report/index.js';

// ---------- fixtures ----------

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12), v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** `perCluster` points around each of `centres.length` centres in `dim` dimensions. */
function clusters(perCluster: number, dim: number, spread: number, seed: number, names: string[]): EmbeddingSet {
  const random = seededRandom(seed);
  const centres = names.map(() => Array.from({ length: dim }, () => gaussian(random) * 6));
  const vectors: number[][] = [];
  const labels: string[] = [];
  centres.forEach((c, ci) => {
    for (let i = 0; i < perCluster; i++) {
      vectors.push(c.map((x) => x + gaussian(random) * spread));
      labels.push(names[ci]);
    }
  });
  return { title: 'Encoder features (test set)', vectors, labels };
}

const METHODS = ['scratch', 'rotation (frozen)', 'rotation (fine-tuned)'];
const KS = [1, 5, 10, 50, 100];

function results(): MethodResult[] {
  const random = seededRandom(7);
  return METHODS.flatMap((method, m) => KS.map((k) => {
    const base = 0.35 + 0.11 * Math.log10(k) * 2 + 0.06 * m - (m === 1 && k >= 50 ? 0.05 : 0);
    const runs = [0, 1, 2].map(() => Math.min(0.99, base + gaussian(random) * 0.02));
    const mean = runs.reduce((a, b) => a + b, 0) / runs.length;
    const std = Math.sqrt(runs.reduce((a, b) => a + (b - mean) ** 2, 0) / (runs.length - 1));
    return { method, k, mean, std, runs };
  }));
}

function curves(): TrainingCurve[] {
  const pretrain = {
    run: 'rotation-pretrain',
    points: Array.from({ length: 80 }, (_, i) => ({
      step: i * 50, epoch: Math.floor(i / 16), loss: 1.4 * Math.exp(-i / 25) + 0.15, acc: 0.25 + 0.7 * (1 - Math.exp(-i / 20)),
      val_acc: 0.25 + 0.62 * (1 - Math.exp(-i / 22)),
    })),
  };
  const scratch = [0, 1].map((seed) => ({
    run: `scratch k=10 seed=${seed}`,
    points: Array.from({ length: 40 }, (_, i) => ({ step: i * 25, loss: 2.3 * Math.exp(-i / (12 + seed)) + 0.3, acc: 0.1 + 0.6 * (1 - Math.exp(-i / 10)) })),
  }));
  return [pretrain, ...scratch];
}

/** An 'F' glyph, so a rotation is visible at a glance. */
function glyph(size: number): number[][] {
  const img = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  const a = Math.round(size * 0.25), b = Math.round(size * 0.75), w = Math.max(2, Math.round(size / 9));
  for (let y = a; y < b; y++) for (let x = a; x < a + w; x++) img[y][x] = 1;
  for (let y = a; y < a + w; y++) for (let x = a; x < b; x++) img[y][x] = 1;
  for (let y = Math.round(size / 2) - 1; y < Math.round(size / 2) - 1 + w; y++) for (let x = a; x < b - w * 2; x++) img[y][x] = 1;
  return img;
}

/** Quarter turns counter-clockwise, like torch.rot90(x, k, [1, 2]). */
function rot90(img: number[][], k: number): number[][] {
  let out = img;
  for (let t = 0; t < k; t++) out = out[0].map((_, x) => out.map((row) => row[row.length - 1 - x]));
  return out;
}

function rotationSamples(): RotationSample[] {
  const samples: RotationSample[] = [];
  for (let i = 0; i < 16; i++) {
    const rgb = i % 2 === 1;
    const size = rgb ? 32 : 28;
    const rotation = (i % 4) as 0 | 1 | 2 | 3;
    const img = rot90(glyph(size), rotation);
    const predicted = (i % 5 === 4 ? (rotation + 2) % 4 : rotation) as 0 | 1 | 2 | 3;
    const plane = img.flat();
    const pixels = rgb
      ? [...plane.map((v) => (v ? 250 : 40)), ...plane.map((v) => (v ? 200 : 60 + i * 8)), ...plane.map((v) => (v ? 60 : 120))]
      : plane.map((v) => (v ? 255 : 0));
    samples.push({ pixels: rgb ? pixels : Uint8Array.from(pixels), width: size, height: size, channels: rgb ? 3 : 1, rotation, predicted });
  }
  return samples;
}

function wordVectors(): { title: string; vectors: number[][]; words: string[] } {
  const groups = [['king', 'queen', 'prince', 'princess', 'throne'], ['cat', 'dog', 'horse', 'cow', 'sheep'], ['red', 'green', 'blue', 'yellow', 'purple'], ['run', 'walk', 'jump', 'swim']];
  const random = seededRandom(3);
  const centres = groups.map(() => Array.from({ length: 24 }, () => gaussian(random) * 3));
  const vectors: number[][] = [];
  const words: string[] = [];
  groups.forEach((g, gi) => g.forEach((w) => { words.push(w); vectors.push(centres[gi].map((c) => c + gaussian(random) * 0.5)); }));
  return { title: 'Word vectors', vectors, words };
}

function reportData(): ReportData {
  return {
    title: 'RotNet on MNIST <script>alert("x")</script> & friends',
    modality: 'image',
    dataset: 'mnist',
    createdAt: '2024-05-01T12:00:00Z',
    results: results(),
    curves: curves(),
    rotationSamples: rotationSamples(),
    embeddings: [
      clusters(60, 32, 1, 11, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']),
      { ...clusters(4, 8, 1, 12, ['a', 'b']), title: 'Tiny probe set' },
    ],
    wordMaps: [wordVectors()],
    notes: ['Linear probe on frozen conv features.', 'Seeds 0–2; std is the sample standard deviation.'],
    config: { model: { arch: 'NIN', blocks: 3 }, optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9 }, epochs: 30, ks: [1, 5, 10, 50, 100] },
    extra: { 'rotation accuracy': 0.9312, 'images/s': 4213.7, device: 'cuda:0' },
  };
}

// ---------- helpers reading the SVG that vega writes ----------

function legendLabels(svg: string): string[] {
  return [...svg.matchAll(/<g class="mark-text role-legend-label"[^>]*><text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

/** Paths of a named line mark: [aria-label, stroke] per drawn line. */
function linePaths(svg: string, markName: string): { label: string; stroke: string }[] {
  const re = new RegExp(`<g class="mark-line role-mark ${markName}"[^>]*>((?:<path[^>]*/>)+)</g>`, 'g');
  return [...svg.matchAll(re)].flatMap((m) => [...m[1].matchAll(/<path aria-label="([^"]*)"[^>]*stroke="([^"]*)"/g)])
    .map((p) => ({ label: p[1], stroke: p[2] }));
}

function distance(a: number[], b: number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// ---------- tests ----------

describe('charts', () => {
  test('label-efficiency chart draws one line per method, in distinct colours, named in the legend', async () => {
    const chart = await labelEfficiencyChart(results());
    const lines = linePaths(chart.svg, 'mean_marks');
    assert.equal(lines.length, METHODS.length, 'one mean line per method');
    for (const method of METHODS) {
      assert.ok(lines.some((l) => l.label.endsWith(`method: ${method}`)), `line for ${method}`);
    }
    assert.equal(new Set(lines.map((l) => l.stroke)).size, METHODS.length, 'each method has its own colour');
    assert.deepEqual(legendLabels(chart.svg), METHODS);
    // Error bars: one rule per (method, k); individual seeds: one symbol per run.
    assert.equal((chart.svg.match(/aria-roledescription="rule mark"/g) ?? []).length, METHODS.length * KS.length);
    const seedGroup = chart.svg.match(/<g class="mark-symbol role-mark seed_marks"[^>]*>(.*?)<\/g>/)?.[1] ?? '';
    assert.equal((seedGroup.match(/<path /g) ?? []).length, METHODS.length * KS.length * 3);
    // Log axis labelled at the k values used.
    for (const k of KS) assert.match(chart.svg, new RegExp(`<text[^>]*>${k}</text>`));
    assert.match(chart.svg, /log scale/);
  });

  test('training-curve chart has a line per run and metric, and every run in its legend', async () => {
    const chart = await trainingCurvesChart(curves());
    const runs = curves().map((c) => c.run);
    assert.deepEqual(legendLabels(chart.svg).filter((l) => runs.includes(l)), runs);
    const lossLines = linePaths(chart.svg, 'panel_Loss_marks');
    assert.equal(lossLines.length, runs.length);
    const accLines = linePaths(chart.svg, 'panel_Accuracy_marks');
    assert.equal(accLines.length, runs.length + 1, 'acc for every run plus val_acc for the pretrain run');
    assert.ok(legendLabels(chart.svg).includes('val_acc'));
    assert.match(chart.caption, /^Loss and accuracy against training step/);
  });

  test('empty inputs give a clear "no data" chart', async () => {
    const noResults = await labelEfficiencyChart([]);
    assert.match(noResults.svg, /No data: no evaluation results/);
    const noCurves = await trainingCurvesChart([]);
    assert.match(noCurves.svg, /No data: no training points logged/);
    const allNaN = await trainingCurvesChart([{ run: 'diverged', points: [{ step: 0, loss: NaN }, { step: 1, loss: Infinity }] }]);
    assert.match(allNaN.svg, /No data: all 2 logged values are non-finite/);
  });

  test('NaN accuracies are rejected with a message naming the result', async () => {
    const bad = results();
    bad[4] = { ...bad[4], mean: NaN };
    await assert.rejects(labelEfficiencyChart(bad), (e: Error) =>
      e instanceof ReportInputError && e.message.includes('results[4]') && e.message.includes('"scratch"') && e.message.includes('NaN'));
    const badRun = results();
    badRun[0] = { ...badRun[0], runs: [0.5, NaN] };
    await assert.rejects(labelEfficiencyChart(badRun), /a run's accuracy is NaN/);
    const badK = results();
    badK[0] = { ...badK[0], k: 0 };
    await assert.rejects(labelEfficiencyChart(badK), /k must be a positive number/);
  });

  test('non-finite training values are left out and the caption says so', async () => {
    const points = [{ step: 0, loss: 2 }, { step: 1, loss: NaN }, { step: 2, loss: 1 }, { step: 3, loss: 0.5 }];
    const chart = await trainingCurvesChart([{ run: 'r', points }]);
    assert.match(chart.caption, /1 non-finite logged value was left out/);
    assert.equal(linePaths(chart.svg, 'panel_Loss_marks').length, 1);
  });

  test('a report with bad data still renders, showing what went wrong', async () => {
    const data = reportData();
    data.results = [{ method: 'scratch', k: 10, mean: NaN, std: 0.1, runs: [NaN] }];
    data.embeddings = [{ title: 'mismatched', vectors: [[1, 2, 3]], labels: ['a', 'b'] }];
    const html = await renderReport(data);
    assert.match(html, /The label-efficiency chart could not be drawn\.<\/strong> results\[0\] \(method &quot;scratch&quot;, k=10\): mean accuracy is NaN/);
    assert.match(html, /1 vectors but 2 labels/);
    assert.match(html, /<td class="num">— ± 10.0 %<\/td>/);
    assert.match(html, /id="figure-training-curves"/, 'the other charts are still drawn');
  });

  test('embedding and word maps: legend per label, a text mark per word, PCA named in the title when used', async () => {
    const set = clusters(30, 16, 1, 5, ['cat', 'dog', 'ship']);
    const chart = await embeddingChart(set);
    assert.deepEqual(legendLabels(chart.svg), ['cat', 'dog', 'ship']);
    assert.match(chart.title, /\(UMAP\)$/);
    assert.equal((chart.svg.match(/aria-roledescription="circle"/g) ?? []).length, 90);

    const tiny = await embeddingChart({ title: 'tiny', vectors: [[0, 1, 2], [1, 1, 1], [5, 0, 2], [3, 3, 3]], labels: ['a', 'a', 'b', 'b'] });
    assert.match(tiny.title, /PCA, too few points for UMAP \(4 < 15\)/);
    assert.match(tiny.svg, /PCA, too few points for UMAP/);

    const words = wordVectors();
    const wordChart = await wordMapChart(words);
    for (const w of words.words) assert.match(wordChart.svg, new RegExp(`<text[^>]*>${w}</text>`));
    await assert.rejects(embeddingChart({ title: 't', vectors: [[1], [2]], labels: ['a'] }), ReportInputError);
  });
});

describe('2-D maps', () => {
  test('UMAP repeats for a fixed seed, changes with the seed', () => {
    const set = clusters(40, 10, 1, 1, ['a', 'b']);
    const first = embed2d(set.vectors, { seed: 3 });
    const again = embed2d(set.vectors, { seed: 3 });
    const other = embed2d(set.vectors, { seed: 4 });
    assert.equal(first.method, 'umap');
    assert.deepEqual(first.points, again.points);
    assert.notDeepEqual(first.points, other.points);
  });

  test('UMAP separates two well-separated Gaussian clusters', () => {
    const set = clusters(60, 20, 1, 2, ['a', 'b']);
    const { points, indices } = embed2d(set.vectors, { seed: 1 });
    let within = 0, withinN = 0, across = 0, acrossN = 0;
    for (let i = 0; i < points.length; i++) {
      for (let j = i + 1; j < points.length; j++) {
        const d = distance(points[i], points[j]);
        if (set.labels[indices[i]] === set.labels[indices[j]]) { within += d; withinN++; } else { across += d; acrossN++; }
      }
    }
    const ratio = within / withinN / (across / acrossN);
    assert.ok(ratio < 0.5, `mean within-cluster distance should be well under across-cluster distance, ratio ${ratio.toFixed(3)}`);
  });

  test('large sets are subsampled, repeatably, to at most maxPoints', () => {
    const vectors = Array.from({ length: 300 }, (_, i) => [i % 7, (i * 13) % 11, i / 300]);
    const a = embed2d(vectors, { maxPoints: 100, seed: 9 });
    const b = embed2d(vectors, { maxPoints: 100, seed: 9 });
    assert.equal(a.points.length, 100);
    assert.equal(a.total, 300);
    assert.deepEqual(a.indices, b.indices);
    assert.deepEqual(a.indices, [...new Set(a.indices)].sort((x, y) => x - y));
  });

  test('PCA fallback finds the main direction of few points; 2-D input is drawn as given', () => {
    // Points on a line along (1, 2, 0, 0, 0) plus a tiny wobble in the 3rd dimension.
    const vectors = [-3, -1, 0, 2, 5].map((t, i) => [t, 2 * t, i % 2 ? 0.01 : -0.01, 0, 0]);
    const map = embed2d(vectors);
    assert.equal(map.method, 'pca');
    const coords = pca2d(vectors);
    const expected = [-3, -1, 0, 2, 5].map((t) => (t - 0.6) * Math.sqrt(5));
    coords.forEach(([x, y], i) => {
      assert.ok(Math.abs(Math.abs(x) - Math.abs(expected[i])) < 1e-6, `component 1 of point ${i}: ${x} vs ±${expected[i]}`);
      assert.ok(Math.abs(y) < 0.02, `component 2 is the small wobble, got ${y}`);
    });
    const flat = embed2d([[1, 2], [3, 4]]);
    assert.equal(flat.method, 'identity');
    assert.deepEqual(flat.points, [[1, 2], [3, 4]]);
    assert.throws(() => embed2d([[1, 2, 3], [1, 2]]), /vector 1 has 2 dimensions, expected 3/);
    assert.throws(() => embed2d([[1, NaN, 3]]), /non-finite/);
  });
});

describe('rotation grid', () => {
  test('PNG encoding keeps the pixels, upscaled ×N nearest-neighbour, grey and RGB', () => {
    const grey = { pixels: Uint8Array.from([0, 50, 100, 150, 200, 255]), width: 3, height: 2, channels: 1 as const };
    const decoded = PNG.sync.read(encodePng(grey, 3));
    assert.equal(decoded.width, 9);
    assert.equal(decoded.height, 6);
    const at = (img: PNG, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
    assert.deepEqual(at(decoded, 0, 0), [0, 0, 0, 255]);
    assert.deepEqual(at(decoded, 8, 5), [255, 255, 255, 255]);
    assert.deepEqual(at(decoded, 4, 2), [50, 50, 50, 255]);
    assert.deepEqual(at(decoded, 4, 3), [200, 200, 200, 255]);
    // CHW: R plane, then G, then B.
    const rgb = { pixels: [10, 20, 30, 40, 50, 60], width: 2, height: 1, channels: 3 as const };
    const colour = PNG.sync.read(encodePng(rgb));
    assert.deepEqual(at(colour, 0, 0), [10, 30, 50, 255]);
    assert.deepEqual(at(colour, 1, 0), [20, 40, 60, 255]);
    assert.throws(() => encodePng({ pixels: [1, 2, 3], width: 2, height: 2, channels: 1 }), /expected 1×2×2 = 4 pixel values \(CHW\), got 3/);
  });

  test('grid marks correct predictions green and wrong ones red, with degrees', () => {
    const samples = rotationSamples();
    const html = rotationGrid(samples);
    const wrong = samples.filter((s) => s.rotation !== s.predicted).length;
    assert.equal((html.match(/class="rot ok"/g) ?? []).length, samples.length - wrong);
    assert.equal((html.match(/class="rot wrong"/g) ?? []).length, wrong);
    assert.match(html, new RegExp(`${samples.length - wrong} of ${samples.length} correct`));
    assert.match(html, /true 90°<br>pred 270°/);
    // 28×28 and 32×32 images are shown ×3.
    assert.match(html, /width="84" height="84"/);
    assert.match(html, /width="96" height="96"/);
    assert.throws(() => rotationGrid([{ ...samples[0], predicted: 4 as 0 }]), /predicted must be 0, 1, 2 or 3/);
  });
});

describe('MAE reconstruction grid', () => {
  /** Grey 28x28 samples: the original a gradient, the masked one with greyed squares, the reconstruction close to the original. */
  function maeSamples(n: number): MaeSample[] {
    return Array.from({ length: n }, (_, i) => {
      const original = Uint8Array.from({ length: 28 * 28 }, (_, p) => (p * 3 + i * 17) % 256);
      const masked = original.map((v, p) => (Math.floor(p / 28 / 4) % 2 === 0 ? 128 : v));
      const reconstruction = original.map((v) => Math.min(255, v + 5));
      return { original, masked, reconstruction, width: 28, height: 28, channels: 1 as const };
    });
  }

  test('each sample shows masked input, reconstruction and original, ×3 for small images', () => {
    const html = maeGrid(maeSamples(5));
    assert.equal((html.match(/<figure class="mae">/g) ?? []).length, 5);
    assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 15);
    assert.match(html, /alt="sample 1: masked input"[^>]*>.*alt="sample 1: reconstruction"[^>]*>.*alt="sample 1: original"/);
    assert.match(html, /width="84" height="84"/);
    assert.match(html, /5 held-out images/);
    assert.match(maeGrid(maeSamples(20), 4), /20 held-out images; showing the first 4/);
    assert.throws(() => maeGrid([{ ...maeSamples(1)[0]!, reconstruction: [1, 2, 3] }]), /maeSamples\[0\]\.reconstruction: expected 1×28×28 = 784 pixel values/);
  });

  test('the report draws the grid in its own section; results.json keeps only the count', async () => {
    // The report around the grid, less its 600-point embedding map: UMAP takes seconds per render
    // there, and the map is not what this checks (writeReport's tests draw it). The tiny map stays.
    const base = reportData();
    base.embeddings = base.embeddings!.slice(1);
    const data = { ...base, maeSamples: maeSamples(3) };
    const html = await renderReport(data);
    assert.match(html, /<h2>Masked-autoencoder reconstructions<\/h2>/);
    assert.equal((html.match(/<figure class="mae">/g) ?? []).length, 3);
    assert.doesNotMatch(await renderReport(base), /Masked-autoencoder reconstructions/, 'no section without samples');
    const json = resultsJson(data) as { maeSamples: unknown };
    assert.deepEqual(json.maeSamples, { count: 3 });
    // A broken sample shows an error box, and the rest of the page still renders.
    const bad = await renderReport({ ...data, maeSamples: [{ ...maeSamples(1)[0]!, channels: 2 as 1 }] });
    assert.match(bad, /The reconstruction grid could not be drawn/);
    for (const heading of ['Results', 'Training', 'Embedding maps']) assert.match(bad, new RegExp(`<h2>${heading}</h2>`));
  });
});

describe('writeReport', () => {
  // Set SELFSUP_REPORT_DIR to keep the report (and Chromium's screenshot) for a look.
  const keep = process.env.SELFSUP_REPORT_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'selfsup-report-'));
  let written: WrittenReport;
  before(async () => { written = await writeReport(dir, reportData()); });
  after(() => { if (!keep) rmSync(dir, { recursive: true, force: true }); });

  test('writes report.html, results.json and a PNG per chart, atomically', async () => {
    const out = written;
    assert.equal(out.html, join(dir, 'report.html'));
    assert.equal(out.json, join(dir, 'results.json'));
    // label efficiency, training curves, 2 embedding maps, 1 word map.
    assert.deepEqual(out.pngs.map((p) => p.slice(dir.length + 1)).sort(),
      ['embedding-1.png', 'embedding-2.png', 'label-efficiency.png', 'training-curves.png', 'word-map-1.png']);
    for (const png of out.pngs) {
      const bytes = readFileSync(png);
      assert.deepEqual(bytes.subarray(0, 8), PNG_SIGNATURE, `${png} is a PNG`);
      const decoded = PNG.sync.read(bytes);
      assert.ok(decoded.width > 600 && decoded.height > 200, `${png} is chart-sized (${decoded.width}×${decoded.height})`);
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left behind');
  });

  test('report.html is self-contained, escaped and complete', async () => {
    const html = readFileSync(written.html, 'utf8');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing to fetch from the network');
    assert.doesNotMatch(html, /<script/i, 'no scripts (the title\'s <script> must be escaped)');
    assert.doesNotMatch(html, /<link\b/i);
    assert.match(html, /<title>RotNet on MNIST &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; friends<\/title>/);
    assert.equal((html.match(/<svg\b/g) ?? []).length, 5);
    assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 16);
    assert.match(html, /<table class="results" id="results-table">/);
    // One row per result, mean ± std in percent.
    assert.equal((html.match(/<tr(?: class="group-start")?><td class="num">/g) ?? []).length, results().length);
    const first = results()[0];
    assert.ok(html.includes(`${(first.mean * 100).toFixed(1)} ± ${(first.std * 100).toFixed(1)} %`));
    for (const heading of ['Key figures', 'Results', 'Training', 'Rotation predictions', 'Embedding maps', 'Word maps', 'Notes', 'Configuration']) {
      assert.match(html, new RegExp(`<h2>${heading}</h2>`));
    }
    assert.match(html, /<td>optimizer\.momentum<\/td><td>0\.9<\/td>/);
    assert.match(html, /<div class="value">4,214<\/div>/);
    // SVG ids are unique across the page.
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length, 'duplicate ids in the page');
  });

  test('results.json holds the results but no pixels or vectors', async () => {
    const json = JSON.parse(readFileSync(written.json, 'utf8'));
    assert.deepEqual(json.results, JSON.parse(JSON.stringify(results())));
    assert.equal(json.curves.length, 3);
    assert.equal(json.rotationSamples.count, 16);
    assert.equal(json.rotationSamples.samples[0].pixels, undefined);
    assert.deepEqual(json.embeddings[0], {
      title: 'Encoder features (test set)', count: 600, dimensions: 32,
      labelCounts: Object.fromEntries(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'].map((l) => [l, 60])),
    });
    assert.equal(json.wordMaps[0].vectors, undefined);
    assert.equal(json.wordMaps[0].words.length, 19);
  });

  const chromium = '/usr/bin/chromium';
  test('renders in headless Chromium with the table and the charts', { skip: existsSync(chromium) ? false : `${chromium} is not installed (apt-get install chromium)` }, async () => {
    const { html } = written;
    const profile = mkdtempSync(join(tmpdir(), 'selfsup-chromium-'));
    const screenshot = join(dir, 'screenshot.png');
    const flags = [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`,
    ];
    try {
      const shot = spawnSync(chromium, [...flags, `--screenshot=${screenshot}`, '--window-size=1280,4000', `file://${html}`], { timeout: 60_000, encoding: 'utf8' });
      assert.equal(shot.status, 0, `chromium --screenshot failed: ${shot.stderr}`);
      const bytes = readFileSync(screenshot);
      assert.deepEqual(bytes.subarray(0, 8), PNG_SIGNATURE);
      assert.ok(statSync(screenshot).size > 100_000, `screenshot is suspiciously small (${statSync(screenshot).size} bytes)`);
      const image = PNG.sync.read(bytes);
      assert.equal(image.width, 1280);
      // Not a blank page: many distinct colours.
      const colours = new Set<number>();
      for (let i = 0; i < image.data.length; i += 4 * 97) colours.add(image.data.readUInt32BE(i));
      assert.ok(colours.size > 50, `screenshot has only ${colours.size} colours`);

      const dom = spawnSync(chromium, [...flags, '--dump-dom', `file://${html}`], { timeout: 60_000, encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.equal(dom.status, 0, `chromium --dump-dom failed: ${dom.stderr}`);
      assert.match(dom.stdout, /<table class="results" id="results-table">/);
      assert.equal((dom.stdout.match(/<svg\b/g) ?? []).length, 5, 'all five charts are in the rendered DOM');
      assert.match(dom.stdout, /class="mark-line role-mark mean_marks"/);
      assert.match(dom.stdout, /<h1>RotNet on MNIST &lt;script&gt;/);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });

  test('escapeHtml covers the five special characters', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

test('the similar-images grid renders as a section of pictures', async () => {
  const { renderReport } = await import('../src/report/index.js');
  const px = new Uint8Array(784).fill(100);
  const html = await renderReport({
    title: 't', modality: 'image', dataset: 'd', createdAt: new Date(0).toISOString(), results: [], curves: [],
    similarImages: { title: 'Nearest by <x>', width: 28, height: 28, channels: 1, rows: [{ query: { pixels: px, caption: 'q' }, neighbors: [{ pixels: px, caption: 'n', score: 0.9 }, { pixels: px, caption: 'm', score: 0.8 }] }] },
  });
  assert.match(html, /<section[^>]*id="similar"/);
  assert.equal((html.match(/class="sim-row"/g) ?? []).length, 1);
  assert.equal((html.match(/<span class="score">/g) ?? []).length, 2);
  assert.match(html, /Nearest by &lt;x&gt;/);
});
