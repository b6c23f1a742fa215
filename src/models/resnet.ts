// CIFAR-style ResNet-18 (He et al. 2016): a 3x3 stem without max-pool, then four
// stages of two basic blocks (64/128/256/512 channels, stride 2 from stage 2).
import { Tensor, tidy } from '../tensor/index.js';
import { Module, Conv2d, BatchNorm2d, ReLU, Sequential, Identity } from '../nn/index.js';
import { Backbone } from './backbone.js';

/** Two 3x3 conv-BN layers and a shortcut (identity, or a strided 1x1 conv-BN), summed and rectified. */
export class BasicBlock extends Module {
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d; readonly conv2: Conv2d; readonly bn2: BatchNorm2d;
  readonly shortcut: Module;
  constructor(cin: number, cout: number, stride: number) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(cout));
    this.conv2 = this.registerModule('conv2', new Conv2d(cout, cout, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(cout));
    this.shortcut = this.registerModule('shortcut', stride !== 1 || cin !== cout
      ? new Sequential(new Conv2d(cin, cout, 1, { stride, bias: false }), new BatchNorm2d(cout))
      : new Identity());
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const h = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()));
      return h.add(this.shortcut.forward(x)).relu();
    });
  }
}

export interface ResNetOptions {
  inChannels?: number;
  /** Width of the first stage (default 64); later stages double it. */
  width?: number;
}

export class ResNet18 extends Backbone {
  constructor(o: ResNetOptions = {}) {
    super(o);
    const w = o.width ?? 64;
    const c = o.inChannels ?? 3;
    this.addBlock('stem', new Sequential(new Conv2d(c, w, 3, { padding: 1, bias: false }), new BatchNorm2d(w), new ReLU()), w);
    let cin = w;
    [w, 2 * w, 4 * w, 8 * w].forEach((cout, i) => {
      const stride = i === 0 ? 1 : 2;
      this.addBlock(`block${i + 1}`, new Sequential(new BasicBlock(cin, cout, stride), new BasicBlock(cout, cout, 1)), cout);
      cin = cout;
    });
  }
}
