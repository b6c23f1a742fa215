// Labels for new images from a trained classifier: the top classes of each image with
// their softmax probabilities, a batch at a time from any ImageSource (a folder, a
// data set, or images decoded one by one with data.readImage).
import { tensor, tidy, noGrad } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import { inEvalMode } from '../nn/mode.js';
import { normalizeBatch_, type ImageSource } from '../data/index.js';
import type { Normalization } from './evaluate.js';

export interface ClassifyOptions {
  norm?: Normalization;
  /** Classes reported per image, best first (default 3). */
  top?: number;
  batchSize?: number;
}

export interface Prediction {
  /** Class indices, best first. */
  classes: number[];
  probabilities: number[];
}

/** The top classes of every image of `source`, in order. */
export async function classify(model: Module, source: ImageSource, o: ClassifyOptions = {}): Promise<Prediction[]> {
  const [c, h, w] = source.imageShape;
  const out: Prediction[] = [];
  for await (const b of source.batches(o.batchSize ?? 256)) {
    const { values, indices } = inEvalMode(model, () => noGrad(() => tidy(() => {
      let x = tensor(b.images, { shape: [b.count, c, h, w] }).to(model.device).to('float32').div(255);
      if (o.norm) x = normalizeBatch_(x, o.norm.mean, o.norm.std);
      const p = model.forward(x).softmax(1);
      return p.topk(Math.min(o.top ?? 3, p.size(1)), 1);
    })));
    const v = values.to('cpu').data() as Float32Array;
    const k = values.size(1);
    const ix = indices.dataNumbers();
    values.dispose();
    indices.dispose();
    for (let i = 0; i < b.count; i++) out.push({ classes: ix.slice(i * k, (i + 1) * k), probabilities: Array.from(v.subarray(i * k, (i + 1) * k)) });
  }
  return out;
}
