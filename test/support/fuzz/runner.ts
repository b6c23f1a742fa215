// The fuzzer's parent: runs the calls of a seed in batches, each batch in a child
// process (child.ts) under a memory limit, so a call that kills the process is
// counted and printed instead of ending the run. After an abort the batch goes
// on from the next call.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FuzzOptions {
  seed: number;
  calls: number;
  /** First call index (default 0). */
  from?: number;
  /** Calls per child process. */
  batch?: number;
  /** Worker threads per child; 0 runs the calls on the child's main thread. */
  workers?: number;
  /** Wall-clock limit of one child, in ms; past it the child is killed and its in-flight calls count as hangs. */
  batchTimeoutMs?: number;
  /** Address-space limit of a child in KiB, so a huge allocation fails instead of waking the OOM killer. */
  memoryLimitKb?: number;
  log?: (line: string) => void;
}

export interface FuzzFailure {
  kind: 'abort' | 'hang';
  seed: number;
  index: number | null;
  /** The call that was running, as JavaScript. */
  call: string;
  how: string;
}

export interface FuzzReport {
  seed: number;
  callsRun: number;
  ok: number;
  errors: number;
  /** Error outcomes by kind (TypeError, RangeError, Error, ...). */
  errorKinds: Record<string, number>;
  failures: FuzzFailure[];
  children: number;
  seconds: number;
}

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.js');

interface Progress {
  done: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  inFlight: { index: number; call: string }[];
  last: number;
}

function readProgress(dir: string): Progress {
  const p: Progress = { done: 0, ok: 0, errors: 0, errorKinds: {}, inFlight: [], last: -1 };
  for (const f of readdirSync(dir)) {
    const open = new Map<number, string>();
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const [tag, idx, ...rest] = line.split('\t');
      if (!tag || idx === undefined) continue;
      const i = Number(idx);
      p.last = Math.max(p.last, i);
      if (tag === 'M') open.set(i, '<while making the arguments>');
      else if (tag === 'S') open.set(i, rest.join('\t'));
      else if (tag === 'E') {
        open.delete(i);
        p.done++;
        if (rest[0] === 'ok') p.ok++;
        else {
          p.errors++;
          const k = rest.slice(1).join(' ') || rest[0]!;
          p.errorKinds[k] = (p.errorKinds[k] ?? 0) + 1;
        }
      }
    }
    for (const [index, call] of open) p.inFlight.push({ index, call });
  }
  return p;
}

function runChild(seed: number, from: number, to: number, workers: number, dir: string, timeoutMs: number, memKb: number): Promise<{ code: number | null; signal: string | null; timedOut: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const args = [CHILD, '--seed', String(seed), '--from', String(from), '--to', String(to), '--progress', join(dir, 'progress'), '--workers', String(workers)];
    const child = spawn('/bin/sh', ['-c', `ulimit -v ${memKb} && exec "$0" "$@"`, process.execPath, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SELFSUP_NUM_THREADS: process.env.SELFSUP_NUM_THREADS ?? '1' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stderr });
    });
  });
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const start = Date.now();
  const from = o.from ?? 0;
  const end = from + o.calls;
  const batch = o.batch ?? 250;
  const workers = o.workers ?? 0;
  const log = o.log ?? (() => {});
  const report: FuzzReport = { seed: o.seed, callsRun: 0, ok: 0, errors: 0, errorKinds: {}, failures: [], children: 0, seconds: 0 };
  let next = from;
  while (next < end) {
    const to = Math.min(end, next + batch);
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-fuzz-'));
    try {
      const r = await runChild(o.seed, next, to, workers, dir, o.batchTimeoutMs ?? 120_000, o.memoryLimitKb ?? 4_000_000);
      report.children++;
      const p = readProgress(dir);
      report.callsRun += p.done;
      report.ok += p.ok;
      report.errors += p.errors;
      for (const [k, n] of Object.entries(p.errorKinds)) report.errorKinds[k] = (report.errorKinds[k] ?? 0) + n;
      const clean = r.code === 0 && p.inFlight.length === 0 && !r.timedOut;
      if (clean) {
        next = to;
        continue;
      }
      const how = r.timedOut ? `killed after ${o.batchTimeoutMs ?? 120_000} ms` : r.signal ? `signal ${r.signal}` : `exit code ${r.code}`;
      // libtorch's deprecation warnings crowd out the line that says what died
      const tail = r.stderr.trim().split('\n').filter((l) => l && !/Warning:|InitGoogleLogging/.test(l)).slice(-3).join(' | ');
      const inFlight = p.inFlight.length > 0 ? p.inFlight : [{ index: null, call: '<no call in flight>' }];
      for (const f of inFlight) {
        // each in-flight call ran once, and counts as a call
        report.callsRun++;
        const failure: FuzzFailure = { kind: r.timedOut ? 'hang' : 'abort', seed: o.seed, index: f.index, call: f.call, how: tail ? `${how}: ${tail}` : how };
        report.failures.push(failure);
        log(`${failure.kind.toUpperCase()} seed ${o.seed} call ${f.index ?? '?'} (${failure.how}):\n  ${f.call}`);
      }
      // single-threaded: go on right after the call that died; with workers the
      // batch's remaining calls are interleaved, so go on after the batch
      next = workers > 0 ? to : Math.max(p.last + 1, next + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  report.seconds = (Date.now() - start) / 1000;
  return report;
}
