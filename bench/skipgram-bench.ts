// `node dist/bench/skipgram-bench.js`: skip-gram training speed and synonym accuracy of
// selfsup's fused engine, fastText (Debian `fasttext`, word2vec mode: -minn 0 -maxn 0) and
// gensim (Debian python3-gensim), with the same settings on the same corpus file; then,
// unless --batched no, selfsup's batched step against PyTorch on the same batches.
//
// The corpus: WordNet glosses and fortunes as the text experiment builds it (the synonym
// test's synsets held out), tokenised once by selfsup's word splitter and written to a temp
// file, one document per line. Each tool trains in its own fresh child process from that
// file and builds its own vocabulary (min count 3).
//
// Words/s, the same for all three: the corpus file's words (every token, rare ones too, no
// end-of-line tokens) × epochs / training wall time. Training time excludes the vocabulary
// build: selfsup, the trainSkipGram call (bench/skipgram-fused-child.ts); gensim, the
// model.train call (bench/skipgram_gensim.py); fastText, which has no such hook, from its
// stderr line "Number of labels" (printed once the vocabulary is read) to its last progress
// line (printed when its threads have joined, before it saves the model).
//
// Accuracy: synonym AUC (as the text experiment: cosine similarity of WordNet synonym pairs
// against random pairs, src/text/synonyms.ts) on each tool's input vectors, over the pairs
// whose words all three kept; selfsup's input + output sum (what the experiment uses) too.
//
// The batched comparison (bench/skipgram-selfsup.ts, bench/skipgram_torch.py): selfsup's
// batched path and PyTorch on the same batches, from the same initial vectors, with the same
// optimizer, each in a fresh child process.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { manualSeed, setNumThreads, noGrad, torchVersion } from '../src/tensor/index.js';
import { Rng } from '../src/data/random.js';
import {
  readWordNet, synsetText, readFortunes, WordVocab, SkipGram, AliasSampler, noiseDistribution, splitWords, synonymTest, rocAuc,
  keepProbabilities, skipGramBatches, skipGramPairs, DEFAULT_WORDNET_DIR, DEFAULT_FORTUNE_DIR, type SynonymTest,
} from '../src/text/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: String(availableParallelism()) },
    // The three-way comparison (the settings).
    dim: { type: 'string', default: '100' },
    window: { type: 'string', default: '3' },
    negatives: { type: 'string', default: '5' },
    epochs: { type: 'string', default: '5' },
    'min-count': { type: 'string', default: '3' },
    subsample: { type: 'string', default: '1e-4' },
    lr: { type: 'string', default: '0.05' },
    rounds: { type: 'string', default: '2' },
    fasttext: { type: 'string', default: 'fasttext' },
    python: { type: 'string', default: '/usr/bin/python3' },
    // The batched step against PyTorch.
    batched: { type: 'string', default: 'yes' },
    steps: { type: 'string', default: '150' },
    warmup: { type: 'string', default: '10' },
    batch: { type: 'string', default: '4096' },
    optimizer: { type: 'string', default: 'sparse-adam' },
    'batched-lr': { type: 'string', default: '0.03' },
  },
});
const threads = Number(values.threads);
const dim = Number(values.dim);
const negatives = Number(values.negatives);
const epochs = Number(values.epochs);
const rounds = Number(values.rounds);
setNumThreads(threads);

interface CorpusText { name: string; texts: string[]; synonyms: SynonymTest | null }

/** WordNet glosses and fortunes without the synonym test's synsets (as the text experiment), else Zipf-distributed words. */
function corpusTexts(): CorpusText {
  if (existsSync(DEFAULT_WORDNET_DIR)) {
    const synsets = readWordNet();
    const fortunes = existsSync(DEFAULT_FORTUNE_DIR) ? readFortunes().texts : [];
    const full = WordVocab.build([...synsets.map(synsetText), ...fortunes], { minCount: 1 });
    const synonyms = synonymTest(synsets, (w) => (full.has(w) ? full.counts[full.id(w)]! : 0), { pairs: 500, minCount: 10, seed: 0 });
    const heldOut = new Set(synonyms.synsets);
    const texts = [...synsets.filter((s) => !heldOut.has(s)).map(synsetText), ...fortunes].filter((t) => t.length > 0);
    return { name: `WordNet glosses${fortunes.length ? ' + fortunes' : ''} (${heldOut.size} synonym-test synsets held out)`, texts, synonyms };
  }
  const rng = new Rng(0);
  const words = Array.from({ length: 20000 }, (_, i) => `w${i}`);
  const texts = Array.from({ length: 100000 }, () => Array.from({ length: 15 }, () => words[Math.floor(20000 ** rng.next()) - 1]!).join(' '));
  return { name: 'synthetic Zipf corpus (install wordnet-base and fortunes for the real one)', texts, synonyms: null };
}

/** Word vectors from a word2vec text file (fastText's .vec, gensim's save_word2vec_format). */
function readVec(path: string): Map<string, Float32Array> {
  const lines = readFileSync(path, 'utf8').split('\n');
  const out = new Map<string, Float32Array>();
  for (let i = 1; i < lines.length; i++) {
    const parts = lines[i]!.trimEnd().split(' ');
    if (parts.length < 2) continue;
    out.set(parts[0]!, Float32Array.from(parts.slice(1), Number));
  }
  return out;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  return ab / Math.sqrt(aa * bb + 1e-30);
}

/** Synonym AUC of each vector set over the pairs whose words every set has. */
function synonymAucs(test: SynonymTest, sets: Record<string, Map<string, Float32Array>>): { aucs: Record<string, number>; pairs: [number, number] } {
  const all = Object.values(sets);
  const usable = (p: { a: string; b: string }): boolean => all.every((m) => m.has(p.a) && m.has(p.b));
  const syn = test.synonyms.filter(usable);
  const rand = test.random.filter(usable);
  const aucs: Record<string, number> = {};
  for (const [k, m] of Object.entries(sets)) {
    aucs[k] = rocAuc(syn.map((p) => cosine(m.get(p.a)!, m.get(p.b)!)), rand.map((p) => cosine(m.get(p.a)!, m.get(p.b)!)));
  }
  return { aucs, pairs: [syn.length, rand.length] };
}

interface Trained { impl: string; seconds: number }

function lastJson(label: string, stdout: string, stderr: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`${label} printed no result:\n${stdout}\n${stderr}`);
  return JSON.parse(line) as Record<string, unknown>;
}

const childEnv = { ...process.env, OMP_NUM_THREADS: String(threads) };
const shared = (): string[] => ['--threads', String(threads), '--dim', String(dim), '--window', values.window!, '--negatives', String(negatives),
  '--epochs', String(epochs), '--min-count', values['min-count']!, '--subsample', values.subsample!, '--lr', values.lr!];

function runSelfsupFused(corpusFile: string, out: string): Trained {
  const r = spawnSync(process.execPath, [join(here, 'skipgram-fused-child.js'), '--corpus', corpusFile, '--out', out, ...shared()], { encoding: 'utf8', env: childEnv });
  if (r.status !== 0) throw new Error(`selfsup failed (exit ${r.status}): ${r.stderr || r.error}`);
  return { impl: 'selfsup', seconds: lastJson('selfsup', r.stdout, r.stderr).seconds as number };
}

function runGensim(corpusFile: string, out: string): Trained {
  const r = spawnSync(values.python!, [join(root, 'bench', 'skipgram_gensim.py'), '--corpus', corpusFile, '--out', out, ...shared()], { encoding: 'utf8', env: childEnv });
  if (r.status !== 0) throw new Error(`gensim failed (exit ${r.status}): ${r.stderr || r.error}`);
  return { impl: 'gensim', seconds: lastJson('gensim', r.stdout, r.stderr).seconds as number };
}

/** fastText prints no training time: its stderr is timestamped as it arrives (see the file comment). */
function runFasttext(corpusFile: string, out: string): Promise<Trained> {
  const args = ['skipgram', '-input', corpusFile, '-output', out, '-dim', String(dim), '-ws', values.window!, '-neg', String(negatives),
    '-epoch', String(epochs), '-minCount', values['min-count']!, '-t', values.subsample!, '-lr', values.lr!, '-thread', String(threads),
    '-minn', '0', '-maxn', '0', '-verbose', '2'];
  return new Promise((resolve, reject) => {
    const child = spawn(values.fasttext!, args, { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    let start = NaN;
    let lastProgress = NaN;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const now = performance.now();
      log += chunk;
      if (Number.isNaN(start) && log.includes('Number of labels')) start = now;
      if (chunk.includes('Progress:')) lastProgress = now;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`fastText failed (exit ${code}): ${log.slice(-2000)}`));
      if (Number.isNaN(start) || Number.isNaN(lastProgress)) return reject(new Error(`fastText: could not find its vocabulary and progress lines:\n${log.slice(-2000)}`));
      resolve({ impl: 'fasttext', seconds: (lastProgress - start) / 1000 });
    });
  });
}

const { name, texts, synonyms } = corpusTexts();
const work = mkdtempSync(join(tmpdir(), 'selfsup-skipgram-bench-'));
try {
  // The corpus, tokenised once: every tool reads the same words.
  const lines = texts.map((t) => splitWords(t).join(' ')).filter((l) => l.length > 0);
  const corpusFile = join(work, 'corpus.txt');
  writeFileSync(corpusFile, lines.join('\n') + '\n');
  const corpusWords = lines.reduce((n, l) => n + l.split(' ').length, 0);
  process.stderr.write(`bench: ${name}: ${lines.length} documents, ${corpusWords} words; ${dim}-d, window ${values.window}, ${negatives} negatives, ${epochs} epochs, min count ${values['min-count']}, subsampling ${values.subsample}, lr ${values.lr}, ${threads} threads\n`);

  // Alternate the three so that background load affects all alike; keep each one's fastest round.
  const best: Record<string, Trained> = {};
  const keepBest = (t: Trained): void => { if (!best[t.impl] || t.seconds < best[t.impl]!.seconds) best[t.impl] = t; };
  const seconds: Record<string, number[]> = { selfsup: [], fasttext: [], gensim: [] };
  for (let round = 0; round < rounds; round++) {
    for (const impl of ['selfsup', 'fasttext', 'gensim'] as const) {
      process.stderr.write(`bench: round ${round + 1}: ${impl}...\n`);
      const t = impl === 'selfsup' ? runSelfsupFused(corpusFile, join(work, 'selfsup'))
        : impl === 'fasttext' ? await runFasttext(corpusFile, join(work, 'fasttext'))
          : runGensim(corpusFile, join(work, 'gensim.vec'));
      seconds[impl]!.push(t.seconds);
      keepBest(t);
    }
  }
  const rate = (impl: string): number => (corpusWords * epochs) / best[impl]!.seconds;
  const [s, f, g] = [rate('selfsup'), rate('fasttext'), rate('gensim')];
  let auc: { aucs: Record<string, number>; pairs: [number, number] } | null = null;
  if (synonyms) {
    auc = synonymAucs(synonyms, {
      selfsup: readVec(join(work, 'selfsup.input.vec')), selfsup_sum: readVec(join(work, 'selfsup.sum.vec')),
      fasttext: readVec(join(work, 'fasttext.vec')), gensim: readVec(join(work, 'gensim.vec')),
    });
  }
  console.log(`Skip-gram training on ${name}: ${corpusWords} words × ${epochs} epochs, ${threads} threads (best of ${rounds} rounds; words/s = corpus words × epochs / training time)`);
  console.log('implementation        words/s   seconds per round          synonym AUC (input vectors)');
  for (const [impl, r] of [['selfsup', s], ['fasttext', f], ['gensim', g]] as const) {
    console.log(`${impl.padEnd(16)} ${r.toFixed(0).padStart(10)}   ${seconds[impl]!.map((x) => x.toFixed(1)).join(', ').padEnd(24)} ${auc ? auc.aucs[impl]!.toFixed(3) : '-'}`);
  }
  if (auc) console.log(`selfsup input + output vectors (the experiment's): synonym AUC ${auc.aucs.selfsup_sum!.toFixed(3)}; ${auc.pairs[0]} synonym and ${auc.pairs[1]} random pairs`);
  console.log(`selfsup / fastText: ${(s / f).toFixed(3)}, selfsup / gensim: ${(s / g).toFixed(3)}`);
  const batched = values.batched === 'yes' ? batchedComparison(texts, name) : {};
  console.log(JSON.stringify({
    threads, dim, window: Number(values.window), negatives, epochs, corpus_words: corpusWords, libtorch: torchVersion,
    selfsup_words_per_s: s, fasttext_words_per_s: f, gensim_words_per_s: g, ratio_vs_fasttext: s / f, ratio_vs_gensim: s / g,
    selfsup_seconds: seconds.selfsup, fasttext_seconds: seconds.fasttext, gensim_seconds: seconds.gensim,
    ...(auc ? { selfsup_synonym_auc: auc.aucs.selfsup, selfsup_sum_synonym_auc: auc.aucs.selfsup_sum, fasttext_synonym_auc: auc.aucs.fasttext, gensim_synonym_auc: auc.aucs.gensim } : {}),
    ...batched,
  }));
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** selfsup's batched step against PyTorch on the same batches (the comparison this bench made before the fused engine). */
function batchedComparison(texts: string[], name: string): Record<string, number | string> {
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  const batch = Number(values.batch);
  const lr = Number(values['batched-lr']);
  const optimizer = values.optimizer!;
  if (optimizer !== 'sgd' && optimizer !== 'sparse-adam') throw new Error(`--optimizer must be sgd or sparse-adam, got ${optimizer}`);
  const vocab = WordVocab.build(texts, { minCount: Number(values['min-count']) });
  const corpus = vocab.encodeCorpus(texts);
  const keep = keepProbabilities(vocab.counts, Number(values.subsample));
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
  console.log(`Batched skip-gram step on ${name}, ${threads} threads: batch ${batch} pairs, ${negatives} negatives, ${dim}-d, ${optimizer}, window ${config.window}`);
  console.log('implementation      pairs/s     words/s   first loss   last loss');
  for (const side of [a, b]) {
    console.log(`${side.impl.padEnd(14)} ${side.pairs_per_s.toFixed(0).padStart(10)} ${(side.pairs_per_s * wordsPerPair).toFixed(0).padStart(11)} ${side.first_loss.toFixed(4).padStart(12)} ${side.last_loss.toFixed(4).padStart(11)}`);
  }
  console.log(`batched selfsup / PyTorch speed: ${(a.pairs_per_s / b.pairs_per_s).toFixed(3)}   (words/s counts corpus words read, ${wordsPerPair.toFixed(3)} per pair, as word2vec does)`);
  return {
    batch, optimizer,
    selfsup_batched_pairs_per_s: a.pairs_per_s, pytorch_pairs_per_s: b.pairs_per_s,
    selfsup_batched_words_per_s: a.pairs_per_s * wordsPerPair, pytorch_words_per_s: b.pairs_per_s * wordsPerPair,
    ratio_vs_pytorch: a.pairs_per_s / b.pairs_per_s,
    selfsup_batched_last_loss: a.last_loss, pytorch_last_loss: b.last_loss,
  };
}
