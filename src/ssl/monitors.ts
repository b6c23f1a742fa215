// Monitors of a pretraining run, measured on images the method never trains on:
// the spread of l2-normalised embeddings (a collapsing method shows it falling
// toward 0; healthy ones sit near 1/sqrt(D)) and kNN accuracy on a small labelled
// held-out split. They are logged into the training curve and the report, and are
// never used to train or to choose a model.
import { tidy, noGrad, F, type Tensor } from '../tensor/index.js';
import type { ImageDataset } from '../data/index.js';
import { inEvalMode } from '../nn/index.js';
import { extractFeatures, labelTensor, type Normalization } from '../eval/evaluate.js';
import { knnClassify } from '../eval/knn.js';
import type { SslMethod } from './method.js';

export interface MonitorOptions {
  /** Labelled images outside the pretraining set. */
  data: ImageDataset;
  /** Images whose labels vote (the kNN memory). */
  bank: ArrayLike<number>;
  /** Images classified by their neighbours in the bank; their embeddings also give the spread. */
  queries: ArrayLike<number>;
  /** Measure every this many steps (also after each epoch). */
  every: number;
  neighbors?: number;
  temperature?: number;
}

export interface EmbeddingMonitor {
  every: number;
  measure(): Record<string, number>;
  dispose(): void;
}

/** Mean over dimensions of the batch standard deviation of l2-normalised rows of `z` [N, D]. */
export function embeddingSpread(z: Tensor): number {
  return tidy(() => F.normalize(z, 1).std(0).mean().item());
}

export function embeddingMonitor(method: SslMethod, o: MonitorOptions, norm?: Normalization): EmbeddingMonitor {
  if (!o.data.labels) throw new TypeError(`monitor: ${o.data.name} has no labels for the kNN monitor`);
  if (!(Number.isInteger(o.every) && o.every >= 1)) throw new RangeError(`monitor: every must be a positive integer, got ${o.every}`);
  const numClasses = o.data.classNames?.length ?? Math.max(...o.data.labels) + 1;
  const bankLabels = labelTensor(o.data, o.bank);
  const queryLabels = labelTensor(o.data, o.queries);
  return {
    every: o.every,
    measure: () => inEvalMode(method, () => noGrad(() => {
      const encoder = method.encoder;
      const bank = extractFeatures(encoder, (x) => encoder.embed(x), o.data, { norm, indices: o.bank });
      const queries = extractFeatures(encoder, (x) => encoder.embed(x), o.data, { norm, indices: o.queries });
      try {
        const knnAcc = tidy(() => knnClassify(bank, bankLabels.to(bank.device), queries, queryLabels.to(bank.device), numClasses,
          { k: o.neighbors ?? 20, temperature: o.temperature ?? 0.07 }).accuracy);
        return { knn_acc: knnAcc, embedding_std: embeddingSpread(queries) };
      } finally {
        bank.dispose();
        queries.dispose();
      }
    })),
    dispose: () => {
      bankLabels.dispose();
      queryLabels.dispose();
    },
  };
}
