// A small transformer text encoder (BERT-style, Devlin et al. 2019): token +
// position embeddings, pre-norm TransformerEncoderLayers and a final LayerNorm. As an
// Encoder it embeds token ids [N, L] (padded with [PAD]) as the mean of the last
// layer over the real tokens. The masked LM, ELECTRA (as its discriminator) and SimCSE
// (ssl/methods/masked-lm.ts, electra.ts, simcse.ts) train it.
import { Tensor, tidy, noGrad, arange, cat } from '../tensor/index.js';
import { Module, Embedding, LayerNorm, Dropout, TransformerEncoderLayer } from '../nn/index.js';
import { PAD_ID } from '../data/text/bpe.js';
import type { Encoder } from './encoder.js';

export interface EncoderConfig {
  dModel: number;
  heads: number;
  layers: number;
  dimFeedforward: number;
  dropout: number;
  /** Longest input in tokens, [CLS] and [SEP] included; longer texts are cut. */
  maxLen: number;
}

/** Token ids [B, L] (padded with [PAD] = 0) to contextual vectors [B, L, dModel]. */
export class TransformerTextEncoder extends Module implements Encoder {
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
    noGrad(() => tidy(() => { // BERT's N(0, 0.02) start keeps (tied) output logits small at first; tidy frees the row view
      this.tokEmbed.weight.normal_(0, 0.02);
      this.tokEmbed.weight.select(0, PAD_ID).zero_();
      this.posEmbed.weight.normal_(0, 0.02);
    }));
    this.embedDropout = this.registerModule('embed_dropout', new Dropout(c.dropout));
    for (let i = 0; i < c.layers; i++) {
      this.layers.push(this.registerModule(`layer${i}`, new TransformerEncoderLayer(c.dModel, c.heads, {
        dimFeedforward: c.dimFeedforward, dropout: c.dropout, activation: 'gelu', normFirst: true, batchFirst: true,
      })));
    }
    this.norm = this.registerModule('norm', new LayerNorm(c.dModel));
  }

  get embedDim(): number {
    return this.config.dModel;
  }

  /** The pooled representation the probes and classifiers use: the mean of the last layer over the non-padding tokens, [N, dModel]. */
  embed(ids: Tensor): Tensor {
    return this.pool(ids);
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
