// The shared training loop and what it is made of.
export {
  fit, trainLoop, NonFiniteLossError,
  type FitOptions, type FitResult, type StepOutput, type StepContext, type TrainLoopOptions, type Callbacks, type TrainingControl,
} from './trainer.js';
export * from './callbacks/index.js';
export { trainSupervised, type SupervisedOptions, type Augmentation } from './supervised.js';
// The optimizer factory lives in optim/; train keeps exposing it, as it always has.
export { makeOptimizer, type OptimizerConfig } from '../optim/factory.js';
export { ProgressBar, type ProgressState } from './progress.js';
export { MetricsLog, readMetrics, type MetricsRecord } from './metrics-log.js';
