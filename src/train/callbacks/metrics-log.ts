// The JSON-lines metrics log: a step record every `sampleEvery` steps, a record
// for each validation, one per epoch.
import type { MetricsLog } from '../metrics-log.js';
import type { EpochEnd, RunContext, StepEnd, TrainingCallback } from './types.js';

export class MetricsLogCallback implements TrainingCallback {
  constructor(private readonly log: MetricsLog) {}

  onStepEnd(run: RunContext, s: StepEnd): void {
    if (run.step % run.sampleEvery === 0) {
      this.log.write({ run: run.name, kind: 'step', step: run.step, epoch: run.epoch, loss: s.loss, lr: s.lr, examples_per_s: s.examplesPerSecond, ...s.monitors });
    }
    if (s.validation) this.log.write({ run: run.name, kind: 'validation', step: run.step, epoch: run.epoch, ...s.validation });
  }

  onEpochEnd(run: RunContext, e: EpochEnd): void {
    this.log.write({ run: run.name, kind: 'epoch', epoch: run.epoch + 1, step: run.step, ...e.logs, seconds: run.seconds });
  }
}
