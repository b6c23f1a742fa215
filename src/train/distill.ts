// Self-training on the unlabelled pool (SimCLR v2: Chen et al. 2020, "Big Self-Supervised
// Models are Strong Semi-Supervised Learners", https://arxiv.org/abs/2006.10029): a
// student learns the fine-tuned teacher's softened predictions on unlabelled images,
// plus cross-entropy on the few labelled ones. The teacher scores the same augmented
// batch the student sees, in eval mode and without gradients.
import { F, noGrad, tidy, checkDevice } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import { WarmupCosineLR } from '../optim/index.js';
import { DataLoader, type ImageDataset, type Batch } from '../data/index.js';
import { distillationLoss } from '../ssl/losses/index.js';
import { inEvalMode, type Normalization } from '../eval/evaluate.js';
import { fit, type FitOptions, type FitResult } from './trainer.js';
import { makeOptimizer, type Augmentation, type OptimizerConfig } from './supervised.js';

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
  const pool = new DataLoader(o.data, { ...common, batchSize: c.batchSize, seed: o.seed, indices: o.pool });
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
      step: (batch) => {
        const teacherLogits = noGrad(() => tidy(() => inEvalMode(o.teacher, () => o.teacher.forward(batch.x))));
        let loss = distillationLoss(o.student.forward(batch.x), teacherLogits, { temperature: c.temperature });
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
