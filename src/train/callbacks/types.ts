// What a training callback sees: one interface for the built-in concerns
// (progress, metrics, checkpoints, Ctrl-C, time budget, curve, validation) and
// for your own. The loop calls the hooks in list order, awaiting each.
import type { Module } from '../../nn/index.js';
import type { Optimizer, LRScheduler } from '../../optim/index.js';
import type { CurvePoint } from '../../report/types.js';

/** Handed to `fit`'s callbacks: `stop` ends the run after the current step, saving as at an epoch end. */
export interface TrainingControl {
  stop(reason: string): void;
}

/** `fit`'s `callbacks` option: step and epoch ends, with the loss and learning rate. */
export interface Callbacks {
  onEpochEnd?(epoch: number, logs: Record<string, number>, control: TrainingControl): void | Promise<void>;
  onStepEnd?(step: number, logs: { loss: number; lr: number }, control: TrainingControl): void | Promise<void>;
}

/** The run as the callbacks see it; the loop keeps it up to date. */
export interface RunContext {
  /** Shown in the progress line and written into every metrics record. */
  readonly name: string;
  readonly model: Module;
  readonly optimizer: Optimizer;
  readonly scheduler?: LRScheduler;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  /** The step limit (Infinity when there is none). */
  readonly maxSteps: number;
  /** Steps of the whole run, resumed ones included: min(epochs × stepsPerEpoch, maxSteps). */
  readonly totalSteps: number;
  /** Steps already done when this run began (a resumed run starts past 0). */
  readonly startStep: number;
  /** Curve points, step records and `StepOutput.logs` are taken every this many steps. */
  readonly sampleEvery: number;
  /** The epoch in progress, from 0; after the loop, the number of epochs begun. */
  readonly epoch: number;
  /** Optimisation steps done over the whole run. */
  readonly step: number;
  /** Steps done in the current epoch (resumed ones included). */
  readonly stepInEpoch: number;
  /** Examples trained on in this run. */
  readonly examples: number;
  readonly lastLoss: number;
  /** Seconds since training began; frozen once it ends. */
  readonly seconds: number;
  /** The run's curve: saved with checkpoints and returned by `fit`. */
  readonly curve: CurvePoint[];
  /** The latest end-of-epoch validation. */
  lastValidation: Record<string, number>;
  /** Set by the callback that saves checkpoints, so that messages can say a checkpoint is kept. */
  checkpointPath?: string;
  /** Ctrl-C was pressed: the run ends after this step, without validating. */
  readonly interrupted: boolean;
  interrupt(): void;
  /** A stop was asked for (time budget, step limit, a callback); `stopReason` says why. */
  readonly stopped: boolean;
  readonly stopReason: string;
  /** Ends the run after the current step, saving as at an epoch end. */
  stop(reason: string): void;
  /** What `fit`'s callbacks get as their `control` (a bound `stop`). */
  readonly control: TrainingControl;
}

/** One finished optimisation step. */
export interface StepEnd {
  loss: number;
  /** The learning rate after the scheduler's step. */
  lr: number;
  correct: number;
  count: number;
  /** Whether the step reported `correct` (so an accuracy means something). */
  hasAccuracy: boolean;
  /** `StepOutput.logs` as numbers, read only on sampling steps (else empty). */
  monitors: Record<string, number>;
  /** Throughput since the epoch began. */
  examplesPerSecond: number;
  /** A mid-epoch validation made after this step (ValidationCallback sets it). */
  validation?: Record<string, number>;
}

/** One finished (or stopped) epoch. */
export interface EpochEnd {
  /** Mean loss, accuracy when there is one, and the validation's values: callbacks may add to it. */
  logs: Record<string, number>;
  /** The end-of-epoch validation (ValidationCallback sets it). */
  validation?: Record<string, number>;
}

export interface TrainingCallback {
  onTrainBegin?(run: RunContext): void | Promise<void>;
  onEpochBegin?(run: RunContext): void | Promise<void>;
  onStepEnd?(run: RunContext, step: StepEnd): void | Promise<void>;
  onEpochEnd?(run: RunContext, epoch: EpochEnd): void | Promise<void>;
  /** Called always, also when training threw (`error` is then set): release what you hold here. */
  onTrainEnd?(run: RunContext, error?: unknown): void | Promise<void>;
}
