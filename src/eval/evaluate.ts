// Running a trained model over a data set: accuracy, predictions and features,
// in eval mode, without gradients, one batch at a time, on the model's device.
import { Tensor, tidy, noGrad, cat, keep, tensor } from '../tensor/index.js';
import { inEvalMode, recomputeBatchNormStats, type Module } from '../nn/index.js';
import { DataLoader, type ImageDataset } from '../data/index.js';

export interface Normalization { mean: number[]; std: number[] }

const warnedNoNorm = new Set<string>();

/**
 * The normalisation to apply to `model`'s inputs: `given` (null: none, on purpose), else the
 * model's own `inputNorm` (an encoder's, or a classifier's encoder's). With neither, the raw
 * [0, 1] pixels go in, which is rarely what a trained encoder saw: say so, once per caller.
 */
export function inputNormOf(model: Module, given: Normalization | null | undefined, caller: string): Normalization | undefined {
  if (given !== undefined) return given ?? undefined;
  const own = (model as { inputNorm?: Normalization | null }).inputNorm;
  if (own) return own;
  if (!warnedNoNorm.has(caller)) {
    warnedNoNorm.add(caller);
    process.emitWarning(`${caller}: no normalisation given and the model carries none (its inputNorm), so raw [0, 1] pixels go in; ` +
      'pass { norm } (e.g. the training images\' channelStats), set model.inputNorm, or pass { norm: null } for raw pixels on purpose', { code: 'SELFSUP_NO_NORM' });
  }
  return undefined;
}

/** Options of the functions that run a model over a data set. */
export interface EvalOptions {
  /** Input normalisation; default the model's own inputNorm; null: raw pixels. */
  norm?: Normalization | null;
  batchSize?: number;
  indices?: ArrayLike<number>;
}

/** Batches in source order, made where `model` is. */
function evalLoader(model: Module, data: ImageDataset, norm: Normalization | undefined, batchSize: number, indices?: ArrayLike<number>): DataLoader {
  return new DataLoader(data, { batchSize, shuffle: false, indices, mean: norm?.mean, std: norm?.std, device: model.device });
}

/** Top-1 accuracy of a classifier on a labelled data set (or a subset of it). */
export function accuracy(model: Module, data: ImageDataset, o: EvalOptions = {}): number {
  if (!data.labels) throw new TypeError(`accuracy: ${data.name} has no labels`);
  const norm = inputNormOf(model, o.norm, 'accuracy');
  let correct = 0;
  let total = 0;
  inEvalMode(model, () => noGrad(() => {
    for (const b of evalLoader(model, data, norm, o.batchSize ?? 500, o.indices)) {
      using batch = b;
      correct += tidy(() => model.forward(batch.x).argmax(1).eq(batch.y!).sum().item());
      total += batch.indices.length;
    }
  }));
  return total ? correct / total : 0;
}

/** Class predictions for every image, in order. */
export function predict(model: Module, data: ImageDataset, o: EvalOptions = {}): Int32Array {
  const norm = inputNormOf(model, o.norm, 'predict');
  const out: number[] = [];
  inEvalMode(model, () => noGrad(() => {
    for (const b of evalLoader(model, data, norm, o.batchSize ?? 500, o.indices)) {
      using batch = b;
      const p = tidy(() => model.forward(batch.x).argmax(1));
      out.push(...p.dataNumbers());
      p.dispose();
    }
  }));
  return Int32Array.from(out);
}

/**
 * Features of every image from `extract` (e.g. `x => encoder.features(x, 'block2')`),
 * stacked into one [N, D] tensor that the caller owns, on the model's device.
 */
export function extractFeatures(model: Module, extract: (x: Tensor) => Tensor, data: ImageDataset, o: EvalOptions = {}): Tensor {
  const norm = inputNormOf(model, o.norm, 'extractFeatures');
  const parts: Tensor[] = [];
  try {
    inEvalMode(model, () => noGrad(() => {
      for (const b of evalLoader(model, data, norm, o.batchSize ?? 500, o.indices)) {
        using batch = b;
        parts.push(keep(tidy(() => extract(batch.x).flatten(1))));
      }
    }));
    return cat(parts, 0);
  } finally {
    for (const p of parts) p.dispose();
  }
}

/** Labels of a data set (or subset) as an int64 tensor. */
export function labelTensor(data: ImageDataset, indices?: ArrayLike<number>): Tensor {
  if (!data.labels) throw new TypeError(`${data.name} has no labels`);
  const src = data.labels;
  const idx = indices ?? Int32Array.from({ length: data.length }, (_, i) => i);
  const out = new BigInt64Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = BigInt(src[idx[i]!]!);
  return tensor(out);
}

/**
 * The running statistics of `model`'s batch-norm layers recomputed over images of `data`
 * (all, or `indices`), in batches of `batchSize` (default 256): see recomputeBatchNormStats.
 * No labels are read. Returns the number of layers recomputed.
 */
export function recalibrateBatchNorm(model: Module, data: ImageDataset, o: EvalOptions = {}): number {
  const norm = inputNormOf(model, o.norm, 'recalibrateBatchNorm');
  return recomputeBatchNormStats(model, () => {
    for (const b of evalLoader(model, data, norm, o.batchSize ?? 256, o.indices)) {
      using batch = b;
      tidy(() => model.forward(batch.x)).dispose();
    }
  });
}
