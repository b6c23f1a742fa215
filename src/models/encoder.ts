// What every pretrained thing hands back: a module that maps a batch of inputs to one
// vector each. Image backbones pool a block's feature map; text encoders pool tokens.
import type { Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import type { Normalization } from '../eval/evaluate.js';

export interface Encoder extends Module {
  /** Width of the vectors `embed` returns. */
  readonly embedDim: number;
  /**
   * Per-channel input normalisation the encoder was trained with (image encoders): set by
   * pretraining and loadEncoder, saved by saveEncoder, and applied by embed, extractFeatures,
   * accuracy and predict when they are given none. Null or absent: not known.
   */
  inputNorm?: Normalization | null;
  /** One vector per input: [N, embedDim]. */
  embed(x: Tensor): Tensor;
}
