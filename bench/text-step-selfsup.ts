// The selfsup side of the masked-LM step benchmark (see text-step.ts and text_step.py): the
// registered MaskedLanguageModel at the batch file's config, its own AdamW groups, and the
// trainer's step order (loss, zeroGrad, backward, clip at 1, item, optimizer step) on the
// file's masked batches. Prints one JSON line.
// node dist/bench/text-step-selfsup.js --file batches.json [--steps 60] [--warmup 10] [--profile]
// --profile: after the timed steps, as many more under the op profiler (src/tensor/profiler.ts); adds `ops` (top 30, ms per step).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { tidy, manualSeed, tensor, getNumThreads, memory, profiler, Generator as TorchGenerator, type Tensor } from '../src/tensor/index.js';
import { clipGradNorm_ } from '../src/optim/index.js';
import { MaskedLanguageModel, defaultMlmConfig } from '../src/ssl/methods/masked-lm.js';

const { values } = parseArgs({ options: { file: { type: 'string' }, steps: { type: 'string', default: '60' }, warmup: { type: 'string', default: '10' }, profile: { type: 'boolean', default: false } } });
if (!values.file) throw new Error('text-step-selfsup: --file FILE is required');
const steps = Number(values.steps);
const warmup = Number(values.warmup);
interface BatchFile {
  vocab_size: number; counts: number[];
  config: { d_model: number; heads: number; layers: number; dim_feedforward: number; dropout: number; max_len: number; lr: number; weight_decay: number; embedding_lr_scale: number; embedding_weight_decay: number; sampled_negatives: number; tie_output: boolean };
  batches: { shape: number[]; input: number[]; labels: number[] }[];
}
const f = JSON.parse(readFileSync(values.file, 'utf8')) as BatchFile;
const fc = f.config;
const config = {
  ...defaultMlmConfig(), dModel: fc.d_model, heads: fc.heads, layers: fc.layers, dimFeedforward: fc.dim_feedforward, dropout: fc.dropout, maxLen: fc.max_len,
  lr: fc.lr, weightDecay: fc.weight_decay, embeddingLrScale: fc.embedding_lr_scale, embeddingWeightDecay: fc.embedding_weight_decay,
  sampledNegatives: fc.sampled_negatives, tieOutput: fc.tie_output,
};

manualSeed(0);
const model = new MaskedLanguageModel(f.vocab_size, config, { tokenCounts: f.counts });
model.train();
const optimizer = model.makeOptimizer({ kind: 'adamw', lr: config.lr, weightDecay: config.weightDecay });
const generator = new TorchGenerator(1);
const batches = f.batches.map((b) => ({
  input: tensor(Int32Array.from(b.input), { shape: b.shape, dtype: 'int64' }),
  labels: tensor(Int32Array.from(b.labels), { shape: b.shape, dtype: 'int64' }),
}));
const trainable = model.parameters().filter((p) => p.requiresGrad);

const phases = { forward: 0, backward: 0, clip: 0, optimizer: 0 };
const timed = <T>(key: keyof typeof phases, fn: () => T): T => {
  const t = performance.now();
  try { return fn(); } finally { phases[key] += performance.now() - t; }
};
function step(i: number): number {
  const b = batches[i % batches.length]!;
  // The order of train/trainer.ts's trainStep.
  return tidy(() => {
    const out = timed('forward', () => model.loss(b.input, b.labels, { sampled: model.sampled, generator }));
    optimizer.zeroGrad();
    timed('backward', () => (out.loss as Tensor).backward());
    timed('clip', () => clipGradNorm_(trainable, 1));
    const loss = out.loss.item();
    timed('optimizer', () => optimizer.step());
    return loss;
  });
}

const losses: number[] = [];
for (let i = 0; i < warmup; i++) losses.push(step(i));
for (const k of Object.keys(phases) as (keyof typeof phases)[]) phases[k] = 0;
const tensorsBefore = memory().numTensors;
const t0 = performance.now();
for (let i = warmup; i < warmup + steps; i++) losses.push(step(i));
const seconds = (performance.now() - t0) / 1000;
const result: Record<string, unknown> = {
  impl: 'selfsup', threads: getNumThreads(), steps, warmup, seconds, steps_per_s: steps / seconds, ms_per_step: (1000 * seconds) / steps,
  phases_ms: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, v / steps])),
  first_loss: losses[0], last_loss: losses[losses.length - 1], losses,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024, leaked_tensors: memory().numTensors - tensorsBefore,
};
if (values.profile) {
  const { profile } = profiler.run(() => { for (let i = warmup + steps; i < warmup + 2 * steps; i++) step(i); });
  result.profile_wall_ms = profile.wallMs / steps;
  result.ops_self_ms = profile.rows.reduce((a, r) => a + r.selfMs, 0) / steps;
  result.ops = profile.rows.slice(0, 30).map((r) => ({ name: r.name, calls: r.calls / steps, selfMs: r.selfMs / steps, totalMs: r.totalMs / steps }));
}
console.log(JSON.stringify(result));
for (const b of batches) { b.input.dispose(); b.labels.dispose(); }
optimizer.dispose();
model.dispose();
