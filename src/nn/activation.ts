// Activation functions as modules, for use in Sequential. None has parameters.
import { Tensor, op } from '../tensor/index.js';
import { Module } from './module.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return x.relu(); }
}

export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') { super(); }
  forward(x: Tensor): Tensor { return x.gelu(this.approximate); }
  protected override extraRepr(): string { return this.approximate === 'none' ? '' : `approximate='${this.approximate}'`; }
}

export class SiLU extends Module {
  forward(x: Tensor): Tensor { return x.silu(); }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return x.sigmoid(); }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor { return x.tanh(); }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return x.leakyRelu(this.negativeSlope); }
  protected override extraRepr(): string { return `negativeSlope=${this.negativeSlope}`; }
}

export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
    if (!Number.isInteger(dim)) throw new TypeError(`Softmax: dim must be an integer, got ${dim}`);
  }
  forward(x: Tensor): Tensor { return x.softmax(this.dim); }
  protected override extraRepr(): string { return `dim=${this.dim}`; }
}

/** Passes its input through: a new handle on the same tensor, so the caller owns what it gets back. */
export class Identity extends Module {
  forward(x: Tensor): Tensor { return op('aten::alias', x); }
}
