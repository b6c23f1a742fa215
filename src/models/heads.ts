// Heads that turn pooled features into class scores, and the encoder+head model.
import { Tensor, tidy } from '../tensor/index.js';
import { Module, Linear, BatchNorm1d, ReLU, Sequential, Dropout } from '../nn/index.js';
import type { Backbone } from './backbone.js';
import type { Normalization } from '../eval/evaluate.js';

export function linearHead(inFeatures: number, classes: number): Module {
  return new Linear(inFeatures, classes);
}

/** Linear -> BN -> ReLU (-> Dropout) -> Linear. */
export function mlpHead(inFeatures: number, classes: number, hidden = 256, dropout = 0): Module {
  const layers: Module[] = [new Linear(inFeatures, hidden, { bias: false }), new BatchNorm1d(hidden), new ReLU()];
  if (dropout > 0) layers.push(new Dropout(dropout));
  layers.push(new Linear(hidden, classes));
  return new Sequential(...layers);
}

/**
 * An encoder followed by a head on the pooled features of one of its blocks.
 * Parameter names: 'encoder.block1....' and 'head....', so `freeze('encoder.block1')` works.
 */
export class Classifier extends Module {
  readonly encoder: Backbone;
  readonly head: Module;
  constructor(encoder: Backbone, head: Module, readonly block?: string) {
    super();
    this.encoder = this.registerModule('encoder', encoder);
    this.head = this.registerModule('head', head);
  }
  forward(x: Tensor): Tensor {
    return tidy(() => this.head.forward(this.encoder.features(x, this.block)));
  }

  /** The encoder's input normalisation: what accuracy and predict apply by default. */
  get inputNorm(): Normalization | null {
    return this.encoder.inputNorm;
  }
}
