// The skip-gram word table (word2vec, Mikolov et al. 2013): an input vector per word
// (the word as a centre) and an output vector per word (the word as a context). As an
// Encoder it embeds a document as the mean of its words' vectors, input + output
// (Levy et al. 2015 found the sum better for similarity; WordVectors keeps the same).
import { Tensor, F, op, tidy, noGrad } from '../tensor/index.js';
import { Module, Embedding } from '../nn/index.js';
import type { Encoder } from './encoder.js';

/** Word id 0 is the unknown word: padding in id matrices, never part of a mean. */
const PADDING_ID = 0;

export class WordTable extends Module implements Encoder {
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

  get embedDim(): number {
    return this.dim;
  }

  /** Input (word) vectors of `ids`. */
  forward(ids: Tensor): Tensor {
    return F.embedding(ids, this.inEmbed.weight);
  }

  /** Input vectors of `ids` with a sparse gradient (a step then touches only these rows). */
  centreVectors(ids: Tensor): Tensor {
    return op('aten::embedding', this.inEmbed.weight, ids, -1, false, true);
  }

  /** Output vectors of `ids` with a sparse gradient. */
  contextVectors(ids: Tensor): Tensor {
    return op('aten::embedding', this.outEmbed.weight, ids, -1, false, true);
  }

  /** Word ids [N, L] padded with 0 to the mean of each row's input + output vectors, [N, dim] (zeros for a row of padding). */
  embed(ids: Tensor): Tensor {
    return tidy(() => F.embeddingBag(this.inEmbed.weight.add(this.outEmbed.weight), ids, 'mean', PADDING_ID));
  }
}
