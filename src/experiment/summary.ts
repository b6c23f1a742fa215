// Mean and spread of test accuracy over seeds, shared by the image and text
// experiments and the CLI.
import type { MethodResult } from '../report/types.js';

/** Mean and sample standard deviation (0 for one value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

/** One method's result at one k: mean and sample std over the seeds' accuracies. */
export function summarize(method: string, k: number, runs: number[], parts?: { pretext: string | null; protocol: string }): MethodResult {
  return { method, ...(parts ?? {}), k, ...meanStd(runs), runs };
}

/**
 * "mean ± std" with `format` applied to both, or the mean alone for one seed (a spread
 * of one value is no spread: "± 0.00%" would claim a precision never measured).
 */
export function meanPlusMinus(mean: number, std: number, runs: number, format: (x: number) => string): string {
  return runs > 1 ? `${format(mean)} ± ${format(std)}` : format(mean);
}
