// The op profiler: per op name, calls and wall time of every libtorch dispatcher op and
// autograd node between start() and stop(), from libtorch's RecordFunction callbacks
// (native/op-profiler.cc). Off by default; while off no callback is registered, so it
// costs nothing.
import { native, type OpProfile, type OpProfileRow } from '../native/binding.js';
export type { OpProfile, OpProfileRow } from '../native/binding.js';

export const profiler = {
  /** Clears the rows and starts recording (restarts if already running). */
  start(): void {
    native.profilerStart();
  },
  /** Stops recording and returns what was recorded, rows sorted by self time (largest first). Ops still running are not counted. */
  stop(): OpProfile {
    return native.profilerStop();
  },
  /** What has been recorded so far, without stopping. */
  read(): OpProfile {
    return native.profilerRead();
  },
  /** Runs `fn` with the profiler on and returns its result with the profile. */
  run<T>(fn: () => T): { result: T; profile: OpProfile } {
    native.profilerStart();
    let profile: OpProfile | undefined;
    try {
      const result = fn();
      profile = native.profilerStop();
      return { result, profile };
    } finally {
      if (!profile) native.profilerStop();
    }
  },
};

/**
 * The top `n` rows as a text table (self ms, share of the summed self time, calls, total ms);
 * `per` divides the times (e.g. the number of steps profiled, for ms per step).
 */
export function formatProfile(p: OpProfile, n = 8, per = 1): string {
  const sum = p.rows.reduce((s, r) => s + r.selfMs, 0) || 1;
  const lines = [`${'op'.padEnd(44)} ${'self ms'.padStart(9)} ${'share'.padStart(6)} ${'calls'.padStart(7)} ${'total ms'.padStart(9)}`];
  for (const r of p.rows.slice(0, n) as OpProfileRow[]) {
    lines.push(`${r.name.slice(0, 44).padEnd(44)} ${(r.selfMs / per).toFixed(2).padStart(9)} ${((100 * r.selfMs) / sum).toFixed(1).padStart(5)}% ${String(Math.round(r.calls / per)).padStart(7)} ${(r.totalMs / per).toFixed(2).padStart(9)}`);
  }
  lines.push(`(self time of all ${p.rows.length} ops ${(sum / per).toFixed(1)} ms; wall ${(p.wallMs / per).toFixed(1)} ms${per !== 1 ? ', per step' : ''})`);
  return lines.join('\n');
}
