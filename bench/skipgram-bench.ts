// `node dist/bench/skipgram-bench.js`: skip-gram training speed in selfsup and in
// PyTorch (Debian python3-torch, bench/skipgram_torch.py) on the same batches, from
// the same initial vectors, with the same optimizer. The batches come from selfsup's
// own pipeline (subsampling, windows, alias-table negatives) over WordNet glosses and
// fortunes when installed, else a synthetic Zipf corpus. Each side trains in its own
// fresh child process (bench/skipgram-selfsup.ts, bench/skipgram_torch.py), so that
// neither pays for this process's corpus and heap. Prints both rates, the ratio, and
// one JSON line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { manualSeed, setNumThreads, noGrad, torchVersion } from '../src/tensor/index.js';
import { Rng } from '../src/data/random.js';
import {
  readWordNet, synsetText, readFortunes, WordVocab, SkipGram, AliasSampler, noiseDistribution,
  keepProbabilities, skipGramBatches, skipGramPairs, DEFAULT_WORDNET_DIR, DEFAULT_FORTUNE_DIR,
} from '../src/text/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: String(availableParallelism()) },
    steps: { type: 'string', default: '150' },
    warmup: { type: 'string', default: '10' },
    batch: { type: 'string', default: '4096' },
    negatives: { type: 'string', default: '5' },
    dim: { type: 'string', default: '100' },
    window: { type: 'string', default: '5' },
    optimizer: { type: 'string', default: 'sparse-adam' },
    lr: { type: 'string', default: '0.03' },
    rounds: { type: 'string', default: '2' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const threads = Number(values.threads);
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const batch = Number(values.batch);
const negatives = Number(values.negatives);
const dim = Number(values.dim);
const lr = Number(values.lr);
const optimizer = values.optimizer!;
if (optimizer !== 'sgd' && optimizer !== 'sparse-adam') throw new Error(`--optimizer must be sgd or sparse-adam, got ${optimizer}`);
setNumThreads(threads);

/** WordNet glosses and fortunes when installed, else Zipf-distributed words. */
function corpusTexts(): { name: string; texts: string[] } {
  if (existsSync(DEFAULT_WORDNET_DIR)) {
    const texts = readWordNet().map(synsetText);
    if (existsSync(DEFAULT_FORTUNE_DIR)) texts.push(...readFortunes().texts);
    return { name: 'WordNet glosses + fortunes', texts };
  }
  const rng = new Rng(0);
  const words = Array.from({ length: 20000 }, (_, i) => `w${i}`);
  const texts = Array.from({ length: 100000 }, () => Array.from({ length: 15 }, () => words[Math.floor(20000 ** rng.next()) - 1]!).join(' '));
  return { name: 'synthetic Zipf corpus (install wordnet-base and fortunes for the real one)', texts };
}

const { name, texts } = corpusTexts();
const vocab = WordVocab.build(texts, { minCount: 3 });
const corpus = vocab.encodeCorpus(texts);
const keep = keepProbabilities(vocab.counts, 1e-4);
const noise = noiseDistribution(vocab.counts);
noise[0] = 0;
const config = { window: Number(values.window), negatives, batchSize: batch, seed: 0 };
const pairsPerEpoch = skipGramPairs(corpus, new Rng(0, 0), { window: config.window, keep }).centers.length;
const wordsPerPair = corpus.ids.length / pairsPerEpoch;
process.stderr.write(`bench: ${name}: ${corpus.ids.length} words, vocabulary ${vocab.size}, ${pairsPerEpoch} pairs per epoch; ${steps} steps of ${batch} pairs, ${negatives} negatives, ${dim}-d, ${optimizer}, ${threads} threads\n`);

// The batches, written for PyTorch and kept for selfsup.
const data = mkdtempSync(join(tmpdir(), 'selfsup-skipgram-bench-'));
const centers = new BigInt64Array(steps * batch);
const contexts = new BigInt64Array(steps * batch);
const negs = new BigInt64Array(steps * batch * negatives);
using sampler = new AliasSampler(noise);
let s = 0;
for (const b of skipGramBatches(corpus, keep, sampler, config, 0, steps)) {
  centers.set(b.centers.data() as BigInt64Array, s * batch);
  contexts.set(b.contexts.data() as BigInt64Array, s * batch);
  negs.set(b.negatives.data() as BigInt64Array, s * batch * negatives);
  b[Symbol.dispose]();
  s++;
}
manualSeed(0);
const init = new SkipGram(vocab.size, dim);
noGrad(() => init.outEmbed.weight.normal_(0, 0.01)); // non-zero, so both sides do the full work from step 1
const inInit = init.inEmbed.weight.data() as Float32Array;
const outInit = init.outEmbed.weight.data() as Float32Array;
init.dispose();
writeFileSync(join(data, 'centers.bin'), centers);
writeFileSync(join(data, 'contexts.bin'), contexts);
writeFileSync(join(data, 'negatives.bin'), negs);
writeFileSync(join(data, 'in.bin'), inInit);
writeFileSync(join(data, 'out.bin'), outInit);
writeFileSync(join(data, 'meta.json'), JSON.stringify({ steps, warmup, batch, negatives, vocab: vocab.size, dim, optimizer, lr }));

interface Side { impl: string; pairs_per_s: number; seconds: number; steps: number; first_loss: number; last_loss: number }

/** Runs one side in a fresh child process and parses its JSON line. */
function runChild(label: string, command: string, args: string[]): Side {
  const r = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
  if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}): ${r.stderr || r.error}`);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`${label} printed no result:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line) as Side;
}

function runSelfsup(): Side {
  return runChild('selfsup', process.execPath, [join(here, 'skipgram-selfsup.js'), '--data', data, '--threads', String(threads)]);
}

function runPytorch(): Side {
  return runChild('PyTorch', values.python!, [join(root, 'bench', 'skipgram_torch.py'), '--data', data, '--threads', String(threads)]);
}

// Alternate the two so that background load affects both alike; keep each side's best round.
const best = (a: Side | null, b: Side): Side => (a && a.pairs_per_s >= b.pairs_per_s ? a : b);
let selfsup: Side | null = null;
let pytorch: Side | null = null;
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    process.stderr.write(`bench: round ${round + 1}: selfsup...\n`);
    selfsup = best(selfsup, runSelfsup());
    process.stderr.write(`bench: round ${round + 1}: PyTorch...\n`);
    pytorch = best(pytorch, runPytorch());
  }
} finally {
  rmSync(data, { recursive: true, force: true });
}
const a = selfsup!;
const b = pytorch!;
console.log(`Skip-gram training step on ${name}, ${threads} threads: batch ${batch} pairs, ${negatives} negatives, ${dim}-d, ${optimizer}`);
console.log('implementation      pairs/s     words/s   first loss   last loss');
for (const side of [a, b]) {
  console.log(`${side.impl.padEnd(14)} ${side.pairs_per_s.toFixed(0).padStart(10)} ${(side.pairs_per_s * wordsPerPair).toFixed(0).padStart(11)} ${side.first_loss.toFixed(4).padStart(12)} ${side.last_loss.toFixed(4).padStart(11)}`);
}
console.log(`selfsup / PyTorch speed: ${(a.pairs_per_s / b.pairs_per_s).toFixed(3)}   (words/s counts corpus words read, ${wordsPerPair.toFixed(3)} per pair, as word2vec does)`);
console.log(JSON.stringify({
  threads, batch, negatives, dim, optimizer, libtorch: torchVersion,
  selfsup_pairs_per_s: a.pairs_per_s, pytorch_pairs_per_s: b.pairs_per_s,
  selfsup_words_per_s: a.pairs_per_s * wordsPerPair, pytorch_words_per_s: b.pairs_per_s * wordsPerPair,
  ratio_vs_pytorch: a.pairs_per_s / b.pairs_per_s,
  selfsup_last_loss: a.last_loss, pytorch_last_loss: b.last_loss,
}));
