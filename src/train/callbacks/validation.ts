// Validation (model in eval mode) after each epoch, and with `every` also every
// that many steps inside epochs. Its values go into the step's or epoch's event,
// so the callbacks after it (curve, metrics, yours) record them.
import type { EpochEnd, RunContext, StepEnd, TrainingCallback } from './types.js';

export class ValidationCallback implements TrainingCallback {
  constructor(private readonly validate: (epoch: number) => Record<string, number>, private readonly every?: number) {}

  onStepEnd(run: RunContext, s: StepEnd): void {
    // The last step of an epoch is left to the end-of-epoch validation.
    if (!this.every || run.step % this.every !== 0 || run.stepInEpoch >= run.stepsPerEpoch) return;
    run.model.eval();
    s.validation = this.validate(run.epoch);
    run.model.train();
  }

  onEpochEnd(run: RunContext, e: EpochEnd): void {
    if (run.interrupted) return; // Ctrl-C: save and leave quickly
    // The model stays in eval mode: the next epoch switches it back, and after the run it is ready to evaluate.
    run.model.eval();
    run.lastValidation = this.validate(run.epoch);
    e.validation = run.lastValidation;
    Object.assign(e.logs, run.lastValidation);
  }
}
