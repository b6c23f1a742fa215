// What the step benchmarks share: each side runs in a fresh child process under the same
// runtime settings, and prints its result as the last JSON line of its stdout.
import { spawnSync } from 'node:child_process';

/**
 * What selfsup does to itself in-process (src/native/binding.ts sets OMP_WAIT_POLICY=PASSIVE,
 * native/selfsup.cc TuneMalloc raises glibc's thresholds), as variables both libgomp and glibc
 * read, for both children; user-set values win. With `pytorchDefaults`, nothing: PyTorch then
 * runs under libgomp's and glibc's defaults.
 */
export function matchedEnv(pytorchDefaults: boolean): Record<string, string> {
  return pytorchDefaults ? {} : {
    OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE',
    MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? String(256 << 20),
    MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ ?? String(1024 << 20),
    MALLOC_TOP_PAD_: process.env.MALLOC_TOP_PAD_ ?? String(64 << 20),
  };
}

/** Runs one side (`cmd args`) with `env` and `threads` threads; returns its last JSON line, parsed. */
export function runChild<T>(bench: string, label: string, cmd: string, args: string[], env: Record<string, string>, threads: string): T {
  process.stderr.write(`${bench}: ${label}...\n`);
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env, SELFSUP_NUM_THREADS: threads, OMP_NUM_THREADS: threads } });
  if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}): ${r.stderr || r.error}`);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`${label} printed no result:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line) as T;
}
