// The training loop every method shares: steps in a scope (nothing leaks) and
// a clear stop on a NaN loss; everything else is a callback (./callbacks/):
// progress, metrics as JSON lines, a checkpoint every epoch, exact resume,
// Ctrl-C that finishes the step, saves and returns, the time budget, the curve
// and validation. `fit` builds those from its options; `trainLoop` takes a list.
import { existsSync } from 'node:fs';
import { Tensor, tidy, enableGrad, checkDevice, sameDevice } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import type { Optimizer, LRScheduler } from '../optim/index.js';
import { clipGradNorm_ } from '../optim/index.js';
import { checkpointPaths } from '../io/index.js';
import type { MetricsLog } from './metrics-log.js';
import type { CurvePoint } from '../report/types.js';
import type { Callbacks, EpochEnd, RunContext, StepEnd, TrainingCallback, TrainingControl } from './callbacks/types.js';
import { ProgressCallback } from './callbacks/progress.js';
import { MetricsLogCallback } from './callbacks/metrics-log.js';
import { CheckpointCallback, resumeFromCheckpoint, type ResumePoint } from './callbacks/checkpoint.js';
import { InterruptCallback } from './callbacks/interrupt.js';
import { TimeBudgetCallback } from './callbacks/time-budget.js';
import { CurveCallback } from './callbacks/curve.js';
import { ValidationCallback } from './callbacks/validation.js';
import { fromFitCallbacks } from './callbacks/fit-callbacks.js';

export type { Callbacks, TrainingControl } from './callbacks/types.js';

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
  /** Runs after backward, before clipping and the optimizer step (data-parallel gradient averaging). */
  afterBackward?(ctx: StepContext): void;
  /** Called just before backward (data-parallel: arms the gradient all-reduce hooks). */
  beforeBackward?(ctx: StepContext): void;
  /** Evaluation after each epoch (model in eval mode), e.g. held-out accuracy. */
  validate?(epoch: number): Record<string, number>;
  /** Also validate every this many steps inside epochs (monitors over a short run). */
  validateEvery?: number;
  /** Called in order, after the built-in callbacks that record the step or epoch. */
  callbacks?: Callbacks | readonly Callbacks[];
  /** Save `<checkpoint>.safetensors/.json` after every epoch; with `resume`, continue from it. */
  checkpoint?: string;
  resume?: boolean;
  /** Resume from `checkpoint` but never write it (data-parallel ranks other than 0). */
  checkpointReadOnly?: boolean;
  /** Runs after every other callback, so it sees each stop they asked for (a data-parallel run agrees on stops here). */
  coordinator?: TrainingCallback;
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
  const device = o.device === undefined ? o.model.device : checkDevice(o.device, o.name);
  if (!sameDevice(o.model.device, device)) {
    throw new Error(`${o.name}: the model is on ${o.model.device}, not on ${device}; move it there (model.to('${device}')) before making its optimizer`);
  }
  const resumeAt = o.resume && o.checkpoint ? resumeFromCheckpoint(o.checkpoint, { ...o, device }) : undefined;
  return trainLoop({ ...o, resumeAt, sampleEvery: o.curveEvery }, fitCallbacks(o));
}

/** `fit`'s options as callbacks. The order matters: validation adds to the events that curve, metrics and yours record; the checkpoint saves the curve. */
function fitCallbacks<B extends Disposable>(o: FitOptions<B>): TrainingCallback[] {
  const callbacks: TrainingCallback[] = [new ProgressCallback({ enabled: o.progress ?? true, unit: o.unit, budgetSeconds: o.timeBudgetSeconds })];
  if (o.validate) callbacks.push(new ValidationCallback(o.validate, o.validateEvery));
  callbacks.push(new CurveCallback());
  if (o.metrics) callbacks.push(new MetricsLogCallback(o.metrics));
  if (o.checkpoint && !o.checkpointReadOnly) callbacks.push(new CheckpointCallback(o.checkpoint, o.checkpointMeta));
  for (const c of [o.callbacks ?? []].flat()) callbacks.push(fromFitCallbacks(c));
  if (o.timeBudgetSeconds !== undefined) callbacks.push(new TimeBudgetCallback(o.timeBudgetSeconds));
  if (o.handleInterrupt ?? true) callbacks.push(new InterruptCallback());
  if (o.coordinator) callbacks.push(o.coordinator);
  return callbacks;
}

export interface TrainLoopOptions<B extends Disposable> extends Pick<FitOptions<B>,
  'name' | 'model' | 'optimizer' | 'scheduler' | 'batches' | 'stepsPerEpoch' | 'epochs' | 'step' | 'afterOptimizerStep' | 'afterBackward' | 'beforeBackward' | 'clipGradNorm' | 'maxSteps'> {
  /** Continue a stopped run (see resumeFromCheckpoint). */
  resumeAt?: ResumePoint;
  /** Take curve points, step records and `StepOutput.logs` every this many steps (default: ~100 per run). */
  sampleEvery?: number;
}

/** The loop under `fit`: steps and epochs, with `callbacks` doing the rest (see ./callbacks/index.ts). */
export async function trainLoop<B extends Disposable>(o: TrainLoopOptions<B>, callbacks: readonly TrainingCallback[]): Promise<FitResult> {
  const run = new TrainingRun(o);
  const call = hookCaller(callbacks);
  let failure: { error: unknown } | undefined;
  try {
    await call('onTrainBegin', run);
    run.startClock();
    // A run resumed at its step limit has nothing left to train (not one step more).
    if (run.step >= run.maxSteps) run.stop('step limit reached');
    for (; run.epoch < o.epochs && !run.interrupted && !run.stopped; run.epoch++) {
      o.model.train();
      const epoch = run.beginEpoch();
      await call('onEpochBegin', run);
      for (const batch of o.batches(run.epoch)) {
        if (run.skipsResumedStep(batch)) continue;
        const done = trainStep(o, batch, run.stepContext(), (run.step + 1) % run.sampleEvery === 0);
        if (!Number.isFinite(done.loss)) throw new NonFiniteLossError(o.name, run.epoch, run.step, done.loss, lastGoodCheckpoint(run));
        o.scheduler?.step();
        run.countStep(done);
        epoch.add(done);
        await call('onStepEnd', run, { ...done, lr: o.optimizer.paramGroups[0]!.lr, examplesPerSecond: epoch.examplesPerSecond() });
        if (run.step >= run.maxSteps) run.stop('step limit reached');
        await new Promise<void>((r) => setImmediate(r)); // let signal handlers (Ctrl-C) run between steps
        if (run.interrupted || run.stopped) break;
      }
      await call('onEpochEnd', run, { logs: epoch.logs() });
    }
  } catch (error) {
    failure = { error };
    throw error;
  } finally {
    run.stopClock();
    await call('onTrainEnd', run, failure?.error);
  }
  return run.result();
}

/** What one step gives the callbacks, before the learning rate and throughput are added. */
type StepTotals = Pick<StepEnd, 'loss' | 'correct' | 'count' | 'hasAccuracy' | 'monitors'>;

/** Forward, backward and optimizer step in one scope; the batch is disposed. On a non-finite loss the optimizer is not stepped. */
function trainStep<B extends Disposable>(o: TrainLoopOptions<B>, batch: B, ctx: StepContext, readMonitors: boolean): StepTotals {
  try {
    // Training records gradients even when the caller sits inside noGrad().
    return enableGrad(() => tidy(() => {
      const out = o.step(batch, ctx);
      const hasAccuracy = out.correct !== undefined;
      const monitors = readMonitors && out.logs ? Object.fromEntries(Object.entries(out.logs).map(([k, v]) => [k, v instanceof Tensor ? v.item() : v])) : {};
      o.optimizer.zeroGrad();
      o.beforeBackward?.(ctx);
      out.loss.backward();
      o.afterBackward?.(ctx);
      if (o.clipGradNorm) clipGradNorm_(o.model.parameters().filter((p) => p.requiresGrad), o.clipGradNorm);
      const loss = out.loss.item();
      if (!Number.isFinite(loss)) return { loss, correct: 0, count: out.count, hasAccuracy, monitors };
      o.optimizer.step();
      o.afterOptimizerStep?.(ctx);
      const correct = out.correct instanceof Tensor ? out.correct.item() : (out.correct ?? 0);
      return { loss, correct, count: out.count, hasAccuracy, monitors };
    }));
  } finally {
    batch[Symbol.dispose]();
  }
}

function lastGoodCheckpoint(run: RunContext): string | undefined {
  const tensors = run.checkpointPath && checkpointPaths(run.checkpointPath).tensors;
  return tensors && existsSync(tensors) ? tensors : undefined;
}

/** Calls one hook on every callback in order, awaiting each, with the callback as `this`. */
function hookCaller(callbacks: readonly TrainingCallback[]) {
  return async <K extends keyof TrainingCallback>(hook: K, ...args: Parameters<NonNullable<TrainingCallback[K]>>): Promise<void> => {
    for (const c of callbacks) await (c[hook] as ((...a: typeof args) => unknown) | undefined)?.apply(c, args);
  };
}

/** The epoch's running loss and accuracy, and its throughput. */
class EpochTally {
  private readonly started = performance.now();
  private lossSum = 0;
  private correct = 0;
  private count = 0;

  add(s: StepTotals): void {
    this.lossSum += s.loss * s.count;
    this.correct += s.correct;
    this.count += s.count;
  }

  examplesPerSecond(): number {
    return this.count / ((performance.now() - this.started) / 1000);
  }

  logs(): EpochEnd['logs'] {
    const logs: Record<string, number> = { loss: this.lossSum / Math.max(1, this.count) };
    if (this.count > 0 && this.correct > 0) logs.acc = this.correct / this.count;
    return logs;
  }
}

/** The RunContext the loop keeps up to date. */
class TrainingRun implements RunContext {
  readonly name: string;
  readonly model: Module;
  readonly optimizer: Optimizer;
  readonly scheduler?: LRScheduler;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly maxSteps: number;
  readonly totalSteps: number;
  readonly startStep: number;
  readonly sampleEvery: number;
  epoch: number;
  step: number;
  stepInEpoch = 0;
  examples = 0;
  lastLoss = NaN;
  readonly curve: CurvePoint[];
  lastValidation: Record<string, number> = {};
  checkpointPath?: string;
  interrupted = false;
  stopped = false;
  stopReason = '';
  readonly control: TrainingControl = { stop: (reason) => this.stop(reason) };
  /** Steps of the first epoch trained before the stop this run resumes from. */
  private resumedStepsLeft: number;
  private startTime = performance.now();
  private endTime?: number;

  constructor(o: TrainLoopOptions<Disposable>) {
    this.name = o.name;
    this.model = o.model;
    this.optimizer = o.optimizer;
    this.scheduler = o.scheduler;
    this.epochs = o.epochs;
    this.stepsPerEpoch = o.stepsPerEpoch;
    this.maxSteps = o.maxSteps ?? Infinity;
    this.epoch = o.resumeAt?.epoch ?? 0;
    this.step = this.startStep = o.resumeAt?.step ?? 0;
    this.resumedStepsLeft = o.resumeAt?.stepInEpoch ?? 0;
    this.curve = [...(o.resumeAt?.curve ?? [])];
    this.totalSteps = Math.min(o.epochs * o.stepsPerEpoch, this.maxSteps);
    this.sampleEvery = o.sampleEvery ?? Math.max(1, Math.floor((this.totalSteps - this.startStep) / 100));
  }

  get seconds(): number {
    return ((this.endTime ?? performance.now()) - this.startTime) / 1000;
  }

  startClock(): void {
    this.startTime = performance.now();
  }

  stopClock(): void {
    this.endTime = performance.now();
  }

  interrupt(): void {
    this.interrupted = true;
  }

  stop(reason: string): void {
    this.stopped = true;
    this.stopReason = reason;
  }

  beginEpoch(): EpochTally {
    this.stepInEpoch = 0;
    return new EpochTally();
  }

  /** Resuming inside an epoch: the batches trained on before the stop are disposed unseen. */
  skipsResumedStep(batch: Disposable): boolean {
    if (this.resumedStepsLeft === 0) return false;
    batch[Symbol.dispose]();
    this.resumedStepsLeft--;
    this.stepInEpoch++;
    return true;
  }

  stepContext(): StepContext {
    return { epoch: this.epoch, step: this.step, stepInEpoch: this.stepInEpoch, totalSteps: this.totalSteps };
  }

  countStep(s: StepTotals): void {
    this.step++;
    this.stepInEpoch++;
    this.examples += s.count;
    this.lastLoss = s.loss;
  }

  result(): FitResult {
    return {
      epochsDone: Math.min(this.epoch, this.epochs), steps: this.step, interrupted: this.interrupted, stoppedByBudget: this.stopped,
      examplesPerSecond: this.examples / this.seconds, seconds: this.seconds, lastLoss: this.lastLoss, curve: this.curve, lastValidation: this.lastValidation,
    };
  }
}
