// A lookup table of vectors, initialised like torch.nn.Embedding (N(0, 1), padding row zero).
import { Tensor, F, empty, noGrad, type Device } from '../tensor/index.js';
import { Module } from './module.js';
import { normal_ } from './init.js';
import { checkPositive } from './linear.js';

export interface EmbeddingOptions {
  /** This index maps to a zero vector that gets no gradient. Negative counts from the end. */
  paddingIdx?: number;
  device?: Device;
}

export class Embedding extends Module {
  readonly weight: Tensor;
  readonly paddingIdx: number | null;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, o: EmbeddingOptions = {}) {
    super();
    checkPositive('Embedding', { numEmbeddings, embeddingDim });
    let pad = o.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad >= numEmbeddings || pad < -numEmbeddings) {
        throw new RangeError(`Embedding: paddingIdx must be an integer in [-${numEmbeddings}, ${numEmbeddings}), got ${pad}`);
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    this.weight = this.registerParameter('weight', empty([numEmbeddings, embeddingDim], { device: o.device }));
    this.resetParameters();
  }

  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) {
      noGrad(() => {
        const row = this.weight.select(0, this.paddingIdx!);
        row.zero_();
        row.dispose();
      });
    }
  }

  /** Looks up integer indices (int64) of any shape; the result has one more dim of size embeddingDim. */
  forward(indices: Tensor): Tensor {
    if (indices.isFloatingPoint()) throw new TypeError(`Embedding: indices must be integers (int64), got ${indices.dtype}`);
    return F.embedding(indices, this.weight, this.paddingIdx ?? -1);
  }

  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, paddingIdx=${this.paddingIdx}` : ''}`;
  }
}
