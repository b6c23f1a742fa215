// One pretraining entry point for every method: a seeded loader over the unlabelled
// images, the method's optimizer with a warm-up + cosine schedule, and `train.fit`
// for progress, metrics, checkpoints, exact resume, Ctrl-C and budgets. Each batch
// carries its own Rng seeded by (seed, epoch, step), so a resumed run draws the
// same views as one that never stopped.
import { checkDevice } from '../tensor/index.js';
import { DataLoader, Rng, type ImageDataset, type Batch } from '../data/index.js';
import { fit, type FitOptions, type FitResult } from '../train/trainer.js';
import type { Augmentation, OptimizerConfig } from '../train/supervised.js';
import { WarmupCosineLR } from '../optim/index.js';
import type { Normalization } from '../eval/evaluate.js';
import type { SslMethod, ViewBatch } from './method.js';
import { embeddingMonitor, type MonitorOptions } from './monitors.js';

export interface PretrainOptions extends Pick<FitOptions<Batch>, 'checkpoint' | 'resume' | 'metrics' | 'progress' | 'timeBudgetSeconds' | 'callbacks' | 'checkpointMeta' | 'clipGradNorm'> {
  /** Unlabelled training images (labels, if any, are ignored). */
  data: ImageDataset;
  /** Use only these images (e.g. all but a held-out part). */
  indices?: ArrayLike<number>;
  /** Where to train: 'cpu' (default), 'cuda' or 'cuda:N'. The method moves there. */
  device?: string;
  /** Per-channel normalisation; the loader applies it for methods that take normalised input. */
  norm?: Normalization;
  /** Images per batch before any views are made (default 128). */
  batchSize?: number;
  epochs: number;
  /** Stop after this many steps (the schedule ends there too). */
  maxSteps?: number;
  optimizer: OptimizerConfig;
  /** Loader-side crop and flip, for methods without views of their own (rotation). */
  augment?: Augmentation;
  /** Images on which the method reports its pretext metric after each epoch (rotation accuracy). */
  heldOut?: { data: ImageDataset; indices?: ArrayLike<number> };
  /** Collapse and kNN monitors, logged into the curve; never used to train or choose. */
  monitor?: MonitorOptions;
  seed: number;
  /** Shown in the progress line and the metrics (default `<method>-pretrain`). */
  name?: string;
}

export interface PretrainResult {
  fit: FitResult;
  /** The method's last held-out pretext metrics and monitors (empty when none were asked for). */
  validation: Record<string, number>;
}

/** Trains `method` (in place) on `o.data`; take its encoder afterwards with `method.takeEncoder()`. */
export async function pretrain<M extends SslMethod>(method: M, o: PretrainOptions): Promise<PretrainResult> {
  const name = o.name ?? `${method.name}-pretrain`;
  const device = checkDevice(o.device, name);
  method.to(device);
  const raw = method.rawInput;
  const loader = new DataLoader(o.data, {
    batchSize: o.batchSize ?? 128, seed: o.seed, indices: o.indices, dropLast: true, device,
    crop: raw ? 0 : (o.augment?.crop ?? 0), flip: raw ? false : (o.augment?.flip ?? false),
    mean: raw ? undefined : o.norm?.mean, std: raw ? undefined : o.norm?.std,
  });
  if (loader.length < 1) throw new RangeError(`${name}: batch size ${o.batchSize ?? 128} is larger than the ${o.indices?.length ?? o.data.length} training images`);
  const optimizer = method.makeOptimizer(o.optimizer);
  const totalSteps = Math.max(2, Math.min(o.maxSteps ?? Infinity, o.epochs * loader.length));
  // A warm-up longer than the run (a tiny data set) is cut to fit.
  const scheduler = new WarmupCosineLR(optimizer, { warmupSteps: Math.min(o.optimizer.warmupSteps ?? 0, totalSteps - 1), totalSteps });
  const monitor = o.monitor ? embeddingMonitor(method, o.monitor, o.norm) : null;
  const heldOut = o.heldOut && o.norm ? { ...o.heldOut, norm: o.norm } : o.heldOut ? { ...o.heldOut, norm: { mean: [0], std: [1] } } : undefined;
  const validate = heldOut || monitor
    ? () => ({ ...(heldOut ? method.validate(heldOut) : {}), ...(monitor?.measure() ?? {}) })
    : undefined;
  try {
    const result = await fit<ViewBatch>({
      name, model: method, device, optimizer, scheduler, epochs: o.epochs, stepsPerEpoch: loader.length, maxSteps: o.maxSteps,
      batches: (epoch) => withRng(loader.batches(epoch), o.seed, epoch),
      step: (batch, ctx) => method.trainingStep(batch, ctx),
      afterOptimizerStep: (ctx) => method.afterStep(ctx),
      validate, validateEvery: monitor?.every,
      checkpoint: o.checkpoint, resume: o.resume, metrics: o.metrics, progress: o.progress, clipGradNorm: o.clipGradNorm,
      timeBudgetSeconds: o.timeBudgetSeconds, callbacks: o.callbacks,
      checkpointMeta: { ...o.checkpointMeta, method: method.name, family: method.family, blocks: method.encoder.blockNames, ...method.describe() },
    });
    return { fit: result, validation: result.lastValidation };
  } finally {
    // The optimizer's state (momenta, Adam moments) is not the caller's: a resumed run rebuilds it from the checkpoint.
    optimizer.dispose();
    monitor?.dispose();
  }
}

/** Gives every batch of an epoch its own Rng, seeded by (seed, epoch, position): resume skips batches and still lands on the same stream. */
function* withRng(batches: Iterable<Batch>, seed: number, epoch: number): Generator<ViewBatch> {
  let i = 0;
  for (const b of batches) yield Object.assign(b, { rng: new Rng(seed, epoch, i++, 0x55c1) });
}
