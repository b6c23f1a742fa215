// Data parallelism as PyTorch's DistributedDataParallel does it: rank 0's parameters
// and buffers go to every rank at the start, and the gradients are averaged by
// all-reducing them in buckets of flattened tensors, each bucket's all-reduce starting
// during backward as soon as its gradients are written (hooks on the gradient
// accumulators, native/distributed.cc; `overlap: false` all-reduces after backward,
// the first bucket running while later ones are packed). Every rank
// then takes the same optimizer step, so the parameters stay identical. Buffers do
// not: batch norm's running statistics follow each rank's own batches (unless
// SyncBatchNorm), so, as DDP's broadcast_buffers=True, rank 0's buffers go to every
// rank once per step (see broadcastBuffers).
import type { Module } from '../nn/index.js';
import { Tensor, cat, noGrad, tidy, zerosLike } from '../tensor/index.js';
import type { GradientReducer, ProcessGroup, Work } from './group.js';
import { StopCoordinator } from './coordinator.js';

export interface DataParallelOptions {
  /** Most gradient bytes per all-reduce (default 25 MiB, as PyTorch's bucket_cap_mb). */
  bucketCapMB?: number;
  /** Copy rank 0's buffers to every rank once per step (default true, as PyTorch's broadcast_buffers). */
  broadcastBuffers?: boolean;
  /** Start each bucket's all-reduce during backward (default true); false: all of them after backward. */
  overlap?: boolean;
}

/** Totals since the start, for benches and logs. */
export interface CommStats {
  steps: number;
  /** Time spent in averageGradients (with overlap: waiting for what backward did not hide). */
  allReduceMs: number;
  gradBytesPerStep: number;
  buckets: number;
  /** Bucket all-reduces started during backward, over all steps (with overlap, all of them when every parameter gets a gradient). */
  bucketsStartedInBackward: number;
}

export class DataParallel {
  readonly group: ProcessGroup;
  readonly model: Module;
  private readonly capBytes: number;
  /** Whether the training loop should call broadcastBuffers after each step. */
  readonly syncsBuffers: boolean;
  private buckets: Tensor[][] | null = null;
  private readonly overlap: boolean;
  private reducer: GradientReducer | null = null;
  private armed = false;
  private readonly stats: CommStats = { steps: 0, allReduceMs: 0, gradBytesPerStep: 0, buckets: 0, bucketsStartedInBackward: 0 };

  constructor(group: ProcessGroup, model: Module, o: DataParallelOptions = {}) {
    this.group = group;
    this.model = model;
    const mb = o.bucketCapMB ?? 25;
    if (!(mb > 0)) throw new RangeError(`DataParallel: bucketCapMB must be positive, got ${mb}`);
    this.capBytes = mb * 1024 * 1024;
    this.syncsBuffers = o.broadcastBuffers ?? true;
    this.overlap = o.overlap ?? true;
  }

  get rank(): number { return this.group.rank; }
  get worldSize(): number { return this.group.worldSize; }
  /** Rank 0 alone writes checkpoints, metrics, progress and reports. */
  get isRoot(): boolean { return this.group.rank === 0; }

  /** Copies rank 0's parameters and buffers to every rank. */
  broadcastState(): void {
    const tensors = [...this.model.parameters(), ...this.model.buffers()];
    noGrad(() => {
      const works = tensors.map((t) => this.group.broadcastStart([t], 0));
      for (const w of works) w.wait();
    });
  }

  /**
   * Copies rank 0's buffers (batch norm's running mean, variance and count, DINO's center,
   * MoCo's queue) to every rank, in one flat broadcast per dtype. PyTorch's DDP does this
   * before each forward; calling it after each optimizer step is the same (the first step
   * starts from broadcastState) and also leaves every rank with rank 0's buffers at the end.
   */
  broadcastBuffers(): void {
    const buffers = this.model.buffers();
    if (buffers.length === 0) return;
    const byDtype = new Map<string, Tensor[]>();
    for (const b of buffers) {
      const list = byDtype.get(b.dtype);
      if (list) list.push(b);
      else byDtype.set(b.dtype, [b]);
    }
    tidy(() => noGrad(() => {
      const flats = [...byDtype.values()].map((list) => {
        const flat = list.length === 1 ? null : cat(list.map((b) => b.reshape(-1)), 0);
        return { list, flat, work: this.group.broadcastStart([flat ?? list[0]!], 0) };
      });
      for (const { list, flat, work } of flats) {
        work.wait();
        if (!flat) continue;
        let offset = 0;
        for (const b of list) {
          b.copy_(flat.narrow(0, offset, b.numel).view(b.shape));
          offset += b.numel;
        }
      }
    }));
  }

  /** Call just before backward: with `overlap`, each bucket's all-reduce then starts as soon as backward has filled it. */
  beforeBackward(): void {
    if (!this.overlap) return;
    if (!this.reducer) {
      const buckets = (this.buckets ??= this.makeBuckets());
      this.reducer = this.group.gradientReducer(buckets.flat(), buckets.map((b) => b.length));
    }
    this.reducer.arm();
    this.armed = true;
  }

  /**
   * Averages every trainable parameter's gradient over the ranks, in place. A parameter
   * without a gradient on this step counts as zero (so every rank packs the same buckets).
   * After beforeBackward, this waits for the all-reduces backward started (and starts the rest).
   */
  averageGradients(): void {
    const started = performance.now();
    if (this.armed && this.reducer) {
      this.armed = false;
      this.stats.bucketsStartedInBackward += this.reducer.finish().startedInBackward;
      this.stats.steps++;
      this.stats.allReduceMs += performance.now() - started;
      return;
    }
    tidy(() => noGrad(() => {
      const buckets = (this.buckets ??= this.makeBuckets());
      const flats: { params: Tensor[]; grads: Tensor[]; flat: Tensor; work: Work }[] = [];
      for (const params of buckets) {
        const grads = params.map((p) => p.grad ?? zerosLike(p));
        const flat = cat(grads.map((g) => g.reshape(-1)), 0);
        flats.push({ params, grads, flat, work: this.group.allReduceStart([flat], 'sum') });
      }
      for (const { params, grads, flat, work } of flats) {
        work.wait();
        flat.div_(this.worldSize);
        let offset = 0;
        params.forEach((p, i) => {
          const g = grads[i]!;
          const n = g.numel;
          g.copy_(flat.narrow(0, offset, n).view(g.shape));
          offset += n;
          if (p.grad === null) p.grad = g;
        });
      }
    }));
    this.stats.steps++;
    this.stats.allReduceMs += performance.now() - started;
  }

  /** All-reduce time and gradient bytes, for the bench and the run's log. */
  commStats(): CommStats {
    return { ...this.stats };
  }

  /** The callback that keeps the ranks in step on Ctrl-C, time budgets and other stops. */
  coordinator(): StopCoordinator {
    return new StopCoordinator(this);
  }

  /** Trainable parameters in reverse registration order (backward makes the last layers' gradients first), cut at `capBytes`. */
  private makeBuckets(): Tensor[][] {
    const params = this.model.parameters().filter((p) => p.requiresGrad).reverse();
    const buckets: Tensor[][] = [];
    let current: Tensor[] = [];
    let bytes = 0;
    for (const p of params) {
      if (p.dtype !== 'float32') throw new TypeError(`DataParallel: parameters must be float32, got ${p.dtype}`);
      const b = p.numel * 4;
      if (current.length > 0 && bytes + b > this.capBytes) {
        buckets.push(current);
        current = [];
        bytes = 0;
      }
      current.push(p);
      bytes += b;
    }
    if (current.length > 0) buckets.push(current);
    this.stats.buckets = buckets.length;
    this.stats.gradBytesPerStep = params.reduce((s, p) => s + p.numel * 4, 0);
    return buckets;
  }
}
