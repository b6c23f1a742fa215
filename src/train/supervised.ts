// Supervised training of an encoder+head classifier on labelled images: the
// scratch baseline, the source task of transfer, and every fine-tuning run.
import { F, checkDevice } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import { WarmupCosineLR, BudgetWarmupCosineLR, makeOptimizer, type OptimizerConfig } from '../optim/index.js';
import { DataLoader, type ImageDataset, type Batch } from '../data/index.js';
import { fit, type FitResult, type FitOptions } from './trainer.js';
import { inputNormOf, type Normalization } from '../eval/evaluate.js';

export interface Augmentation {
  /** Random crop after zero-padding by this many pixels (0: none). */
  crop?: number;
  /** Random horizontal flip (not for digits or text-like images). */
  flip?: boolean;
}

export interface SupervisedOptions extends Pick<FitOptions<Batch>, 'checkpoint' | 'resume' | 'metrics' | 'progress' | 'timeBudgetSeconds' | 'callbacks' | 'checkpointMeta'> {
  name: string;
  /** Moved to `device` (in place: its tensors are replaced) before training. */
  model: Module;
  /** Where to train: 'cpu' (default), 'cuda' or 'cuda:N'. Batches, weights and optimizer state live there. */
  device?: string;
  data: ImageDataset;
  /** Train on these examples only (e.g. k per class). */
  indices?: ArrayLike<number>;
  /** Input normalisation; default the model's own inputNorm (a classifier's encoder's); null: raw pixels. */
  norm?: Normalization | null;
  batchSize: number;
  /** Total optimisation steps; epochs follow from the subset size. */
  steps: number;
  optimizer: OptimizerConfig;
  augment?: Augmentation;
  labelSmoothing?: number;
  seed: number;
  validate?: (epoch: number) => Record<string, number>;
}

export async function trainSupervised(o: SupervisedOptions): Promise<FitResult> {
  const device = checkDevice(o.device, o.name);
  o.model.to(device); // before the optimizer takes its parameters
  const n = o.indices ? o.indices.length : o.data.length;
  const batchSize = Math.min(o.batchSize, n);
  const norm = inputNormOf(o.model, o.norm, 'trainSupervised');
  const loader = new DataLoader(o.data, {
    batchSize, seed: o.seed, indices: o.indices, dropLast: true,
    crop: o.augment?.crop ?? 0, flip: o.augment?.flip ?? false, mean: norm?.mean, std: norm?.std, device,
  });
  const stepsPerEpoch = loader.length;
  const epochs = Math.max(1, Math.ceil(o.steps / stepsPerEpoch));
  const optimizer = makeOptimizer(o.model, o.optimizer);
  const warmupSteps = Math.min(o.optimizer.warmupSteps ?? 0, o.steps - 1);
  const totalSteps = Math.max(o.steps, 1);
  // Under a time budget the cosine follows the clock too: a run the budget stops ends annealed.
  const scheduler = o.timeBudgetSeconds
    ? new BudgetWarmupCosineLR(optimizer, { warmupSteps, totalSteps, budgetSeconds: o.timeBudgetSeconds })
    : new WarmupCosineLR(optimizer, { warmupSteps, totalSteps });
  try {
    return await fit({
    name: o.name, model: o.model, device, optimizer, scheduler, stepsPerEpoch, epochs, maxSteps: o.steps,
    batches: (epoch) => loader.batches(epoch),
    step: (batch) => {
      const logits = o.model.forward(batch.x);
      const loss = F.crossEntropy(logits, batch.y!, { labelSmoothing: o.labelSmoothing ?? 0 });
      return { loss, correct: logits.argmax(1).eq(batch.y!).sum(), count: batch.indices.length };
    },
    validate: o.validate, checkpoint: o.checkpoint, resume: o.resume, metrics: o.metrics, progress: o.progress,
    timeBudgetSeconds: o.timeBudgetSeconds, callbacks: o.callbacks, checkpointMeta: o.checkpointMeta,
    });
  } finally {
    optimizer.dispose(); // its state is not the caller's (a resumed run rebuilds it from the checkpoint)
  }
}
