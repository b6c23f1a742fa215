// `node dist/bench/embed-bench.js`: embedding throughput of one encoder (the small CNN,
// 28x28 grey) on the same Fashion-MNIST test images in selfsup (evaluation.embedSource),
// in onnxruntime-node (the file `selfsup export` writes) and in PyTorch (the twin from
// scripts/selfsup_encoder.py), each in its own child process, alternating rounds; prints
// a table of images/s with ratios, then one JSON line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { manualSeed } from '../src/tensor/index.js';
import { createBackbone } from '../src/models/index.js';
import { saveEncoder } from '../src/io/encoder-files.js';
import { exportOnnx } from '../src/io/onnx.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { values } = parseArgs({ options: {
  images: { type: 'string', default: '5000' }, batch: { type: 'string', default: '256' }, rounds: { type: 'string', default: '2' },
  threads: { type: 'string', default: String(availableParallelism()) }, python: { type: 'string', default: '/usr/bin/python3' },
} });
const norm = { mean: [0.2860], std: [0.3530] };
const dir = mkdtempSync(join(tmpdir(), 'selfsup-embed-bench-'));
manualSeed(0);
const encoder = createBackbone('small-cnn', { inChannels: 1 });
encoder.eval();
saveEncoder(dir, encoder, { backbone: 'small-cnn', width: null, inChannels: 1, imageShape: [1, 28, 28], norm, method: 'none', data: 'fashion-mnist', rotationAccuracy: null });
exportOnnx(encoder, join(dir, 'encoder.onnx'), { imageShape: [1, 28, 28], norm });
encoder.dispose();

interface Side { impl: string; img_per_s: number; peak_rss_mb: number; seconds: number; checksum: number }
const args = ['--encoder', dir, '--images', values.images!, '--batch', values.batch!, '--threads', values.threads!];
const env = { ...process.env, SELFSUP_NUM_THREADS: values.threads!, OMP_NUM_THREADS: values.threads! };
function run(label: string, cmd: string, a: string[]): Side {
  process.stderr.write(`embed-bench: ${label}...\n`);
  const r = spawnSync(cmd, a, { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as Side;
}
const sides: Record<string, Side | null> = { selfsup: null, onnxruntime: null, pytorch: null };
const keepBest = (k: string, s: Side): void => { if (!sides[k] || sides[k]!.img_per_s < s.img_per_s) sides[k] = s; };
for (let r = 0; r < Number(values.rounds); r++) {
  keepBest('selfsup', run('selfsup', process.execPath, [join(here, 'embed-child.js'), '--impl', 'selfsup', ...args]));
  keepBest('onnxruntime', run('onnxruntime-node', process.execPath, [join(here, 'embed-child.js'), '--impl', 'onnxruntime', ...args]));
  keepBest('pytorch', run('PyTorch', values.python!, [join(root, 'bench', 'embed_torch.py'), ...args]));
}
const s = sides.selfsup!, o = sides.onnxruntime!, p = sides.pytorch!;
console.log(`Embedding ${values.images} Fashion-MNIST images with the small CNN (batch ${values.batch}, ${values.threads} threads), best of ${values.rounds} round(s)`);
console.log('implementation        images/s   peak RSS (MB)');
for (const [name, x] of [['selfsup', s], ['onnxruntime-node', o], ['PyTorch', p]] as const) console.log(`${name.padEnd(20)}${x.img_per_s.toFixed(0).padStart(10)}${x.peak_rss_mb.toFixed(0).padStart(16)}`);
console.log(`selfsup / PyTorch: ${(s.img_per_s / p.img_per_s).toFixed(2)}x; selfsup / onnxruntime-node: ${(s.img_per_s / o.img_per_s).toFixed(2)}x`);
console.log(JSON.stringify({ bench: 'embed', images: Number(values.images), batch: Number(values.batch), threads: Number(values.threads),
  selfsup_img_per_s: s.img_per_s, onnxruntime_img_per_s: o.img_per_s, pytorch_img_per_s: p.img_per_s,
  ratio_vs_pytorch: s.img_per_s / p.img_per_s, ratio_vs_onnxruntime: s.img_per_s / o.img_per_s,
  checksums: { selfsup: s.checksum, onnxruntime: o.checksum, pytorch: p.checksum } }));
