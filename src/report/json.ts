// results.json: the report data without the heavy parts (pixels, feature vectors).
import type { ReportData } from './types.js';

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

export function resultsJson(data: ReportData): Record<string, unknown> {
  const { rotationSamples, maeSamples, embeddings, wordMaps, ...light } = data;
  const out: Record<string, unknown> = { ...light };
  if (rotationSamples) {
    const correct = rotationSamples.filter((s) => s.rotation === s.predicted).length;
    out.rotationSamples = {
      count: rotationSamples.length,
      correct,
      samples: rotationSamples.map(({ pixels: _pixels, ...meta }) => meta),
    };
  }
  if (maeSamples) out.maeSamples = { count: maeSamples.length };
  if (embeddings) {
    out.embeddings = embeddings.map((e) => ({
      title: e.title, count: e.vectors.length, dimensions: e.vectors[0]?.length ?? 0, labelCounts: countBy(e.labels),
    }));
  }
  if (wordMaps) {
    out.wordMaps = wordMaps.map((w) => ({ title: w.title, count: w.vectors.length, dimensions: w.vectors[0]?.length ?? 0, words: w.words }));
  }
  return out;
}
