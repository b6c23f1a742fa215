// Data-parallel training on libtorch's c10d: see group.ts, data-parallel.ts, sampler.ts.
export { ProcessGroup, Work, DistributedError, type ProcessGroupOptions, type ReduceOp, type Backend } from './group.js';
export { distributedEnv, type DistributedEnv } from './env.js';
export { DataParallel, type DataParallelOptions, type CommStats } from './data-parallel.js';
export { StopCoordinator } from './coordinator.js';
export { shardOrder, shardedBatches, type Shard } from './sampler.js';
export { setDefaultGroup, defaultGroup, gatherWithGrad, gatherNoGrad, rankAndWorld } from './default-group.js';
export { launch, checkPortFree, type LaunchOptions, type LaunchResult } from './launcher.js';
export { watchLauncher, LAUNCHER_PID_ENV } from './launcher-watch.js';
export { convertSyncBatchNorm } from './sync-batchnorm.js';
