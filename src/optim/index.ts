// selfsup.optim: optimizers, gradient clipping and learning-rate schedules, matching torch.optim,
// and makeOptimizer, which builds one from a plain configuration.
export { Optimizer, type ParamGroup, type ParamGroupSpec, type ParamState, type OptimizerStateDict, type OptimizerMeta } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { clipGradNorm_ } from './clip.js';
export {
  LRScheduler, StepLR, MultiStepLR, WarmupCosineLR, OneCycleLR,
  stepLr, multiStepLr, warmupCosineLr, oneCycleLr, oneCycleMomentum,
  type SchedulerState, type StepLROptions, type MultiStepLROptions, type WarmupCosineOptions, type OneCycleOptions, type OneCycleLROptions,
} from './schedule.js';
export { SparseAdam, isSparse, type SparseAdamOptions } from './sparse-adam.js';
export { BudgetLinearDecayLR, BudgetWarmupCosineLR, scheduleSteps, type BudgetDecayOptions } from './budget-schedule.js';
export { makeOptimizer, type OptimizerConfig } from './factory.js';
