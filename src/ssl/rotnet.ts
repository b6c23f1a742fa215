// Rotation-prediction pretraining (RotNet) of any backbone on unlabelled images.
// The encoder learns by predicting which of four rotations each image is in;
// afterwards its blocks are fine-tuned, probed or used for kNN on a labelled task.
import { F, tidy, noGrad, checkDevice } from '../tensor/index.js';
import { Classifier, linearHead, mlpHead, type Backbone } from '../models/index.js';
import { DataLoader, type ImageDataset, type Batch } from '../data/index.js';
import { fit, type FitOptions, type FitResult } from '../train/trainer.js';
import { makeOptimizer, type Augmentation, type OptimizerConfig } from '../train/supervised.js';
import { WarmupCosineLR } from '../optim/index.js';
import { inEvalMode, type Normalization } from '../eval/evaluate.js';
import type { RotationSample } from '../report/types.js';
import { rotationBatch } from './rotation.js';

export interface RotationPretrainOptions extends Pick<FitOptions<Batch>, 'checkpoint' | 'resume' | 'metrics' | 'progress' | 'timeBudgetSeconds' | 'callbacks' | 'checkpointMeta'> {
  /** Moved to `device` (in place) with its new rotation head before training. */
  encoder: Backbone;
  /** Where to train: 'cpu' (default), 'cuda' or 'cuda:N'. Batches, weights and optimizer state live there. */
  device?: string;
  /** Unlabelled training images (labels, if any, are ignored). */
  data: ImageDataset;
  /** Use only these images (e.g. all but a held-out part). */
  indices?: ArrayLike<number>;
  /** Images on which to report rotation accuracy after each epoch. */
  heldOut?: { data: ImageDataset; indices?: ArrayLike<number> };
  norm?: Normalization;
  /** Images per batch before rotation; the model sees 4x as many (default 128). */
  batchSize?: number;
  epochs: number;
  /** Stop after this many steps (the schedule ends there too). */
  maxSteps?: number;
  optimizer?: OptimizerConfig;
  augment?: Augmentation;
  /** 'linear' (the paper's, on pooled features) or 'mlp'. */
  head?: 'linear' | 'mlp';
  seed: number;
  name?: string;
}

export interface RotationPretrainResult {
  /** The encoder with its 4-way rotation head; `model.encoder` is the trained backbone. */
  model: Classifier;
  fit: FitResult;
  /** Rotation accuracy on the held-out images (0..1), if given. */
  heldOutRotationAccuracy: number | null;
}

export const DEFAULT_ROTATION_OPTIMIZER: OptimizerConfig = { kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, warmupSteps: 0 };

export async function pretrainRotation(o: RotationPretrainOptions): Promise<RotationPretrainResult> {
  const device = checkDevice(o.device, 'pretrainRotation');
  const dim = o.encoder.featureDim();
  // The head is drawn on the CPU like the encoder (same seed, same network on any device), then both move.
  const model = new Classifier(o.encoder, o.head === 'mlp' ? mlpHead(dim, 4) : linearHead(dim, 4)).to(device);
  const loader = new DataLoader(o.data, {
    batchSize: o.batchSize ?? 128, seed: o.seed, indices: o.indices, dropLast: true,
    crop: o.augment?.crop ?? 0, flip: o.augment?.flip ?? false, mean: o.norm?.mean, std: o.norm?.std, device,
  });
  const optConfig = o.optimizer ?? DEFAULT_ROTATION_OPTIMIZER;
  const optimizer = makeOptimizer(model, optConfig);
  const totalSteps = Math.max(2, Math.min(o.maxSteps ?? Infinity, o.epochs * loader.length));
  // A warm-up longer than the run (a tiny data set) is cut to fit.
  const scheduler = new WarmupCosineLR(optimizer, { warmupSteps: Math.min(optConfig.warmupSteps ?? 0, totalSteps - 1), totalSteps });
  const heldOut = o.heldOut;
  const result = await fit({
    name: o.name ?? 'rotation-pretrain', model, device, optimizer, scheduler, epochs: o.epochs, stepsPerEpoch: loader.length,
    batches: (epoch) => loader.batches(epoch),
    step: (batch) => {
      const { x, y } = rotationBatch(batch.x);
      const logits = model.forward(x);
      return { loss: F.crossEntropy(logits, y), correct: logits.argmax(1).eq(y).sum(), count: y.shape[0]! };
    },
    validate: heldOut ? () => ({ rotation_acc: rotationAccuracy(model, heldOut.data, { norm: o.norm, indices: heldOut.indices }) }) : undefined,
    checkpoint: o.checkpoint, resume: o.resume, metrics: o.metrics, progress: o.progress,
    timeBudgetSeconds: o.timeBudgetSeconds, maxSteps: o.maxSteps, callbacks: o.callbacks,
    checkpointMeta: { ...o.checkpointMeta, method: 'rotation', blocks: o.encoder.blockNames },
  });
  const heldOutRotationAccuracy = heldOut
    ? (result.lastValidation.rotation_acc ?? rotationAccuracy(model, heldOut.data, { norm: o.norm, indices: heldOut.indices }))
    : null;
  return { model, fit: result, heldOutRotationAccuracy };
}

/** Fraction of (image, rotation) pairs whose rotation the model predicts right (batches made on the model's device). */
export function rotationAccuracy(model: Classifier, data: ImageDataset, o: { norm?: Normalization; indices?: ArrayLike<number>; batchSize?: number } = {}): number {
  let correct = 0;
  let total = 0;
  inEvalMode(model, () => noGrad(() => {
    const loader = new DataLoader(data, { batchSize: o.batchSize ?? 250, shuffle: false, indices: o.indices, mean: o.norm?.mean, std: o.norm?.std, device: model.device });
    for (const b of loader) {
      using batch = b;
      correct += tidy(() => {
        const { x, y } = rotationBatch(batch.x);
        return model.forward(x).argmax(1).eq(y).sum().item();
      });
      total += 4 * batch.indices.length;
    }
  }));
  return total ? correct / total : 0;
}

/** A few held-out images in each rotation with the predicted rotation, for the report's grid. */
export function rotationSamples(model: Classifier, data: ImageDataset, count: number, o: { norm?: Normalization; indices?: ArrayLike<number> } = {}): RotationSample[] {
  const indices = Int32Array.from(o.indices ?? Array.from({ length: data.length }, (_, i) => i)).subarray(0, Math.ceil(count / 4));
  const samples: RotationSample[] = [];
  inEvalMode(model, () => noGrad(() => {
    const device = model.device;
    const raw = new DataLoader(data, { batchSize: indices.length, shuffle: false, indices, device });
    const normed = new DataLoader(data, { batchSize: indices.length, shuffle: false, indices, mean: o.norm?.mean, std: o.norm?.std, device });
    const [r] = [...raw];
    const [nb] = [...normed];
    using rawBatch = r!;
    using normBatch = nb!;
    const { predicted, pixels } = tidy(() => {
      const { x } = rotationBatch(normBatch.x);
      const view = rotationBatch(rawBatch.x).x.mul(255).round().to('uint8');
      return { predicted: model.forward(x).argmax(1), pixels: view };
    });
    const preds = predicted.dataNumbers();
    const bytes = pixels.data() as Uint8Array;
    const [c, h, w] = data.imageShape;
    const per = c * h * w;
    const b = indices.length;
    // Interleave so that each image shows its four rotations side by side.
    for (let i = 0; i < b && samples.length < count; i++) {
      for (let k = 0; k < 4 && samples.length < count; k++) {
        const row = k * b + i;
        samples.push({ pixels: bytes.slice(row * per, (row + 1) * per), width: w, height: h, channels: c as 1 | 3, rotation: k as 0 | 1 | 2 | 3, predicted: preds[row] as 0 | 1 | 2 | 3 });
      }
    }
    predicted.dispose();
    pixels.dispose();
  }));
  return samples;
}
