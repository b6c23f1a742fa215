// `npm run bench:methods`: one pretraining step of every registered image method (views +
// forward + backward + optimizer step + after-step, on 256 Fashion-MNIST images) in selfsup
// (methods-selfsup.ts) and in PyTorch (methods_step.py, Debian's python3-torch), each run in
// a fresh child process so that peak memory is per implementation, the two sides alternating
// so that background load hits both alike. Prints a table, a per-phase table, then one JSON line.
// node dist/bench/methods-step.js [--methods simclr,moco] [--rounds 2] [--steps 10] [--warmup 3]
// Same runtime settings on both sides by default: selfsup sets OMP_WAIT_POLICY=PASSIVE
// (src/native/binding.ts) and raises glibc's mmap threshold (native/selfsup.cc TuneMalloc);
// both children get those values as environment variables, so PyTorch runs under them too
// (on a busy machine spinning OpenMP waiters made PyTorch's small ops 10-50x slower).
// --pytorch-defaults leaves PyTorch with libgomp's and glibc's defaults instead.
// --profile: each child also runs as many steps again under an op profiler (selfsup's, src/tensor/profiler.ts;
// torch.autograd.profiler on the PyTorch side) and the top 8 ops by self time are printed for each side.
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { matchedEnv, runChild } from './children.js';
import { opTable, type OpRow } from './op-table.js';
import { methodNames } from '../src/ssl/catalog.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { values } = parseArgs({
  options: {
    methods: { type: 'string' }, rounds: { type: 'string', default: '2' }, steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' }, batch: { type: 'string', default: '256' }, threads: { type: 'string', default: '2' },
    python: { type: 'string', default: '/usr/bin/python3' }, 'pytorch-defaults': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
const known = methodNames('image');
// The methods bench/ssl_torch.py has a PyTorch twin of; the others are listed as not benched.
const TWINS = ['rotation', 'simclr', 'moco', 'byol', 'simsiam', 'barlow-twins', 'vicreg', 'dino', 'mae'];
const asked = values.methods ? values.methods.split(',').map((s) => s.trim()).filter(Boolean) : known;
for (const m of asked) if (!known.includes(m)) throw new RangeError(`methods-step: unknown image method '${m}'; choose from ${known.join(', ')}`);
const methods = asked.filter((m) => TWINS.includes(m));
const notBenched = asked.filter((m) => !TWINS.includes(m));
if (notBenched.length) process.stderr.write(`bench: no PyTorch twin of ${notBenched.join(', ')} in bench/ssl_torch.py yet: not benched\n`);
const rounds = Math.max(1, Number(values.rounds));
const threads = values.threads!;
const MATCHED_ENV = matchedEnv(values['pytorch-defaults']!);
const common = ['--steps', values.steps!, '--warmup', values.warmup!, '--batch', values.batch!, ...(values.profile ? ['--profile'] : [])];

type Phases = Record<'views' | 'forward' | 'backward' | 'optimizer' | 'after', number>;
interface Side { impl: string; img_per_s: number; ms_per_step: number; peak_rss_mb: number; first_loss: number; last_loss: number; phases_ms: Phases; ops?: OpRow[]; ops_self_ms?: number; profile_wall_ms?: number }

const run = (label: string, cmd: string, args: string[]): Side => runChild<Side>('bench', label, cmd, args, MATCHED_ENV, threads);

// Different random views give different losses; "same range" = within 2x, or within 0.1 for losses near 0 (BYOL, SimSiam).
const sameRange = (a: number, b: number): boolean =>
  Number.isFinite(a) && Number.isFinite(b) && (Math.abs(a - b) <= 0.1 || (Math.sign(a) === Math.sign(b) && Math.max(a / b, b / a) <= 2));

const best = (a: Side | null, b: Side): Side => (a && a.img_per_s >= b.img_per_s ? a : b);
const loadBefore = loadavg();
const results = methods.map((method) => {
  let selfsup: Side | null = null;
  let pytorch: Side | null = null;
  const runSelfsup = (): void => { selfsup = best(selfsup, run(`${method} selfsup`, process.execPath, [join(here, 'methods-selfsup.js'), '--method', method, ...common])); };
  const runPytorch = (): void => { pytorch = best(pytorch, run(`${method} PyTorch`, values.python!, [join(root, 'bench', 'methods_step.py'), '--method', method, '--threads', threads, ...common])); };
  // Alternate which side goes first, so neither always runs right after the other's warm-up.
  for (let r = 0; r < rounds; r++) (r % 2 === 0 ? [runSelfsup, runPytorch] : [runPytorch, runSelfsup]).forEach((f) => f());
  const s = selfsup as unknown as Side;
  const p = pytorch as unknown as Side;
  return {
    method, selfsup_img_per_s: s.img_per_s, pytorch_img_per_s: p.img_per_s, ratio: s.img_per_s / p.img_per_s,
    selfsup_ms_per_step: s.ms_per_step, pytorch_ms_per_step: p.ms_per_step,
    selfsup_peak_rss_mb: s.peak_rss_mb, pytorch_peak_rss_mb: p.peak_rss_mb, peak_rss_ratio: s.peak_rss_mb / p.peak_rss_mb,
    selfsup_first_loss: s.first_loss, pytorch_first_loss: p.first_loss, first_losses_same_range: sameRange(s.first_loss, p.first_loss),
    selfsup_phases_ms: s.phases_ms, pytorch_phases_ms: p.phases_ms,
    ...(values.profile ? { selfsup_profile: { ops: s.ops, ops_self_ms: s.ops_self_ms, profile_wall_ms: s.profile_wall_ms }, pytorch_profile: { ops: p.ops, ops_self_ms: p.ops_self_ms, profile_wall_ms: p.profile_wall_ms } } : {}),
  };
});
const loadAfter = loadavg();

const f1 = (v: number, w: number): string => v.toFixed(1).padStart(w);
console.log(`Pretraining step per method, batch ${values.batch} Fashion-MNIST images (images/s = images of the batch per second; ` +
  `each makes 2 views, or 4 rotations), ${threads} threads, ` +
  `${values['pytorch-defaults'] ? 'PyTorch with libgomp/glibc defaults' : 'both sides with OMP_WAIT_POLICY=PASSIVE and selfsup\'s malloc thresholds'}, best of ${rounds} round(s) of ${values.steps} steps after ${values.warmup} warm-up`);
console.log('method         selfsup img/s  PyTorch img/s   ratio  RSS ratio   first loss (selfsup / PyTorch)');
for (const r of results) {
  console.log(`${r.method.padEnd(14)} ${f1(r.selfsup_img_per_s, 13)} ${f1(r.pytorch_img_per_s, 14)} ${r.ratio.toFixed(3).padStart(7)} ${r.peak_rss_ratio.toFixed(3).padStart(10)}   ` +
    `${r.selfsup_first_loss.toPrecision(4)} / ${r.pytorch_first_loss.toPrecision(4)}${r.first_losses_same_range ? '' : '  (NOT in the same range)'}`);
}
console.log('ms per step by phase, selfsup | PyTorch (forward includes the loss; the best round of each side)');
console.log('method         views          forward          backward         optimizer       after');
const keys = ['views', 'forward', 'backward', 'optimizer', 'after'] as const;
for (const r of results) {
  console.log(`${r.method.padEnd(14)} ${keys.map((k) => `${r.selfsup_phases_ms[k].toFixed(0).padStart(6)} |${r.pytorch_phases_ms[k].toFixed(0).padStart(6)}`).join('  ')}${r.ratio < 0.7 ? '   <- ratio < 0.7' : ''}`);
}
if (values.profile) {
  for (const r of results) {
    console.log(opTable(`${r.method} selfsup`, r.selfsup_profile ?? {}));
    console.log(opTable(`${r.method} PyTorch`, r.pytorch_profile ?? {}));
  }
}
console.log(`load average (1/5/15 min) before ${loadBefore.map((v) => v.toFixed(2)).join(' ')}, after ${loadAfter.map((v) => v.toFixed(2)).join(' ')}`);
console.log(JSON.stringify({
  bench: 'methods-step', batch: Number(values.batch), steps: Number(values.steps), warmup: Number(values.warmup), rounds,
  threads: Number(threads), matched_env: MATCHED_ENV, load_before: loadBefore, load_after: loadAfter, results, not_benched: notBenched,
}));
