// ELECTRA (Clark, Luong, Le & Manning 2020, https://arxiv.org/abs/2003.10555): replaced-
// token detection. A small masked-LM generator fills the masked positions with tokens
// sampled from its softmax, and the discriminator (the text transformer, the encoder the
// method hands over) tells for every real token whether it was replaced. Loss: the
// generator's masked-LM cross-entropy + lambda (50) times the discriminator's binary
// cross-entropy (losses/replaced-token.ts); no gradient flows through the sample.
//
// As in the paper (and its code):
// - The generator is the discriminator's architecture at 1/4 the width (d=32 for d=128;
//   attention heads and feed-forward width scaled alike), as deep as the discriminator.
// - Generator and discriminator share the token and position embeddings: the generator
//   projects the shared d-wide embedding down to its width, and its prediction head
//   (dense + GELU + LayerNorm back to d) scores the vocabulary against the same
//   embedding matrix. Both losses train the shared embedding.
// - 15% of the tokens are chosen; 85% of those become [MASK] and 15% stay as they are
//   (the ELECTRA code's rule; no random replacements: the generator makes those).
// - A sample equal to the original token counts as original.
// - The discriminator's head is dense + GELU + a 1-unit output.
// Here: a full softmax for the generator (sampling needs the whole distribution), samples
// restricted to ordinary tokens, and a sampler seeded by (seed, step), so a resumed run
// draws the same replacements.
import { Tensor, F, tidy, noGrad, zeros, arange, Generator as TorchGenerator } from '../../tensor/index.js';
import { Module, Linear, LayerNorm, TransformerEncoderLayer, inEvalMode } from '../../nn/index.js';
import { AdamW, BudgetLinearDecayLR, scheduleSteps, type Optimizer, type OptimizerConfig } from '../../optim/index.js';
import type { FitOptions, FitResult, StepContext, StepOutput } from '../../train/trainer.js';
import { mixSeed } from '../../data/random.js';
import { PAD_ID, MASK_ID, type BpeTokenizer } from '../../data/text/bpe.js';
import { padSequences, type TensorBatch } from '../../data/text/sequences.js';
import { TransformerTextEncoder, type EncoderConfig } from '../../models/text-transformer.js';
import { rocAuc } from '../../text/synonyms.js';
import { maskTokens, IGNORE_INDEX } from '../transforms/token-mask.js';
import { replacedTokenLoss } from '../losses/replaced-token.js';
import { SslMethod } from '../method.js';
import { pretrainOn } from '../pretrain.js';
import { MaskedTokenSource, maskedLmData, type TextTrainingConfig } from './masked-lm.js';

export interface ElectraConfig extends EncoderConfig, TextTrainingConfig {
  /** The generator's width as a fraction of the discriminator's (the paper: 1/4 to 1/2 work best). */
  generatorScale: number;
  /** Fraction of ordinary tokens masked for the generator (the paper's 0.15). */
  maskProb: number;
  /** lambda, the discriminator loss's weight (the paper's 50). */
  discriminatorWeight: number;
  /** The shared token embedding's learning rate as a multiple of `lr` (as the masked LM's). */
  embeddingLrScale?: number;
  embeddingWeightDecay?: number;
}

/**
 * The discriminator is the masked LM's encoder (d=128, one layer) and trains with the
 * masked LM's optimizer settings (AdamW at 1.25e-4, the token embedding 120x faster,
 * clipping at 1), so the two differ in their pretext only; the paper's ELECTRA-Small
 * used 5e-4 at batch 128. Barely tuned: on the text experiment's corpus, 3,000 steps
 * (2026-12-02) gave held-out replaced-token ROC AUC 0.72 and detection accuracy 88.2%
 * against 88.3% for calling every token original (generator accuracy 13.7%); 5e-4 for
 * the transformer (the embedding's rate kept) gave AUC 0.63.
 */
export function defaultElectraConfig(): ElectraConfig {
  return {
    dModel: 128, heads: 4, layers: 1, dimFeedforward: 256, dropout: 0, maxLen: 64,
    generatorScale: 0.25, maskProb: 0.15, discriminatorWeight: 50, embeddingLrScale: 120,
    batchSize: 32, epochs: 10, lr: 1.25e-4, weightDecay: 0.01, warmupSteps: 100, heldOut: 500, seed: 0,
  };
}

/** The generator's sizes for a discriminator config: width, heads and feed-forward scaled by `generatorScale`. */
export function generatorSizes(c: ElectraConfig): { width: number; heads: number; dimFeedforward: number } {
  if (!(c.generatorScale > 0 && c.generatorScale <= 1)) throw new RangeError(`ELECTRA: generatorScale must be in (0, 1], got ${c.generatorScale}`);
  const heads = Math.max(1, Math.round(c.heads * c.generatorScale));
  const width = Math.max(heads, Math.round((c.dModel * c.generatorScale) / heads) * heads);
  return { width, heads, dimFeedforward: Math.max(1, Math.round(c.dimFeedforward * c.generatorScale)) };
}

/**
 * The small masked-LM generator on the shared embeddings: [B, L, d] embedded input to
 * prediction vectors [B, L, d] that score the vocabulary against the shared token embedding.
 */
export class ElectraGenerator extends Module {
  readonly project: Linear;
  readonly layers: TransformerEncoderLayer[] = [];
  readonly norm: LayerNorm;
  readonly transform: Linear;
  readonly transformNorm: LayerNorm;
  readonly outputBias: Tensor;

  constructor(vocabSize: number, c: ElectraConfig) {
    super();
    const g = generatorSizes(c);
    this.project = this.registerModule('project', new Linear(c.dModel, g.width));
    for (let i = 0; i < c.layers; i++) {
      this.layers.push(this.registerModule(`layer${i}`, new TransformerEncoderLayer(g.width, g.heads, {
        dimFeedforward: g.dimFeedforward, dropout: c.dropout, activation: 'gelu', normFirst: true, batchFirst: true,
      })));
    }
    this.norm = this.registerModule('norm', new LayerNorm(g.width));
    this.transform = this.registerModule('transform', new Linear(g.width, c.dModel));
    this.transformNorm = this.registerModule('transform_norm', new LayerNorm(c.dModel));
    this.outputBias = this.registerParameter('output_bias', zeros([vocabSize]));
  }

  /** Prediction vectors [B, L, d] from the embedded input and the padding mask. */
  forward(embedded: Tensor, keyPaddingMask?: Tensor): Tensor {
    return tidy(() => {
      let x = this.project.forward(embedded);
      for (const layer of this.layers) x = layer.forward(x, { keyPaddingMask });
      return this.transformNorm.forward(F.gelu(this.transform.forward(this.norm.forward(x))));
    });
  }
}

/** What one ELECTRA forward gives (all tensors in the caller's scope). */
export interface ElectraOutput {
  loss: Tensor;
  generatorLoss: Tensor;
  discriminatorLoss: Tensor;
  /** Discriminator logits [B, L] (> 0: replaced), replaced and real-token masks [B, L]. */
  logits: Tensor;
  replaced: Tensor;
  real: Tensor;
  /** Generator predictions correct at the masked positions, and how many there were. */
  generatorCorrect: Tensor;
  masked: number;
}

/** Generator, discriminator (the encoder) and the discriminator's head; trains on `MaskedTokenSource` batches. */
export class Electra extends SslMethod<TensorBatch, readonly Int32Array[], TransformerTextEncoder> {
  readonly name = 'electra';
  readonly family = 'masked-modelling' as const;
  readonly generator: ElectraGenerator;
  readonly discDense: Linear;
  readonly discOut: Linear;
  /** Draws the generator's samples; reseeded from (seed, step) at every training step. */
  readonly sampler: TorchGenerator;

  constructor(readonly vocabSize: number, readonly config: ElectraConfig, readonly firstRegularId: number) {
    super(new TransformerTextEncoder(vocabSize, config));
    this.generator = this.registerModule('generator', new ElectraGenerator(vocabSize, config));
    this.discDense = this.registerModule('disc_dense', new Linear(config.dModel, config.dModel));
    this.discOut = this.registerModule('disc_out', new Linear(config.dModel, 1));
    this.sampler = new TorchGenerator(mixSeed(config.seed, 0xe1e));
  }

  trainingStep(b: TensorBatch, ctx: StepContext): StepOutput {
    this.sampler.manualSeed(mixSeed(this.config.seed, ctx.step, 0xe1ec));
    const o = this.forwardLosses(b.tensors[0]!, b.tensors[1]!, this.sampler);
    const count = o.real.sum().item();
    const correct = o.logits.gt(0).eq(o.replaced).logicalAnd(o.real).sum();
    return {
      loss: o.loss, count, correct,
      logs: { generator_loss: o.generatorLoss.detach(), discriminator_loss: o.discriminatorLoss.detach(), replaced_frac: o.replaced.logicalAnd(o.real).sum().div(Math.max(1, count)) },
    };
  }

  /** AdamW in two groups, as the masked LM: the shared token embedding at `embeddingLrScale` times the rate, the rest at `c.lr`. */
  override makeOptimizer(c: OptimizerConfig): Optimizer {
    const weightDecay = c.weightDecay ?? this.config.weightDecay;
    const table = this.encoder.tokEmbed.weight;
    return new AdamW([
      { params: [table], lr: c.lr * (this.config.embeddingLrScale ?? 1), weightDecay: this.config.embeddingWeightDecay ?? weightDecay },
      { params: this.parameters().filter((p) => p !== table), lr: c.lr },
    ], { weightDecay });
  }

  /** The shared token + position embedding of ids [B, L]: [B, L, d]. */
  embedTokens(ids: Tensor): Tensor {
    return tidy(() => this.encoder.tokEmbed.forward(ids).add(this.encoder.posEmbed.forward(arange(0, ids.shape[1]!, 1, { dtype: 'int64' }))));
  }

  /** Generator scores over the vocabulary at the chosen positions of `input`: [n, vocab]. */
  generatorScores(input: Tensor, chosen: Tensor): Tensor {
    return tidy(() => {
      const vectors = this.generator.forward(this.embedTokens(input), input.eq(PAD_ID)).index([chosen]);
      return F.linear(vectors, this.encoder.tokEmbed.weight, this.generator.outputBias);
    });
  }

  /** Discriminator logits [B, L] (> 0: replaced) for token ids [B, L]. */
  discriminatorLogits(ids: Tensor): Tensor {
    return tidy(() => this.discOut.forward(F.gelu(this.discDense.forward(this.encoder.forward(ids)))).squeeze(-1));
  }

  /**
   * Both losses for one masked batch (`input` with [MASK]s, `labels` the original ids at
   * the chosen positions and -100 elsewhere), the replacements drawn with `sampler`.
   */
  forwardLosses(input: Tensor, labels: Tensor, sampler: TorchGenerator): ElectraOutput {
    return tidy(() => {
      const chosen = labels.ne(IGNORE_INDEX);
      const masked = chosen.sum().item();
      const original = labels.where(chosen, input);
      let corrupted = original;
      let generatorLoss: Tensor;
      let generatorCorrect: Tensor;
      if (masked > 0) {
        const scores = this.generatorScores(input, chosen);
        const target = labels.index([chosen]);
        generatorLoss = F.crossEntropy(scores, target);
        generatorCorrect = scores.argmax(1).eq(target).sum();
        // Samples from the generator's softmax over ordinary tokens; no gradient through them.
        const sampled = this.sampleOrdinary(scores, sampler);
        const positions = arange(0, original.numel, 1, { dtype: 'int64' }).maskedSelect(chosen.flatten());
        corrupted = original.flatten().scatter(0, positions, sampled).reshape(original.shape);
      } else {
        generatorLoss = zeros([]);
        generatorCorrect = zeros([], { dtype: 'int64' });
      }
      const replaced = corrupted.ne(original);
      const real = original.ne(PAD_ID);
      const logits = this.discriminatorLogits(corrupted);
      const discriminatorLoss = replacedTokenLoss(logits, replaced, real);
      const loss = generatorLoss.add(discriminatorLoss.mul(this.config.discriminatorWeight));
      return { loss, generatorLoss, discriminatorLoss, logits, replaced, real, generatorCorrect, masked };
    });
  }

  /** One sample per row of `scores` [n, vocab] from its softmax over the ordinary tokens (ids >= firstRegularId). */
  sampleOrdinary(scores: Tensor, sampler: TorchGenerator): Tensor {
    return noGrad(() => tidy(() => {
      const ordinary = scores.detach().narrow(1, this.firstRegularId, this.vocabSize - this.firstRegularId);
      return ordinary.softmax(1).multinomial(1, true, sampler).squeeze(1).add(this.firstRegularId);
    }));
  }

  /**
   * Held-out replaced-token detection: masks and samples from fixed seeds, dropout off, no
   * gradients. replaced_acc: the discriminator's accuracy over real tokens; original_frac:
   * the accuracy of calling every token original (the baseline to beat); replaced_auc: ROC
   * AUC of its logits, replaced against original tokens; generator_acc: the generator's
   * masked-token accuracy.
   */
  override validate(heldOut: readonly Int32Array[]): Record<string, number> {
    const maskGenerator = new TorchGenerator(mixSeed(this.config.seed, 0x11a));
    const sampler = new TorchGenerator(mixSeed(this.config.seed, 0x11b));
    let correct = 0;
    let real = 0;
    let original = 0;
    let genCorrect = 0;
    let masked = 0;
    const pos: number[] = [];
    const neg: number[] = [];
    inEvalMode(this, () => noGrad(() => {
      for (let s = 0; s < heldOut.length; s += 256) {
        tidy(() => {
          const ids = padSequences(heldOut.slice(s, s + 256), PAD_ID, this.config.maxLen);
          const m = maskTokens(ids, { maskId: MASK_ID, firstRegularId: this.firstRegularId, vocabSize: this.vocabSize, maskProb: this.config.maskProb, maskFraction: 0.85, randomFraction: 0, generator: maskGenerator });
          const o = this.forwardLosses(m.input, m.labels, sampler);
          correct += o.logits.gt(0).eq(o.replaced).logicalAnd(o.real).sum().item();
          real += o.real.sum().item();
          original += o.replaced.logicalNot().logicalAnd(o.real).sum().item();
          genCorrect += o.generatorCorrect.item();
          masked += o.masked;
          pos.push(...o.logits.maskedSelect(o.replaced.logicalAnd(o.real)).dataNumbers());
          neg.push(...o.logits.maskedSelect(o.replaced.logicalNot().logicalAnd(o.real)).dataNumbers());
        });
      }
    }));
    return {
      replaced_acc: real ? correct / real : NaN, original_frac: real ? original / real : NaN,
      replaced_auc: pos.length && neg.length ? rocAuc(pos, neg) : NaN, generator_acc: masked ? genCorrect / masked : NaN,
    };
  }

  override describe(): Record<string, unknown> {
    return { generator: generatorSizes(this.config), discriminatorWeight: this.config.discriminatorWeight };
  }
}

/** Batches for ELECTRA: MaskedTokenSource with ELECTRA's masking (15%; 85% of those [MASK], the rest left as they are). */
export function electraSource(sequences: readonly Int32Array[], vocabSize: number, firstRegularId: number, c: ElectraConfig): MaskedTokenSource {
  return new MaskedTokenSource(sequences, vocabSize, firstRegularId, { batchSize: c.batchSize, maskProb: c.maskProb, maxLen: c.maxLen, seed: c.seed, maskFraction: 0.85, randomFraction: 0 }, null);
}

export interface ElectraPretrainOptions extends Pick<FitOptions<TensorBatch>, 'checkpoint' | 'resume' | 'metrics' | 'progress' | 'callbacks' | 'checkpointMeta'> {
  tokenizer: BpeTokenizer;
  texts: readonly string[];
  config: ElectraConfig;
  name?: string;
}

export interface ElectraPretrainResult {
  model: Electra;
  fit: FitResult;
  sequencesPerSecond: number;
  /** Held-out replaced-token detection (see Electra.validate); null when nothing was held out. */
  validation: Record<string, number> | null;
}

/**
 * Shorthand for `pretrainOn(new Electra(...), electraSource(...))` with the config's AdamW
 * groups, warm-up and linear decay over the steps (`maxSteps` or the epochs), clipping at
 * 1, and the held-out detection figures after each epoch.
 */
export async function pretrainElectra(o: ElectraPretrainOptions): Promise<ElectraPretrainResult> {
  const c = o.config;
  const vocabSize = o.tokenizer.size;
  const data = maskedLmData(o.tokenizer, o.texts, { ...c, sampledNegatives: 0, maskFrequencyThreshold: 0, tieOutput: true });
  const model = new Electra(vocabSize, c, o.tokenizer.firstRegularId);
  using source = electraSource(data.train, vocabSize, o.tokenizer.firstRegularId, c);
  const heldOut = data.heldOut;
  const result = await pretrainOn(model, source, {
    name: o.name ?? 'electra-pretrain', epochs: c.epochs, maxSteps: c.maxSteps ?? undefined,
    optimizer: { kind: 'adamw', lr: c.lr, weightDecay: c.weightDecay, warmupSteps: c.warmupSteps },
    scheduler: (optimizer) => new BudgetLinearDecayLR(optimizer, { totalSteps: scheduleSteps(c, source.stepsPerEpoch), budgetSeconds: c.timeBudgetSeconds, warmupSteps: c.warmupSteps, minFactor: 0 }),
    validate: heldOut.length ? () => model.validate(heldOut) : undefined,
    checkpoint: o.checkpoint, resume: o.resume, metrics: o.metrics, progress: o.progress, callbacks: o.callbacks,
    unit: 'tokens', timeBudgetSeconds: c.timeBudgetSeconds ?? undefined, clipGradNorm: 1,
    checkpointMeta: { ...o.checkpointMeta, config: c, tokenizer: o.tokenizer.toJSON() },
  });
  const fit = result.fit;
  const validation = heldOut.length ? (fit.lastValidation.replaced_acc !== undefined ? fit.lastValidation : model.validate(heldOut)) : null;
  return { model, fit, sequencesPerSecond: (fit.steps * Math.min(c.batchSize, data.train.length)) / fit.seconds, validation };
}
