// The training loop every method shares: steps in a scope (nothing leaks),
// progress, metrics as JSON lines, a checkpoint every epoch, exact resume, a
// clear stop on a NaN loss, and Ctrl-C that finishes the step, saves and returns.
import { existsSync } from 'node:fs';
import { Tensor, tidy, checkDevice, sameDevice } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import type { Optimizer, LRScheduler } from '../optim/index.js';
import { clipGradNorm_ } from '../optim/index.js';
import { saveCheckpoint, loadCheckpoint, checkpointPaths } from '../io/index.js';
import { ProgressBar } from './progress.js';
import { MetricsLog } from './metrics-log.js';
import type { CurvePoint } from '../report/types.js';

/** What a step's loss function returns; `correct`/`count` give a running accuracy. */
export interface StepOutput {
  loss: Tensor;
  correct?: Tensor | number;
  count: number;
  /** Scalars to log beside the loss (monitors such as embedding spread); read only on the steps that record a curve point. */
  logs?: Record<string, Tensor | number>;
}

/** Where a step is in the run: `step` counts optimisation steps before this one, over the whole run. */
export interface StepContext {
  epoch: number;
  step: number;
  stepInEpoch: number;
  totalSteps: number;
}

/** Handed to callbacks: `stop` ends the run after the current step, saving as at an epoch end. */
export interface TrainingControl {
  stop(reason: string): void;
}

export interface Callbacks {
  onEpochEnd?(epoch: number, logs: Record<string, number>, control: TrainingControl): void | Promise<void>;
  onStepEnd?(step: number, logs: { loss: number; lr: number }, control: TrainingControl): void | Promise<void>;
}

export interface FitOptions<B extends Disposable> {
  /** Shown in the progress line and written into every metrics record. */
  name: string;
  /** On its device already (move it with `model.to(device)` before making the optimizer). */
  model: Module;
  optimizer: Optimizer;
  /**
   * Where the model is ('cpu', 'cuda', 'cuda:N'; default: where its parameters are). Checked
   * against the model; a resumed checkpoint loads there. Batches must be made there too.
   */
  device?: string;
  /** Stepped after every optimisation step. */
  scheduler?: LRScheduler;
  /** The batches of one epoch; must depend only on the epoch number, so that resume repeats them. */
  batches(epoch: number): Iterable<B>;
  stepsPerEpoch: number;
  epochs: number;
  /** Forward pass and loss for one batch. Runs inside a scope: temporaries are freed. */
  step(batch: B, ctx: StepContext): StepOutput;
  /** Runs right after each optimizer step, in the same scope (momentum encoders, queues). */
  afterOptimizerStep?(ctx: StepContext): void;
  /** Evaluation after each epoch (model in eval mode), e.g. held-out accuracy. */
  validate?(epoch: number): Record<string, number>;
  /** Also validate every this many steps inside epochs (monitors over a short run). */
  validateEvery?: number;
  callbacks?: Callbacks;
  /** Save `<checkpoint>.safetensors/.json` after every epoch; with `resume`, continue from it. */
  checkpoint?: string;
  resume?: boolean;
  /** Extra JSON saved with each checkpoint (the run's config). */
  checkpointMeta?: Record<string, unknown>;
  metrics?: MetricsLog;
  /** Show the progress line (default true). */
  progress?: boolean;
  /** What the count that `step` returns counts, for the progress line's rate (default 'img'). */
  unit?: string;
  clipGradNorm?: number;
  /** Stop after this many optimisation steps in all (the last epoch may be partial). */
  maxSteps?: number;
  /** Stop after this many seconds of training (after the current step), saving as at an epoch end. */
  timeBudgetSeconds?: number;
  /** Handle SIGINT (Ctrl-C): finish the step, save, return with interrupted=true (default true). */
  handleInterrupt?: boolean;
  /** Record a curve point every this many steps (default: ~100 points per run). */
  curveEvery?: number;
}

export interface FitResult {
  epochsDone: number;
  steps: number;
  interrupted: boolean;
  stoppedByBudget: boolean;
  /** Training throughput over the whole run, examples per second. */
  examplesPerSecond: number;
  seconds: number;
  lastLoss: number;
  curve: CurvePoint[];
  lastValidation: Record<string, number>;
}

export class NonFiniteLossError extends Error {
  constructor(run: string, epoch: number, step: number, loss: number, checkpoint?: string) {
    super(`${run}: the loss became ${loss} at epoch ${epoch + 1}, step ${step}. Training stopped` +
      (checkpoint ? `; the last good checkpoint is kept at ${checkpoint}` : '') +
      '. Try a lower learning rate, or gradient clipping (clipGradNorm).');
    this.name = 'NonFiniteLossError';
  }
}

/** Trains `model` for `epochs` epochs; see FitOptions. */
export async function fit<B extends Disposable>(o: FitOptions<B>): Promise<FitResult> {
  let startEpoch = 0;
  let globalStep = 0;
  /** Steps of the first epoch already done before an interrupted run was saved. */
  let skipSteps = 0;
  const curve: CurvePoint[] = [];
  const device = o.device === undefined ? o.model.device : checkDevice(o.device, o.name);
  if (!sameDevice(o.model.device, device)) {
    throw new Error(`${o.name}: the model is on ${o.model.device}, not on ${device}; move it there (model.to('${device}')) before making its optimizer`);
  }
  if (o.resume && o.checkpoint && existsSync(checkpointPaths(o.checkpoint).json)) {
    const ck = loadCheckpoint(o.checkpoint, { device });
    try {
      o.model.loadStateDict(ck.model);
      if (ck.optimizer) o.optimizer.loadStateDict(ck.optimizer as never);
      const meta = ck.meta as { epoch?: number; stepInEpoch?: number; step?: number; scheduler?: unknown; curve?: CurvePoint[] };
      startEpoch = meta.epoch ?? 0;
      skipSteps = meta.stepInEpoch ?? 0;
      globalStep = meta.step ?? 0;
      if (o.scheduler && meta.scheduler) o.scheduler.loadStateDict(meta.scheduler as never);
      if (Array.isArray(meta.curve)) curve.push(...meta.curve);
    } finally {
      for (const t of ck.model.values()) t.dispose();
      for (const t of ck.optimizer?.state.values() ?? []) t.dispose();
    }
    process.stderr.write(`${o.name}: resumed from ${checkpointPaths(o.checkpoint).json} at epoch ${startEpoch + 1}, step ${globalStep}\n`);
  }

  const startStep = globalStep;
  const totalSteps = Math.min(o.epochs * o.stepsPerEpoch, o.maxSteps ?? Infinity) - startStep;
  const bar = new ProgressBar(o.name, totalSteps, process.stderr, o.progress ?? true, undefined, o.unit, o.timeBudgetSeconds);
  const curveEvery = o.curveEvery ?? Math.max(1, Math.floor(totalSteps / 100));
  let interrupted = false;
  let stoppedByBudget = false;
  let stopReason = '';
  const control: TrainingControl = {
    stop: (reason) => {
      stoppedByBudget = true;
      stopReason = ` (${reason})`;
    },
  };
  const onSigint = (): void => {
    if (interrupted) process.exit(130); // a second Ctrl-C leaves at once
    interrupted = true;
    process.stderr.write(`\n${o.name}: stopping after this step${o.checkpoint ? ' and saving' : ''} (Ctrl-C again to quit at once)\n`);
  };
  const handle = o.handleInterrupt ?? true;
  if (handle) process.on('SIGINT', onSigint);

  const t0 = performance.now();
  let examples = 0;
  let lastLoss = NaN;
  let lastValidation: Record<string, number> = {};
  let epoch = startEpoch;

  const save = (epochsDone: number, stepInEpoch: number): void => {
    if (!o.checkpoint) return;
    saveCheckpoint(o.checkpoint, {
      model: o.model,
      optimizer: o.optimizer,
      meta: { ...o.checkpointMeta, run: o.name, epoch: epochsDone, stepInEpoch, step: globalStep, scheduler: o.scheduler?.stateDict() ?? null, curve },
      keepPrevious: true,
    });
  };

  try {
    for (; epoch < o.epochs && !interrupted && !stoppedByBudget; epoch++) {
      o.model.train();
      let epochLoss = 0;
      let epochCorrect = 0;
      let epochCount = 0;
      let stepInEpoch = 0;
      const windowStart = performance.now();
      let windowExamples = 0;
      for (const batch of o.batches(epoch)) {
        if (skipSteps > 0) {
          // Resuming inside an epoch: these batches were trained on before the stop.
          batch[Symbol.dispose]();
          skipSteps--;
          stepInEpoch++;
          continue;
        }
        let lossValue: number;
        let correct = 0;
        let count = 0;
        let hasAccuracy = false;
        const ctx: StepContext = { epoch, step: globalStep, stepInEpoch, totalSteps: startStep + totalSteps };
        const recordsPoint = (globalStep + 1) % curveEvery === 0;
        let extraLogs: Record<string, number> = {};
        try {
          [lossValue, correct, count] = tidy(() => {
            const out = o.step(batch, ctx);
            hasAccuracy = out.correct !== undefined;
            if (recordsPoint && out.logs) {
              extraLogs = Object.fromEntries(Object.entries(out.logs).map(([k, v]) => [k, v instanceof Tensor ? v.item() : v]));
            }
            o.optimizer.zeroGrad();
            out.loss.backward();
            if (o.clipGradNorm) clipGradNorm_(o.model.parameters().filter((p) => p.requiresGrad), o.clipGradNorm);
            const lv = out.loss.item();
            if (!Number.isFinite(lv)) return [lv, 0, out.count] as [number, number, number];
            o.optimizer.step();
            o.afterOptimizerStep?.(ctx);
            const c = out.correct instanceof Tensor ? out.correct.item() : (out.correct ?? 0);
            return [lv, c, out.count] as [number, number, number];
          });
        } finally {
          batch[Symbol.dispose]();
        }
        if (!Number.isFinite(lossValue)) {
          throw new NonFiniteLossError(o.name, epoch, globalStep, lossValue, o.checkpoint && existsSync(checkpointPaths(o.checkpoint).json) ? checkpointPaths(o.checkpoint).json : undefined);
        }
        o.scheduler?.step();
        globalStep++;
        stepInEpoch++;
        examples += count;
        windowExamples += count;
        epochLoss += lossValue * count;
        epochCorrect += correct;
        epochCount += count;
        lastLoss = lossValue;
        const lr = o.optimizer.paramGroups[0]!.lr;
        const rate = windowExamples / ((performance.now() - windowStart) / 1000);
        bar.update({ epoch, epochs: o.epochs, step: stepInEpoch, steps: Math.min(o.stepsPerEpoch, o.maxSteps ?? Infinity), loss: lossValue, itemsPerSec: rate }, globalStep - startStep);
        if (globalStep % curveEvery === 0) {
          const point: CurvePoint = { step: globalStep, epoch: epoch + stepInEpoch / o.stepsPerEpoch, loss: lossValue, lr, ...extraLogs };
          if (hasAccuracy && count > 0) point.acc = correct / count;
          curve.push(point);
          o.metrics?.write({ run: o.name, kind: 'step', step: globalStep, epoch, loss: lossValue, lr, examples_per_s: rate, ...extraLogs });
        }
        if (o.validate && o.validateEvery && globalStep % o.validateEvery === 0 && stepInEpoch < o.stepsPerEpoch) {
          o.model.eval();
          const v = o.validate(epoch);
          o.model.train();
          curve.push({ step: globalStep, epoch: epoch + stepInEpoch / o.stepsPerEpoch, ...prefixKeys(v, 'val_') });
          o.metrics?.write({ run: o.name, kind: 'validation', step: globalStep, epoch, ...v });
        }
        await o.callbacks?.onStepEnd?.(globalStep, { loss: lossValue, lr }, control);
        // Let signal handlers run (Ctrl-C) between steps.
        await new Promise<void>((r) => setImmediate(r));
        if (o.timeBudgetSeconds !== undefined && (performance.now() - t0) / 1000 >= o.timeBudgetSeconds) {
          stoppedByBudget = true;
          stopReason = ' (time budget reached)';
        }
        if (o.maxSteps !== undefined && globalStep >= o.maxSteps) {
          stoppedByBudget = true;
          stopReason = ' (step limit reached)';
        }
        if (interrupted || stoppedByBudget) break;
      }
      const logs: Record<string, number> = { loss: epochLoss / Math.max(1, epochCount) };
      if (epochCount > 0 && epochCorrect > 0) logs.acc = epochCorrect / epochCount;
      if (o.validate && !interrupted) {
        o.model.eval();
        lastValidation = o.validate(epoch);
        Object.assign(logs, lastValidation);
        curve.push({ step: globalStep, epoch: epoch + 1, ...prefixKeys(lastValidation, 'val_') });
      }
      o.metrics?.write({ run: o.name, kind: 'epoch', epoch: epoch + 1, step: globalStep, ...logs, seconds: (performance.now() - t0) / 1000 });
      const complete = stepInEpoch >= o.stepsPerEpoch;
      save(complete ? epoch + 1 : epoch, complete ? 0 : stepInEpoch);
      await o.callbacks?.onEpochEnd?.(epoch, logs, control);
    }
  } finally {
    if (handle) process.off('SIGINT', onSigint);
  }
  const seconds = (performance.now() - t0) / 1000;
  bar.finish(`${globalStep} steps in ${seconds.toFixed(1)} s, ${(examples / seconds).toFixed(0)} examples/s, last loss ${lastLoss.toFixed(4)}` +
    (interrupted ? (o.checkpoint ? ' (interrupted; checkpoint saved)' : ' (interrupted)') : stopReason));
  return {
    epochsDone: Math.min(epoch, o.epochs), steps: globalStep, interrupted, stoppedByBudget,
    examplesPerSecond: examples / seconds, seconds, lastLoss, curve, lastValidation,
  };
}

function prefixKeys(r: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [prefix + k, v]));
}
