// Training callbacks: the concerns `fit` is made of, to compose with your own
// in `trainLoop`. A callback implements any of the hooks, in list order:
//
//   onTrainBegin(run)            before the first step (after resume)
//   onEpochBegin(run)            model in train mode, before the epoch's first batch
//   onStepEnd(run, step)         after each optimisation step: loss, lr, monitors, throughput
//   onEpochEnd(run, epoch)       after each epoch, also one cut short by a stop; epoch.logs may be added to
//   onTrainEnd(run, error?)      always, in a finally; error is set when training threw
//
// `run` (RunContext) has the name, epoch, step, totalSteps, model, optimizer,
// scheduler, curve, `stop(reason)` and the interrupted flag. For example:
//
//   const at = resumeFromCheckpoint('runs/a/ckpt', { name, model, optimizer, device: 'cpu' });
//   await trainLoop({ name, model, optimizer, batches, stepsPerEpoch, epochs: 10, step, resumeAt: at }, [
//     new ProgressCallback({ unit: 'tok' }),
//     new CurveCallback(),
//     new CheckpointCallback('runs/a/ckpt'),
//     new InterruptCallback(),
//     { onEpochEnd: (run, e) => { if (e.logs.loss < 0.1) run.stop('good enough'); } },
//   ]);
export type { TrainingCallback, RunContext, StepEnd, EpochEnd, Callbacks, TrainingControl } from './types.js';
export { ProgressCallback, type ProgressOptions } from './progress.js';
export { MetricsLogCallback } from './metrics-log.js';
export { CheckpointCallback, resumeFromCheckpoint, type ResumePoint, type ResumeTarget } from './checkpoint.js';
export { InterruptCallback } from './interrupt.js';
export { TimeBudgetCallback } from './time-budget.js';
export { CurveCallback } from './curve.js';
export { ValidationCallback } from './validation.js';
export { fromFitCallbacks } from './fit-callbacks.js';
