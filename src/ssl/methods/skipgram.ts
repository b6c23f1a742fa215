// Skip-gram with negative sampling (word2vec; Mikolov, Sutskever, Chen, Corrado & Dean
// 2013, https://arxiv.org/abs/1310.4546) as an SslMethod of the context-prediction
// family: the encoder is the word table (models/word-table.ts), the loss is
// losses/negative-sampling.ts, and the batches (pairs, subsampling, noise words) come
// from the corpus side (data/text/skipgram-batches.ts). The embedding gradients are
// sparse, so the optimizer is SparseAdam (or word2vec's plain SGD).
import { Tensor, cat, tidy } from '../../tensor/index.js';
import { SGD, SparseAdam, BudgetLinearDecayLR, scheduleSteps, type Optimizer, type OptimizerConfig } from '../../optim/index.js';
import type { FitOptions, FitResult, StepOutput } from '../../train/trainer.js';
import { WordTable } from '../../models/word-table.js';
import { SkipGramSource, type SkipGramBatch } from '../../data/text/skipgram-batches.js';
import type { WordVocab, EncodedCorpus } from '../../data/text/vocab.js';
import { negativeSamplingLoss } from '../losses/negative-sampling.js';
import { SslMethod } from '../method.js';
import { pretrainOn } from '../pretrain.js';
import { trainSkipGramFused } from './skipgram-fused.js';

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
  /**
   * Stop after this many steps (batches); the learning rate then decays over them. A step
   * budget repeats on any machine: the same seed gives the same vectors however busy it is.
   */
  maxSteps?: number;
  /** Stop after this many seconds (off by default; the learning rate decays over whichever of steps and seconds ends first, so a run no longer repeats exactly). */
  timeBudgetSeconds?: number;
  seed: number;
  /**
   * 'fused' (default): whole epochs in the native word2vec loop (skipgram-fused.ts), plain SGD
   * at `lr` per pair decaying over `epochs`; `optimizer`, `batchSize` and `maxSteps` are not used.
   * 'batched': batches of pairs through libtorch's graph with `optimizer`, up to `maxSteps`.
   */
  engine?: 'fused' | 'batched';
  /** Threads of the fused engine (default: libtorch's thread count). */
  threads?: number;
}

export function defaultSkipGramConfig(): SkipGramConfig {
  return { dim: 100, window: 3, negatives: 5, subsample: 1e-4, noisePower: 0.75, batchSize: 8192, epochs: 5, optimizer: 'sparse-adam', lr: 0.05, seed: 0, engine: 'fused' };
}

/** Mean negative-sampling loss of a batch: centres [B], contexts [B], negatives [B, K] (word ids). */
export function skipGramLoss(table: WordTable, centers: Tensor, contexts: Tensor, negatives: Tensor): Tensor {
  return tidy(() => {
    const u = table.centreVectors(centers); // [B, D]
    // The context and its negatives in one lookup: [B, 1 + K, D] output vectors, one sparse gradient.
    const v = table.contextVectors(cat([contexts.unsqueeze(1), negatives], 1));
    return negativeSamplingLoss(u, v);
  });
}

/** The skip-gram model as `text.SkipGram` had it: the word table with its loss. */
export class SkipGram extends WordTable {
  /** Mean negative-sampling loss of a batch: centers [B], contexts [B], negatives [B, K]. */
  loss(centers: Tensor, contexts: Tensor, negatives: Tensor): Tensor {
    return skipGramLoss(this, centers, contexts, negatives);
  }
}

export interface SkipGramOptions {
  /** SparseAdam (default), or SGD as word2vec with a per-pair rate. */
  optimizer?: SkipGramConfig['optimizer'];
  /** Pairs per step, which scales SGD's per-pair rate (the loss is a mean). */
  batchSize?: number;
}

export class SkipGramNegativeSampling extends SslMethod<SkipGramBatch, never, WordTable> {
  readonly name = 'skipgram';
  readonly family = 'context-prediction' as const;
  readonly options: Required<SkipGramOptions>;

  constructor(encoder: WordTable, o: SkipGramOptions = {}) {
    super(encoder);
    const d = defaultSkipGramConfig();
    this.options = { optimizer: o.optimizer ?? d.optimizer, batchSize: o.batchSize ?? d.batchSize };
  }

  trainingStep(b: SkipGramBatch): StepOutput {
    return { loss: skipGramLoss(this.encoder, b.centers, b.contexts, b.negatives), count: b.centers.shape[0]! };
  }

  /** SparseAdam at `c.lr` (Adam's dense moments would cost the whole vocabulary per step), or SGD at `c.lr` per pair. */
  override makeOptimizer(c: OptimizerConfig): Optimizer {
    return this.options.optimizer === 'sgd'
      ? new SGD(this.parameters(), { lr: c.lr * this.options.batchSize })
      : new SparseAdam(this.parameters(), { lr: c.lr });
  }

  override describe(): Record<string, unknown> {
    return { optimizer: this.options.optimizer };
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
  /** The trained word table (the caller owns it). */
  model: WordTable;
  fit: FitResult;
  /** Corpus words read per second (before subsampling, as word2vec counts). */
  wordsPerSecond: number;
  pairsPerSecond: number;
  /** Pairs in the first epoch. */
  pairsPerEpoch: number;
}

/**
 * Trains skip-gram vectors with the config's engine. 'fused' (the default): see
 * skipgram-fused.ts. 'batched': `pretrainOn(new SkipGramNegativeSampling(new WordTable(...)),
 * new SkipGramSource(...))` with word2vec's linear decay over the steps (epochs, or `maxSteps`
 * when fewer), or over the time budget when one is set and ends first.
 */
export async function trainSkipGram(o: SkipGramTrainOptions): Promise<SkipGramTrainResult> {
  const c = o.config;
  const method = new SkipGramNegativeSampling(new WordTable(o.vocab.size, c.dim), { optimizer: c.optimizer, batchSize: c.batchSize });
  if ((c.engine ?? 'fused') === 'fused') return trainSkipGramFused(method, o);
  using source = new SkipGramSource(o.vocab, o.corpus, c);
  const r = await pretrainOn(method, source, {
    name: o.name ?? 'skipgram', epochs: c.epochs, optimizer: { kind: 'adam', lr: c.lr, weightDecay: 0 },
    // Counted from the config (not pretrainOn's at-least-2), as before this was a method.
    scheduler: (optimizer) => new BudgetLinearDecayLR(optimizer, { totalSteps: scheduleSteps(c, source.stepsPerEpoch), budgetSeconds: c.timeBudgetSeconds }),
    checkpoint: o.checkpoint, resume: o.resume, metrics: o.metrics, progress: o.progress, callbacks: o.callbacks,
    unit: 'pairs', maxSteps: c.maxSteps ?? undefined, timeBudgetSeconds: c.timeBudgetSeconds, checkpointMeta: { ...o.checkpointMeta, config: c, vocab: o.vocab.toJSON() },
  });
  const corpusWordsPerPair = o.corpus.ids.length / source.pairsPerEpoch;
  return {
    model: method.takeEncoder(), fit: r.fit, pairsPerSecond: r.fit.examplesPerSecond, wordsPerSecond: r.fit.examplesPerSecond * corpusWordsPerPair,
    pairsPerEpoch: source.pairsPerEpoch,
  };
}

