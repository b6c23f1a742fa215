// The shared training loop and what it is made of.
export { fit, NonFiniteLossError, type FitOptions, type FitResult, type StepOutput, type Callbacks } from './trainer.js';
export { trainSupervised, makeOptimizer, type SupervisedOptions, type OptimizerConfig, type Augmentation } from './supervised.js';
export { ProgressBar, type ProgressState } from './progress.js';
export { MetricsLog, readMetrics, type MetricsRecord } from './metrics-log.js';
