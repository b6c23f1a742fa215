// `npm run bench`: one RotNet training step (5-conv CNN with batch norm, widths
// 32/64/128, 28x28 grey images, a batch of 128 images each in four rotations,
// SGD with Nesterov momentum) in selfsup, in PyTorch (Debian python3-torch) and
// in TensorFlow.js (pure-JS CPU backend), each in its own child process so that
// peak memory is measured per implementation. Prints a table, then one JSON line.
// --device cuda times both on the GPU (TF.js is then skipped; see scripts/device-check.sh).
// Same runtime settings on both sides by default (as bench:methods and bench:text): selfsup sets
// OMP_WAIT_POLICY=PASSIVE and raises glibc's malloc thresholds on itself, so the PyTorch child
// gets those values as environment variables; --pytorch-defaults leaves PyTorch with libgomp's and
// glibc's defaults (how this bench ran before 2026-12-03: spinning OpenMP waiters slow PyTorch
// on a busy machine, which inflated the ratio).
// --profile: each side also runs as many steps again under an op profiler (selfsup's, src/tensor/profiler.ts;
// torch.autograd.profiler on the PyTorch side) and the top 8 ops by self time are printed for each side.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { opTable, type Profiled } from './op-table.js';
import { matchedEnv, runChild } from './children.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: String(availableParallelism()) },
    steps: { type: 'string', default: '20' },
    'tfjs-steps': { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'skip-tfjs': { type: 'boolean', default: false },
    device: { type: 'string', default: 'cpu' },
    warmup: { type: 'string', default: '3' },
    batch: { type: 'string', default: '128' },
    rounds: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
    'pytorch-defaults': { type: 'boolean', default: false },
  },
});
const threads = values.threads!;
const steps = values.steps!;
const device = values.device!;
const batch = values.batch!;
const rounds = Math.max(1, Number(values.rounds));
// Passed to both sides: same device, batch and warm-up.
const common = ['--steps', steps, '--warmup', values.warmup!, '--batch', batch, '--device', device, ...(values.profile ? ['--profile'] : [])];

interface Side extends Profiled { impl: string; img_per_s: number; peak_rss_mb: number; seconds: number; steps: number; last_loss: number }

const MATCHED_ENV = matchedEnv(values['pytorch-defaults']!);
const run = (label: string, cmd: string, args: string[], env: Record<string, string> = MATCHED_ENV): Side => runChild<Side>('bench', label, cmd, args, env, threads);

// Alternate the two so that background load affects both alike; keep the better of the rounds.
const best = (a: Side | null, b: Side): Side => (a && a.img_per_s >= b.img_per_s ? a : b);
let selfsup: Side | null = null;
let pytorch: Side | null = null;
for (let r = 0; r < rounds; r++) {
  selfsup = best(selfsup, run('selfsup', process.execPath, [join(here, 'rotnet-selfsup.js'), ...common]));
  pytorch = best(pytorch, run('PyTorch', values.python!, [join(root, 'bench', 'rotnet_step.py'), '--threads', threads, ...common]));
}
if (!selfsup || !pytorch) throw new Error('bench: no rounds ran');
const tfjs = values['skip-tfjs'] || device !== 'cpu' ? null : run('TensorFlow.js', process.execPath, [join(here, 'rotnet-tfjs.js'), '--steps', values['tfjs-steps']!, '--batch', '1'], {});

const rows: [string, Side | null][] = [['selfsup', selfsup], ['PyTorch', pytorch], ['TensorFlow.js (cpu)', tfjs]];
console.log(`RotNet training step on ${device}, ${threads} threads, batch ${batch} x 4 rotations, best of ${rounds} round(s) of ${steps} steps, ${values['pytorch-defaults'] ? 'PyTorch with libgomp/glibc defaults' : 'both sides with OMP_WAIT_POLICY=PASSIVE and selfsup\'s malloc thresholds'}${tfjs ? ' (TF.js: 1 x 4, a few steps)' : ''}`);
console.log('implementation        images/s   peak RSS (MB)');
for (const [name, s] of rows) {
  if (s) console.log(`${name.padEnd(20)} ${s.img_per_s.toFixed(1).padStart(10)} ${s.peak_rss_mb.toFixed(0).padStart(15)}`);
}
console.log(`selfsup / PyTorch speed: ${(selfsup.img_per_s / pytorch.img_per_s).toFixed(3)}   memory: ${(selfsup.peak_rss_mb / pytorch.peak_rss_mb).toFixed(3)}`);
if (values.profile) {
  console.log(opTable('RotNet selfsup', selfsup));
  console.log(opTable('RotNet PyTorch', pytorch));
}
if (tfjs) console.log(`selfsup / TF.js speed: ${(selfsup.img_per_s / tfjs.img_per_s).toFixed(0)}x`);
console.log(JSON.stringify({
  device,
  batch: Number(batch),
  steps: Number(steps),
  threads: Number(threads),
  matched_env: MATCHED_ENV,
  selfsup_img_per_s: selfsup.img_per_s,
  pytorch_img_per_s: pytorch.img_per_s,
  tfjs_img_per_s: tfjs ? tfjs.img_per_s : null,
  ratio_vs_pytorch: selfsup.img_per_s / pytorch.img_per_s,
  peak_rss_ratio_vs_pytorch: selfsup.peak_rss_mb / pytorch.peak_rss_mb,
  ratio_vs_tfjs: tfjs ? selfsup.img_per_s / tfjs.img_per_s : null,
  selfsup_peak_rss_mb: selfsup.peak_rss_mb,
  pytorch_peak_rss_mb: pytorch.peak_rss_mb,
}));
