// The one way to embed a whole data set: every image through `encoder.embed` in
// eval mode, without gradients, a batch at a time, on the encoder's device.
import type { Tensor } from '../tensor/index.js';
import type { Encoder } from '../models/index.js';
import type { ImageDataset } from '../data/index.js';
import { extractFeatures, type Normalization } from './evaluate.js';

export interface EmbedOptions {
  /** The normalisation the encoder was trained with (its images' channel statistics). */
  norm?: Normalization;
  /** Embed only these images, in this order. */
  indices?: ArrayLike<number>;
  batchSize?: number;
}

/** [N, encoder.embedDim] embeddings of `data` (or of `indices`), which the caller owns. */
export function embed(encoder: Encoder, data: ImageDataset, o: EmbedOptions = {}): Tensor {
  return extractFeatures(encoder, (x) => encoder.embed(x), data, o);
}
