// Masked-token prediction (BERT; Devlin, Chang, Lee & Toutanova 2019,
// https://arxiv.org/abs/1810.04805) as an SslMethod: the text transformer
// (models/text-transformer.ts) is the encoder, BERT's prediction head (dense + GELU +
// LayerNorm, then scores over the vocabulary, tied to the token embedding by default)
// is the method's own, and the loss is computed only at the masked positions, over the
// whole vocabulary or a sampled softmax (losses/sampled-softmax.ts). The masking
// (transforms/token-mask.ts) happens in the batch source, with one generator per epoch,
// so a resumed run masks the batches it skips just as an uninterrupted one did.
import { Tensor, F, tidy, noGrad, zeros, keep, tensor, Generator as TorchGenerator } from '../../tensor/index.js';
import { Linear, LayerNorm, inEvalMode } from '../../nn/index.js';
import { AdamW, BudgetLinearDecayLR, scheduleSteps, type Optimizer, type OptimizerConfig } from '../../optim/index.js';
import type { FitOptions, FitResult, StepContext, StepOutput } from '../../train/trainer.js';
import { mixSeed } from '../../data/random.js';
import { PAD_ID, MASK_ID, SPECIAL_TOKENS, type BpeTokenizer } from '../../data/text/bpe.js';
import { padSequences, lengthBucketedBatches, bucketedBatchCount, TensorBatch } from '../../data/text/sequences.js';
import { TransformerTextEncoder, type EncoderConfig } from '../../models/text-transformer.js';
import { encodeForModel } from '../../text/features.js';
import { maskTokens, frequencyMaskWeights, IGNORE_INDEX, type MaskingOptions } from '../transforms/token-mask.js';
import { SampledSoftmax } from '../losses/sampled-softmax.js';
import { SslMethod } from '../method.js';
import { pretrainOn, type BatchSource } from '../pretrain.js';

/** How every transformer text method (masked LM, ELECTRA, SimCSE) trains: batches, budget, optimizer, held-out set. */
export interface TextTrainingConfig {
  batchSize: number;
  epochs: number;
  lr: number;
  weightDecay: number;
  warmupSteps: number;
  /** Stop after this many steps; the learning rate decays over them (the experiment's budget: it repeats on a busy machine). */
  maxSteps?: number;
  /** Stop after this many seconds, the rate decaying over whichever ends first (off by default: a time budget does not repeat). */
  timeBudgetSeconds?: number;
  /** Documents held out for the method's own metrics after each epoch (masked-token accuracy, replaced-token AUC, NT-Xent ...). */
  heldOut: number;
  seed: number;
}

export interface MlmConfig extends EncoderConfig, TextTrainingConfig {
  /** Output layer shares the token embedding matrix (default true: the embeddings then learn from every prediction). */
  tieOutput: boolean;
  maskProb: number;
  /**
   * Negatives per batch for a sampled softmax over the vocabulary in training (0: the
   * full softmax). The held-out accuracy always uses the full softmax.
   */
  sampledNegatives?: number;
  /**
   * Choose frequent tokens less often for prediction, as word2vec's subsampling at this
   * threshold keeps them (e.g. 1e-4), at the same overall rate `maskProb`; 0 or unset:
   * every token alike (BERT). Held-out accuracy always masks every token alike.
   */
  maskFrequencyThreshold?: number;
  /** The learning rate of the token embedding (and of the output layer when untied) as a multiple of `lr` (default 1). */
  embeddingLrScale?: number;
  /** Their decoupled weight decay (default `weightDecay`). */
  embeddingWeightDecay?: number;
}

export function defaultMlmConfig(): MlmConfig {
  return {
    dModel: 128, heads: 4, layers: 1, dimFeedforward: 256, dropout: 0, maxLen: 64, tieOutput: true,
    // Found on WordNet glosses with minutes of CPU (README, text results), k=10 probe accuracy:
    // - 40% masking rather than BERT's 15%: more predictions per sequence, better features per second
    //   (as Wettig et al. 2023 found for larger models);
    // - the token embedding learns 120x faster than the rest (0.015 vs 1.25e-4): a row learns only in
    //   the few steps its token appears in, and at one rate for all, the embeddings barely left their
    //   start (40% -> 61% at 150 s; the transformer's own rate mattered little below 2.5e-4);
    // - a sampled softmax over 1,024 shared negatives, so a 16k-token vocabulary (mostly whole words)
    //   costs no more per step than a 4k one with the full softmax (57% vs 47% at equal time);
    // - one layer rather than two: more steps in the same time (65% vs 61% at 150 s).
    maskProb: 0.4, sampledNegatives: 1024, embeddingLrScale: 120,
    batchSize: 32, epochs: 10, lr: 1.25e-4, weightDecay: 0.01, warmupSteps: 100, heldOut: 500, seed: 0,
  };
}

/** The encoder with BERT's prediction head; trains on batches of (masked input, labels) from `MaskedTokenSource`. */
export class MaskedLanguageModel extends SslMethod<TensorBatch, readonly Int32Array[], TransformerTextEncoder> {
  readonly name = 'masked-lm';
  readonly family = 'masked-modelling' as const;
  readonly transform: Linear;
  readonly transformNorm: LayerNorm;
  readonly decoder: Linear | null;
  readonly outputBias: Tensor;
  /** Training's sampled softmax (when `config.sampledNegatives` and token counts are given), and the generator of its negatives. */
  readonly sampled: SampledSoftmax | undefined;
  readonly negativeGenerator: TorchGenerator | undefined;

  /** `tokenCounts`: how often each token occurs in the training text, the sampled softmax's proposal (specials at 0). */
  constructor(readonly vocabSize: number, readonly config: MlmConfig, o: { tokenCounts?: ArrayLike<number> } = {}) {
    super(new TransformerTextEncoder(vocabSize, config));
    this.transform = this.registerModule('transform', new Linear(config.dModel, config.dModel));
    this.transformNorm = this.registerModule('transform_norm', new LayerNorm(config.dModel));
    this.decoder = config.tieOutput ? null : this.registerModule('decoder', new Linear(config.dModel, vocabSize, { bias: false }));
    this.outputBias = this.registerParameter('output_bias', zeros([vocabSize]));
    this.sampled = o.tokenCounts && config.sampledNegatives ? new SampledSoftmax(o.tokenCounts, config.sampledNegatives) : undefined;
    this.negativeGenerator = this.sampled ? new TorchGenerator(mixSeed(config.seed, 0x5a3)) : undefined;
  }

  trainingStep(b: TensorBatch, ctx: StepContext): StepOutput {
    // Negatives seeded by (seed, step), so that a resumed run draws the same ones.
    this.negativeGenerator?.manualSeed(mixSeed(this.config.seed, ctx.step, 0x5a3e));
    return this.loss(b.tensors[0]!, b.tensors[1]!, { sampled: this.sampled, generator: this.negativeGenerator });
  }

  /**
   * AdamW in two groups: the vocabulary-sized tables (token embedding; output layer when
   * untied) at `embeddingLrScale` times the rate, since each row learns only from the few
   * steps its token appears in; the rest at `c.lr`.
   */
  override makeOptimizer(c: OptimizerConfig): Optimizer {
    const weightDecay = c.weightDecay ?? this.config.weightDecay;
    const tables = [this.encoder.tokEmbed.weight, ...(this.decoder ? [this.decoder.weight] : [])];
    return new AdamW([
      { params: tables, lr: c.lr * (this.config.embeddingLrScale ?? 1), weightDecay: this.config.embeddingWeightDecay ?? weightDecay },
      { params: this.parameters().filter((p) => !tables.includes(p)), lr: c.lr },
    ], { weightDecay });
  }

  /** Masked-token accuracy (full softmax, masks from a fixed seed) on held-out token sequences. */
  override validate(heldOut: readonly Int32Array[]): Record<string, number> {
    return { masked_acc: maskedTokenAccuracy(this, heldOut, this.config, this.vocabSize) };
  }

  override takeEncoder(): TransformerTextEncoder {
    this.sampled?.dispose();
    return super.takeEncoder();
  }

  override dispose(): void {
    this.sampled?.dispose();
    super.dispose();
  }

  /** Scores over the vocabulary for vectors [..., dModel]. */
  scores(hidden: Tensor): Tensor {
    return tidy(() => F.linear(this.headVectors(hidden), this.outputWeight(), this.outputBias));
  }

  /** The prediction head's dense + GELU + LayerNorm, before the scores over the vocabulary. */
  headVectors(hidden: Tensor): Tensor {
    return tidy(() => this.transformNorm.forward(F.gelu(this.transform.forward(hidden))));
  }

  /** Scores at every position: [B, L, vocab]. */
  override forward(ids: Tensor): Tensor {
    return tidy(() => this.scores(this.encoder.forward(ids)));
  }

  /**
   * Cross-entropy at the positions where `labels` is not -100, with the count of correct
   * predictions; with `sampled`, over the true token and the sampled negatives only.
   */
  loss(input: Tensor, labels: Tensor, o: { sampled?: SampledSoftmax; generator?: TorchGenerator } = {}): { loss: Tensor; correct: Tensor; count: number } {
    return tidy(() => {
      const chosen = labels.ne(IGNORE_INDEX);
      const count = chosen.sum().item();
      const hidden = this.encoder.forward(input);
      if (count === 0) return { loss: hidden.sum().mul(0), correct: chosen.sum(), count: 0 };
      const target = labels.index([chosen]);
      if (o.sampled) {
        return { ...o.sampled.loss(this.headVectors(hidden.index([chosen])), this.outputWeight(), this.outputBias, target, o.generator), count };
      }
      const logits = this.scores(hidden.index([chosen]));
      return { loss: F.crossEntropy(logits, target), correct: logits.argmax(1).eq(target).sum(), count };
    });
  }

  /** The output layer's rows [vocab, dModel]: the token embedding when tied. */
  outputWeight(): Tensor {
    return this.decoder ? this.decoder.weight : this.encoder.tokEmbed.weight;
  }
}

/** The training text as token sequences: [CLS] tokens [SEP], empty ones dropped, the last documents held out. */
export interface MaskedLmData {
  train: Int32Array[];
  heldOut: Int32Array[];
  /** Token counts of the training sequences, specials at 0 (null when neither the sampled softmax nor frequency masking needs them). */
  counts: Float64Array | null;
}

export function maskedLmData(tokenizer: BpeTokenizer, texts: readonly string[], c: MlmConfig): MaskedLmData {
  const all = encodeForModel(tokenizer, texts, c.maxLen).filter((s) => s.length > 2);
  if (all.length === 0) throw new Error('masked-LM pretraining: no text to train on');
  const heldOutCount = Math.min(c.heldOut, Math.floor(all.length / 10));
  const train = all.slice(0, all.length - heldOutCount);
  // Token frequencies, for the negatives' proposal and frequency-weighted masking (specials never count).
  const counts = c.sampledNegatives || c.maskFrequencyThreshold ? tokenCounts(train, tokenizer.size).fill(0, 0, tokenizer.firstRegularId) : null;
  return { train, heldOut: all.slice(all.length - heldOutCount), counts };
}

/**
 * Length-bucketed batches of padded, masked sequences; an epoch is a function of (seed, epoch).
 * BERT's 80/10/10 replacement unless `maskFraction` / `randomFraction` say otherwise
 * (ELECTRA: 85% [MASK], 15% left). Dispose it when done (token weights).
 */
export class MaskedTokenSource implements BatchSource<TensorBatch>, Disposable {
  readonly stepsPerEpoch: number;
  readonly #lengths: Int32Array;
  readonly #tokenWeights: Tensor | undefined;

  constructor(readonly sequences: readonly Int32Array[], readonly vocabSize: number, readonly firstRegularId: number,
    readonly config: Pick<MlmConfig, 'batchSize' | 'maskProb' | 'maskFrequencyThreshold' | 'maxLen' | 'seed'> & Pick<MaskingOptions, 'maskFraction' | 'randomFraction'>, counts: ArrayLike<number> | null) {
    const c = config;
    this.#lengths = Int32Array.from(sequences, (s) => s.length);
    this.stepsPerEpoch = bucketedBatchCount(sequences.length, c.batchSize);
    this.#tokenWeights = counts && c.maskFrequencyThreshold ? keep(tensor(frequencyMaskWeights(counts, c.maskFrequencyThreshold, c.maskProb))) : undefined;
  }

  *batches(epoch: number): Generator<TensorBatch> {
    const c = this.config;
    const generator = new TorchGenerator(mixSeed(c.seed, epoch, 0x3a5));
    for (const b of lengthBucketedBatches(this.#lengths, c.batchSize, c.seed, epoch)) {
      yield tidy(() => {
        const ids = padSequences(Array.from(b, (i) => this.sequences[i]!), PAD_ID, c.maxLen);
        const m = maskTokens(ids, {
          maskId: MASK_ID, firstRegularId: this.firstRegularId, vocabSize: this.vocabSize, maskProb: c.maskProb,
          maskFraction: c.maskFraction, randomFraction: c.randomFraction, tokenWeights: this.#tokenWeights, generator,
        });
        return new TensorBatch(m.input, m.labels);
      });
    }
  }

  dispose(): void {
    this.#tokenWeights?.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

export interface MlmPretrainOptions extends Pick<FitOptions<TensorBatch>, 'checkpoint' | 'resume' | 'metrics' | 'progress' | 'callbacks' | 'checkpointMeta'> {
  tokenizer: BpeTokenizer;
  /** Unlabelled training text. */
  texts: readonly string[];
  config: MlmConfig;
  name?: string;
}

export interface MlmPretrainResult {
  model: MaskedLanguageModel;
  fit: FitResult;
  sequencesPerSecond: number;
  /** Masked-token accuracy on the held-out documents (null if none were held out). */
  heldOutAccuracy: number | null;
}

/** Masked-token accuracy over sequences, with masks drawn from a fixed seed. */
export function maskedTokenAccuracy(model: MaskedLanguageModel, seqs: readonly Int32Array[], c: Pick<MlmConfig, 'maskProb' | 'maxLen' | 'seed'>, vocabSize: number): number {
  let correct = 0;
  let total = 0;
  const generator = new TorchGenerator(mixSeed(c.seed, 0x11a));
  inEvalMode(model, () => noGrad(() => {
    for (let s = 0; s < seqs.length; s += 256) {
      tidy(() => {
        const ids = padSequences(seqs.slice(s, s + 256), PAD_ID, c.maxLen);
        const m = maskTokens(ids, { maskId: MASK_ID, firstRegularId: SPECIAL_TOKENS.length, vocabSize, maskProb: c.maskProb, generator });
        const r = model.loss(m.input, m.labels);
        correct += r.correct.item();
        total += r.count;
      });
    }
  }));
  return total ? correct / total : 0;
}

/**
 * Shorthand for `pretrainOn(new MaskedLanguageModel(...), new MaskedTokenSource(...))`
 * with the config's AdamW groups, warm-up and linear decay over the steps (epochs or
 * `maxSteps`; or the time budget, if one is set and ends first), clipping at 1, and the
 * held-out accuracy after each epoch.
 */
export async function pretrainMaskedLM(o: MlmPretrainOptions): Promise<MlmPretrainResult> {
  const c = o.config;
  const vocabSize = o.tokenizer.size;
  const data = maskedLmData(o.tokenizer, o.texts, c);
  const model = new MaskedLanguageModel(vocabSize, c, { tokenCounts: data.counts ?? undefined });
  using source = new MaskedTokenSource(data.train, vocabSize, o.tokenizer.firstRegularId, c, data.counts);
  const heldOut = data.heldOut;
  const result = await pretrainOn(model, source, {
    name: o.name ?? 'mlm-pretrain', epochs: c.epochs,
    optimizer: { kind: 'adamw', lr: c.lr, weightDecay: c.weightDecay, warmupSteps: c.warmupSteps },
    // Counted from the config (not pretrainOn's at-least-2), as before this was a method.
    scheduler: (optimizer) => new BudgetLinearDecayLR(optimizer, { totalSteps: scheduleSteps(c, source.stepsPerEpoch), budgetSeconds: c.timeBudgetSeconds, warmupSteps: c.warmupSteps, minFactor: 0 }),
    validate: heldOut.length ? () => model.validate(heldOut) : undefined,
    checkpoint: o.checkpoint, resume: o.resume, metrics: o.metrics, progress: o.progress, callbacks: o.callbacks,
    unit: 'masked tokens', maxSteps: c.maxSteps ?? undefined, timeBudgetSeconds: c.timeBudgetSeconds, clipGradNorm: 1,
    checkpointMeta: { ...o.checkpointMeta, config: c, tokenizer: o.tokenizer.toJSON() },
  });
  const fit = result.fit;
  const heldOutAccuracy = heldOut.length ? (fit.lastValidation.masked_acc ?? maskedTokenAccuracy(model, heldOut, c, vocabSize)) : null;
  return { model, fit, sequencesPerSecond: (fit.steps * Math.min(c.batchSize, data.train.length)) / fit.seconds, heldOutAccuracy };
}

/** How often each token id occurs in the sequences. */
export function tokenCounts(seqs: readonly Int32Array[], vocabSize: number): Float64Array {
  const counts = new Float64Array(vocabSize);
  for (const s of seqs) for (const id of s) counts[id]!++;
  return counts;
}
