// Self-training on the unlabelled pool (SimCLR v2: Chen et al. 2020, "Big Self-Supervised
// Models are Strong Semi-Supervised Learners", https://arxiv.org/abs/2006.10029): a
// student learns the fine-tuned teacher's softened predictions on unlabelled images,
// plus cross-entropy on the few labelled ones. The teacher scores the (lightly
// augmented) batch in eval mode without gradients. Two options from later work: the
// student may see a strongly augmented view of the same images instead (Noisy Student,
// Xie et al. 2020, https://arxiv.org/abs/1911.04252), and the targets may be the
// teacher's confident hard labels only (FixMatch's threshold, Sohn et al. 2020,
// https://arxiv.org/abs/2001.07685).
import { F, noGrad, tidy, checkDevice } from '../tensor/index.js';
import { inEvalMode, type Module } from '../nn/index.js';
import { WarmupCosineLR, makeOptimizer, type OptimizerConfig } from '../optim/index.js';
import { DataLoader, type ImageDataset, type Batch } from '../data/index.js';
import { distillationLoss } from '../ssl/losses/index.js';
import type { Normalization } from '../eval/evaluate.js';
import { fit, type FitOptions, type FitResult } from './trainer.js';
import { normalizeBatch, Rng } from '../data/index.js';
import { viewPipeline, viewStep, normalizeView, randomResizedCrop, randomHorizontalFlip, colorJitter, type ViewTransform } from '../ssl/transforms/index.js';
import type { Tensor } from '../tensor/index.js';
import type { Augmentation } from './supervised.js';

export interface DistillConfig {
  steps: number;
  /** Unlabelled images per step. */
  batchSize: number;
  /** Softmax temperature of teacher and student (SimCLR v2: 1). */
  temperature: number;
  /** Weight of the labelled cross-entropy beside the distillation loss (0: unlabelled only). */
  labelledWeight: number;
  /** Labelled images per step (at most the labelled set). */
  labelledBatchSize: number;
  optimizer: OptimizerConfig;
  augment: Augmentation;
  /**
   * The student's own view of each unlabelled image: a random resized crop with this
   * smallest scale plus brightness/contrast jitter (0 or absent: the teacher's batch as it is).
   */
  strongViewMinScale?: number;
  /** Hard targets: only images whose top teacher probability reaches this count, with that class (absent: soft targets for all). */
  confidenceThreshold?: number;
}

export interface DistillOptions extends Pick<FitOptions<Batch>, 'metrics' | 'progress' | 'callbacks'> {
  name: string;
  /** Trained classifier; left untouched (eval mode, no gradients). */
  teacher: Module;
  /** Trained in place; same output classes as the teacher. */
  student: Module;
  data: ImageDataset;
  /** The unlabelled pool (default: every image of `data`). */
  pool?: ArrayLike<number>;
  /** The labelled examples (their labels come from `data`). */
  labelled: ArrayLike<number>;
  norm?: Normalization;
  config: DistillConfig;
  seed: number;
  device?: string;
}

export async function distill(o: DistillOptions): Promise<FitResult> {
  const device = checkDevice(o.device, o.name);
  const c = o.config;
  o.student.to(device);
  const common = { dropLast: true, crop: c.augment.crop ?? 0, flip: c.augment.flip ?? false, mean: o.norm?.mean, std: o.norm?.std, device };
  const strong = c.strongViewMinScale ? strongView(o.data, o.norm, c.strongViewMinScale, c.augment.flip ?? false) : null;
  // With a strong view the pool comes raw ([0, 1]): the teacher's input is normalised here, the student's by its view.
  const pool = new DataLoader(o.data, { ...common, ...(strong ? { mean: undefined, std: undefined } : {}), batchSize: c.batchSize, seed: o.seed, indices: o.pool });
  const labelled = new DataLoader(o.data, { ...common, batchSize: Math.min(c.labelledBatchSize, o.labelled.length), seed: o.seed + 7919, indices: o.labelled });
  // The labelled set is small: cycle through its epochs beside the pool's.
  let labelledEpoch = 0;
  let labelledBatches = labelled.batches(labelledEpoch);
  const nextLabelled = (): Batch => {
    let r = labelledBatches.next();
    if (r.done) {
      labelledBatches = labelled.batches(++labelledEpoch);
      r = labelledBatches.next();
    }
    return r.value as Batch;
  };
  const optimizer = makeOptimizer(o.student, c.optimizer);
  const scheduler = new WarmupCosineLR(optimizer, { warmupSteps: Math.min(c.optimizer.warmupSteps ?? 0, c.steps - 1), totalSteps: Math.max(c.steps, 1) });
  o.teacher.eval();
  try {
    return await fit({
      name: o.name, model: o.student, device, optimizer, scheduler, stepsPerEpoch: pool.length,
      epochs: Math.max(1, Math.ceil(c.steps / pool.length)), maxSteps: c.steps,
      batches: (epoch) => pool.batches(epoch),
      step: (batch, ctx) => {
        const teacherInput = strong && o.norm ? normalizeBatch(batch.x, o.norm.mean, o.norm.std) : batch.x;
        const studentInput = strong ? strong.apply(batch.x, new Rng(o.seed, ctx.epoch, ctx.stepInEpoch, 0xd15)) : batch.x;
        const teacherLogits = noGrad(() => tidy(() => inEvalMode(o.teacher, () => o.teacher.forward(teacherInput))));
        const studentLogits = o.student.forward(studentInput);
        let loss = c.confidenceThreshold === undefined
          ? distillationLoss(studentLogits, teacherLogits, { temperature: c.temperature })
          : confidentCrossEntropy(studentLogits, teacherLogits, c.confidenceThreshold);
        if (c.labelledWeight > 0) {
          using l = nextLabelled();
          loss = loss.add(F.crossEntropy(o.student.forward(l.x), l.y!).mul(c.labelledWeight));
        }
        return { loss, count: batch.indices.length };
      },
      metrics: o.metrics, progress: o.progress, callbacks: o.callbacks,
    });
  } finally {
    labelledBatches.return?.(undefined);
    optimizer.dispose();
  }
}

/** The student's strong view: resized crop (scale minScale..1), optional flip, brightness/contrast 0.4 (p 0.8), normalised. */
function strongView(data: ImageDataset, norm: Normalization | undefined, minScale: number, flip: boolean): ViewTransform {
  const [channels, h, w] = data.imageShape;
  const steps: ViewTransform[] = [viewStep((x, rng) => randomResizedCrop(x, rng, { size: [h, w], scale: [minScale, 1] }))];
  if (flip) steps.push(viewStep((x, rng) => randomHorizontalFlip(x, rng)));
  steps.push(viewStep((x, rng) => colorJitter(x, rng, { brightness: 0.4, contrast: 0.4, saturation: channels === 3 ? 0.4 : 0, hue: 0, p: 0.8 })));
  if (norm) steps.push(normalizeView(norm.mean, norm.std));
  return viewPipeline(steps);
}

/** Cross-entropy on the teacher's argmax where its top probability reaches `threshold`; the mean over all images (0 where none is confident). */
function confidentCrossEntropy(studentLogits: Tensor, teacherLogits: Tensor, threshold: number): Tensor {
  return tidy(() => {
    const { values: confidence, indices: target } = teacherLogits.softmax(1).max(1);
    const mask = confidence.ge(threshold).to('float32');
    const perImage = F.crossEntropy(studentLogits, target, { reduction: 'none' });
    return perImage.mul(mask).sum().div(studentLogits.shape[0]!);
  });
}
