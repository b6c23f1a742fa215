// Dropout: zeroes elements with probability p in training (scaling the rest by 1/(1-p)); identity in eval.
import { Tensor, F } from '../tensor/index.js';
import { Module } from './module.js';

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
