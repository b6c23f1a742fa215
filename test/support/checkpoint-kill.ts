// Kill -9 trials: a child trains with a checkpoint every step (or every epoch for the
// CLI), is killed with SIGKILL at a random instant, and the checkpoint it leaves must
// load (falling back to the previous one counts, and is counted), hold what its last
// reported save wrote, and be resumed by the next child; a temp file of a killed save
// must be gone once the next child has started training.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkpointExists, loadCheckpoint, readCheckpointInfo } from '../../src/io/index.js';

const here = dirname(fileURLToPath(import.meta.url));
// Outside test/: node --test runs every .js under dist/test.
const CHILD = join(here, '..', '..', 'bench', 'checkpoint-kill-child.js');
const CLI = join(here, '..', '..', 'src', 'cli', 'main.js');

export type KillMode = 'api' | 'cli';

export interface KillTrialsOptions {
  dir: string;
  mode: KillMode;
  /** Stop after this many trials... */
  trials?: number;
  /** ...or once this many seconds have passed, whichever comes first. */
  seconds?: number;
  /** The kill comes uniformly at random in [0, maxDelayMs] after the child starts training. */
  maxDelayMs?: number;
  log?: (line: string) => void;
}

export interface KillTrialsResult {
  mode: KillMode;
  trials: number;
  /** Trials after which a checkpoint existed and loaded. */
  loaded: number;
  /** Loads that had to fall back to the previous checkpoint. */
  fallbacks: number;
  /** Temp files found right after a kill (a save was cut short), and their largest size. */
  tempFilesSeen: number;
  largestTempBytes: number;
  /** The step of the last checkpoint, after the final run that ran to its end. */
  finalStep: number;
  /** Everything that went wrong; empty when every trial passed. */
  problems: string[];
  seconds: number;
}

const checkpointOf = (o: KillTrialsOptions): string => join(o.dir, o.mode === 'api' ? 'c' : 'rotation-pretrain');

/** pid of each temp file beside the checkpoint (tempPathFor's names: .NAME.PID.HEX.tmp). */
function tempFiles(dir: string): { name: string; pid: number; bytes: number }[] {
  return readdirSync(dir).flatMap((name) => {
    const m = /^\..*\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name);
    if (!m) return [];
    let bytes = 0;
    try { bytes = statSync(join(dir, name)).size; } catch { /* removed meanwhile */ }
    return [{ name, pid: Number(m[1]), bytes }];
  });
}

interface ChildRun {
  pid: number; code: number | null; signal: string | null; stdout: string; stderr: string;
  /** The kill clock started (api: loaded, before the resume; cli: the first step done). */
  started: boolean;
  /** Training began, so stale temp files were removed (fit's start does it). */
  began: boolean;
  lastSaved: number | null;
}

/** Children still running, killed if this process exits first (they would train forever). */
const running = new Set<ReturnType<typeof spawn>>();
process.on('exit', () => { for (const c of running) c.kill('SIGKILL'); });

/** Runs one child; with `killAfter`, SIGKILLs it that many ms after it starts training. */
function runChild(o: KillTrialsOptions, extraSteps: number | null, killAfter: number | null): Promise<ChildRun> {
  const checkpoint = checkpointOf(o);
  let args: string[];
  if (o.mode === 'api') {
    args = [CHILD, checkpoint, ...(extraSteps === null ? [] : [String(currentStep(o) + extraSteps)])];
  } else {
    const again = checkpointExists(checkpoint);
    args = [CLI, 'pretrain', '--limit', '40', '--held-out', '4', '--batch-size', '16', '--minutes', '0', '--out', o.dir,
      ...(again ? ['--resume'] : ['--force', '--epochs', '1000000']),
      ...(extraSteps === null ? (again ? [] : ['--steps', '0']) : ['--steps', String(currentStep(o) + extraSteps)])];
  }
  const child = spawn(process.execPath, args, { env: { ...process.env, SELFSUP_NUM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const run: ChildRun = { pid: child.pid!, code: null, signal: null, stdout: '', stderr: '', started: false, began: false, lastSaved: null };
  let timer: NodeJS.Timeout | undefined;
  const startedTraining = (): void => {
    if (run.started) return;
    run.started = true;
    if (killAfter !== null) timer = setTimeout(() => child.kill('SIGKILL'), killAfter);
  };
  child.stdout.on('data', (d) => {
    run.stdout += d;
    // api: 'ready' comes before the resume, so kills also land while a checkpoint loads.
    if (/^ready$/m.test(run.stdout)) startedTraining();
    if (/^began$/m.test(run.stdout)) run.began = true;
    for (const m of run.stdout.matchAll(/^saved (\d+)$/gm)) run.lastSaved = Number(m[1]);
  });
  child.stderr.on('data', (d) => {
    run.stderr += d;
    if (o.mode === 'cli' && /training \(Ctrl-C stops/.test(run.stderr)) {
      run.began = true;
      startedTraining();
    }
  });
  return new Promise((resolve) => child.on('close', (code, signal) => {
    running.delete(child);
    clearTimeout(timer);
    run.code = code;
    run.signal = signal;
    resolve(run);
  }));
}

function currentStep(o: KillTrialsOptions): number {
  const checkpoint = checkpointOf(o);
  return checkpointExists(checkpoint) ? Number(readCheckpointInfo(checkpoint, { fallBackToPrevious: true }).meta.step ?? 0) : 0;
}

/** Checks the checkpoint left after a run: it loads, and (api) its tensors hold what its step says. */
function checkCheckpoint(o: KillTrialsOptions, what: string, problems: string[]): { step: number; fellBack: boolean } | null {
  const checkpoint = checkpointOf(o);
  if (!checkpointExists(checkpoint)) return null;
  let ck;
  try {
    ck = loadCheckpoint(checkpoint, { fallBackToPrevious: true });
  } catch (err) {
    problems.push(`${what}: no loadable checkpoint: ${(err as Error).message}`);
    return null;
  }
  const step = Number(ck.meta.step);
  try {
    if (o.mode === 'api') {
      // The child's w equals -step exactly: tensors and step from two saves would disagree.
      const w = ck.model.get('w')!.data() as Float32Array;
      for (const i of [0, w.length >> 1, w.length - 1]) {
        if (w[i] !== -step) problems.push(`${what}: w[${i}] is ${w[i]}, the checkpoint's step is ${step}`);
      }
    }
  } finally {
    for (const t of ck.model.values()) t.dispose();
    for (const t of ck.optimizer?.state.values() ?? []) t.dispose();
  }
  return { step, fellBack: ck.fallback !== null };
}

/** Kills children at random instants until `trials` or `seconds` run out, then runs one to its end. */
export async function runKillTrials(o: KillTrialsOptions): Promise<KillTrialsResult> {
  const started = performance.now();
  const maxDelay = o.maxDelayMs ?? (o.mode === 'api' ? 1200 : 6000);
  const r: KillTrialsResult = {
    mode: o.mode, trials: 0, loaded: 0, fallbacks: 0, tempFilesSeen: 0, largestTempBytes: 0, finalStep: 0, problems: [], seconds: 0,
  };
  let lastStep = 0;
  let leftBehind: { name: string; pid: number }[] = [];
  let reported = 0;
  const elapsed = (): number => (performance.now() - started) / 1000;
  while (r.trials < (o.trials ?? Infinity) && elapsed() < (o.seconds ?? Infinity)) {
    const trial = ++r.trials;
    const run = await runChild(o, null, Math.random() * maxDelay);
    const what = `trial ${trial} (killed ${run.signal === 'SIGKILL' ? '' : 'NOT '}by SIGKILL)`;
    if (run.signal !== 'SIGKILL') r.problems.push(`${what}: the child ended by itself with ${run.code}: ${run.stderr.trim().slice(-400)}`);
    const errors = run.stderr.split('\n').filter((l) => /error|cannot resume|different save/i.test(l));
    if (errors.length) r.problems.push(`${what}: ${errors.join(' | ')}`);
    const got = checkCheckpoint(o, what, r.problems);
    if (got) {
      r.loaded++;
      if (got.fellBack) r.fallbacks++;
      // A save the child reported as done is on disk; nothing older replaces it.
      if (run.lastSaved !== null && got.step < run.lastSaved && !got.fellBack) r.problems.push(`${what}: checkpoint at step ${got.step}, but the child had saved step ${run.lastSaved}`);
      if (got.step < lastStep && !got.fellBack) r.problems.push(`${what}: the checkpoint went back from step ${lastStep} to ${got.step}`);
      lastStep = got.step;
    }
    // Temp files of earlier children must be gone once this one has begun training.
    const temps = tempFiles(o.dir);
    if (run.began) {
      for (const t of leftBehind) if (temps.some((n) => n.name === t.name)) r.problems.push(`${what}: temp file ${t.name} of a killed save outlived the next run`);
    }
    const fresh = temps.filter((t) => t.pid === run.pid);
    r.tempFilesSeen += fresh.length;
    r.largestTempBytes = Math.max(r.largestTempBytes, ...fresh.map((t) => t.bytes));
    leftBehind = run.began ? fresh : [...leftBehind, ...fresh];
    o.log?.(`${what}: step ${got?.step ?? 'none'}${got?.fellBack ? ' (previous checkpoint)' : ''}, ${fresh.length} temp file(s) left, ${r.problems.length} problem(s) so far`);
    for (const p of r.problems.slice(reported)) o.log?.(`  problem: ${p}`);
    reported = r.problems.length;
  }
  // The last run is not killed: it resumes, trains two more steps and ends cleanly.
  const last = await runChild(o, 2, null);
  if (last.code !== 0) r.problems.push(`final run: exit ${last.code} ${last.signal ?? ''}: ${last.stderr.trim().slice(-600)}`);
  const final = checkCheckpoint(o, 'final run', r.problems);
  if (!final) r.problems.push('final run: no checkpoint');
  else if (final.fellBack) r.problems.push('final run: its checkpoint needed the fallback');
  r.finalStep = final?.step ?? 0;
  const temps = tempFiles(o.dir);
  if (temps.length) r.problems.push(`final run: temp files remain: ${temps.map((t) => t.name).join(', ')}`);
  r.seconds = elapsed();
  return r;
}
