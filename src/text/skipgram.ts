// Skip-gram with negative sampling (word2vec, Mikolov et al. 2013): each word's
// input vector u should score high against the output vectors v of words near it
// and low against K words drawn from the noise distribution:
//   loss = -log σ(u·v) - Σ_k log σ(-u·v_k)
// Pairs are made per epoch in typed arrays, shuffled by libtorch, and trained in
// batches; embedding gradients are sparse, so a step touches only the rows it uses.
import { Tensor, F, op, tensor, tidy, noGrad, randperm, keep, cat, Generator as TorchGenerator } from '../tensor/index.js';
import { Module, Embedding } from '../nn/index.js';
import { SGD, type Optimizer } from '../optim/index.js';
import { BudgetLinearDecayLR } from './budget-schedule.js';
import { fit, type FitOptions, type FitResult } from '../train/trainer.js';
import { Rng, mixSeed } from '../data/random.js';
import { AliasSampler, noiseDistribution } from './noise.js';
import { keepProbabilities } from './subsample.js';
import { skipGramPairs } from './pairs.js';
import { SparseAdam } from './sparse-adam.js';
import type { WordVocab, EncodedCorpus } from './vocab.js';

export interface SkipGramConfig {
  /** Vector size (default 100). */
  dim: number;
  /** Largest center-context distance (default 5). */
  window: number;
  /** Negative samples per pair (default 5). */
  negatives: number;
  /** Subsampling threshold t (default 1e-4); 0 turns subsampling off. */
  subsample: number;
  /** Exponent of the noise distribution (default 0.75). */
  noisePower: number;
  /** Pairs per step. */
  batchSize: number;
  epochs: number;
  /** SGD as word2vec (lr per pair, e.g. 0.025) or lazy Adam on the touched rows. */
  optimizer: 'sgd' | 'sparse-adam';
  /** Learning rate; for SGD, per pair (the step's rate is lr × batchSize, as the loss is a mean). */
  lr: number;
  /** Stop after this many seconds (the learning rate decays over whichever ends first). */
  timeBudgetSeconds?: number;
  seed: number;
}

export function defaultSkipGramConfig(): SkipGramConfig {
  return { dim: 100, window: 3, negatives: 5, subsample: 1e-4, noisePower: 0.75, batchSize: 8192, epochs: 5, optimizer: 'sparse-adam', lr: 0.05, seed: 0 };
}

export class SkipGram extends Module {
  readonly inEmbed: Embedding;
  readonly outEmbed: Embedding;

  constructor(readonly vocabSize: number, readonly dim: number) {
    super();
    this.inEmbed = this.registerModule('in_embed', new Embedding(vocabSize, dim));
    this.outEmbed = this.registerModule('out_embed', new Embedding(vocabSize, dim));
    // word2vec's start: small random input vectors, zero output vectors.
    noGrad(() => {
      this.inEmbed.weight.uniform_(-0.5 / dim, 0.5 / dim);
      this.outEmbed.weight.zero_();
    });
  }

  /** Input (word) vectors of `ids`. */
  forward(ids: Tensor): Tensor {
    return F.embedding(ids, this.inEmbed.weight);
  }

  /** Mean negative-sampling loss of a batch: centers [B], contexts [B], negatives [B, K]. */
  loss(centers: Tensor, contexts: Tensor, negatives: Tensor): Tensor {
    return tidy(() => {
      const lookup = (w: Tensor, ids: Tensor): Tensor => op('aten::embedding', w, ids, -1, false, true); // sparse gradient
      const u = lookup(this.inEmbed.weight, centers); // [B, D]
      // The context and its negatives in one lookup: [B, 1 + K, D] output vectors.
      const v = lookup(this.outEmbed.weight, cat([contexts.unsqueeze(1), negatives], 1));
      const scores = v.bmm(u.unsqueeze(2)).squeeze(2); // [B, 1 + K]
      const logSigmoid = (x: Tensor): Tensor => op('aten::log_sigmoid', x);
      const positive = scores.select(1, 0);
      const negative = scores.slice(1, 1);
      return logSigmoid(positive).add(logSigmoid(negative.neg()).sum(1)).mean().neg();
    });
  }
}

/** One training batch: B (center, context) pairs and K noise words per pair. */
export class SkipGramBatch implements Disposable {
  constructor(readonly centers: Tensor, readonly contexts: Tensor, readonly negatives: Tensor) {}
  [Symbol.dispose](): void {
    this.centers.dispose();
    this.contexts.dispose();
    this.negatives.dispose();
  }
}

/**
 * The batches of one epoch, a function of (seed, epoch) alone so that a resumed run
 * repeats them. Exactly `steps` batches: a short epoch wraps around to its start.
 */
export function* skipGramBatches(corpus: EncodedCorpus, keepProb: Float32Array | undefined, sampler: AliasSampler,
  c: Pick<SkipGramConfig, 'window' | 'negatives' | 'batchSize' | 'seed'>, epoch: number, steps: number): Generator<SkipGramBatch> {
  const pairs = skipGramPairs(corpus, new Rng(c.seed, epoch), { window: c.window, keep: keepProb });
  if (pairs.centers.length === 0) throw new Error('skip-gram: the corpus gives no (center, context) pairs; documents need at least two known words');
  const generator = new TorchGenerator(mixSeed(c.seed, epoch, 1));
  const [centers, contexts] = tidy(() => {
    const order = randperm(pairs.centers.length, { generator });
    const need = steps * c.batchSize;
    const wrap = (t: Tensor): Tensor => {
      let s = t.indexSelect(0, order);
      while (s.shape[0]! < need) s = cat([s, s.slice(0, 0, need - s.shape[0]!)]);
      return s;
    };
    return [wrap(tensor(pairs.centers, { dtype: 'int64' })), wrap(tensor(pairs.contexts, { dtype: 'int64' }))];
  }).map((t) => keep(t));
  try {
    for (let s = 0; s < steps; s++) {
      const from = s * c.batchSize;
      yield new SkipGramBatch(
        keep(centers.slice(0, from, from + c.batchSize)),
        keep(contexts.slice(0, from, from + c.batchSize)),
        keep(sampler.sample([c.batchSize, c.negatives], generator)),
      );
    }
  } finally {
    centers.dispose();
    contexts.dispose();
  }
}

export interface SkipGramTrainOptions extends Pick<FitOptions<SkipGramBatch>, 'checkpoint' | 'resume' | 'metrics' | 'progress' | 'callbacks' | 'checkpointMeta'> {
  vocab: WordVocab;
  /** The training text, encoded with `vocab`. */
  corpus: EncodedCorpus;
  config: SkipGramConfig;
  name?: string;
}

export interface SkipGramTrainResult {
  model: SkipGram;
  fit: FitResult;
  /** Corpus words read per second (before subsampling, as word2vec counts). */
  wordsPerSecond: number;
  pairsPerSecond: number;
  /** Pairs in the first epoch. */
  pairsPerEpoch: number;
}

export async function trainSkipGram(o: SkipGramTrainOptions): Promise<SkipGramTrainResult> {
  const c = o.config;
  const model = new SkipGram(o.vocab.size, c.dim);
  const noise = noiseDistribution(o.vocab.counts, c.noisePower);
  noise[0] = 0; // the unknown token is never a noise word
  const sampler = new AliasSampler(noise);
  const keepProb = c.subsample > 0 ? keepProbabilities(o.vocab.counts, c.subsample) : undefined;
  const pairsPerEpoch = skipGramPairs(o.corpus, new Rng(c.seed, 0), { window: c.window, keep: keepProb }).centers.length;
  const stepsPerEpoch = Math.max(1, Math.floor(pairsPerEpoch / c.batchSize));
  const optimizer: Optimizer = c.optimizer === 'sgd'
    ? new SGD(model.parameters(), { lr: c.lr * c.batchSize })
    : new SparseAdam(model.parameters(), { lr: c.lr });
  const scheduler = new BudgetLinearDecayLR(optimizer, { totalSteps: c.epochs * stepsPerEpoch, budgetSeconds: c.timeBudgetSeconds });
  try {
    const result = await fit<SkipGramBatch>({
      name: o.name ?? 'skipgram', model, optimizer, scheduler, epochs: c.epochs, stepsPerEpoch,
      batches: (epoch): Iterable<SkipGramBatch> => skipGramBatches(o.corpus, keepProb, sampler, c, epoch, stepsPerEpoch),
      step: (b) => ({ loss: model.loss(b.centers, b.contexts, b.negatives), count: b.centers.shape[0]! }),
      checkpoint: o.checkpoint, resume: o.resume, metrics: o.metrics, progress: o.progress, callbacks: o.callbacks,
      unit: 'pairs', timeBudgetSeconds: c.timeBudgetSeconds, checkpointMeta: { ...o.checkpointMeta, method: 'skipgram', config: c, vocab: o.vocab.toJSON() },
    });
    const corpusWordsPerPair = o.corpus.ids.length / pairsPerEpoch;
    return {
      model, fit: result, pairsPerSecond: result.examplesPerSecond, wordsPerSecond: result.examplesPerSecond * corpusWordsPerPair,
      pairsPerEpoch,
    };
  } finally {
    sampler.dispose();
    optimizer.dispose();
  }
}
