// The shared training loop and what it is made of.
export {
  fit, trainLoop, NonFiniteLossError,
  type FitOptions, type FitResult, type StepOutput, type StepContext, type TrainLoopOptions, type Callbacks, type TrainingControl,
} from './trainer.js';
export * from './callbacks/index.js';
export { trainSupervised, makeOptimizer, type SupervisedOptions, type OptimizerConfig, type Augmentation } from './supervised.js';
export { ProgressBar, type ProgressState } from './progress.js';
export { MetricsLog, readMetrics, type MetricsRecord } from './metrics-log.js';
