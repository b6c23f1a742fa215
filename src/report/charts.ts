// Charts as vega-lite specs, rendered to SVG in Node (renderer 'none': no canvas, no browser).
import * as vl from 'vega-lite';
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { embed2d, type MapOptions } from './umap.js';
import { ReportInputError, type EmbeddingSet, type MethodResult, type TrainingCurve, type WordMap } from './types.js';

export interface Chart {
  /** File-name friendly id, e.g. 'label-efficiency'. */
  id: string;
  title: string;
  /** One or two sentences saying what the chart shows. */
  caption: string;
  svg: string;
}

// DejaVu first: it is what resvg finds on a bare Linux box, so the PNGs get real glyphs.
const FONT = 'DejaVu Sans, Helvetica Neue, Helvetica, Arial, sans-serif';
const WIDTH = 760;
const MAX_POINTS_PER_LINE = 1000;

const CONFIG = {
  font: FONT,
  background: 'white',
  padding: 12,
  view: { stroke: '#e5e7eb' },
  title: { fontSize: 15, fontWeight: 600, anchor: 'start', color: '#111827', subtitleColor: '#6b7280', offset: 12 },
  axis: {
    labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'normal', titleColor: '#374151', labelColor: '#4b5563',
    gridColor: '#eef0f3', domainColor: '#9ca3af', tickColor: '#9ca3af',
  },
  legend: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 600, labelColor: '#374151', labelLimit: 260 },
  range: { category: { scheme: 'tableau10' } },
} as const;

/**
 * A vega-lite spec as plain JSON (https://vega.github.io/vega-lite/docs/spec.html). Typed loosely
 * so that vega-lite's types, which need the DOM's, stay out of selfsup's public declarations.
 */
export type VegaLiteSpec = object;

/** Compiles a vega-lite spec and renders it headlessly to an SVG string. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const compiled = vl.compile(spec as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A framed, empty chart that says why there is nothing to show. */
export async function noDataChart(id: string, title: string, message: string): Promise<Chart> {
  const height = 140;
  const svg = await renderSvg({
    config: CONFIG, title, width: WIDTH, height,
    data: { values: [{}] },
    mark: { type: 'text', fontSize: 14, color: '#6b7280' },
    encoding: { x: { value: WIDTH / 2 }, y: { value: height / 2 }, text: { value: `No data: ${message}` } },
  } as TopLevelSpec);
  return { id, title, caption: `No data to plot: ${message}.`, svg };
}

function describe(r: MethodResult, i: number): string {
  return `results[${i}] (method ${JSON.stringify(r.method)}, k=${r.k})`;
}

function checkResults(results: readonly MethodResult[]): void {
  results.forEach((r, i) => {
    if (typeof r.method !== 'string' || r.method === '') throw new ReportInputError(`results[${i}]: method must be a non-empty string`);
    if (!Number.isFinite(r.k) || r.k <= 0) throw new ReportInputError(`${describe(r, i)}: k must be a positive number for the log axis`);
    if (!Number.isFinite(r.mean)) throw new ReportInputError(`${describe(r, i)}: mean accuracy is ${r.mean}`);
    if (!Number.isFinite(r.std) || r.std < 0) throw new ReportInputError(`${describe(r, i)}: std is ${r.std}`);
    const bad = (r.runs ?? []).find((a) => !Number.isFinite(a));
    if (bad !== undefined) throw new ReportInputError(`${describe(r, i)}: a run's accuracy is ${bad}`);
  });
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** Accuracy against labels per class (log k), a line per method, mean ± std and each seed. */
export async function labelEfficiencyChart(results: readonly MethodResult[]): Promise<Chart> {
  const id = 'label-efficiency';
  const title = 'Label efficiency';
  if (results.length === 0) return noDataChart(id, title, 'no evaluation results');
  checkResults(results);

  const methods = unique(results.map((r) => r.method));
  const ks = unique(results.map((r) => r.k)).sort((a, b) => a - b);
  const means = results.map((r) => ({ method: r.method, k: r.k, mean: r.mean, lo: r.mean - r.std, hi: r.mean + r.std }));
  const seeds = results.flatMap((r) => (r.runs ?? []).map((acc) => ({ method: r.method, k: r.k, acc })));
  const x = {
    field: 'k', type: 'quantitative',
    scale: { type: 'log', domain: [ks[0] / 1.3, ks[ks.length - 1] * 1.3] },
    axis: { values: ks, format: '~g', title: 'Labelled examples per class (k, log scale)', grid: false },
  };
  // Every layer carries the same legend so vega-lite merges them into one (a null on some layers disables it).
  const color = { field: 'method', type: 'nominal', scale: { domain: methods }, legend: { title: 'Method', symbolOpacity: 1, symbolSize: 90 } };
  const y = { type: 'quantitative', scale: { zero: false, padding: 10 }, axis: { format: '.0%', title: 'Test accuracy' } };

  const svg = await renderSvg({
    config: CONFIG, title, width: WIDTH, height: 340,
    layer: [
      {
        name: 'band', data: { values: means }, mark: { type: 'area', opacity: 0.13 },
        encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color },
      },
      {
        name: 'errorbar', data: { values: means }, mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.7 },
        encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color },
      },
      {
        name: 'seed', data: { values: seeds }, mark: { type: 'point', filled: true, size: 18, opacity: 0.3 },
        encoding: { x, y: { ...y, field: 'acc' }, color },
      },
      {
        name: 'mean', data: { values: means }, mark: { type: 'line', strokeWidth: 2.2, point: { filled: true, size: 55 } },
        encoding: { x, y: { ...y, field: 'mean' }, color },
      },
    ],
  } as TopLevelSpec);
  return {
    id, title, svg,
    caption:
      'Test accuracy against the number of labelled examples per class (log scale), one colour per method. ' +
      'Lines and large dots are the mean over seeds; the shaded band and vertical bars span mean ± one standard deviation; ' +
      'faint dots are the individual seeds.',
  };
}

function panelOf(metric: string): string {
  if (/loss/i.test(metric)) return 'Loss';
  if (/acc/i.test(metric)) return 'Accuracy';
  if (/^lr$|learning.?rate/i.test(metric)) return 'Learning rate';
  return metric;
}

const PANEL_ORDER = ['Loss', 'Accuracy'];

function thin<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  const stride = items.length / max;
  const kept = Array.from({ length: max - 1 }, (_, i) => items[Math.floor(i * stride)]);
  return [...kept, items[items.length - 1]];
}

/** Loss (and accuracy, lr, ... where logged) against step; a line per run, one panel per kind of metric. */
export async function trainingCurvesChart(curves: readonly TrainingCurve[], o: { id?: string; title?: string; metrics?: RegExp } = {}): Promise<Chart> {
  const id = o.id ?? 'training-curves';
  const title = o.title ?? 'Training curves';
  type Row = { run: string; step: number; metric: string; value: number };
  const rows: Row[] = [];
  let omitted = 0;
  let thinned = false;
  curves.forEach((curve, c) => {
    if (typeof curve.run !== 'string' || curve.run === '') throw new ReportInputError(`curves[${c}]: run must be a non-empty string`);
    const series = new Map<string, Row[]>();
    curve.points.forEach((p, i) => {
      if (!Number.isFinite(p.step)) throw new ReportInputError(`curves[${c}] (run ${JSON.stringify(curve.run)}) point ${i}: step is ${p.step}`);
      for (const [metric, value] of Object.entries(p)) {
        if (metric === 'step' || metric === 'epoch' || value === undefined) continue;
        if (o.metrics && !o.metrics.test(metric)) continue;
        if (typeof value !== 'number' || !Number.isFinite(value)) { omitted++; continue; }
        const list = series.get(metric) ?? [];
        list.push({ run: curve.run, step: p.step, metric, value });
        series.set(metric, list);
      }
    });
    for (const list of series.values()) {
      list.sort((a, b) => a.step - b.step);
      const kept = thin(list, MAX_POINTS_PER_LINE);
      thinned ||= kept.length < list.length;
      rows.push(...kept);
    }
  });
  if (rows.length === 0) {
    return noDataChart(id, title, omitted > 0 ? `all ${omitted} logged values are non-finite` : 'no training points logged');
  }

  const runs = unique(rows.map((r) => r.run));
  const panels = unique(rows.map((r) => panelOf(r.metric))).sort((a, b) => {
    const ia = PANEL_ORDER.indexOf(a), ib = PANEL_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  const perLine = rows.length / unique(rows.map((r) => `${r.run}\u0000${r.metric}`)).length;

  const panelSpecs = panels.map((panel) => {
    const values = rows.filter((r) => panelOf(r.metric) === panel);
    const metrics = unique(values.map((r) => r.metric));
    const positive = values.every((r) => r.value > 0);
    const lo = Math.min(...values.map((r) => r.value)), hi = Math.max(...values.map((r) => r.value));
    const logScale = panel !== 'Accuracy' && positive && hi / lo > 50;
    return {
      name: `panel_${panel.replace(/\W+/g, '_')}`,
      data: { values }, width: WIDTH, height: panels.length > 1 ? 190 : 260,
      mark: { type: 'line', strokeWidth: 1.6, point: perLine <= 30 ? { size: 20 } : false },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'Step' },
        y: {
          field: 'value', type: 'quantitative',
          title: logScale ? `${panel} (log scale)` : panel,
          scale: logScale ? { type: 'log' } : { zero: false, padding: 6 },
          axis: panel === 'Accuracy' && hi <= 1 ? { format: '.0%' } : {},
        },
        color: { field: 'run', type: 'nominal', scale: { domain: runs }, legend: { title: 'Run', symbolLimit: 40, orient: 'top', direction: 'horizontal', columns: 3 } },
        ...(metrics.length > 1
          ? { strokeDash: { field: 'metric', type: 'nominal', scale: { domain: metrics }, legend: { title: `${panel} metric` } } }
          : {}),
      },
    };
  });

  const svg = await renderSvg({
    config: { ...CONFIG, range: { ...CONFIG.range, category: { scheme: runs.length > 10 ? 'category20' : 'tableau10' } } },
    title,
    vconcat: panelSpecs,
    spacing: 24,
    resolve: { scale: { color: 'shared', strokeDash: 'independent', y: 'independent' }, legend: { strokeDash: 'independent' } },
  } as TopLevelSpec);

  const names = panels.map((p) => p.toLowerCase());
  const shown = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0];
  let caption = `${shown[0].toUpperCase()}${shown.slice(1)} against training step, one colour per run` +
    (panelSpecs.some((s) => 'strokeDash' in s.encoding) ? '; dash patterns tell metrics within a panel apart (e.g. train vs validation).' : '.');
  if (omitted > 0) caption += ` ${omitted} non-finite logged value${omitted === 1 ? ' was' : 's were'} left out.`;
  if (thinned) caption += ` Long runs are thinned to ${MAX_POINTS_PER_LINE} evenly spaced points per line.`;
  return { id, title, caption, svg };
}

function methodLabel(method: 'umap' | 'pca' | 'identity', fallbackReason?: string): string {
  if (method === 'umap') return 'UMAP';
  if (method === 'pca') return `PCA, ${fallbackReason ?? 'UMAP not used'}`;
  return 'as given (2-D)';
}

/** Orders labels like 0, 1, 2, ..., 10 rather than 0, 1, 10, 2. */
function naturalSort(labels: string[]): string[] {
  return [...labels].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

/** UMAP (or PCA for tiny sets) of raw features, coloured by label. */
export async function embeddingChart(set: EmbeddingSet, index = 0, options: MapOptions = {}): Promise<Chart> {
  const id = `embedding-${index + 1}`;
  if (set.vectors.length !== set.labels.length) {
    throw new ReportInputError(`embedding ${JSON.stringify(set.title)}: ${set.vectors.length} vectors but ${set.labels.length} labels`);
  }
  if (set.vectors.length === 0) return noDataChart(id, set.title, 'no vectors');
  const map = embed2d(set.vectors, options);
  const title = `${set.title} (${methodLabel(map.method, map.fallbackReason)})`;
  const values = map.points.map(([x, y], i) => ({ x, y, label: String(set.labels[map.indices[i]]) }));
  const labels = naturalSort(unique(values.map((v) => v.label)));
  const size = values.length < 200 ? 45 : values.length < 1000 ? 22 : 12;
  const svg = await renderSvg({
    config: { ...CONFIG, range: { category: { scheme: labels.length > 10 ? 'category20' : 'tableau10' } } },
    title, width: 620, height: 440, data: { values },
    mark: { type: 'circle', size, opacity: 0.75 },
    encoding: {
      x: { field: 'x', type: 'quantitative', axis: null, scale: { zero: false, nice: false, padding: 10 } },
      y: { field: 'y', type: 'quantitative', axis: null, scale: { zero: false, nice: false, padding: 10 } },
      color: { field: 'label', type: 'nominal', scale: { domain: labels }, legend: { title: 'Label', symbolLimit: 40 } },
    },
  } as TopLevelSpec);
  const sample = values.length < map.total ? `a random ${values.length} of ${map.total}` : `all ${map.total}`;
  const how = map.method === 'umap'
    ? 'UMAP (seeded, so it repeats); nearby points have similar features, but distances between far-apart groups and the axes carry no meaning'
    : map.method === 'pca'
      ? `the first two principal components (PCA), because of ${map.fallbackReason ?? 'a fallback'}`
      : 'the coordinates as given';
  return { id, title, svg, caption: `Features of ${sample} examples projected to 2-D with ${how}. Colour is the true label.` };
}

/** Words placed by a 2-D map of their vectors, each drawn with its word. */
export async function wordMapChart(map: WordMap, index = 0, options: MapOptions = {}): Promise<Chart> {
  const id = `word-map-${index + 1}`;
  if (map.vectors.length !== map.words.length) {
    throw new ReportInputError(`word map ${JSON.stringify(map.title)}: ${map.vectors.length} vectors but ${map.words.length} words`);
  }
  if (map.vectors.length === 0) return noDataChart(id, map.title, 'no words');
  const placed = embed2d(map.vectors, options);
  const title = `${map.title} (${methodLabel(placed.method, placed.fallbackReason)})`;
  const values = placed.points.map(([x, y], i) => ({ x, y, word: String(map.words[placed.indices[i]]) }));
  // Room on the right for the words, which are drawn to the right of their points.
  const span = (v: number[], before: number, after: number) => {
    const lo = Math.min(...v), hi = Math.max(...v), range = hi - lo || 1;
    return [lo - before * range, hi + after * range];
  };
  const x = { field: 'x', type: 'quantitative', axis: null, scale: { domain: span(values.map((v) => v.x), 0.04, 0.16), nice: false } };
  const y = { field: 'y', type: 'quantitative', axis: null, scale: { domain: span(values.map((v) => v.y), 0.06, 0.06), nice: false } };
  const svg = await renderSvg({
    config: CONFIG, title, width: WIDTH, height: 480, data: { values },
    layer: [
      { mark: { type: 'circle', size: 22, color: '#4e79a7', opacity: 0.7 }, encoding: { x, y } },
      {
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 5, fontSize: values.length > 150 ? 9 : 11, color: '#1f2937' },
        encoding: { x, y, text: { field: 'word', type: 'nominal' } },
      },
    ],
  } as TopLevelSpec);
  const how = placed.method === 'umap' ? 'a seeded UMAP of their vectors' : placed.method === 'pca' ? 'PCA of their vectors' : 'their 2-D vectors';
  return {
    id, title, svg,
    caption: `${values.length < placed.total ? `A random ${values.length} of ${placed.total}` : `All ${placed.total}`} words placed by ${how}; words used alike should sit close together.`,
  };
}

/**
 * Every method x protocol at each k: one bar per method (mean over seeds, a rule for
 * ± one std), coloured by protocol, sorted best first, one panel per k.
 */
export async function methodComparisonChart(results: readonly MethodResult[]): Promise<Chart> {
  const id = 'method-comparison';
  const title = 'Method comparison';
  if (results.length === 0) return noDataChart(id, title, 'no evaluation results');
  checkResults(results);
  const rows = results.map((r) => ({ method: r.method, k: `k = ${r.k}`, protocol: r.protocol ?? r.method, mean: r.mean, lo: r.mean - r.std, hi: r.mean + r.std }));
  const protocols = unique(rows.map((r) => r.protocol));
  const y = { field: 'method', type: 'nominal', sort: { field: 'mean', op: 'max', order: 'descending' }, title: null };
  const svg = await renderSvg({
    config: CONFIG, title,
    data: { values: rows },
    facet: { row: { field: 'k', type: 'nominal', title: null, sort: unique(results.map((r) => r.k)).sort((a, b) => a - b).map((k) => `k = ${k}`) } },
    spec: {
      width: WIDTH - 160,
      layer: [
        {
          mark: { type: 'bar', height: { band: 0.7 } },
          encoding: {
            y, x: { field: 'mean', type: 'quantitative', scale: { zero: false, padding: 8 }, axis: { format: '.0%', title: 'Test accuracy (mean over seeds)' } },
            color: { field: 'protocol', type: 'nominal', scale: { domain: protocols }, legend: { title: 'Protocol', orient: 'top' } },
          },
        },
        { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { y, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
        { mark: { type: 'text', align: 'left', dx: 4, fontSize: 10 }, encoding: { y, x: { field: 'hi', type: 'quantitative' }, text: { field: 'mean', type: 'quantitative', format: '.1%' } } },
      ],
    },
  } as unknown as TopLevelSpec);
  return {
    id, title, svg,
    caption: 'Each method under each protocol, best first, one panel per k: bars are the mean test accuracy over seeds, black rules span ± one standard deviation. ' +
      'Baselines: scratch trains the same network from random weights; transfer fine-tunes one trained on the source domain.',
  };
}
