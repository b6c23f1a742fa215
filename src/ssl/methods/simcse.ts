// Unsupervised SimCSE (Gao, Yao & Chen 2021, https://arxiv.org/abs/2104.08821): every
// sentence goes through the text transformer twice, and the two dropout masks make the
// two views; a contrastive loss pulls a sentence's two embeddings together and pushes
// the batch's other sentences away. A joint-embedding method on the same base as the
// image ones (JointEmbeddingBase: both views in one encoder pass, heads, the collapse
// monitor), with the same loss as SimCLR (losses/ntxent.ts).
//
// Choices, against the paper's:
// - Pooling: the mean over the real tokens (the encoder's `embed`, which the probes and
//   classifiers use too), through an MLP (dense + tanh, BERT's pooler) during training
//   only, as the paper does for unsupervised SimCSE; the paper pools [CLS] and reports
//   mean pooling about as good (its Table 6).
// - Loss: SimCLR's NT-Xent over the 2N embeddings (both directions, 2N - 2 negatives per
//   anchor, same-view ones included) rather than the paper's one-directional loss with the
//   other N - 1 second views as negatives: one loss for both modalities.
// - Dropout masks come from libtorch's global generator, reseeded at every step from
//   (seed, step): a resumed run draws the same masks as one that never stopped.
// - It can start from a fresh encoder, or (as the paper starts from BERT) from a trained
//   masked-LM encoder: `pretrainSimCse({ init })`, and the experiment's `init: 'masked-lm'`.
import { tidy, noGrad, manualSeed, arange, F } from '../../tensor/index.js';
import { Linear, Tanh, Sequential } from '../../nn/index.js';
import { AdamW, BudgetLinearDecayLR, scheduleSteps, type Optimizer, type OptimizerConfig } from '../../optim/index.js';
import type { FitOptions, FitResult, StepContext, StepOutput } from '../../train/trainer.js';
import { mixSeed } from '../../data/random.js';
import { PAD_ID, type BpeTokenizer } from '../../data/text/bpe.js';
import { padSequences, SequenceBatchSource, type TensorBatch } from '../../data/text/sequences.js';
import { TransformerTextEncoder, type EncoderConfig } from '../../models/text-transformer.js';
import { encodeForModel } from '../../text/features.js';
import { ntXentLoss } from '../losses/ntxent.js';
import { pretrainOn } from '../pretrain.js';
import { JointEmbeddingBase } from './joint-embedding.js';
import type { TextTrainingConfig } from './masked-lm.js';

export interface SimCseConfig extends EncoderConfig, TextTrainingConfig {
  /** NT-Xent's temperature (the paper's 0.05). */
  temperature: number;
  /** 'mlp': dense + tanh on the pooled embedding during training only (the paper's unsupervised setting); 'none': the loss sees the embedding itself. */
  projection: 'mlp' | 'none';
  /**
   * Where the experiment starts the encoder: 'masked-lm' from its trained masked-LM encoder
   * (the encoder sizes are then the masked LM's; only `dropout` is SimCSE's), 'fresh' from
   * a new one. The method itself takes whatever encoder it is given.
   */
  init: 'masked-lm' | 'fresh';
  /** The token embedding's learning rate as a multiple of `lr` (default 1; the masked LM's 120 suits a fresh start). */
  embeddingLrScale?: number;
}

/**
 * The paper's unsupervised recipe where it carries over: dropout 0.1, temperature 0.05,
 * batch 64, the MLP in training only, no warm-up, linear decay, and a start from a
 * masked-LM encoder (the paper's BERT; its rate 3e-5 is for BERT-base, this small encoder
 * takes 1e-4). Encoder sizes are the masked LM's, so its weights load.
 */
export function defaultSimCseConfig(): SimCseConfig {
  return {
    dModel: 128, heads: 4, layers: 1, dimFeedforward: 256, dropout: 0.1, maxLen: 64,
    temperature: 0.05, projection: 'mlp', init: 'masked-lm',
    batchSize: 64, epochs: 1, lr: 1e-4, weightDecay: 0.01, warmupSteps: 0, heldOut: 500, seed: 0,
  };
}

/** Held-out figures of a SimCSE encoder (see SimCSE.validate). */
export interface SimCseValidation extends Record<string, number> {
  /** NT-Xent on held-out batches of two dropout views (what training minimises). */
  heldout_ntxent: number;
  /** Wang & Isola's alignment: mean squared distance of a sentence's two l2-normalised views (lower: views closer). */
  alignment: number;
  /** Wang & Isola's uniformity: log mean exp(-2 squared distance) over pairs of sentences (lower: spread more evenly). */
  uniformity: number;
  /** How often a sentence's other view is its nearest neighbour among the batch's other views. */
  view_match_acc: number;
}

export class SimCSE extends JointEmbeddingBase<TensorBatch, readonly Int32Array[], TransformerTextEncoder> {
  readonly name = 'simcse';
  readonly projector: Sequential | null;

  constructor(encoder: TransformerTextEncoder, readonly config: SimCseConfig) {
    super(encoder);
    if (!(encoder.config.dropout > 0)) {
      throw new RangeError(`SimCSE: the encoder's dropout is ${encoder.config.dropout}; SimCSE needs dropout > 0 (its two views differ only by their dropout masks)`);
    }
    const d = encoder.config.dModel;
    this.projector = config.projection === 'mlp' ? this.registerModule('projector', new Sequential(new Linear(d, d), new Tanh())) : null;
  }

  trainingStep(b: TensorBatch, ctx: StepContext): StepOutput {
    // The dropout masks are the views: a function of (seed, step), so resume repeats them.
    manualSeed(mixSeed(this.config.seed, ctx.step, 0x51c5));
    const ids = b.tensors[0]!;
    const [h0, h1] = this.embedViews([ids, ids]);
    const [z0, z1] = this.projector ? this.through(this.projector, [h0!, h1!]) : [h0!, h1!];
    return { loss: ntXentLoss(z0!, z1!, { temperature: this.config.temperature }), count: ids.shape[0]!, logs: this.spreadLog(h0!) };
  }

  /** AdamW, the token embedding at `embeddingLrScale` times the rate (as the masked LM). */
  override makeOptimizer(c: OptimizerConfig): Optimizer {
    const weightDecay = c.weightDecay ?? this.config.weightDecay;
    const table = this.encoder.tokEmbed.weight;
    return new AdamW([
      { params: [table], lr: c.lr * (this.config.embeddingLrScale ?? 1) },
      { params: this.parameters().filter((p) => p !== table), lr: c.lr },
    ], { weightDecay });
  }

  /**
   * Held-out NT-Xent, alignment, uniformity and view matching on batches of `batchSize`
   * held-out sequences, with dropout on (it makes the views) from a fixed seed, without
   * gradients. The global generator is left seeded; training reseeds it every step.
   */
  override validate(heldOut: readonly Int32Array[]): SimCseValidation {
    const n = Math.min(this.config.batchSize, heldOut.length);
    const sums = { heldout_ntxent: 0, alignment: 0, uniformity: 0, view_match_acc: 0 };
    let batches = 0;
    if (n < 2) return { heldout_ntxent: NaN, alignment: NaN, uniformity: NaN, view_match_acc: NaN };
    const wasTraining = this.training;
    this.train();
    try {
      manualSeed(mixSeed(this.config.seed, 0x5a11d));
      noGrad(() => {
        for (let s = 0; s + n <= heldOut.length; s += n, batches++) {
          tidy(() => {
            const ids = padSequences(heldOut.slice(s, s + n), PAD_ID, this.encoder.config.maxLen);
            const [h0, h1] = this.embedViews([ids, ids]);
            const [z0, z1] = this.projector ? this.through(this.projector, [h0!, h1!]) : [h0!, h1!];
            sums.heldout_ntxent += ntXentLoss(z0!, z1!, { temperature: this.config.temperature }).item();
            const a = F.normalize(h0!, 1);
            const b = F.normalize(h1!, 1);
            sums.alignment += a.sub(b).pow(2).sum(1).mean().item();
            // Squared distances of unit vectors: 2 - 2 cos; pairs i != j of the first views.
            const sq = a.mm(a.T).mul(-2).add(2);
            const offDiagonal = sq.mul(-2).exp().sum().sub(n).div(n * (n - 1));
            sums.uniformity += offDiagonal.log().item();
            const match = a.mm(b.T).argmax(1);
            sums.view_match_acc += match.eq(arange(0, n, 1, { dtype: 'int64' })).to('float32').mean().item();
          });
        }
      });
    } finally {
      if (!wasTraining) this.eval();
    }
    return {
      heldout_ntxent: sums.heldout_ntxent / batches, alignment: sums.alignment / batches,
      uniformity: sums.uniformity / batches, view_match_acc: sums.view_match_acc / batches,
    };
  }

  override describe(): Record<string, unknown> {
    return { temperature: this.config.temperature, projection: this.config.projection, pooling: 'mean' };
  }
}

/** The training text as token sequences ([CLS] tokens [SEP], empty ones dropped), the last documents held out. */
export function sentenceData(tokenizer: BpeTokenizer, texts: readonly string[], c: Pick<SimCseConfig, 'maxLen' | 'heldOut'>): { train: Int32Array[]; heldOut: Int32Array[] } {
  const all = encodeForModel(tokenizer, texts, c.maxLen).filter((s) => s.length > 2);
  if (all.length < 2) throw new Error('SimCSE pretraining: fewer than two texts to train on');
  const heldOutCount = Math.min(c.heldOut, Math.floor(all.length / 10));
  return { train: all.slice(0, all.length - heldOutCount), heldOut: all.slice(all.length - heldOutCount) };
}

export interface SimCsePretrainOptions extends Pick<FitOptions<TensorBatch>, 'checkpoint' | 'resume' | 'metrics' | 'progress' | 'callbacks' | 'checkpointMeta'> {
  tokenizer: BpeTokenizer;
  texts: readonly string[];
  config: SimCseConfig;
  /** Start from this encoder's weights (e.g. the masked LM's); its sizes must be the config's. Not changed. */
  init?: TransformerTextEncoder;
  name?: string;
}

export interface SimCsePretrainResult {
  model: SimCSE;
  fit: FitResult;
  sequencesPerSecond: number;
  /** The held-out figures after the last epoch (null when nothing was held out). */
  validation: SimCseValidation | null;
}

/**
 * Shorthand for `pretrainOn(new SimCSE(...), new SequenceBatchSource(...))` with AdamW,
 * linear decay over the steps (`maxSteps` or the epochs), clipping at 1, and the held-out
 * figures after each epoch.
 */
export async function pretrainSimCse(o: SimCsePretrainOptions): Promise<SimCsePretrainResult> {
  const c = o.config;
  const data = sentenceData(o.tokenizer, o.texts, c);
  const encoder = new TransformerTextEncoder(o.tokenizer.size, c);
  if (o.init) {
    const a = o.init.config;
    if (o.init.vocabSize !== o.tokenizer.size || a.dModel !== c.dModel || a.layers !== c.layers || a.heads !== c.heads || a.dimFeedforward !== c.dimFeedforward || a.maxLen !== c.maxLen) {
      encoder.dispose();
      throw new RangeError(`SimCSE: the initial encoder (vocabulary ${o.init.vocabSize}, d=${a.dModel}, ${a.layers} layers, ${a.heads} heads, ff ${a.dimFeedforward}, maxLen ${a.maxLen}) does not fit the config's sizes`);
    }
    encoder.loadStateDict(o.init.stateDict());
  }
  const model = new SimCSE(encoder, c);
  using source = new SequenceBatchSource(data.train, { batchSize: c.batchSize, maxLen: c.maxLen, seed: c.seed, padId: PAD_ID });
  const heldOut = data.heldOut;
  const result = await pretrainOn(model, source, {
    name: o.name ?? 'simcse-pretrain', epochs: c.epochs, maxSteps: c.maxSteps ?? undefined,
    optimizer: { kind: 'adamw', lr: c.lr, weightDecay: c.weightDecay, warmupSteps: c.warmupSteps },
    scheduler: (optimizer) => new BudgetLinearDecayLR(optimizer, { totalSteps: scheduleSteps(c, source.stepsPerEpoch), budgetSeconds: c.timeBudgetSeconds, warmupSteps: c.warmupSteps, minFactor: 0 }),
    validate: heldOut.length >= 2 ? () => model.validate(heldOut) : undefined,
    checkpoint: o.checkpoint, resume: o.resume, metrics: o.metrics, progress: o.progress, callbacks: o.callbacks,
    unit: 'sentences', timeBudgetSeconds: c.timeBudgetSeconds ?? undefined, clipGradNorm: 1,
    checkpointMeta: { ...o.checkpointMeta, config: c, tokenizer: o.tokenizer.toJSON() },
  });
  const fit = result.fit;
  const validation = heldOut.length >= 2 ? (fit.lastValidation.alignment !== undefined ? fit.lastValidation as SimCseValidation : model.validate(heldOut)) : null;
  return { model, fit, sequencesPerSecond: (fit.steps * Math.min(c.batchSize, data.train.length)) / fit.seconds, validation };
}
