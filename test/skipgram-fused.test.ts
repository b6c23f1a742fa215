// The fused skip-gram engine (native/skipgram.cc, src/ssl/methods/skipgram-fused.ts):
// the same update as the batched path on the same pairs, learns planted structure,
// repeats with one thread, and refuses bad inputs with a JavaScript error.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, zeros, manualSeed, noGrad, tidy, memory, type Tensor } from '../src/tensor/index.js';
import { Rng } from '../src/data/random.js';
import { skipGramNative } from '../src/native/skipgram-kernel.js';
import { WordTable } from '../src/models/word-table.js';
import {
  WordVocab, SkipGramNegativeSampling, trainSkipGram, defaultSkipGramConfig, loadWordVectors, noiseDistribution,
  type SkipGramConfig,
} from '../src/text/index.js';

/** Draws `n` distinct ids in [1, vocab). */
function distinct(rng: Rng, vocab: number, n: number, avoid: Set<number> = new Set()): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const w = 1 + rng.int(vocab - 1);
    if (!avoid.has(w) && !out.includes(w)) out.push(w);
  }
  return out;
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return tidy(() => a.sub(b).abs().max().item());
}

/**
 * Trains `steps` batches of `batch` pairs both ways from the same vectors: the batched path
 * (SkipGramNegativeSampling.trainingStep, its SGD at lr per pair, one step per batch) and the
 * fused kernel (skipgramTrainPairs, pair by pair); returns both tables' largest difference.
 */
function compareWithBatched(o: { vocab: number; dim: number; negatives: number; batch: number; steps: number; lr: number; disjointInBatch: boolean; seed: number }): { in: number; out: number; moved: number } {
  manualSeed(o.seed);
  const rng = new Rng(o.seed);
  const batched = new SkipGramNegativeSampling(new WordTable(o.vocab, o.dim), { optimizer: 'sgd', batchSize: o.batch });
  const fused = new WordTable(o.vocab, o.dim);
  noGrad(() => {
    batched.encoder.outEmbed.weight.normal_(0, 0.3); // non-zero, so the centres move from the first pair
    batched.encoder.inEmbed.weight.normal_(0, 0.3);
    fused.inEmbed.weight.copy_(batched.encoder.inEmbed.weight);
    fused.outEmbed.weight.copy_(batched.encoder.outEmbed.weight);
  });
  const start = batched.encoder.inEmbed.weight.clone();
  const optimizer = batched.makeOptimizer({ kind: 'sgd', lr: o.lr, weightDecay: 0 });
  for (let s = 0; s < o.steps; s++) {
    const centres: number[] = [], contexts: number[] = [], negatives: number[][] = [];
    const usedIn = new Set<number>(), usedOut = new Set<number>();
    for (let p = 0; p < o.batch; p++) {
      // Within a pair the context and its negatives differ (the batched loss has no rule for repeats);
      // across a batch's pairs rows are disjoint when asked, as a simultaneous step then equals pair-by-pair steps.
      const [c] = distinct(rng, o.vocab, 1, o.disjointInBatch ? usedIn : new Set());
      const targets = distinct(rng, o.vocab, 1 + o.negatives, o.disjointInBatch ? usedOut : new Set());
      usedIn.add(c!);
      for (const t of targets) usedOut.add(t);
      centres.push(c!);
      contexts.push(targets[0]!);
      negatives.push(targets.slice(1));
    }
    tidy(() => {
      const ce = tensor(centres, { dtype: 'int64' }), co = tensor(contexts, { dtype: 'int64' }), ne = tensor(negatives, { dtype: 'int64' });
      const batch = { centers: ce, contexts: co, negatives: ne } as never;
      optimizer.zeroGrad();
      const batchLoss = batched.trainingStep(batch).loss;
      batchLoss.backward();
      optimizer.step();
      const fusedLoss = skipGramNative.skipgramTrainPairs(fused.inEmbed.weight.handle, fused.outEmbed.weight.handle, ce.handle, co.handle, ne.handle, o.lr);
      if (o.batch === 1 || o.disjointInBatch) assert.ok(Math.abs(fusedLoss - batchLoss.item()) < 1e-4, `step ${s}: loss ${fusedLoss} vs ${batchLoss.item()}`);
    });
  }
  const r = {
    in: maxAbsDiff(batched.encoder.inEmbed.weight, fused.inEmbed.weight),
    out: maxAbsDiff(batched.encoder.outEmbed.weight, fused.outEmbed.weight),
    moved: maxAbsDiff(batched.encoder.inEmbed.weight, start),
  };
  start.dispose();
  optimizer.dispose?.();
  batched.dispose();
  fused.dispose();
  return r;
}

describe('fused skip-gram against the batched path', () => {
  test('one pair per step: the same vectors after 200 SGD steps', () => {
    const r = compareWithBatched({ vocab: 30, dim: 8, negatives: 3, batch: 1, steps: 200, lr: 0.05, disjointInBatch: false, seed: 1 });
    assert.ok(r.moved > 0.05, `the vectors moved (${r.moved})`);
    assert.ok(r.in < 1e-4 && r.out < 1e-4, `input differs by ${r.in}, output by ${r.out}`);
  });

  test('batches of 8 pairs on disjoint rows: one batched step equals 8 fused pair steps', () => {
    const r = compareWithBatched({ vocab: 400, dim: 16, negatives: 5, batch: 8, steps: 30, lr: 0.1, disjointInBatch: true, seed: 2 });
    assert.ok(r.moved > 0.05, `the vectors moved (${r.moved})`);
    assert.ok(r.in < 1e-4 && r.out < 1e-4, `input differs by ${r.in}, output by ${r.out}`);
  });
});

/** Documents of 8 words, each drawn from one of `groups` groups of `size` words: words of a group share contexts. */
function plantedCorpus(groups: number, size: number, docs: number, seed: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: docs }, () => {
    const g = rng.int(groups);
    return Array.from({ length: 8 }, () => `g${g}w${rng.int(size)}`).join(' ');
  });
}

/** Fraction of (same-group, other-group) pairs of words where the same-group pair is closer: a ROC AUC. */
function groupAuc(vocab: WordVocab, vectors: Tensor): number {
  const unit = tidy(() => vectors.div(vectors.norm(2, [1], true).add(1e-9)).toArray() as number[][]);
  const groupOf = (w: string): string => w.slice(0, w.indexOf('w'));
  const same: number[] = [], other: number[] = [];
  for (let a = 1; a < vocab.size; a++) {
    for (let b = a + 1; b < vocab.size; b++) {
      const s = unit[a]!.reduce((t, x, i) => t + x * unit[b]![i]!, 0);
      (groupOf(vocab.words[a]!) === groupOf(vocab.words[b]!) ? same : other).push(s);
    }
  }
  let wins = 0;
  for (const s of same) for (const o of other) wins += s > o ? 1 : s === o ? 0.5 : 0;
  return wins / (same.length * other.length);
}

describe('fused skip-gram training', () => {
  const texts = plantedCorpus(6, 8, 1500, 3);
  const vocab = WordVocab.build(texts, { minCount: 1 });
  const corpus = vocab.encodeCorpus(texts);
  const config: SkipGramConfig = { ...defaultSkipGramConfig(), dim: 16, window: 3, negatives: 5, epochs: 5, subsample: 0, lr: 0.05, threads: 1, seed: 4 };

  test('learns planted groups: words of a group end up closer than words of different groups', async () => {
    const live = memory().numTensors;
    manualSeed(5);
    const before = new WordTable(vocab.size, config.dim);
    const chance = groupAuc(vocab, before.inEmbed.weight);
    before.dispose();
    manualSeed(5);
    const r = await trainSkipGram({ vocab, corpus, config, progress: false });
    const auc = tidy(() => groupAuc(vocab, r.model.inEmbed.weight.add(r.model.outEmbed.weight)));
    assert.ok(auc > 0.98, `group AUC ${auc} (random vectors: ${chance})`);
    assert.ok(chance < 0.7, `random vectors are near chance (${chance})`);
    assert.equal(r.fit.steps, config.epochs, 'one step per epoch');
    assert.ok(r.fit.curve[r.fit.curve.length - 1]!.loss! < r.fit.curve[0]!.loss!, 'the loss falls');
    assert.ok(r.wordsPerSecond > 0 && r.pairsPerEpoch > 0);
    r.model.dispose();
    assert.equal(memory().numTensors, live, 'no tensor left behind');
  });

  test('one thread repeats exactly; two threads still learn the groups', async () => {
    const run = async (threads: number): Promise<WordTable> => {
      manualSeed(6);
      return (await trainSkipGram({ vocab, corpus, config: { ...config, threads, subsample: 1e-3 }, progress: false })).model;
    };
    const a = await run(1);
    const b = await run(1);
    assert.equal(maxAbsDiff(a.inEmbed.weight, b.inEmbed.weight), 0);
    assert.equal(maxAbsDiff(a.outEmbed.weight, b.outEmbed.weight), 0);
    const c = await run(2);
    const auc = tidy(() => groupAuc(vocab, c.inEmbed.weight.add(c.outEmbed.weight)));
    assert.ok(auc > 0.95, `two threads: group AUC ${auc}`);
    for (const m of [a, b, c]) m.dispose();
  });

  test('the batched engine is still there and learns the same groups', async () => {
    manualSeed(7);
    const r = await trainSkipGram({ vocab, corpus, config: { ...config, engine: 'batched', batchSize: 64, optimizer: 'sparse-adam', lr: 0.02 }, progress: false });
    assert.ok(r.fit.steps > config.epochs, 'batched: many steps per epoch');
    const auc = tidy(() => groupAuc(vocab, r.model.inEmbed.weight.add(r.model.outEmbed.weight)));
    assert.ok(auc > 0.95, `batched: group AUC ${auc}`);
    r.model.dispose();
  });

  test('checkpoints after each epoch load as word vectors, and resume continues from the saved epoch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-fused-'));
    try {
      const checkpoint = join(dir, 'sg');
      manualSeed(8);
      const full = await trainSkipGram({ vocab, corpus, config, checkpoint, progress: false });
      manualSeed(8);
      const first = await trainSkipGram({ vocab, corpus, config: { ...config, epochs: 5 }, checkpoint: join(dir, 'part'), progress: false,
        callbacks: { onEpochEnd: (epoch, _logs, control) => { if (epoch === 1) control.stop('test'); } } });
      assert.equal(first.fit.epochsDone, 2);
      first.model.dispose();
      const resumed = await trainSkipGram({ vocab, corpus, config, checkpoint: join(dir, 'part'), resume: true, progress: false });
      assert.equal(resumed.fit.epochsDone, 5);
      assert.equal(maxAbsDiff(full.model.inEmbed.weight, resumed.model.inEmbed.weight), 0, 'one thread: resumed = uninterrupted');
      const vectors = loadWordVectors(checkpoint);
      assert.equal(vectors.vectors.shape[0], vocab.size);
      vectors.dispose?.();
      full.model.dispose();
      resumed.model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fused skip-gram refuses bad inputs with an error, never a crash', () => {
  const V = 10, D = 4;
  const noise = tensor(noiseDistribution(Array.from({ length: V }, (_, i) => i + 1)));
  const ids = tensor(Int32Array.from([1, 2, 3, 4, 5, 6]));
  const offsets = tensor(Int32Array.from([0, 3, 6]));
  const options = { window: 2, negatives: 2, threads: 1, dropId: 0, lr: 0.05, progressFrom: 0, progressTo: 1, minLrFraction: 1e-4, seed: 0, epoch: 0, shuffle: true };
  const epoch = (p: Partial<{ input: Tensor; output: Tensor; ids: Tensor; offsets: Tensor; keep: Tensor | null; noise: Tensor; options: object }>): unknown => {
    const table = new WordTable(V, D);
    try {
      return skipGramNative.skipgramTrainEpoch((p.input ?? table.inEmbed.weight).handle, (p.output ?? table.outEmbed.weight).handle, (p.ids ?? ids).handle,
        (p.offsets ?? offsets).handle, p.keep === undefined ? null : p.keep?.handle ?? null, (p.noise ?? noise).handle, (p.options ?? options) as never);
    } finally {
      table.dispose();
    }
  };

  test('good inputs train', () => {
    const r = epoch({}) as { words: number; pairs: number };
    assert.equal(r.words, 6);
    assert.ok(r.pairs > 0);
  });

  test('tables: dtype, shape, contiguity', () => tidy(() => {
    assert.throws(() => epoch({ input: zeros([V, D], { dtype: 'float64' }) }), /input vectors must be float/i);
    assert.throws(() => epoch({ output: zeros([V, D + 1]) }), /same shape/);
    assert.throws(() => epoch({ input: zeros([D, V]).T }), /contiguous/);
    assert.throws(() => epoch({ input: zeros([V * D]) }), /2 dimension/);
    assert.throws(() => epoch({ input: zeros([0, D]), output: zeros([0, D]) }), /empty/);
  }));

  test('corpus: id ranges, offsets, keep, noise, options', () => tidy(() => {
    assert.throws(() => epoch({ ids: tensor(Int32Array.from([1, 2, 3, 4, 5, V])) }), /outside the vocabulary/);
    assert.throws(() => epoch({ ids: tensor(Int32Array.from([1, 2, -1, 4, 5, 6])) }), /outside the vocabulary/);
    assert.throws(() => epoch({ ids: tensor([1, 2, 3, 4, 5, 6], { dtype: 'int64' }) }), /ids must be int/i);
    assert.throws(() => epoch({ offsets: tensor(Int32Array.from([0, 4, 3, 6])) }), /must not decrease/);
    assert.throws(() => epoch({ offsets: tensor(Int32Array.from([0, 3, 7])) }), /end at the number of ids/);
    assert.throws(() => epoch({ keep: tensor(new Float32Array(V - 1)) }), /one entry per word/);
    assert.throws(() => epoch({ keep: tensor(new Float32Array(V).fill(2)) }), /\[0, 1\]/);
    assert.throws(() => epoch({ noise: tensor(new Float64Array(V)) }), /sum to zero/);
    assert.throws(() => epoch({ noise: tensor(new Float64Array(V).fill(-1)) }), /non-negative/);
    assert.throws(() => epoch({ options: { ...options, window: 0 } }), /window/);
    assert.throws(() => epoch({ options: { ...options, lr: Number.NaN } }), /lr/);
    assert.throws(() => epoch({ options: { ...options, threads: 1.5 } }), /threads/);
    assert.throws(() => epoch({ options: { ...options, shuffle: 'yes' } }), /shuffle/);
    assert.throws(() => skipGramNative.skipgramTrainEpoch({} as never, {} as never, {} as never, {} as never, null, {} as never, options), /tensor handle/);
    const gone = zeros([V, D]);
    gone.dispose();
    assert.throws(() => epoch({ input: gone }), /disposed/);
  }));

  test('fixed pairs: index ranges and lengths', () => tidy(() => {
    const t = new WordTable(V, D);
    const pairs = (c: number[], x: number[], n: number[][], lr = 0.1): number => skipGramNative.skipgramTrainPairs(t.inEmbed.weight.handle, t.outEmbed.weight.handle,
      tensor(c, { dtype: 'int64' }).handle, tensor(x, { dtype: 'int64' }).handle, tensor(n, { dtype: 'int64' }).handle, lr);
    assert.ok(Number.isFinite(pairs([1], [2], [[3, 4]])));
    assert.throws(() => pairs([V], [2], [[3, 4]]), /centres\[0\].*outside/);
    assert.throws(() => pairs([1], [2], [[3, -4]]), /negatives\[1\].*outside/);
    assert.throws(() => pairs([1, 2], [2], [[3, 4]]), /same length/);
    assert.throws(() => pairs([1], [2], [[3, 4]], -1), /lr/);
    t.dispose();
  }));
});
