// Pooling layers and Flatten: thin modules over the functional ops.
import { Tensor, F } from '../tensor/index.js';
import { Module } from './module.js';
import type { Pair } from './conv.js';

export interface Pool2dOptions {
  /** Defaults to the kernel size. */
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly options: Pool2dOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return F.maxPool2d(x, this.kernelSize, this.options); }
  protected override extraRepr(): string { return `kernelSize=${this.kernelSize}, stride=${this.options.stride ?? this.kernelSize}`; }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly options: Pool2dOptions & { countIncludePad?: boolean } = {}) { super(); }
  forward(x: Tensor): Tensor { return F.avgPool2d(x, this.kernelSize, this.options); }
  protected override extraRepr(): string { return `kernelSize=${this.kernelSize}, stride=${this.options.stride ?? this.kernelSize}`; }
}

/** Averages each channel down to `outputSize` (1 for global average pooling). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) { super(); }
  forward(x: Tensor): Tensor { return F.adaptiveAvgPool2d(x, this.outputSize); }
  protected override extraRepr(): string { return `outputSize=${this.outputSize}`; }
}

/** Flattens dims startDim..endDim into one (by default everything but the batch dim). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.flatten(this.startDim, this.endDim); }
}
