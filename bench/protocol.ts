// `node dist/bench/protocol.js`: the demo's label-efficiency protocol (rotation
// pretraining, then k labels per class, scratch vs rotation-finetune, 5 seeds) in
// selfsup and in PyTorch (bench/protocol_torch.py) in one run; prints both, the
// difference in points, and one JSON line. The two should agree within 2 points.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { data } from '../src/index.js';
import { runImageExperiment } from '../src/experiment/image.js';
import { defaultImageConfig } from '../src/experiment/defaults.js';

const { values } = parseArgs({ options: {
  k: { type: 'string', default: '10' }, seeds: { type: 'string', default: '0,1,2,3,4' },
  python: { type: 'string', default: '/usr/bin/python3' },
} });
const k = Number(values.k);
const seeds = values.seeds!.split(',').map(Number);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const c = defaultImageConfig();
c.ks = [k];
c.seeds = seeds;
c.methods = ['scratch', 'rotation-finetune'];
const t0 = performance.now();
const out = await runImageExperiment({
  name: 'fashion-mnist', train: data.loadFashionMnist({ split: 'train' }), test: data.loadFashionMnist({ split: 'test' }),
}, c, mkdtempSync(join(tmpdir(), 'selfsup-protocol-')));
const selfsupSeconds = (performance.now() - t0) / 1000;

process.stderr.write('protocol: running the PyTorch side...\n');
const r = spawnSync(values.python!, [join(root, 'bench', 'protocol_torch.py'), '--k', String(k), '--seeds', values.seeds!, '--threads', String(availableParallelism()),
  '--pretrain-steps', String(c.pretrain.maxSteps ?? 300), '--finetune-steps', String(c.finetune.stepsPerK?.[String(k)] ?? c.finetune.steps)], { encoding: 'utf8' });
if (r.status !== 0) throw new Error(`PyTorch side failed: ${r.stderr}`);
const torch = JSON.parse(r.stdout.trim().split('\n').pop()!);

const summary: Record<string, unknown> = { k, seeds, selfsup_seconds: selfsupSeconds, pytorch_seconds: torch.seconds };
console.log(`k=${k}, seeds ${seeds.join(',')}: test accuracy, mean ± std over seeds`);
console.log('method               selfsup          PyTorch          difference');
for (const m of ['scratch', 'rotation-finetune']) {
  const s = out.results.find((x) => x.method === m)!;
  const t = torch[m];
  const diff = 100 * (s.mean - t.mean);
  console.log(`${m.padEnd(20)} ${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}    ${(100 * t.mean).toFixed(2)} ± ${(100 * t.std).toFixed(2)}    ${diff >= 0 ? '+' : ''}${diff.toFixed(2)}`);
  summary[m] = { selfsup: s.mean, pytorch: t.mean, difference_points: diff };
}
console.log(JSON.stringify(summary));
