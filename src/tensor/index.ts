// The tensor engine: everything that touches libtorch.
import { availableParallelism } from 'node:os';
import { native, type CpuCacheStats } from '../native/binding.js';
export type { CpuCacheStats } from '../native/binding.js';

export { Tensor, op, Reduction, type Scalar, type NestedArray, type ReductionName } from './tensor.js';
export * from './create.js';
export * as F from './functional.js';
export { tidy, keep, openScope, Scope } from './scope.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd.js';
export { Generator, manualSeed } from './random.js';
export { callOp, opSchema } from './ops.js';
export { profiler, formatProfile, type OpProfile, type OpProfileRow } from './profiler.js';
export { checkDevice, isDeviceName, sameDevice, onDevice } from './device.js';
export type { DType, Device, TypedArray } from './dtype.js';

/** Live libtorch tensors owned by JavaScript and the bytes of their storage. */
export function memory(): { numTensors: number; numBytes: number } {
  return native.memory();
}

/**
 * The caching allocator's state: freed CPU tensors of 128 KiB and up wait for the next
 * tensor of their size (a training step allocates the same sizes every time), instead of
 * going back to the system. Off with SELFSUP_CPU_CACHE=0; at most SELFSUP_CPU_CACHE_MB
 * (default 2048) MiB of free blocks are kept.
 */
export function cpuCache(): CpuCacheStats {
  return native.cpuCacheStats();
}

/** Gives the allocator's cached free blocks back to the system (for a long-lived process between jobs); returns their bytes. */
export function emptyCpuCache(): number {
  return native.emptyCpuCache();
}

/** Threads libtorch uses for one op; all cores by default (env SELFSUP_NUM_THREADS overrides). */
export function getNumThreads(): number { return native.numThreads(); }
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: expected a positive integer, got ${n}`);
  // Thousands of OpenMP threads take tens of seconds to start and never help.
  if (n > MAX_THREADS) throw new RangeError(`setNumThreads: ${n} threads is more than 4x this machine's ${availableParallelism()} cores (at most ${MAX_THREADS})`);
  native.numThreads(n);
}

/** The most threads setNumThreads accepts: 4x the cores. */
export const MAX_THREADS = 4 * availableParallelism();

export const cuda = {
  isAvailable: (): boolean => native.cudaAvailable(),
  deviceCount: (): number => native.cudaDeviceCount(),
  synchronize: (): void => native.cudaSynchronize(),
};

/** The libtorch version selfsup was built against. */
export const torchVersion: string = native.torchVersion;
