// The progress line: one update per step, a summary when training ends.
import { ProgressBar } from '../progress.js';
import type { RunContext, StepEnd, TrainingCallback } from './types.js';

export interface ProgressOptions {
  /** Default true; false keeps the callback silent (the bar is still made, cheaply). */
  enabled?: boolean;
  /** What a step's count counts, for the rate (default 'img'). */
  unit?: string;
  /** The run's time limit, so that the ETA can be the sooner of the two. */
  budgetSeconds?: number;
}

export class ProgressCallback implements TrainingCallback {
  private bar?: ProgressBar;

  constructor(private readonly options: ProgressOptions = {}, private readonly out: NodeJS.WriteStream = process.stderr) {}

  onTrainBegin(run: RunContext): void {
    this.bar = new ProgressBar(run.name, run.totalSteps - run.startStep, this.out, this.options.enabled ?? true, undefined, this.options.unit, this.options.budgetSeconds);
  }

  onStepEnd(run: RunContext, s: StepEnd): void {
    this.bar?.update({
      epoch: run.epoch, epochs: run.epochs, step: run.stepInEpoch, steps: Math.min(run.stepsPerEpoch, run.maxSteps),
      loss: s.loss, itemsPerSec: s.examplesPerSecond,
    }, run.step - run.startStep);
  }

  onTrainEnd(run: RunContext, error?: unknown): void {
    if (error !== undefined) return; // the error says what happened
    const stopped = run.interrupted
      ? (run.checkpointPath ? ' (interrupted; checkpoint saved)' : ' (interrupted)')
      : (run.stopped ? ` (${run.stopReason})` : '');
    this.bar?.finish(`${run.step} steps in ${run.seconds.toFixed(1)} s, ${(run.examples / run.seconds).toFixed(0)} examples/s, ` +
      `last loss ${run.lastLoss.toFixed(4)}${stopped}`);
  }
}
