// `node dist/bench/protocol.js [--methods rotation,simclr,byol]`: the demo's label-efficiency
// protocol (each method's pretraining, then k labels per class: scratch, <method>-finetune
// and <method>-knn, 5 seeds) in selfsup and in PyTorch (bench/protocol_torch.py) in one run;
// prints both, the difference in points, and one JSON line. The two should agree within
// 2 points. Without --methods: rotation only, as the demo's first comparison.
// Smoke run: --seeds 0 --pretrain-steps 3 --pretrain-steps-simclr 3 --finetune-steps 2 --limit 3000 --test-limit 500
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { data } from '../src/index.js';
import { runImageExperiment } from '../src/experiment/image.js';
import { defaultImageConfig } from '../src/experiment/defaults.js';
import { METHOD_CATALOG } from '../src/ssl/catalog.js';

// The methods bench/protocol_torch.py has a PyTorch version of (ssl_torch.py's Method), besides rotation.
const JOINT = METHOD_CATALOG.filter((m) => m.family === 'joint-embedding').map((m) => m.name);
const stepOptions = Object.fromEntries(JOINT.map((m) => [`pretrain-steps-${m}`, { type: 'string' as const }]));
const { values } = parseArgs({ options: {
  k: { type: 'string', default: '10' }, seeds: { type: 'string', default: '0,1,2,3,4' },
  python: { type: 'string', default: '/usr/bin/python3' },
  methods: { type: 'string', default: 'rotation' },
  threads: { type: 'string' },
  // Overrides for smoke runs; the defaults are the demo's (src/experiment/defaults.ts).
  'pretrain-steps': { type: 'string' }, 'finetune-steps': { type: 'string' },
  limit: { type: 'string' }, 'test-limit': { type: 'string' },
  ...stepOptions,
} });
const opt = (name: string): string | undefined => (values as Record<string, string | boolean | undefined>)[name] as string | undefined;
const k = Number(values.k);
const seeds = values.seeds!.split(',').map(Number);
const methods = values.methods!.split(',').filter((m) => m);
for (const m of methods) if (m !== 'rotation' && !JOINT.includes(m)) throw new RangeError(`protocol: no PyTorch side for '${m}'; choose rotation or ${JOINT.join(', ')}`);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const c = defaultImageConfig();
c.ks = [k];
c.seeds = seeds;
const entries = ['scratch', ...methods.flatMap((m) => [`${m}-finetune`, `${m}-knn`])];
c.methods = entries;
if (opt('pretrain-steps')) c.pretrain.maxSteps = Number(opt('pretrain-steps'));
const jointSteps: Record<string, number> = {};
for (const m of methods.filter((x) => x !== 'rotation')) {
  const own = opt(`pretrain-steps-${m}`);
  c.methodPretrain![m] = { ...c.methodPretrain![m], ...(own ? { maxSteps: Number(own) } : {}) };
  jointSteps[m] = c.methodPretrain![m]!.maxSteps!;
}
const finetuneSteps = opt('finetune-steps') ? Number(opt('finetune-steps')) : c.finetune.stepsPerK?.[String(k)] ?? c.finetune.steps;
// Scratch and fine-tuning take the same steps on both sides (stepsPerK wins over steps, so set both).
for (const f of [c.finetune, c.scratch]) {
  f.steps = finetuneSteps;
  f.stepsPerK = { ...f.stepsPerK, [String(k)]: finetuneSteps };
}
const limit = opt('limit') ? Number(opt('limit')) : 0;
const testLimit = opt('test-limit') ? Number(opt('test-limit')) : 0;
if (testLimit) c.testLimit = testLimit;
const fullTrain = data.loadFashionMnist({ split: 'train' });
// The first N training images, as protocol_torch.py --limit takes them.
const train = limit ? data.subset(fullTrain, Int32Array.from({ length: Math.min(limit, fullTrain.length) }, (_, i) => i)) : fullTrain;

const t0 = performance.now();
const out = await runImageExperiment({ name: 'fashion-mnist', train, test: data.loadFashionMnist({ split: 'test' }) },
  c, mkdtempSync(join(tmpdir(), 'selfsup-protocol-')));
const selfsupSeconds = (performance.now() - t0) / 1000;

process.stderr.write('protocol: running the PyTorch side...\n');
const args = [join(root, 'bench', 'protocol_torch.py'), '--k', String(k), '--seeds', values.seeds!, '--threads', opt('threads') ?? String(availableParallelism()),
  '--methods', methods.join(','), '--pretrain-steps', String(c.pretrain.maxSteps ?? 300), '--finetune-steps', String(finetuneSteps),
  ...Object.entries(jointSteps).flatMap(([m, s]) => [`--pretrain-steps-${m}`, String(s)]),
  ...(limit ? ['--limit', String(limit)] : []), ...(testLimit ? ['--test-limit', String(testLimit)] : [])];
const t1 = performance.now();
const r = spawnSync(values.python!, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
if (r.status !== 0) throw new Error(`PyTorch side failed: ${r.stderr}`);
const torch = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, { mean: number; std: number; runs: number[] }> & { seconds: number; pretrain: unknown };

const summary: Record<string, unknown> = {
  k, seeds, methods, selfsup_seconds: selfsupSeconds, pytorch_seconds: (performance.now() - t1) / 1000,
  selfsup_pretrain_images_per_s: out.pretrainRates, pytorch_pretrain: torch.pretrain,
};
console.log(`k=${k}, seeds ${seeds.join(',')}: test accuracy, mean ± std over seeds`);
console.log('method               selfsup          PyTorch          difference');
for (const m of entries) {
  const s = out.results.find((x) => x.method === m)!;
  const t = torch[m]!;
  const diff = 100 * (s.mean - t.mean);
  console.log(`${m.padEnd(20)} ${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}    ${(100 * t.mean).toFixed(2)} ± ${(100 * t.std).toFixed(2)}    ${diff >= 0 ? '+' : ''}${diff.toFixed(2)}`);
  summary[m] = { selfsup: s.mean, pytorch: t.mean, difference_points: diff, within_2_points: Math.abs(diff) <= 2 };
}
console.log(JSON.stringify(summary));
