// Checkpoints: saved after every epoch and when the run stops mid-epoch (the
// step inside the epoch is recorded, so resume continues exactly there).
// Resume happens before the loop, so it is a function, not a hook.
import type { Module } from '../../nn/index.js';
import type { Optimizer, LRScheduler } from '../../optim/index.js';
import { saveCheckpoint, loadCheckpoint, checkpointExists, removeStaleCheckpointTemps } from '../../io/index.js';
import type { CurvePoint } from '../../report/types.js';
import type { RunContext, TrainingCallback } from './types.js';

export class CheckpointCallback implements TrainingCallback {
  /** `meta`: extra JSON saved with each checkpoint (the run's config). */
  constructor(readonly path: string, private readonly meta?: Record<string, unknown>) {}

  onTrainBegin(run: RunContext): void {
    run.checkpointPath = this.path;
    // Temp files of a run killed mid-save go now, not only at this run's first save.
    removeStaleCheckpointTemps(this.path);
  }

  onEpochEnd(run: RunContext): void {
    const complete = run.stepInEpoch >= run.stepsPerEpoch;
    saveCheckpoint(this.path, {
      model: run.model,
      optimizer: run.optimizer,
      meta: {
        ...this.meta, run: run.name, epoch: complete ? run.epoch + 1 : run.epoch, stepInEpoch: complete ? 0 : run.stepInEpoch,
        step: run.step, scheduler: run.scheduler?.stateDict() ?? null, curve: run.curve,
      },
      keepPrevious: true,
    });
  }
}

/** Where a resumed run picks up. */
export interface ResumePoint {
  epoch: number;
  /** Steps of that epoch done before the stop: their batches are skipped. */
  stepInEpoch: number;
  step: number;
  curve: CurvePoint[];
}

export interface ResumeTarget {
  name: string;
  model: Module;
  optimizer: Optimizer;
  scheduler?: LRScheduler;
  /** Where the checkpoint's tensors are loaded. */
  device: string;
}

/**
 * Loads model, optimizer and scheduler state from `path` if a checkpoint is there; undefined if none.
 * A checkpoint that cannot be loaded gives way to the previous one, with a message saying so.
 */
export function resumeFromCheckpoint(path: string, target: ResumeTarget): ResumePoint | undefined {
  if (!checkpointExists(path)) return undefined;
  const ck = loadCheckpoint(path, { device: target.device, fallBackToPrevious: true });
  if (ck.fallback) process.stderr.write(`${target.name}: ${ck.fallback}\n`);
  let at: ResumePoint;
  try {
    target.model.loadStateDict(ck.model);
    if (ck.optimizer) target.optimizer.loadStateDict(ck.optimizer as never);
    const meta = ck.meta as { epoch?: number; stepInEpoch?: number; step?: number; scheduler?: unknown; curve?: CurvePoint[] };
    at = { epoch: meta.epoch ?? 0, stepInEpoch: meta.stepInEpoch ?? 0, step: meta.step ?? 0, curve: Array.isArray(meta.curve) ? meta.curve : [] };
    if (target.scheduler && meta.scheduler) target.scheduler.loadStateDict(meta.scheduler as never);
  } finally {
    for (const t of ck.model.values()) t.dispose();
    for (const t of ck.optimizer?.state.values() ?? []) t.dispose();
  }
  process.stderr.write(`${target.name}: resumed from ${ck.paths.tensors} at epoch ${at.epoch + 1}, step ${at.step}\n`);
  return at;
}
