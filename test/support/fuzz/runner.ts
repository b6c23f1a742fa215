// The fuzzer's parent: runs the calls of a seed in batches, each batch in a child
// process (child.ts) under a memory limit, so a call that kills the process is
// counted and printed instead of ending the run. After an abort the batch goes
// on from the next call.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
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
  /** After an abort, find out whether the call dies alone or only after an earlier one (default true). */
  attribute?: boolean;
}

export interface FuzzFailure {
  kind: 'abort' | 'hang';
  seed: number;
  index: number | null;
  /** The call that was running, as JavaScript. */
  call: string;
  how: string;
  /** Whether the call also dies when run alone in a fresh process. */
  alone?: boolean;
  /** When it does not: the earliest call of the batch that must run first for it to die (heap corruption, say). */
  after?: { index: number; call: string };
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
  calls: Map<number, string>;
}

function readProgress(dir: string): Progress {
  const p: Progress = { done: 0, ok: 0, errors: 0, errorKinds: {}, inFlight: [], last: -1, calls: new Map() };
  for (const f of readdirSync(dir)) {
    const open = new Map<number, string>();
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const [tag, idx, ...rest] = line.split('\t');
      if (!tag || idx === undefined) continue;
      const i = Number(idx);
      p.last = Math.max(p.last, i);
      if (tag === 'M') open.set(i, '<while making the arguments>');
      else if (tag === 'S') {
        open.set(i, rest.join('\t'));
        p.calls.set(i, rest.join('\t'));
      }
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
    const args = [CHILD, '--seed', String(seed), '--from', String(from), '--to', String(to), '--progress', join(dir, 'progress', 'calls'), '--workers', String(workers)];
    const child = spawn('/bin/sh', ['-c', `ulimit -v ${memKb} && exec "$0" "$@"`, process.execPath, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: join(dir, 'cwd'), // operators such as aten::from_file(shared=true) create files named by their string arguments
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

interface Attempt {
  died: boolean;
  progress: Progress;
  how: string;
}

async function attempt(seed: number, from: number, to: number, workers: number, timeoutMs: number, memKb: number): Promise<Attempt> {
  const dir = mkdtempSync(join(tmpdir(), 'selfsup-fuzz-'));
  mkdirSync(join(dir, 'progress'));
  mkdirSync(join(dir, 'cwd'));
  try {
    const r = await runChild(seed, from, to, workers, dir, timeoutMs, memKb);
    const progress = readProgress(join(dir, 'progress'));
    const died = !(r.code === 0 && progress.inFlight.length === 0 && !r.timedOut);
    const how = r.timedOut ? `killed after ${timeoutMs} ms` : r.signal ? `signal ${r.signal}` : `exit code ${r.code}`;
    // libtorch's deprecation warnings crowd out the line that says what died
    const tail = r.stderr.trim().split('\n').filter((l) => l && !/Warning:|InitGoogleLogging/.test(l)).slice(-3).join(' | ');
    return { died, progress, how: tail ? `${how}: ${tail}` : how };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * For an abort at call `index` of a batch that began at `from`: does the call die
 * alone? If not, the latest start s for which calls s..index still die, so call s
 * is the one that left the process broken (found by bisection, a few children).
 */
async function attribute(seed: number, from: number, index: number, timeoutMs: number, memKb: number): Promise<Pick<FuzzFailure, 'alone' | 'after'>> {
  if ((await attempt(seed, index, index + 1, 0, timeoutMs, memKb)).died) return { alone: true };
  let dies = from;
  let survives = index;
  let text = '';
  while (survives - dies > 1) {
    const mid = Math.floor((dies + survives) / 2);
    const a = await attempt(seed, mid, index + 1, 0, timeoutMs, memKb);
    if (a.died) dies = mid;
    else survives = mid;
  }
  const first = await attempt(seed, dies, dies + 1, 0, timeoutMs, memKb);
  text = first.progress.calls.get(dies) ?? '?';
  return { alone: false, after: { index: dies, call: text } };
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const start = Date.now();
  const from = o.from ?? 0;
  const end = from + o.calls;
  const batch = o.batch ?? 250;
  const workers = o.workers ?? 0;
  const log = o.log ?? (() => {});
  const report: FuzzReport = { seed: o.seed, callsRun: 0, ok: 0, errors: 0, errorKinds: {}, failures: [], children: 0, seconds: 0 };
  const timeoutMs = o.batchTimeoutMs ?? 60_000;
  // each worker thread reserves about 1 GB of address space of its own (measured: 5.1 GB with 3 workers)
  const memKb = o.memoryLimitKb ?? 4_000_000 + workers * 1_500_000;
  let next = from;
  while (next < end) {
    const to = Math.min(end, next + batch);
    const a = await attempt(o.seed, next, to, workers, timeoutMs, memKb);
    const p = a.progress;
    report.children++;
    report.callsRun += p.done;
    report.ok += p.ok;
    report.errors += p.errors;
    for (const [k, n] of Object.entries(p.errorKinds)) report.errorKinds[k] = (report.errorKinds[k] ?? 0) + n;
    if (!a.died) {
      next = to;
      continue;
    }
    const hang = a.how.startsWith('killed after');
    const inFlight = p.inFlight.length > 0 ? p.inFlight : [{ index: null, call: '<no call in flight>' }];
    for (const f of inFlight) {
      report.callsRun++; // each in-flight call ran, once
      const failure: FuzzFailure = { kind: hang ? 'hang' : 'abort', seed: o.seed, index: f.index, call: f.call, how: a.how };
      if (!hang && workers === 0 && f.index !== null && (o.attribute ?? true)) Object.assign(failure, await attribute(o.seed, next, f.index, timeoutMs, memKb));
      report.failures.push(failure);
      const where = failure.alone === false ? `\n  dies only after call ${failure.after!.index}: ${failure.after!.call}` : failure.alone ? ' (dies alone too)' : '';
      log(`${failure.kind.toUpperCase()} seed ${o.seed} call ${f.index ?? '?'} (${failure.how}):\n  ${f.call}${where}`);
    }
    // single-threaded: go on right after the call that died; with workers the
    // batch's remaining calls are interleaved, so go on after the batch
    next = workers > 0 ? to : Math.max(p.last + 1, next + 1);
  }
  report.seconds = (Date.now() - start) / 1000;
  return report;
}
