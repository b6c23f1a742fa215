// The report page: one self-contained HTML file (inline CSS, SVG and data-URI images, no scripts),
// plus results.json and a PNG of each chart.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { writeFileAtomicAsync } from '../io/atomic.js';
import { embeddingChart, labelEfficiencyChart, methodComparisonChart, trainingCurvesChart, wordMapChart, type Chart } from './charts.js';
import { escapeHtml } from './escape.js';
import { rotationGrid, maeGrid, encodePng, pngDataUri } from './images.js';
import { similarGrid, SIMILAR_CSS } from './similar-page.js';
import { resultsJson } from './json.js';
import { REPORT_CSS } from './style.js';
import type { BlockProbe, MethodResult, ReportData } from './types.js';

export interface WrittenReport {
  html: string;
  json: string;
  pngs: string[];
}

interface Section {
  id: string;
  heading: string;
  body: string;
}

interface BuiltReport {
  html: string;
  charts: Chart[];
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorBox(what: string, error: unknown): string {
  return `<div class="error" role="alert"><strong>${escapeHtml(what)} could not be drawn.</strong> ${escapeHtml(errorMessage(error))}</div>`;
}

/** Vega numbers its clip paths from 1 in every SVG; prefix ids so several charts can share one page. */
function namespaceIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

/** Inline form of a chart SVG: namespace URIs are implied by HTML, and ids are made unique. */
function inlineSvg(chart: Chart): string {
  return namespaceIds(chart.svg, `chart-${chart.id}`)
    .replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')
    .replace(/^<svg\b/, `<svg role="img" aria-label="${escapeHtml(chart.title)}"`);
}

function figure(chart: Chart): string {
  return `<figure class="chart" id="figure-${escapeHtml(chart.id)}">${inlineSvg(chart)}` +
    `<figcaption>${escapeHtml(chart.caption)}</figcaption></figure>`;
}

function percent(fraction: number): string {
  return Number.isFinite(fraction) ? (100 * fraction).toFixed(1) : '—';
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    return Number(value.toPrecision(4)).toLocaleString('en-US', { maximumFractionDigits: 6 });
  }
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) return `[${value.map(formatValue).join(', ')}]`;
  return JSON.stringify(value) ?? String(value);
}

/** Rows grouped by k (ascending), methods in the order first seen; the best mean at each k in bold. */
function resultsTable(results: readonly MethodResult[]): string {
  if (results.length === 0) return '<p class="table-note">No evaluation results were recorded.</p>';
  const methodOrder = [...new Set(results.map((r) => r.method))];
  const rows = [...results].sort((a, b) => a.k - b.k || methodOrder.indexOf(a.method) - methodOrder.indexOf(b.method));
  const best = new Map<number, number>();
  for (const r of rows) if (Number.isFinite(r.mean)) best.set(r.k, Math.max(best.get(r.k) ?? -Infinity, r.mean));
  const perK = new Map<number, number>();
  for (const r of rows) perK.set(r.k, (perK.get(r.k) ?? 0) + 1);
  const body = rows.map((r, i) => {
    const isBest = (perK.get(r.k) ?? 0) > 1 && r.mean === best.get(r.k);
    const groupStart = i > 0 && rows[i - 1].k !== r.k;
    return `<tr${groupStart ? ' class="group-start"' : ''}>` +
      `<td class="num">${escapeHtml(formatValue(r.k))}</td>` +
      `<td>${escapeHtml(r.method)}</td>` +
      `<td class="num${isBest ? ' best' : ''}">${percent(r.mean)} ± ${percent(r.std)} %</td>` +
      `<td class="num">${r.runs?.length ?? 0}</td></tr>`;
  });
  return `<div class="table-wrap"><table class="results" id="results-table">` +
    `<thead><tr><th class="num">Labels per class (k)</th><th>Method</th><th class="num">Test accuracy (mean ± std)</th><th class="num">Runs</th></tr></thead>` +
    `<tbody>${body.join('')}</tbody></table></div>` +
    `<p class="table-note">Std is over runs (seeds). Bold: best mean at that k.</p>`;
}

/** Pretext x protocol at each k: mean ± std, the best of each k in bold. */
function methodGrid(results: readonly MethodResult[]): string {
  const ks = [...new Set(results.map((r) => r.k))].sort((a, b) => a - b);
  const protocols = [...new Set(results.filter((r) => r.pretext).map((r) => r.protocol!))];
  const pretexts = [...new Set(results.map((r) => r.pretext ?? r.method))];
  const head = `<tr><th class="num">k</th><th>Method</th>${protocols.map((p) => `<th class="num">${escapeHtml(p)}</th>`).join('')}</tr>`;
  const body = ks.flatMap((k, ki) => {
    const atK = results.filter((r) => r.k === k);
    const best = Math.max(...atK.map((r) => r.mean));
    return pretexts.map((pretext, i) => {
      const cell = (r: MethodResult | undefined): string => r ? `<td class="num${r.mean === best ? ' best' : ''}">${percent(r.mean)} ± ${percent(r.std)}</td>` : '<td class="num">–</td>';
      const baseline = atK.find((r) => !r.pretext && r.method === pretext);
      const cells = baseline
        ? `<td class="num${baseline.mean === best ? ' best' : ''}" colspan="${protocols.length}">${percent(baseline.mean)} ± ${percent(baseline.std)} (baseline)</td>`
        : protocols.map((p) => cell(atK.find((r) => r.pretext === pretext && r.protocol === p))).join('');
      return `<tr${i === 0 && ki > 0 ? ' class="group-start"' : ''}><td class="num">${k}</td><td>${escapeHtml(pretext)}</td>${cells}</tr>`;
    });
  });
  return `<div class="table-wrap"><table class="results" id="method-grid"><thead>${head}</thead><tbody>${body.join('')}</tbody></table></div>` +
    '<p class="table-note">Test accuracy (%), mean ± std over seeds; rows are the pretraining methods, columns the protocols. Bold: best at that k.</p>';
}

/** Linear-probe accuracy on each block's pooled features, per pretext. */
function blockProbeTable(probes: readonly BlockProbe[]): string {
  const blocks = [...new Set(probes.flatMap((p) => Object.keys(p.blocks)))];
  const rows = probes.map((p) => {
    const best = Math.max(...Object.values(p.blocks));
    return `<tr><td>${escapeHtml(p.pretext)}</td>${blocks.map((b) => p.blocks[b] === undefined ? '<td class="num">–</td>' : `<td class="num${p.blocks[b] === best ? ' best' : ''}">${percent(p.blocks[b]!)}</td>`).join('')}</tr>`;
  });
  const { k, seed } = probes[0]!;
  return `<div class="table-wrap"><table class="results" id="block-probe"><thead><tr><th>Method</th>${blocks.map((b) => `<th class="num">${escapeHtml(b)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table></div><p class="table-note">A linear probe on the globally pooled output of each block (k=${k}, seed ${seed}); bold: the best block of each method. ` +
    'Early blocks keep generic edges, the last ones what the pretext needed (as in the RotNet paper\'s Table 1).</p>';
}

function keyFigures(extra: Record<string, number | string>): string {
  const cards = Object.entries(extra).map(([label, value]) =>
    `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(formatValue(value))}</div></div>`);
  return `<div class="cards">${cards.join('')}</div>`;
}

/** Nested objects become dotted keys; arrays and leaves are shown as values. */
function flatten(value: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([key, v]): [string, unknown][] =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? flatten(v as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, v]]);
}

function configTable(config: Record<string, unknown>): string {
  const rows = flatten(config).map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(formatValue(v))}</td></tr>`);
  return `<div class="table-wrap"><table class="config"><tbody>${rows.join('')}</tbody></table></div>`;
}

/** Runs a chart builder; a failure becomes a visible message on the page instead of a crash. */
async function tryChart(what: string, build: () => Promise<Chart>, charts: Chart[]): Promise<string> {
  try {
    const chart = await build();
    charts.push(chart);
    return figure(chart);
  } catch (error) {
    return errorBox(what, error);
  }
}

async function buildReport(data: ReportData): Promise<BuiltReport> {
  const charts: Chart[] = [];
  const sections: Section[] = [];
  const results = data.results ?? [];
  const curves = data.curves ?? [];

  if (data.extra && Object.keys(data.extra).length > 0) {
    sections.push({ id: 'key-figures', heading: 'Key figures', body: keyFigures(data.extra) });
  }
  sections.push({
    id: 'results', heading: 'Results',
    body: resultsTable(results) + await tryChart('The label-efficiency chart', () => labelEfficiencyChart(results), charts),
  });
  if (results.some((r) => r.protocol !== undefined) && new Set(results.map((r) => r.method)).size > 2) {
    sections.push({
      id: 'methods', heading: 'Method comparison',
      body: methodGrid(results) + await tryChart('The method-comparison chart', () => methodComparisonChart(results), charts),
    });
  }
  if (data.blockProbes && data.blockProbes.length > 0) {
    sections.push({ id: 'block-probe', heading: 'Which block to use', body: blockProbeTable(data.blockProbes) });
  }
  const monitored = curves.filter((c) => c.points.some((p) => p.val_knn_acc !== undefined || p.embedding_std !== undefined));
  if (monitored.length > 0) {
    sections.push({
      id: 'monitors', heading: 'Monitors during pretraining',
      body: '<p>Measured on training images held out of pretraining, never used to train or to choose: kNN accuracy with the labels of a small held-out split, ' +
        'and the spread (std over the batch, averaged over dimensions) of l2-normalised embeddings, on the training batch and on the held-out images. ' +
        'A collapsing method shows the spread falling toward 0; a healthy one stays near 1/√D.</p>' +
        await tryChart('The monitor chart', () => trainingCurvesChart(monitored, { id: 'monitors', title: 'Monitors during pretraining', metrics: /knn_acc|embedding_std/ }), charts),
    });
  }
  sections.push({
    id: 'training', heading: 'Training',
    body: await tryChart('The training-curve chart', () => trainingCurvesChart(curves), charts),
  });
  if (data.rotationSamples && data.rotationSamples.length > 0) {
    let body: string;
    try {
      body = '<p>Test images as fed to the network (already rotated), with the true and the predicted rotation. ' +
        'Green frame and ✓: predicted correctly; red frame and ✗: wrong.</p>' + rotationGrid(data.rotationSamples);
    } catch (error) {
      body = errorBox('The rotation grid', error);
    }
    sections.push({ id: 'rotations', heading: 'Rotation predictions', body });
  }
  if (data.maeSamples && data.maeSamples.length > 0) {
    let body: string;
    try {
      body = '<p>Held-out images through the masked autoencoder: the input with its hidden patches in grey (what the encoder does not see), ' +
        'the reconstruction (the decoder\'s hidden patches, each shown at its original\'s mean and std since the targets were normalised per patch, ' +
        'with the visible patches pasted in, as in the paper\'s figures), and the original.</p>' + maeGrid(data.maeSamples);
    } catch (error) {
      body = errorBox('The reconstruction grid', error);
    }
    sections.push({ id: 'reconstructions', heading: 'Masked-autoencoder reconstructions', body });
  }
  if (data.similarImages && data.similarImages.rows.length > 0) {
    let body: string;
    try {
      const sim = data.similarImages;
      const uri = (pixels: Uint8Array | number[]): string => pngDataUri(encodePng({ pixels: Uint8Array.from(pixels), width: sim.width, height: sim.height, channels: sim.channels }, Math.max(sim.width, sim.height) <= 64 ? 3 : 1));
      body = `<p>${escapeHtml(sim.title)}: each query (left), then the test images whose embeddings are most cosine-similar, with the similarity and the true label.</p>` +
        similarGrid(sim.rows.map((r) => ({ query: { src: uri(r.query.pixels), caption: r.query.caption }, neighbors: r.neighbors.map((n) => ({ src: uri(n.pixels), caption: n.caption, score: n.score })) })));
    } catch (error) {
      body = errorBox('The similar-images grid', error);
    }
    sections.push({ id: 'similar', heading: 'Similar images', body });
  }
  if (data.embeddings && data.embeddings.length > 0) {
    const figures: string[] = [];
    for (const [i, set] of data.embeddings.entries()) {
      figures.push(await tryChart(`The map "${set.title}"`, () => embeddingChart(set, i), charts));
    }
    sections.push({ id: 'embeddings', heading: 'Embedding maps', body: figures.join('') });
  }
  if (data.wordMaps && data.wordMaps.length > 0) {
    const figures: string[] = [];
    for (const [i, map] of data.wordMaps.entries()) {
      figures.push(await tryChart(`The word map "${map.title}"`, () => wordMapChart(map, i), charts));
    }
    sections.push({ id: 'word-maps', heading: 'Word maps', body: figures.join('') });
  }
  if (data.notes && data.notes.length > 0) {
    sections.push({ id: 'notes', heading: 'Notes', body: `<ul class="notes">${data.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` });
  }
  if (data.config && Object.keys(data.config).length > 0) {
    sections.push({ id: 'config', heading: 'Configuration', body: configTable(data.config) });
  }

  const title = data.title || 'selfsup report';
  const meta = [
    `${data.modality === 'text' ? 'Text' : 'Image'} modality`,
    `dataset ${data.dataset}`,
    data.createdAt ? `created ${data.createdAt}` : '',
  ].filter(Boolean).map((m) => `<span>${escapeHtml(m)}</span>`).join('');
  const nav = sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.heading)}</a>`).join('');
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}${SIMILAR_CSS}</style>
</head>
<body>
<main>
<header><h1>${escapeHtml(title)}</h1><p class="meta">${meta}</p><nav>${nav}</nav></header>
${sections.map((s) => `<section id="${s.id}"><h2>${escapeHtml(s.heading)}</h2>${s.body}</section>`).join('\n')}
<footer>Generated by selfsup · self-contained page, no network needed</footer>
</main>
</body>
</html>
`;
  return { html, charts };
}

/** The report as one self-contained HTML string. */
export async function renderReport(data: ReportData): Promise<string> {
  return (await buildReport(data)).html;
}

/** Renders a chart SVG to PNG at twice its size, on white. */
export function chartPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/** Writes report.html, results.json and one PNG per chart into `dir` (created if needed), each atomically. */
export async function writeReport(dir: string, data: ReportData): Promise<WrittenReport> {
  const { html, charts } = await buildReport(data);
  await mkdir(dir, { recursive: true });
  const pngs: string[] = [];
  for (const chart of charts) {
    const path = join(dir, `${chart.id}.png`);
    await writeFileAtomicAsync(path, chartPng(chart.svg));
    pngs.push(path);
  }
  const json = join(dir, 'results.json');
  await writeFileAtomicAsync(json, Buffer.from(`${JSON.stringify(resultsJson(data), null, 2)}\n`));
  // The page last: once report.html exists, everything it describes is on disk.
  const htmlPath = join(dir, 'report.html');
  await writeFileAtomicAsync(htmlPath, Buffer.from(html));
  return { html: htmlPath, json, pngs };
}
