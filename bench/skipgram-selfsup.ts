// The selfsup side of the skip-gram benchmark (see skipgram-bench.ts): reads the
// batches and initial vectors the parent wrote, trains the same steps in a fresh
// process (as the PyTorch side does, so neither pays for the parent's corpus and
// heap), and prints one JSON line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setNumThreads, tidy, noGrad, tensor } from '../src/tensor/index.js';
import { SGD } from '../src/optim/index.js';
import { SkipGram, SparseAdam } from '../src/text/index.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, threads: { type: 'string', default: '2' } } });
if (!values.data) throw new Error('usage: node dist/bench/skipgram-selfsup.js --data DIR [--threads N]');
const data = values.data;
setNumThreads(Number(values.threads));
const meta = JSON.parse(readFileSync(join(data, 'meta.json'), 'utf8')) as
  { steps: number; warmup: number; batch: number; negatives: number; vocab: number; dim: number; optimizer: string; lr: number };
const { steps, warmup, batch, negatives, vocab, dim, optimizer, lr } = meta;
const int64 = (name: string): BigInt64Array => { const b = readFileSync(join(data, name)); return new BigInt64Array(b.buffer, b.byteOffset, b.byteLength / 8); };
const float32 = (name: string): Float32Array => { const b = readFileSync(join(data, name)); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };

const model = new SkipGram(vocab, dim);
noGrad(() => {
  model.inEmbed.weight.copy_(tensor(float32('in.bin'), { shape: [vocab, dim] }));
  model.outEmbed.weight.copy_(tensor(float32('out.bin'), { shape: [vocab, dim] }));
});
const opt = optimizer === 'sgd' ? new SGD(model.parameters(), { lr: lr * batch }) : new SparseAdam(model.parameters(), { lr });
const c = tensor(int64('centers.bin'), { shape: [steps, batch] });
const x = tensor(int64('contexts.bin'), { shape: [steps, batch] });
const n = tensor(int64('negatives.bin'), { shape: [steps, batch, negatives] });
const losses: number[] = [];
let t0 = performance.now();
for (let i = 0; i < steps; i++) {
  if (i === warmup) t0 = performance.now();
  losses.push(tidy(() => {
    const loss = model.loss(c.select(0, i), x.select(0, i), n.select(0, i));
    opt.zeroGrad();
    loss.backward();
    opt.step();
    return loss.item();
  }));
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  impl: 'selfsup', steps: steps - warmup, seconds, pairs_per_s: ((steps - warmup) * batch) / seconds,
  first_loss: losses[0], last_loss: losses[losses.length - 1],
}));
