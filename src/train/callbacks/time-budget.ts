// Stops the run once its time is spent (after the current step, saving as at an epoch end).
import type { RunContext, TrainingCallback } from './types.js';

export class TimeBudgetCallback implements TrainingCallback {
  constructor(readonly seconds: number) {}

  onStepEnd(run: RunContext): void {
    if (run.seconds >= this.seconds) run.stop('time budget reached');
  }
}
