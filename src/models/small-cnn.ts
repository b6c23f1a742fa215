// A small conv net for 28x28 grey images: three blocks of conv-BN-ReLU, widths
// 32/64/128 (5 conv layers), the model of the engine benchmark.
import { Conv2d, BatchNorm2d, ReLU, MaxPool2d, Sequential, type Module } from '../nn/index.js';
import { Backbone } from './backbone.js';

function convBnRelu(cin: number, cout: number): Module[] {
  return [new Conv2d(cin, cout, 3, { padding: 1, bias: false }), new BatchNorm2d(cout), new ReLU()];
}

export interface SmallCnnOptions {
  inChannels?: number;
  /** Widths of the three blocks (default [32, 64, 128]). */
  widths?: [number, number, number];
}

export class SmallCnn extends Backbone {
  constructor(o: SmallCnnOptions = {}) {
    super(o);
    const [w1, w2, w3] = o.widths ?? [32, 64, 128];
    const c = o.inChannels ?? 1;
    this.addBlock('block1', new Sequential(...convBnRelu(c, w1), ...convBnRelu(w1, w1), new MaxPool2d(2)), w1);
    this.addBlock('block2', new Sequential(...convBnRelu(w1, w2), ...convBnRelu(w2, w2), new MaxPool2d(2)), w2);
    this.addBlock('block3', new Sequential(...convBnRelu(w2, w3)), w3);
  }
}
