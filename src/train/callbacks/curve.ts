// The run's curve: a point every `sampleEvery` steps (loss, lr, accuracy,
// monitors) and one per validation, keyed val_*.
import type { CurvePoint } from '../../report/types.js';
import type { EpochEnd, RunContext, StepEnd, TrainingCallback } from './types.js';

export class CurveCallback implements TrainingCallback {
  onStepEnd(run: RunContext, s: StepEnd): void {
    const epoch = run.epoch + run.stepInEpoch / run.stepsPerEpoch;
    if (run.step % run.sampleEvery === 0) {
      const point: CurvePoint = { step: run.step, epoch, loss: s.loss, lr: s.lr, ...s.monitors };
      if (s.hasAccuracy && s.count > 0) point.acc = s.correct / s.count;
      run.curve.push(point);
    }
    if (s.validation) run.curve.push({ step: run.step, epoch, ...prefixKeys(s.validation, 'val_') });
  }

  onEpochEnd(run: RunContext, e: EpochEnd): void {
    if (e.validation) run.curve.push({ step: run.step, epoch: run.epoch + 1, ...prefixKeys(e.validation, 'val_') });
  }
}

function prefixKeys(r: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [prefix + k, v]));
}
