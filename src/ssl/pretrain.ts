// One pretraining entry point for every method: a seeded loader over the unlabelled
// images, the method's optimizer with a warm-up + cosine schedule, and `train.fit`
// for progress, metrics, checkpoints, exact resume, Ctrl-C and budgets. Each batch
// carries its own Rng seeded by (seed, epoch, step), so a resumed run draws the
// same views as one that never stopped.
import { checkDevice } from '../tensor/index.js';
import { checkpointExists, readCheckpointInfo } from '../io/index.js';
import { DataLoader, Rng, type ImageDataset, type Batch } from '../data/index.js';
import { fit, type FitOptions, type FitResult } from '../train/trainer.js';
import type { Augmentation } from '../train/supervised.js';
import { WarmupCosineLR, BudgetWarmupCosineLR, type LRScheduler, type Optimizer, type OptimizerConfig } from '../optim/index.js';
import type { Normalization } from '../eval/evaluate.js';
import type { SslMethod, ViewBatch } from './method.js';
import type { Encoder } from '../models/index.js';
import { embeddingMonitor, type MonitorOptions } from './monitors.js';
import { DataParallel, convertSyncBatchNorm, setDefaultGroup, type CommStats, type DataParallelOptions, type ProcessGroup } from '../distributed/index.js';

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
  /**
   * Data-parallel: train on this group's ranks, each on its own shard with `batchSize`
   * images per step (a global batch of worldSize x batchSize); rank 0 alone writes.
   */
  group?: ProcessGroup;
  /** Data-parallel: batch norm over the global batch (SyncBatchNorm) instead of each rank's own. */
  syncBatchNorm?: boolean;
  /** Data-parallel: bucket size, buffer broadcast, all-reduce overlapping backward (see DataParallelOptions). */
  dataParallel?: DataParallelOptions;
}

export interface PretrainResult {
  fit: FitResult;
  /** The method's last held-out pretext metrics and monitors (empty when none were asked for). */
  validation: Record<string, number>;
  /** Data-parallel runs: all-reduce time and gradient bytes. */
  communication?: CommStats;
}

/** Trains `method` (in place) on `o.data`; take its encoder afterwards with `method.takeEncoder()`. */
export async function pretrain<M extends SslMethod>(method: M, o: PretrainOptions): Promise<PretrainResult> {
  const name = o.name ?? `${method.name}-pretrain`;
  const device = checkDevice(o.device, name);
  method.to(device);
  const raw = method.rawInput;
  const shard = o.group && o.group.worldSize > 1 ? { rank: o.group.rank, worldSize: o.group.worldSize } : undefined;
  const batchSize = o.batchSize ?? 128;
  if (o.resume && o.checkpoint) checkResumedWorld(name, o.checkpoint, batchSize, shard?.worldSize ?? 1);
  const loader = new DataLoader(o.data, {
    batchSize, seed: o.seed, indices: o.indices, dropLast: true, device, shard,
    crop: raw ? 0 : (o.augment?.crop ?? 0), flip: raw ? false : (o.augment?.flip ?? false),
    mean: raw ? undefined : o.norm?.mean, std: raw ? undefined : o.norm?.std,
  });
  if (loader.length < 1) throw new RangeError(`${name}: batch size ${batchSize}${shard ? ` x ${shard.worldSize} processes` : ''} is larger than the ${o.indices?.length ?? o.data.length} training images`);
  // The encoder carries the normalisation it is trained with, for evaluation and saveEncoder.
  if (o.norm) method.encoder.inputNorm = o.norm;
  const monitor = o.monitor ? embeddingMonitor(method, o.monitor, o.norm) : null;
  const heldOut = o.heldOut ? { ...o.heldOut, norm: o.norm } : undefined;
  try {
    return await pretrainOn(method, {
      batches: (epoch) => withRng(loader.batches(epoch), o.seed, epoch, shard?.rank), stepsPerEpoch: loader.length,
    }, {
      ...o, name, device, checkpointMeta: { ...o.checkpointMeta, blocks: method.encoder.blockNames, globalBatch: batchSize * (shard?.worldSize ?? 1) },
      validate: heldOut || monitor ? () => ({ ...(heldOut ? method.validate(heldOut) : {}), ...(monitor?.measure() ?? {}) }) : undefined,
      validateEvery: monitor?.every,
    });
  } finally {
    monitor?.dispose();
  }
}

/**
 * A run may resume on another number of processes when its global batch (processes x
 * batchSize) stays the same: the epoch's seeded order is cut into the same global batches
 * (see sampler.ts), so the steps per epoch, the resumed position, the schedule and the
 * examples of every step are those of the run that stopped, and the averaged gradient is
 * the same up to float rounding. What differs: the random views and crops, drawn per rank
 * (an N-process run draws N streams), so the continuation is as good a run, not the same
 * bits; and batch norm without SyncBatchNorm, which normalises over each process's batch.
 * Any other change of global batch would silently train another run: refused, naming both.
 */
function checkResumedWorld(name: string, checkpoint: string, batchSize: number, worldSize: number): void {
  if (!checkpointExists(checkpoint)) return;
  const info = readCheckpointInfo(checkpoint, { fallBackToPrevious: true });
  const savedWorld = typeof info.meta.worldSize === 'number' ? info.meta.worldSize : 1;
  const savedGlobal = typeof info.meta.globalBatch === 'number' ? info.meta.globalBatch : null;
  const processes = (n: number): string => `${n} process${n === 1 ? '' : 'es'}`;
  if (savedGlobal === null) {
    // Saved before globalBatch was recorded: only the same number of processes is known to be the same run.
    if (savedWorld !== worldSize) {
      throw new RangeError(`${name}: ${info.paths.tensors} was trained on ${processes(savedWorld)} and does not record its global batch; resume it on ${processes(savedWorld)}, not ${worldSize}`);
    }
    return;
  }
  const global = batchSize * worldSize;
  if (global === savedGlobal) return;
  const fits = savedGlobal % worldSize === 0 ? `batchSize ${savedGlobal / worldSize} on ${processes(worldSize)}, or ` : '';
  throw new RangeError(`${name}: ${info.paths.tensors} was trained on ${processes(savedWorld)} x ${savedGlobal / savedWorld} images (a global batch of ${savedGlobal}); ` +
    `this run has ${processes(worldSize)} x ${batchSize} (${global}), which would train another run. Resume with ${fits}batchSize ${savedGlobal / savedWorld} on ${processes(savedWorld)}`);
}

/** Where a method's batches come from: the same epoch number always gives the same batches (so resume repeats them). */
export interface BatchSource<B> {
  batches(epoch: number): Iterable<B>;
  stepsPerEpoch: number;
}

export interface PretrainOnOptions extends Pick<FitOptions<Batch>, 'checkpoint' | 'resume' | 'metrics' | 'progress' | 'timeBudgetSeconds' | 'callbacks' | 'checkpointMeta' | 'clipGradNorm' | 'validateEvery' | 'unit'> {
  name?: string;
  device?: string;
  epochs: number;
  maxSteps?: number;
  optimizer: OptimizerConfig;
  /** Pretext metrics and monitors, after each epoch (and every `validateEvery` steps). */
  validate?: () => Record<string, number>;
  /** Rebuild the learning-rate schedule (default: warm-up + cosine to the last step). */
  scheduler?: (optimizer: Optimizer, totalSteps: number) => LRScheduler;
  /** Data-parallel: average gradients over this group's ranks (see PretrainOptions.group). */
  group?: ProcessGroup;
  /** Data-parallel: batch norm over the global batch (SyncBatchNorm) instead of each rank's own. */
  syncBatchNorm?: boolean;
  /** Data-parallel: bucket size, buffer broadcast, all-reduce overlapping backward. */
  dataParallel?: DataParallelOptions;
}

/**
 * The core every modality shares: `method`'s optimizer and schedule, then `train.fit` over
 * `source` with the method's step and after-step hooks. Images go through `pretrain`,
 * which builds the source from a seeded loader; text methods bring their own batches.
 */
export async function pretrainOn<B extends Disposable>(method: SslMethod<B, never, Encoder>, source: BatchSource<B>, o: PretrainOnOptions): Promise<PretrainResult> {
  const name = o.name ?? `${method.name}-pretrain`;
  const device = checkDevice(o.device, name);
  method.to(device);
  const optimizer = method.makeOptimizer(o.optimizer);
  const totalSteps = Math.max(2, Math.min(o.maxSteps ?? Infinity, o.epochs * source.stepsPerEpoch));
  // A warm-up longer than the run (a tiny data set) is cut to fit. Under a time budget the
  // cosine follows the clock too, so a run the budget stops has annealed, not stopped at its peak.
  const warmupSteps = Math.min(o.optimizer.warmupSteps ?? 0, totalSteps - 1);
  const scheduler = o.scheduler?.(optimizer, totalSteps) ?? (o.timeBudgetSeconds
    ? new BudgetWarmupCosineLR(optimizer, { warmupSteps, totalSteps, budgetSeconds: o.timeBudgetSeconds })
    : new WarmupCosineLR(optimizer, { warmupSteps, totalSteps }));
  // Data-parallel: gradients averaged after backward, buffers broadcast from rank 0 after each step,
  // stops agreed after each step; rank 0 alone writes and validates.
  const ddp = o.group && o.group.worldSize > 1 ? new DataParallel(o.group, method, o.dataParallel) : null;
  const root = !ddp || ddp.isRoot;
  if (ddp) setDefaultGroup(ddp.group);
  const undoSyncBatchNorm = ddp && o.syncBatchNorm ? convertSyncBatchNorm(method, ddp.group) : null;
  try {
    const result = await fit<B>({
      name, model: method, device, optimizer, scheduler, epochs: o.epochs, stepsPerEpoch: source.stepsPerEpoch, maxSteps: o.maxSteps,
      batches: (epoch) => source.batches(epoch),
      step: (batch, ctx) => method.trainingStep(batch, ctx),
      beforeBackward: ddp ? () => ddp.beforeBackward() : undefined,
      afterBackward: ddp ? () => ddp.averageGradients() : undefined,
      afterOptimizerStep: (ctx) => {
        method.afterStep(ctx);
        // After the momentum encoder and queue updates too: every buffer of this step is rank 0's.
        if (ddp?.syncsBuffers) ddp.broadcastBuffers();
      },
      validate: root ? o.validate : undefined, validateEvery: o.validateEvery, unit: o.unit,
      checkpoint: o.checkpoint, checkpointReadOnly: !root, resume: o.resume, metrics: root ? o.metrics : undefined,
      progress: root ? o.progress : false, clipGradNorm: o.clipGradNorm,
      timeBudgetSeconds: o.timeBudgetSeconds, callbacks: o.callbacks,
      handleInterrupt: !ddp, coordinator: ddp?.coordinator(),
      checkpointMeta: { ...o.checkpointMeta, method: method.name, family: method.family, ...method.describe(), ...(ddp ? { worldSize: ddp.worldSize } : {}) },
    });
    return { fit: result, validation: result.lastValidation, communication: ddp?.commStats() };
  } finally {
    undoSyncBatchNorm?.();
    if (ddp) setDefaultGroup(null);
    // The optimizer's state (momenta, Adam moments) is not the caller's: a resumed run rebuilds it from the checkpoint.
    optimizer.dispose();
  }
}

/**
 * Gives every batch of an epoch its own Rng, seeded by (seed, epoch, position) and, in a
 * data-parallel run, the rank: resume skips batches and still lands on the same stream.
 */
function* withRng(batches: Iterable<Batch>, seed: number, epoch: number, rank?: number): Generator<ViewBatch> {
  let i = 0;
  for (const b of batches) yield Object.assign(b, { rng: rank === undefined ? new Rng(seed, epoch, i++, 0x55c1) : new Rng(seed, epoch, i++, 0x55c1, rank) });
}
