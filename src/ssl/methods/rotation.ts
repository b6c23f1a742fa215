// Rotation prediction (RotNet; Gidaris, Singh & Komodakis, ICLR 2018,
// https://arxiv.org/abs/1803.07728): every image appears in the batch in all four
// rotations and a 4-way head on the pooled features learns which one it is. The
// loader crops, flips and normalises (the paper's setting); the rotations are exact.
import { tidy, noGrad, checkDevice, type Tensor } from '../../tensor/index.js';
import { inEvalMode, type Module } from '../../nn/index.js';
import { linearHead, mlpHead, type Backbone } from '../../models/index.js';
import { DataLoader, type ImageDataset } from '../../data/index.js';
import type { Normalization } from '../../eval/evaluate.js';
import type { RotationSample } from '../../report/types.js';
import { rotationBatch } from '../rotation.js';
import { ClassificationPretext } from './classification-pretext.js';
import type { ImageHeldOut } from '../method.js';
import { pretrain, type PretrainOptions } from '../pretrain.js';
import type { FitResult } from '../../train/trainer.js';
import type { OptimizerConfig } from '../../optim/index.js';

export interface RotationOptions {
  /** 'linear' (the paper's, on pooled features; default) or 'mlp'. */
  head?: 'linear' | 'mlp';
}

export class RotationPrediction extends ClassificationPretext {
  readonly name = 'rotation';
  override readonly rawInput = false;

  constructor(encoder: Backbone, o: RotationOptions = {}) {
    const dim = encoder.featureDim();
    super(encoder, o.head === 'mlp' ? mlpHead(dim, 4) : linearHead(dim, 4));
  }

  pretextBatch(x: Tensor): { x: Tensor; y: Tensor } {
    return rotationBatch(x);
  }

  override validate(h: ImageHeldOut): Record<string, number> {
    return { rotation_acc: rotationAccuracy(this, h.data, h) };
  }
}

/** What `rotationAccuracy` and `rotationSamples` need: a 4-way scorer of rotated images (a RotationPrediction, or any encoder + head). */
type RotationScorer = Module;

/** Fraction of (image, rotation) pairs whose rotation the model predicts right (batches made on the model's device). */
export function rotationAccuracy(model: RotationScorer, data: ImageDataset, o: { norm?: Normalization; indices?: ArrayLike<number>; batchSize?: number } = {}): number {
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
export function rotationSamples(model: RotationScorer, data: ImageDataset, count: number, o: { norm?: Normalization; indices?: ArrayLike<number> } = {}): RotationSample[] {
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

export interface RotationPretrainOptions extends Omit<PretrainOptions, 'optimizer'>, RotationOptions {
  /** Moved to `device` (in place) with its new rotation head before training. */
  encoder: Backbone;
  optimizer?: OptimizerConfig;
}

export interface RotationPretrainResult {
  /** The encoder with its 4-way rotation head; `model.encoder` is the trained backbone. */
  model: RotationPrediction;
  fit: FitResult;
  /** Rotation accuracy on the held-out images (0..1), if given. */
  heldOutRotationAccuracy: number | null;
}

export const DEFAULT_ROTATION_OPTIMIZER: OptimizerConfig = { kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, warmupSteps: 0 };

/** Shorthand for `pretrain(new RotationPrediction(encoder), options)` that also reports held-out rotation accuracy. */
export async function pretrainRotation(o: RotationPretrainOptions): Promise<RotationPretrainResult> {
  checkDevice(o.device, 'pretrainRotation');
  const model = new RotationPrediction(o.encoder, { head: o.head });
  const { encoder: _e, head: _h, ...options } = o;
  const r = await pretrain(model, { ...options, name: o.name ?? 'rotation-pretrain', optimizer: o.optimizer ?? DEFAULT_ROTATION_OPTIMIZER });
  const heldOut = o.heldOut;
  const heldOutRotationAccuracy = heldOut
    ? (r.validation.rotation_acc ?? rotationAccuracy(model, heldOut.data, { norm: o.norm, indices: heldOut.indices }))
    : null;
  return { model, fit: r.fit, heldOutRotationAccuracy };
}
