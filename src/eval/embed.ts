// The one way to embed a whole data set: every image through `encoder.embed` in
// eval mode, without gradients, a batch at a time, on the encoder's device.
import { tensor, tidy, noGrad, type Tensor } from '../tensor/index.js';
import { Backbone, type Encoder } from '../models/index.js';
import { normalizeBatch_, type ImageDataset, type ImageSource } from '../data/index.js';
import { inEvalMode } from '../nn/mode.js';
import { extractFeatures, inputNormOf, type Normalization } from './evaluate.js';

export interface EmbedOptions {
  /** The normalisation the encoder was trained with (its images' channel statistics); default the encoder's inputNorm; null: raw pixels. */
  norm?: Normalization | null;
  /** Embed only these images, in this order. */
  indices?: ArrayLike<number>;
  batchSize?: number;
}

/** [N, encoder.embedDim] embeddings of `data` (or of `indices`), which the caller owns. */
export function embed(encoder: Encoder, data: ImageDataset, o: EmbedOptions = {}): Tensor {
  return extractFeatures(encoder, (x) => encoder.embed(x), data, { ...o, norm: inputNormOf(encoder, o.norm, 'embed') ?? null });
}

export interface EmbedSourceOptions {
  /** Default the encoder's inputNorm; null: raw pixels. */
  norm?: Normalization | null;
  /** For backbones: the block whose pooled features are the rows (default: `embed`'s). */
  block?: string;
  batchSize?: number;
  /** Called after each batch with the rows done so far. */
  onBatch?: (done: number, total: number) => void;
}

/**
 * The embeddings of every image of `source`, a batch of rows (count * D floats) at a time:
 * images are decoded, embedded and handed on batch by batch, so a folder of any size
 * streams through (see io.writeEmbeddings).
 */
export async function* embedSource(encoder: Encoder, source: ImageSource, o: EmbedSourceOptions = {}): AsyncGenerator<Float32Array> {
  const [c, h, w] = source.imageShape;
  const extract = o.block !== undefined
    ? (() => {
      if (!(encoder instanceof Backbone)) throw new TypeError(`embedSource: block '${o.block}' given, but the encoder is a ${encoder.constructor.name}, not a backbone with blocks`);
      return (x: Tensor) => encoder.features(x, o.block);
    })()
    : (x: Tensor) => encoder.embed(x);
  const norm = inputNormOf(encoder, o.norm, 'embedSource');
  let done = 0;
  for await (const b of source.batches(o.batchSize ?? 256)) {
    const rows = inEvalMode(encoder, () => noGrad(() => tidy(() => {
      let x = tensor(b.images, { shape: [b.count, c, h, w] }).to(encoder.device).to('float32').div(255);
      if (norm) x = normalizeBatch_(x, norm.mean, norm.std);
      return extract(x).flatten(1).to('cpu').contiguous();
    })));
    const values = rows.data() as Float32Array;
    rows.dispose();
    done += b.count;
    o.onBatch?.(done, source.length);
    yield values;
  }
}
