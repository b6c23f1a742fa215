// report-data.json: the whole ReportData of a run, pixels and feature vectors
// included, so that `selfsup report` can draw the same page again later.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/index.js';
import type { ReportData } from '../report/index.js';

export const REPORT_DATA = 'report-data.json';

/** JSON has no typed arrays: write them as plain arrays. */
function plain(_key: string, value: unknown): unknown {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) ? Array.from(value as unknown as ArrayLike<number>) : value;
}

export function saveReportData(dir: string, data: ReportData): string {
  const path = join(dir, REPORT_DATA);
  writeFileAtomic(path, Buffer.from(JSON.stringify(data, plain) + '\n', 'utf8'));
  return path;
}

/**
 * The report data of `dir`: report-data.json, or else results.json (written by the
 * report module without pixels and vectors, so images and maps are left out).
 */
export function loadReportData(dir: string): { data: ReportData; source: string; complete: boolean } {
  const full = join(dir, REPORT_DATA);
  const light = join(dir, 'results.json');
  const source = existsSync(full) ? full : existsSync(light) ? light : null;
  if (!source) {
    throw new Error(existsSync(dir)
      ? `no results in ${dir}: neither ${REPORT_DATA} nor results.json is there (write them with 'selfsup experiment --out ${dir}' or 'selfsup demo --out ${dir}')`
      : `results directory not found: ${dir}`);
  }
  let parsed: ReportData & Record<string, unknown>;
  try {
    parsed = JSON.parse(readFileSync(source, 'utf8'));
  } catch (err) {
    throw new Error(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || !Array.isArray(parsed.results)) {
    throw new Error(`${source} does not hold report data (no "results" list)`);
  }
  if (source === full) return { data: parsed, source, complete: true };
  // results.json keeps only summaries of the heavy parts; drop them.
  const { rotationSamples: _r, maeSamples: _m, similarImages: _s, embeddings: _e, wordMaps: _w, ...rest } = parsed;
  return { data: rest as ReportData, source, complete: false };
}
