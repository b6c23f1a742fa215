// `node dist/bench/text-step.js`: one masked-LM pretraining step (forward through the text
// transformer, BERT's head at the masked positions, the sampled softmax over 1,024 shared
// negatives, backward, gradient clipping at 1, AdamW in its two groups) in selfsup
// (text-step-selfsup.ts) and in PyTorch (text_step.py, Debian's python3-torch), at the text
// experiment's settings (experiment/text.ts defaultTextConfig: d=128, 1 layer, 4 heads, batch
// 32, a 16,000-token BPE vocabulary) on the same masked batches of its corpus (WordNet glosses
// and fortunes). This process tokenises and masks the batches once and writes them to a file;
// each side trains from that file in its own fresh child process (so peak memory is per
// implementation), the two alternating so that background load hits both alike, under the
// same OpenMP wait policy and malloc settings (as methods-step.ts). Prints a table, the phases,
// and one JSON line with `ratio_vs_pytorch` and `peak_rss_ratio_vs_pytorch`.
// node dist/bench/text-step.js [--steps 60] [--warmup 10] [--rounds 2] [--threads 2] [--tokenizer bpe.json] [--profile]
// --profile: each child also runs as many steps again under an op profiler (selfsup's, src/tensor/profiler.ts;
// torch.autograd.profiler on the PyTorch side) and the top 8 ops by self time are printed for each side.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { matchedEnv, runChild } from './children.js';
import { opTable, type Profiled } from './op-table.js';
import { manualSeed, torchVersion } from '../src/tensor/index.js';
import { defaultTextConfig } from '../src/experiment/text.js';
import { readWordNet, synsetText, readFortunes, BpeTokenizer } from '../src/text/index.js';
import { maskedLmData, MaskedTokenSource } from '../src/ssl/methods/masked-lm.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '60' }, warmup: { type: 'string', default: '10' }, rounds: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' }, tokenizer: { type: 'string' }, python: { type: 'string', default: '/usr/bin/python3' },
    'pytorch-defaults': { type: 'boolean', default: false }, profile: { type: 'boolean', default: false },
  },
});
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const rounds = Math.max(1, Number(values.rounds));
const threads = values.threads!;
const MATCHED_ENV = matchedEnv(values['pytorch-defaults']!);

// ---- the batches: the experiment's corpus, tokenizer, masking and length buckets ----
const c = defaultTextConfig();
const mlm = c.mlm;
const texts = [...readWordNet(c.wordnetDir).map(synsetText), ...(c.fortuneDir ? readFortunes(c.fortuneDir).texts : [])].filter((t) => t.length > 0);
const t0 = performance.now();
const tokenizer = values.tokenizer ? BpeTokenizer.load(values.tokenizer) : BpeTokenizer.train(texts, { vocabSize: c.bpe.vocabSize });
process.stderr.write(`text-step: ${texts.length} documents; BPE of ${tokenizer.size} tokens ${values.tokenizer ? 'loaded' : 'trained'} in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
const data = maskedLmData(tokenizer, texts, mlm);
if (!data.counts) throw new Error('text-step: the masked LM config has no sampled softmax; this bench times the experiment\'s setting');
manualSeed(0);
// Enough distinct batches that the timed steps see the usual mix of lengths (the buckets are
// shuffled, so consecutive batches differ in length as in training).
const BATCHES = 32;
const batches: { shape: number[]; input: number[]; labels: number[] }[] = [];
{
  using source = new MaskedTokenSource(data.train, tokenizer.size, tokenizer.firstRegularId, mlm, data.counts);
  for (const b of source.batches(0)) {
    using batch = b;
    const [input, labels] = batch.tensors as [NonNullable<typeof batch.tensors[0]>, NonNullable<typeof batch.tensors[1]>];
    batches.push({ shape: input.shape, input: input.dataNumbers(), labels: labels.dataNumbers() });
    if (batches.length === BATCHES) break;
  }
}
const meanLen = batches.reduce((s, b) => s + b.shape[1]!, 0) / batches.length;
const maskedPerBatch = batches.reduce((s, b) => s + b.labels.filter((l) => l >= 0).length, 0) / batches.length;
const dir = mkdtempSync(join(tmpdir(), 'selfsup-text-step-'));
const file = join(dir, 'batches.json');
writeFileSync(file, JSON.stringify({
  vocab_size: tokenizer.size, counts: Array.from(data.counts),
  config: {
    d_model: mlm.dModel, heads: mlm.heads, layers: mlm.layers, dim_feedforward: mlm.dimFeedforward, dropout: mlm.dropout, max_len: mlm.maxLen,
    lr: mlm.lr, weight_decay: mlm.weightDecay, embedding_lr_scale: mlm.embeddingLrScale ?? 1,
    embedding_weight_decay: mlm.embeddingWeightDecay ?? mlm.weightDecay, sampled_negatives: mlm.sampledNegatives, tie_output: mlm.tieOutput,
  },
  batches,
}));

type Phases = Record<'forward' | 'backward' | 'clip' | 'optimizer', number>;
interface Side extends Profiled { impl: string; steps_per_s: number; ms_per_step: number; peak_rss_mb: number; first_loss: number; last_loss: number; phases_ms: Phases }

const run = (label: string, cmd: string, args: string[]): Side => runChild<Side>('text-step', label, cmd, args, MATCHED_ENV, threads);

const common = ['--file', file, '--steps', String(steps), '--warmup', String(warmup), ...(values.profile ? ['--profile'] : [])];
const best = (a: Side | null, b: Side): Side => (a && a.steps_per_s >= b.steps_per_s ? a : b);
let selfsup: Side | null = null;
let pytorch: Side | null = null;
const loadBefore = loadavg();
try {
  const runSelfsup = (): void => { selfsup = best(selfsup, run('masked LM selfsup', process.execPath, [join(here, 'text-step-selfsup.js'), ...common])); };
  const runPytorch = (): void => { pytorch = best(pytorch, run('masked LM PyTorch', values.python!, [join(root, 'bench', 'text_step.py'), '--threads', threads, ...common])); };
  for (let r = 0; r < rounds; r++) (r % 2 === 0 ? [runSelfsup, runPytorch] : [runPytorch, runSelfsup]).forEach((f) => f());
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const loadAfter = loadavg();
const s = selfsup as unknown as Side;
const p = pytorch as unknown as Side;
const batchSize = mlm.batchSize;

console.log(`Masked-LM pretraining step, batch ${batchSize} sequences (mean padded length ${meanLen.toFixed(1)} tokens, ${maskedPerBatch.toFixed(0)} masked), ` +
  `vocabulary ${tokenizer.size}, ${threads} threads, best of ${rounds} run(s) of ${steps} steps after ${warmup} warm-up; libtorch ${torchVersion}`);
console.log('side      sequences/s  ms/step  peak RSS MB  first loss  last loss');
for (const [name, r] of [['selfsup', s], ['PyTorch', p]] as const) {
  console.log(`${name.padEnd(8)} ${(r.steps_per_s * batchSize).toFixed(0).padStart(12)} ${r.ms_per_step.toFixed(2).padStart(8)} ${r.peak_rss_mb.toFixed(0).padStart(12)} ${r.first_loss.toFixed(3).padStart(11)} ${r.last_loss.toFixed(3).padStart(10)}`);
}
console.log('phase      selfsup ms  PyTorch ms');
for (const k of Object.keys(s.phases_ms) as (keyof Phases)[]) {
  console.log(`${k.padEnd(10)} ${s.phases_ms[k].toFixed(2).padStart(10)} ${p.phases_ms[k].toFixed(2).padStart(11)}`);
}
if (values.profile) {
  console.log(opTable('masked LM selfsup', s));
  console.log(opTable('masked LM PyTorch', p));
}
console.log(`load average before ${loadBefore[0]!.toFixed(2)}, after ${loadAfter[0]!.toFixed(2)}`);
console.log(JSON.stringify({
  bench: 'masked-lm-step', threads: Number(threads), batch: batchSize, vocab: tokenizer.size, mean_padded_length: meanLen, masked_per_batch: maskedPerBatch,
  selfsup_sequences_per_s: s.steps_per_s * batchSize, pytorch_sequences_per_s: p.steps_per_s * batchSize,
  ratio_vs_pytorch: s.steps_per_s / p.steps_per_s,
  selfsup_peak_rss_mb: s.peak_rss_mb, pytorch_peak_rss_mb: p.peak_rss_mb, peak_rss_ratio_vs_pytorch: s.peak_rss_mb / p.peak_rss_mb,
  selfsup_first_loss: s.first_loss, pytorch_first_loss: p.first_loss, selfsup_phases_ms: s.phases_ms, pytorch_phases_ms: p.phases_ms,
  load_before: loadBefore[0], load_after: loadAfter[0],
}));
