// 2-d convolution, initialised like torch.nn.Conv2d.
import { Tensor, F, empty, type Device } from '../tensor/index.js';
import { Module } from './module.js';
import { fanInAndFanOut, kaimingUniform_, uniform_ } from './init.js';
import { checkPositive } from './linear.js';

export type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  device?: Device;
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, o: Conv2dOptions = {}) {
    super();
    this.kernelSize = pair(kernelSize);
    this.stride = pair(o.stride ?? 1);
    this.padding = pair(o.padding ?? 0);
    this.dilation = pair(o.dilation ?? 1);
    this.groups = o.groups ?? 1;
    checkPositive('Conv2d', { inChannels, outChannels, groups: this.groups, kernelHeight: this.kernelSize[0], kernelWidth: this.kernelSize[1] });
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new RangeError(`Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${this.groups})`);
    }
    const [kh, kw] = this.kernelSize;
    this.weight = this.registerParameter('weight', empty([outChannels, inChannels / this.groups, kh, kw], { device: o.device }));
    this.bias = (o.bias ?? true) ? this.registerParameter('bias', empty([outChannels], { device: o.device })) : null;
    this.resetParameters();
  }

  /** PyTorch's default: kaiming_uniform(a=sqrt(5)) for the weight, U(±1/sqrt(fanIn)) for the bias. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const { fanIn } = fanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  protected override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}], stride=[${this.stride}], padding=[${this.padding}]` +
      (this.dilation.some((d) => d !== 1) ? `, dilation=[${this.dilation}]` : '') +
      (this.groups !== 1 ? `, groups=${this.groups}` : '') + (this.bias ? '' : ', bias=false');
  }
}
