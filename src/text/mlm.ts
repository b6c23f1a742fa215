// Masked-token prediction (BERT, Devlin et al. 2019) with a small transformer
// encoder: token + position embeddings, pre-norm TransformerEncoderLayers, and an
// output layer over the subword vocabulary, tied to the token embedding by default.
// The loss is computed only at the chosen positions.
import { Tensor, F, tidy, noGrad, arange, zeros, keep, cat, tensor, Generator as TorchGenerator } from '../tensor/index.js';
import { Module, Embedding, Linear, LayerNorm, Dropout, TransformerEncoderLayer } from '../nn/index.js';
import { AdamW } from '../optim/index.js';
import { fit, type FitOptions, type FitResult } from '../train/trainer.js';
import { mixSeed } from '../data/random.js';
import { inEvalMode } from '../eval/evaluate.js';
import { BpeTokenizer, PAD_ID, MASK_ID, SPECIAL_TOKENS } from './bpe.js';
import { maskTokens, frequencyMaskWeights, IGNORE_INDEX } from './masking.js';
import { padSequences, lengthBucketedBatches, bucketedBatchCount, TensorBatch } from './sequences.js';
import { BudgetLinearDecayLR } from './budget-schedule.js';
import { SampledSoftmax } from './sampled-softmax.js';

export interface EncoderConfig {
  dModel: number;
  heads: number;
  layers: number;
  dimFeedforward: number;
  dropout: number;
  /** Longest input in tokens, [CLS] and [SEP] included; longer texts are cut. */
  maxLen: number;
}

export interface MlmConfig extends EncoderConfig {
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
  batchSize: number;
  epochs: number;
  lr: number;
  weightDecay: number;
  warmupSteps: number;
  timeBudgetSeconds?: number;
  /** Documents held out to report masked-token accuracy after each epoch. */
  heldOut: number;
  seed: number;
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

/** Token ids [B, L] (padded with [PAD] = 0) to contextual vectors [B, L, dModel]. */
export class TransformerTextEncoder extends Module {
  readonly tokEmbed: Embedding;
  readonly posEmbed: Embedding;
  readonly embedDropout: Dropout;
  readonly layers: TransformerEncoderLayer[] = [];
  readonly norm: LayerNorm;

  constructor(readonly vocabSize: number, readonly config: EncoderConfig) {
    super();
    const c = config;
    this.tokEmbed = this.registerModule('tok_embed', new Embedding(vocabSize, c.dModel, { paddingIdx: PAD_ID }));
    this.posEmbed = this.registerModule('pos_embed', new Embedding(c.maxLen, c.dModel));
    noGrad(() => { // BERT's N(0, 0.02) start keeps (tied) output logits small at first
      this.tokEmbed.weight.normal_(0, 0.02);
      this.tokEmbed.weight.select(0, PAD_ID).zero_();
      this.posEmbed.weight.normal_(0, 0.02);
    });
    this.embedDropout = this.registerModule('embed_dropout', new Dropout(c.dropout));
    for (let i = 0; i < c.layers; i++) {
      this.layers.push(this.registerModule(`layer${i}`, new TransformerEncoderLayer(c.dModel, c.heads, {
        dimFeedforward: c.dimFeedforward, dropout: c.dropout, activation: 'gelu', normFirst: true, batchFirst: true,
      })));
    }
    this.norm = this.registerModule('norm', new LayerNorm(c.dModel));
  }

  forward(ids: Tensor): Tensor {
    return tidy(() => {
      const hidden = this.hiddenStates(ids);
      return hidden[hidden.length - 1]!;
    });
  }

  /** The embedding output, then every layer's output, the last one normalised: layers + 1 tensors [B, L, dModel]. */
  hiddenStates(ids: Tensor): Tensor[] {
    return tidy(() => {
      const len = ids.shape[1]!;
      if (len > this.config.maxLen) throw new RangeError(`TransformerTextEncoder: input has ${len} tokens, more than maxLen ${this.config.maxLen}`);
      const positions = arange(0, len, 1, { dtype: 'int64' });
      let x = this.embedDropout.forward(this.tokEmbed.forward(ids).add(this.posEmbed.forward(positions)));
      const keyPaddingMask = ids.eq(PAD_ID);
      const states = [x];
      for (const layer of this.layers) states.push(x = layer.forward(x, { keyPaddingMask }));
      states[states.length - 1] = this.norm.forward(x);
      return states;
    });
  }

  /**
   * Mean over the non-padding positions: [B, dModel] from the last layer, or with
   * `allLayers` the means of the embedding output and every layer, side by side
   * [B, (layers + 1) * dModel] (BERT's feature-based use of several layers).
   */
  pool(ids: Tensor, o: { allLayers?: boolean } = {}): Tensor {
    return tidy(() => {
      const weights = ids.ne(PAD_ID).to('float32').unsqueeze(2); // [B, L, 1]
      const count = weights.sum(1).clamp(1);
      const mean = (h: Tensor): Tensor => h.mul(weights).sum(1).div(count);
      if (!o.allLayers) return mean(this.forward(ids));
      return cat(this.hiddenStates(ids).map(mean), 1);
    });
  }
}

/** The encoder with BERT's prediction head: dense + GELU + LayerNorm, then scores over the vocabulary. */
export class MaskedLanguageModel extends Module {
  readonly encoder: TransformerTextEncoder;
  readonly transform: Linear;
  readonly transformNorm: LayerNorm;
  readonly decoder: Linear | null;
  readonly outputBias: Tensor;

  constructor(vocabSize: number, readonly config: MlmConfig) {
    super();
    this.encoder = this.registerModule('encoder', new TransformerTextEncoder(vocabSize, config));
    this.transform = this.registerModule('transform', new Linear(config.dModel, config.dModel));
    this.transformNorm = this.registerModule('transform_norm', new LayerNorm(config.dModel));
    this.decoder = config.tieOutput ? null : this.registerModule('decoder', new Linear(config.dModel, vocabSize, { bias: false }));
    this.outputBias = this.registerParameter('output_bias', zeros([vocabSize]));
  }

  /** Frees the prediction head and returns the encoder, which the caller now owns. */
  takeEncoder(): TransformerTextEncoder {
    this.transform.dispose();
    this.transformNorm.dispose();
    this.decoder?.dispose();
    this.outputBias.dispose();
    return this.encoder;
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
  forward(ids: Tensor): Tensor {
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

/** Encodes texts for the encoder: [CLS] tokens [SEP], cut to maxLen. */
export function encodeForModel(tokenizer: BpeTokenizer, texts: readonly string[], maxLen: number): Int32Array[] {
  return texts.map((t) => tokenizer.encode(t, { special: true, maxLength: maxLen }));
}

/** Mean-pooled encoder outputs of texts, [N, dModel], in eval mode without gradients. */
export function encodeTexts(encoder: TransformerTextEncoder, tokenizer: BpeTokenizer, texts: readonly string[], o: { allLayers?: boolean; batchSize?: number } = {}): Tensor {
  const batchSize = o.batchSize ?? 256;
  const seqs = encodeForModel(tokenizer, texts, encoder.config.maxLen);
  const parts: Tensor[] = [];
  try {
    inEvalMode(encoder, () => noGrad(() => {
      for (let s = 0; s < seqs.length; s += batchSize) {
        parts.push(keep(tidy(() => encoder.pool(padSequences(seqs.slice(s, s + batchSize), PAD_ID, encoder.config.maxLen), o))));
      }
    }));
    return cat(parts, 0);
  } finally {
    for (const p of parts) p.dispose();
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

export async function pretrainMaskedLM(o: MlmPretrainOptions): Promise<MlmPretrainResult> {
  const c = o.config;
  const vocabSize = o.tokenizer.size;
  const all = encodeForModel(o.tokenizer, o.texts, c.maxLen).filter((s) => s.length > 2);
  if (all.length === 0) throw new Error('masked-LM pretraining: no text to train on');
  const heldOutCount = Math.min(c.heldOut, Math.floor(all.length / 10));
  const heldOut = all.slice(all.length - heldOutCount);
  const seqs = all.slice(0, all.length - heldOutCount);
  const lengths = Int32Array.from(seqs, (s) => s.length);
  const stepsPerEpoch = bucketedBatchCount(seqs.length, c.batchSize);
  const model = new MaskedLanguageModel(vocabSize, c);
  // The vocabulary-sized tables (token embedding; output layer when untied) get their own rate:
  // each row learns only from the few steps its token appears in.
  const tables = [model.encoder.tokEmbed.weight, ...(model.decoder ? [model.decoder.weight] : [])];
  const optimizer = new AdamW([
    { params: tables, lr: c.lr * (c.embeddingLrScale ?? 1), weightDecay: c.embeddingWeightDecay ?? c.weightDecay },
    { params: model.parameters().filter((p) => !tables.includes(p)), lr: c.lr },
  ], { weightDecay: c.weightDecay });
  // Token frequencies, for the negatives' proposal and frequency-weighted masking (specials never count).
  const counts = c.sampledNegatives || c.maskFrequencyThreshold ? tokenCounts(seqs, vocabSize).fill(0, 0, o.tokenizer.firstRegularId) : null;
  const sampled = counts && c.sampledNegatives ? new SampledSoftmax(counts, c.sampledNegatives) : undefined;
  const tokenWeights = counts && c.maskFrequencyThreshold ? keep(tensor(frequencyMaskWeights(counts, c.maskFrequencyThreshold, c.maskProb))) : undefined;
  const negativeGenerator = sampled ? new TorchGenerator(mixSeed(c.seed, 0x5a3)) : undefined;
  const scheduler = new BudgetLinearDecayLR(optimizer, { totalSteps: c.epochs * stepsPerEpoch, budgetSeconds: c.timeBudgetSeconds, warmupSteps: c.warmupSteps, minFactor: 0 });
  const batches = function* (epoch: number): Generator<TensorBatch> {
    const generator = new TorchGenerator(mixSeed(c.seed, epoch, 0x3a5));
    for (const b of lengthBucketedBatches(lengths, c.batchSize, c.seed, epoch)) {
      yield tidy(() => {
        const ids = padSequences(Array.from(b, (i) => seqs[i]!), PAD_ID, c.maxLen);
        const m = maskTokens(ids, { maskId: MASK_ID, firstRegularId: o.tokenizer.firstRegularId, vocabSize, maskProb: c.maskProb, tokenWeights, generator });
        return new TensorBatch(m.input, m.labels);
      });
    }
  };
  try {
    const result = await fit<TensorBatch>({
      name: o.name ?? 'mlm-pretrain', model, optimizer, scheduler, epochs: c.epochs, stepsPerEpoch, batches,
      step: (b) => model.loss(b.tensors[0]!, b.tensors[1]!, { sampled, generator: negativeGenerator }),
      validate: heldOut.length ? () => ({ masked_acc: maskedTokenAccuracy(model, heldOut, c, vocabSize) }) : undefined,
      checkpoint: o.checkpoint, resume: o.resume, metrics: o.metrics, progress: o.progress, callbacks: o.callbacks,
      unit: 'masked tokens', timeBudgetSeconds: c.timeBudgetSeconds, clipGradNorm: 1,
      checkpointMeta: { ...o.checkpointMeta, method: 'mlm', config: c, tokenizer: o.tokenizer.toJSON() },
    });
    const heldOutAccuracy = heldOut.length ? (result.lastValidation.masked_acc ?? maskedTokenAccuracy(model, heldOut, c, vocabSize)) : null;
    return { model, fit: result, sequencesPerSecond: (result.steps * Math.min(c.batchSize, seqs.length)) / result.seconds, heldOutAccuracy };
  } finally {
    optimizer.dispose();
    sampled?.dispose();
    tokenWeights?.dispose();
  }
}

/** How often each token id occurs in the sequences. */
export function tokenCounts(seqs: readonly Int32Array[], vocabSize: number): Float64Array {
  const counts = new Float64Array(vocabSize);
  for (const s of seqs) for (const id of s) counts[id]!++;
  return counts;
}
