// Loads the N-API addon (native/selfsup.cc) and describes what it exports.
// Nothing else in selfsup touches libtorch except through this object.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

/** An opaque handle owning one libtorch tensor. */
export type TensorHandle = { readonly __tensorHandle: unique symbol };
/** An opaque handle owning one libtorch random generator. */
export type GeneratorHandle = { readonly __generatorHandle: unique symbol };
/** A c10d process group (native/distributed.cc). */
export type GroupHandle = { readonly __groupHandle: unique symbol };
export type ReducerHandle = { readonly __reducerHandle: unique symbol };
/** One started collective of a process group. */
export type WorkHandle = { readonly __workHandle: unique symbol };

export interface DistInitOptions {
  backend: 'gloo' | 'nccl';
  host: string;
  port: number;
  rank: number;
  worldSize: number;
  timeoutMs: number;
  socketInterface?: string;
}

export interface NativeBinding {
  lookupOp(name: string, overload: string): number;
  opSchema(index: number): string;
  /** The schema string of every operator libtorch registered. */
  listOps(): string[];
  callOp(index: number, args: unknown[]): unknown;
  fromBuffer(data: ArrayBufferView, shape: number[], scalarType: number): TensorHandle;
  toBuffer(h: TensorHandle): ArrayBuffer;
  meta(h: TensorHandle): [number, string, boolean, ...number[]];
  dispose(h: TensorHandle): void;
  isLive(h: TensorHandle): boolean;
  memory(): { numTensors: number; numBytes: number };
  sameTensor(a: TensorHandle, b: TensorHandle): boolean;
  backward(h: TensorHandle, grad: TensorHandle | null, retainGraph: boolean, createGraph: boolean): void;
  grad(h: TensorHandle): TensorHandle | null;
  setGrad(h: TensorHandle, g: TensorHandle | null): void;
  setRequiresGrad(h: TensorHandle, on: boolean): void;
  isLeaf(h: TensorHandle): boolean;
  retainGrad(h: TensorHandle): void;
  gradEnabled(set?: boolean): boolean;
  manualSeed(seed: number): void;
  newGenerator(seed: number): GeneratorHandle;
  generatorSeed(g: GeneratorHandle, seed: number): void;
  numThreads(set?: number): number;
  cudaAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(): void;
  torchVersion: string;
  distInit(o: DistInitOptions): Promise<GroupHandle>;
  distAllReduce(g: GroupHandle, tensors: TensorHandle[], op: 'sum' | 'max' | 'min' | 'product'): WorkHandle;
  distBroadcast(g: GroupHandle, tensors: TensorHandle[], root: number): WorkHandle;
  distAllGather(g: GroupHandle, t: TensorHandle): WorkHandle;
  distBarrier(g: GroupHandle): WorkHandle;
  /** Blocks (at most the group's timeout); an all-gather's work gives its concatenated result. */
  distWait(w: WorkHandle): TensorHandle | undefined;
  distWaitAsync(w: WorkHandle): Promise<TensorHandle | undefined>;
  distIsCompleted(w: WorkHandle): boolean;
  distGatherWithGrad(g: GroupHandle, t: TensorHandle): TensorHandle;
  distDestroy(g: GroupHandle): void;
  /** A gradient reducer: hooks on `params` (in bucket order, cut by bucketSizes) that start each bucket's all-reduce during backward. */
  distReducerNew(g: GroupHandle, params: TensorHandle[], bucketSizes: number[]): ReducerHandle;
  distReducerArm(r: ReducerHandle): void;
  /** Starts the buckets backward left, waits for all, writes the averaged gradients; says how many buckets backward had started and how long it waited. */
  distReducerFinish(r: ReducerHandle): { startedInBackward: number; waitedMs: number };
  distNcclAvailable(): boolean;
  /** True when the addon tuned glibc malloc at load (see native/selfsup.cc TuneMalloc). */
  mallocTuned: boolean;
  /** True when the caching allocator for large CPU tensors is installed (native/cpu-cache.cc; off with SELFSUP_CPU_CACHE=0). */
  cpuCacheEnabled: boolean;
  cpuCacheStats(): CpuCacheStats;
  /** Gives the cached free blocks back to the system; returns their bytes. */
  emptyCpuCache(): number;
  /** The op profiler (native/op-profiler.cc): start clears and records, stop removes the callback; both stop and read return a snapshot. */
  profilerStart(): void;
  profilerStop(): OpProfile;
  profilerRead(): OpProfile;
}

/** One op name's row in an op profile; times are wall milliseconds. */
export interface OpProfileRow {
  /** The dispatcher's op name ("aten::addmm") or the autograd node's ("AddmmBackward0", "autograd::engine::evaluate_function: AddmmBackward0"). */
  name: string;
  calls: number;
  /** Time inside the op minus the time of the profiled ops it called on the same thread. */
  selfMs: number;
  /** Time inside the op, the ops it called included. */
  totalMs: number;
  /** Calls with no profiled op around them on their thread, and their inclusive time. */
  topCalls: number;
  topMs: number;
}

/** What the op profiler recorded: rows sorted by self time, largest first. */
export interface OpProfile {
  running: boolean;
  /** Wall time from start to stop (or to now while running). */
  wallMs: number;
  rows: OpProfileRow[];
}

/** What the caching CPU allocator holds (large blocks, 128 KiB and up). */
export interface CpuCacheStats {
  enabled: boolean;
  /** Free blocks kept at most (SELFSUP_CPU_CACHE_MB, default 2048 MiB); a block freed beyond it goes back to the system. */
  capBytes: number;
  /** Free blocks waiting for reuse now. */
  cachedBytes: number;
  /** Large blocks held by tensors now, and at most so far. */
  largeLiveBytes: number;
  peakLargeLiveBytes: number;
  /** Large allocations served from the cache, and from the system. */
  hits: number;
  misses: number;
  /** Freed blocks given back at once because the cache was full. */
  released: number;
}

function findAddon(): string {
  // dist/src/native/binding.js and src/native/binding.ts both sit three levels below the package root.
  const here = dirname(fileURLToPath(import.meta.url));
  const roots = [join(here, '..', '..', '..'), join(here, '..', '..')];
  for (const root of roots) {
    for (const kind of ['Release', 'Debug']) {
      const p = join(root, 'build', kind, 'selfsup_native.node');
      if (existsSync(p)) return p;
    }
  }
  throw new Error(
    'selfsup: the native addon is not built. In a project that uses selfsup, run `npm rebuild selfsup`; in the selfsup repository, ' +
    '`npm run build:native` (either needs libtorch: `apt-get install libtorch-dev`, or LIBTORCH=/path/to/libtorch).',
  );
}

// OpenMP threads that spin while waiting stall every op whenever another process
// wants a core (measured: 1,100 vs 158,000 images/s through the loader on a busy
// 2-core machine); sleeping waiters cost nothing measurable on an idle one.
// libgomp reads this once, when the addon loads it.
process.env.OMP_WAIT_POLICY ??= 'PASSIVE';

const require = createRequire(import.meta.url);
export const native: NativeBinding = require(findAddon());

// Use every core unless told otherwise (libtorch's OpenMP default here can be 1).
const threadsFromEnv = Number(process.env.SELFSUP_NUM_THREADS);
if (process.env.SELFSUP_NUM_THREADS !== undefined && !(Number.isInteger(threadsFromEnv) && threadsFromEnv > 0 && threadsFromEnv <= 4 * availableParallelism())) {
  // Thousands of threads take tens of seconds to start: refuse at load time, saying what is allowed.
  throw new RangeError(`SELFSUP_NUM_THREADS=${process.env.SELFSUP_NUM_THREADS}: expected an integer from 1 to ${4 * availableParallelism()} (4x this machine's cores)`);
}
native.numThreads(Number.isInteger(threadsFromEnv) && threadsFromEnv > 0 ? threadsFromEnv : availableParallelism());
