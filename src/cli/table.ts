// The results table printed by experiment and demo: one row per method, one
// column per k, each cell mean ± std of test accuracy in percent.
import type { MethodResult } from '../report/index.js';
import { meanPlusMinus } from '../experiment/summary.js';

export function resultsTable(results: readonly MethodResult[]): string {
  const methods = [...new Set(results.map((r) => r.method))];
  const ks = [...new Set(results.map((r) => r.k))].sort((a, b) => a - b);
  const cell = (m: string, k: number): string => {
    const r = results.find((x) => x.method === m && x.k === k);
    return r ? meanPlusMinus(r.mean, r.std, r.runs.length, (x) => (100 * x).toFixed(1)) : '-';
  };
  const header = ['method', ...ks.map((k) => `k=${k} (%)`)];
  const rows = methods.map((m) => [m, ...ks.map((k) => cell(m, k))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(line)].join('\n');
}
