// The benches' --profile output: the top ops of one side (rows from src/tensor/profiler.ts
// or bench/torch_profile.py, already per step), self ms, share of the summed self time, calls.
export interface OpRow { name: string; calls: number; selfMs: number; totalMs: number }

export interface Profiled { ops?: OpRow[]; ops_self_ms?: number; profile_wall_ms?: number }

export function opTable(title: string, side: Profiled, n = 8): string {
  const rows = side.ops;
  if (!rows?.length) return `${title}: no profile`;
  const sum = side.ops_self_ms ?? rows.reduce((s, r) => s + r.selfMs, 0);
  const lines = [`${title} (ms per step; share of the self time of all ops, ${sum.toFixed(1)} ms; profiled step ${(side.profile_wall_ms ?? 0).toFixed(1)} ms)`];
  for (const r of rows.slice(0, n)) {
    lines.push(`  ${r.name.replace('autograd::engine::evaluate_function: ', 'eval: ').slice(0, 46).padEnd(46)} ${r.selfMs.toFixed(2).padStart(8)} ${((100 * r.selfMs) / sum).toFixed(1).padStart(5)}% ${r.calls.toFixed(0).padStart(6)} calls`);
  }
  return lines.join('\n');
}
