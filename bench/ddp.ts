// `node dist/bench/ddp.js`: data-parallel cost on one machine. The RotNet step and a
// SimCLR step (small CNN, Fashion-MNIST, the real `pretrain` path) as 2 processes x 1
// thread (Gloo over loopback, batch B each) against 1 process x 2 threads (batch 2B),
// alternating so background load hits both alike. Prints images/s (images before
// rotations or views), the gradient all-reduce time and bytes per step, then one JSON line.
// node dist/bench/ddp.js [--rounds 2] [--batch 64] [--steps 10] [--warmup 3] [--methods rotation,simclr]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launch } from '../src/distributed/launcher.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' }, batch: { type: 'string', default: '64' }, steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' }, methods: { type: 'string', default: 'rotation,simclr' }, port: { type: 'string', default: '29517' },
  },
});
const RANK = fileURLToPath(new URL('./ddp-rank.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'selfsup-ddp-bench-'));
const rounds = Number(values.rounds);
const batch = Number(values.batch);
const common = ['--steps', values.steps!, '--warmup', values.warmup!];

interface Report { imgPerS: number; stepMs: number; allReduceMsPerStep: number; allReduceAloneMs: number; gradBytesPerStep: number }

function oneProcess(method: string, out: string): Report {
  const r = spawnSync(process.execPath, [RANK, '--method', method, '--batch', String(2 * batch), ...common, '--out', out], {
    env: { ...process.env, SELFSUP_NUM_THREADS: '2', WORLD_SIZE: undefined }, stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`1-process run of ${method} failed (${r.status})`);
  return JSON.parse(readFileSync(out, 'utf8')) as Report;
}

async function twoProcesses(method: string, out: string): Promise<Report> {
  const r = await launch(['--method', method, '--batch', String(batch), ...common, '--out', out], {
    nprocPerNode: 2, threadsPerProcess: 1, masterPort: Number(values.port), script: RANK,
  });
  if (r.exitCode !== 0) throw new Error(`2-process run of ${method} failed (${r.ranks.join(', ')})`);
  return JSON.parse(readFileSync(out, 'utf8')) as Report;
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const fmt = (xs: number[], digits = 0): string => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

const summary: Record<string, { img_per_s_1proc: number; img_per_s_2proc: number; ratio_2proc_vs_1proc: number; ratio_range: [number, number]; allreduce_ms_per_step: number; allreduce_alone_ms: number; grad_bytes_per_step: number; step_ms_2proc: number }> = {};
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; global batch ${2 * batch} images`);
try {
  for (const method of values.methods!.split(',')) {
    const one: Report[] = [];
    const two: Report[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so a load change favours neither.
      const out = join(tmp, `${method}-${r}`);
      if (r % 2 === 0) { one.push(oneProcess(method, `${out}-1`)); two.push(await twoProcesses(method, `${out}-2`)); }
      else { two.push(await twoProcesses(method, `${out}-2`)); one.push(oneProcess(method, `${out}-1`)); }
    }
    const ratios = one.map((o, i) => two[i]!.imgPerS / o.imgPerS);
    console.log(`${method}: 1 process x 2 threads ${fmt(one.map((o) => o.imgPerS))} img/s; 2 processes x 1 thread ${fmt(two.map((o) => o.imgPerS))} img/s; ` +
      `ratio ${fmt(ratios, 3)}; all-reduce ${fmt(two.map((o) => o.allReduceMsPerStep), 1)} ms of a ${fmt(two.map((o) => o.stepMs))} ms step ` +
      `(alone, ranks lined up: ${fmt(two.map((o) => o.allReduceAloneMs), 2)} ms; the rest is waiting for the slower rank); ` +
      `${(two[0]!.gradBytesPerStep / 1e6).toFixed(2)} MB of gradients per step (median (min-max) of ${rounds} rounds)`);
    summary[method] = {
      img_per_s_1proc: median(one.map((o) => o.imgPerS)), img_per_s_2proc: median(two.map((o) => o.imgPerS)),
      ratio_2proc_vs_1proc: median(ratios), ratio_range: [Math.min(...ratios), Math.max(...ratios)],
      allreduce_ms_per_step: median(two.map((o) => o.allReduceMsPerStep)), allreduce_alone_ms: median(two.map((o) => o.allReduceAloneMs)), grad_bytes_per_step: two[0]!.gradBytesPerStep,
      step_ms_2proc: median(two.map((o) => o.stepMs)),
    };
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const first = summary[values.methods!.split(',')[0]!]!;
console.log(JSON.stringify({ bench: 'ddp', method: values.methods!.split(',')[0], ...first, methods: summary, rounds, batch_per_process: batch, load_average: loadavg()[0] }));
