// A c10d process group (ProcessGroupGloo on CPU, ProcessGroupNCCL on CUDA builds)
// with every wait bounded by its timeout. Blocking calls (`allReduce`, ...) suit the
// training step, which is synchronous; the `...Async` forms wait off the main thread.
import { native, type GroupHandle, type ReducerHandle, type WorkHandle } from '../native/binding.js';
import { Tensor } from '../tensor/index.js';
import { distributedEnv, type DistributedEnv } from './env.js';
import { watchLauncher } from './launcher-watch.js';

export type ReduceOp = 'sum' | 'max' | 'min' | 'product';
export type Backend = 'gloo' | 'nccl';

export interface ProcessGroupOptions {
  /** 'gloo' (default; CPU tensors) or 'nccl' (CUDA tensors; needs a CUDA build of the addon). */
  backend?: Backend;
  /** Longest wait for peers, at set-up and in every collective (default SELFSUP_DIST_TIMEOUT seconds, else 300 s). */
  timeoutSeconds?: number;
}

/** Says which rank failed at what, and the likely cause: a peer that died or hung. */
export class DistributedError extends Error {
  constructor(rank: number, what: string, cause: string, timeoutSeconds: number) {
    const hint = /closed by peer|Connection reset|Broken pipe|EOF/i.test(cause) ? ' (another rank has stopped or died)'
      : /timed? ?out/i.test(cause) ? ` (no answer from every rank within ${timeoutSeconds} s: a rank died, hangs or never started)` : '';
    super(`rank ${rank}: ${what} failed${hint}: ${cause}`);
    this.name = 'DistributedError';
  }
}

/** One started collective; `wait` blocks at most the group's timeout. */
export class Work {
  constructor(private readonly group: ProcessGroup, private readonly handle: WorkHandle, private readonly what: string) {}
  get isCompleted(): boolean {
    return native.distIsCompleted(this.handle);
  }
  wait(): Tensor | undefined {
    const h = this.group.guard(this.what, () => native.distWait(this.handle));
    return h === undefined ? undefined : new Tensor(h);
  }
  async waitAsync(): Promise<Tensor | undefined> {
    const h = await this.group.guardAsync(this.what, native.distWaitAsync(this.handle));
    return h === undefined ? undefined : new Tensor(h);
  }
}

/**
 * Gradient all-reduce overlapping backward (see native/distributed.cc, the reducer): arm
 * before backward, and each bucket's all-reduce starts as soon as backward has written
 * all its gradients; finish after backward waits for them and writes the averages.
 */
export class GradientReducer {
  constructor(private readonly group: ProcessGroup, private readonly handle: ReducerHandle) {}
  arm(): void {
    native.distReducerArm(this.handle);
  }
  /** How many buckets backward had started, and the milliseconds spent waiting after it (the all-reduce time backward did not hide). */
  finish(): { startedInBackward: number; waitedMs: number } {
    return this.group.guard('gradient all-reduce', () => native.distReducerFinish(this.handle));
  }
}

export class ProcessGroup {
  private destroyed = false;

  private constructor(private readonly handle: GroupHandle, readonly env: DistributedEnv, readonly backend: Backend, readonly timeoutSeconds: number) {}

  get rank(): number { return this.env.rank; }
  get worldSize(): number { return this.env.worldSize; }
  get localRank(): number { return this.env.localRank; }

  /** Joins the group that `env` (default: torchrun's variables) describes; waits for every rank. */
  static async init(o: ProcessGroupOptions = {}, env: DistributedEnv | null = distributedEnv()): Promise<ProcessGroup> {
    if (!env) throw new Error('no data-parallel job here: WORLD_SIZE is not set (start the processes with `selfsup launch` or torchrun)');
    // Started by `selfsup launch`: stop when it dies, even while this rank waits in a collective.
    watchLauncher();
    const backend = o.backend ?? 'gloo';
    const timeoutSeconds = o.timeoutSeconds ?? defaultTimeoutSeconds();
    if (!(timeoutSeconds > 0)) throw new RangeError(`timeoutSeconds must be positive, got ${timeoutSeconds}`);
    if (backend === 'nccl' && !native.distNcclAvailable()) {
      throw new Error("backend 'nccl' needs the addon built against a CUDA libtorch (LIBTORCH=/path/to/libtorch npm run build:native); use 'gloo' on CPU");
    }
    try {
      const handle = await native.distInit({
        backend, host: env.masterAddr, port: env.masterPort, rank: env.rank, worldSize: env.worldSize,
        timeoutMs: Math.round(timeoutSeconds * 1000), socketInterface: process.env.GLOO_SOCKET_IFNAME,
      });
      return new ProcessGroup(handle, env, backend, timeoutSeconds);
    } catch (e) {
      const msg = (e as Error).message;
      const hint = /Address already in use/.test(msg) ? ` (port ${env.masterPort} is taken: pick another --master-port)`
        : /timed? ?out/i.test(msg) ? ` (not all ${env.worldSize} ranks reached ${env.masterAddr}:${env.masterPort} within ${timeoutSeconds} s)` : '';
      throw new Error(`rank ${env.rank}: joining the ${env.worldSize}-process group at ${env.masterAddr}:${env.masterPort} failed${hint}: ${msg}`);
    }
  }

  /** Starts an in-place all-reduce of `tensors` (contiguous, same device). */
  allReduceStart(tensors: Tensor[], op: ReduceOp = 'sum'): Work {
    return new Work(this, this.guard('all-reduce', () => native.distAllReduce(this.live, tensors.map((t) => t.handle), op)), 'all-reduce');
  }
  allReduce(tensors: Tensor[], op: ReduceOp = 'sum'): void {
    this.allReduceStart(tensors, op).wait();
  }
  async allReduceAsync(tensors: Tensor[], op: ReduceOp = 'sum'): Promise<void> {
    await this.allReduceStart(tensors, op).waitAsync();
  }

  /** Starts an in-place broadcast of `tensors` from `root`. */
  broadcastStart(tensors: Tensor[], root = 0): Work {
    return new Work(this, this.guard('broadcast', () => native.distBroadcast(this.live, tensors.map((t) => t.handle), root)), 'broadcast');
  }
  broadcast(tensors: Tensor[], root = 0): void {
    this.broadcastStart(tensors, root).wait();
  }

  /** Every rank's `t` concatenated along dim 0, rank 0's first (no gradient). */
  allGatherStart(t: Tensor): Work {
    return new Work(this, this.guard('all-gather', () => native.distAllGather(this.live, t.handle)), 'all-gather');
  }
  allGather(t: Tensor): Tensor {
    return this.allGatherStart(t).wait()!;
  }

  /**
   * Like `allGather`, with a gradient: backward sums the gradient over ranks and gives
   * this rank's rows back (LightlySSL's gather_distributed), so every rank's loss trains every rank's rows.
   */
  /** A reducer over `params` (float32 leaves, in bucket order; bucketSizes cut them into buckets). */
  gradientReducer(params: readonly Tensor[], bucketSizes: readonly number[]): GradientReducer {
    return new GradientReducer(this, this.guard('gradient reducer', () => native.distReducerNew(this.live, params.map((p) => p.handle), [...bucketSizes])));
  }

  allGatherWithGrad(t: Tensor): Tensor {
    return new Tensor(this.guard('all-gather', () => native.distGatherWithGrad(this.live, t.handle)));
  }

  barrier(): void {
    new Work(this, this.guard('barrier', () => native.distBarrier(this.live)), 'barrier').wait();
  }
  async barrierAsync(): Promise<void> {
    await new Work(this, this.guard('barrier', () => native.distBarrier(this.live)), 'barrier').waitAsync();
  }

  /** Frees the group; call once every collective is done. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    native.distDestroy(this.handle);
  }

  private get live(): GroupHandle {
    if (this.destroyed) throw new Error(`rank ${this.rank}: the process group was destroyed`);
    return this.handle;
  }

  /** @internal Runs a native call, turning its error into a DistributedError. */
  guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof DistributedError) throw e;
      throw new DistributedError(this.rank, what, (e as Error).message, this.timeoutSeconds);
    }
  }

  /** @internal */
  async guardAsync<T>(what: string, p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      throw new DistributedError(this.rank, what, (e as Error).message, this.timeoutSeconds);
    }
  }
}

function defaultTimeoutSeconds(): number {
  const raw = process.env.SELFSUP_DIST_TIMEOUT;
  if (raw === undefined) return 300;
  const v = Number(raw);
  if (!(v > 0)) throw new RangeError(`SELFSUP_DIST_TIMEOUT=${raw}: expected a positive number of seconds`);
  return v;
}
