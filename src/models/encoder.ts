// What every pretrained thing hands back: a module that maps a batch of inputs to one
// vector each. Image backbones pool a block's feature map; text encoders pool tokens.
import type { Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';

export interface Encoder extends Module {
  /** Width of the vectors `embed` returns. */
  readonly embedDim: number;
  /** One vector per input: [N, embedDim]. */
  embed(x: Tensor): Tensor;
}
