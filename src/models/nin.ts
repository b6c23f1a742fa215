// Network-in-Network as used by RotNet (Gidaris et al. 2018) on CIFAR-10: blocks
// of one k x k conv and two 1x1 convs, each followed by BN and ReLU; max-pool
// after block 1, average-pool after block 2. Four blocks by default.
import { Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, Sequential, type Module } from '../nn/index.js';
import { Backbone } from './backbone.js';

function cbr(cin: number, cout: number, k: number): Module[] {
  return [new Conv2d(cin, cout, k, { padding: (k - 1) / 2, bias: false }), new BatchNorm2d(cout), new ReLU()];
}

export interface NinOptions {
  inChannels?: number;
  /** Number of blocks, at least 3 (default 4, the paper's best RotNet). */
  blocks?: number;
  /** Channel width (default 192 as in the paper; smaller runs faster on a CPU). */
  width?: number;
}

export class NetworkInNetwork extends Backbone {
  constructor(o: NinOptions = {}) {
    super(o);
    const w = o.width ?? 192;
    const n = o.blocks ?? 4;
    if (!Number.isInteger(n) || n < 3) throw new RangeError(`NetworkInNetwork: blocks must be an integer >= 3, got ${n}`);
    const c = o.inChannels ?? 3;
    const w1b = Math.round((w * 160) / 192);
    const w1c = Math.round((w * 96) / 192);
    this.addBlock('block1', new Sequential(...cbr(c, w, 5), ...cbr(w, w1b, 1), ...cbr(w1b, w1c, 1), new MaxPool2d(3, { stride: 2, padding: 1 })), w1c);
    this.addBlock('block2', new Sequential(...cbr(w1c, w, 5), ...cbr(w, w, 1), ...cbr(w, w, 1), new AvgPool2d(3, { stride: 2, padding: 1 })), w);
    for (let b = 3; b <= n; b++) this.addBlock(`block${b}`, new Sequential(...cbr(w, w, 3), ...cbr(w, w, 1), ...cbr(w, w, 1)), w);
  }
}
