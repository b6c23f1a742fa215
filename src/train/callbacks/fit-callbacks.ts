// `fit`'s `callbacks` option as a TrainingCallback: same arguments, same `this`.
import type { Callbacks, TrainingCallback } from './types.js';

export function fromFitCallbacks(callbacks: Callbacks): TrainingCallback {
  return {
    onStepEnd: (run, s) => callbacks.onStepEnd?.(run.step, { loss: s.loss, lr: s.lr }, run.control),
    onEpochEnd: (run, e) => callbacks.onEpochEnd?.(run.epoch, e.logs, run.control),
  };
}
