// Batch normalisation with PyTorch's buffers (running_mean, running_var,
// num_batches_tracked) and semantics: batch statistics in training, running ones in eval.
import { Tensor, F, ones, zeros, tensor, noGrad, type Device } from '../tensor/index.js';
import { Module } from './module.js';
import { checkPositive } from './linear.js';

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch in the running averages; null means a cumulative average. */
  momentum?: number | null;
  /** Learn a per-channel scale (weight) and shift (bias). */
  affine?: boolean;
  /** Keep running statistics for eval mode; without them eval uses batch statistics too. */
  trackRunningStats?: boolean;
  device?: Device;
}

abstract class BatchNorm extends Module {
  readonly eps: number;
  readonly momentum: number | null;
  readonly weight: Tensor | null = null;
  readonly bias: Tensor | null = null;
  readonly runningMean: Tensor | null = null;
  readonly runningVar: Tensor | null = null;
  readonly numBatchesTracked: Tensor | null = null;
  /**
   * Training-mode normalisation over every process's batch (SyncBatchNorm, set by
   * src/distributed/sync-batchnorm.ts); null: this process's batch alone.
   */
  syncForward: ((x: Tensor, momentum: number) => Tensor) | null = null;

  constructor(readonly numFeatures: number, o: BatchNormOptions = {}) {
    super();
    checkPositive(this.constructor.name, { numFeatures });
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    const device = o.device;
    if (o.affine ?? true) {
      this.weight = this.registerParameter('weight', ones([numFeatures], { device }));
      this.bias = this.registerParameter('bias', zeros([numFeatures], { device }));
    }
    if (o.trackRunningStats ?? true) {
      this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures], { device }));
      this.runningVar = this.registerBuffer('running_var', ones([numFeatures], { device }));
      this.numBatchesTracked = this.registerBuffer('num_batches_tracked', tensor(0, { dtype: 'int64', device }));
    }
  }

  /** Throws unless the input has the dimensions this layer expects. */
  protected abstract checkInput(x: Tensor): void;

  /** Sets the running statistics back to mean 0, variance 1, and the counter to 0. */
  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.zero_();
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.zero_();
    });
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    if (x.size(1) !== this.numFeatures) {
      throw new RangeError(`${this.constructor.name}: expected ${this.numFeatures} channels in dim 1, got input of shape [${x.shape.join(', ')}]`);
    }
    let factor = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked) {
      noGrad(() => this.numBatchesTracked!.add_(1));
      // momentum null: a cumulative moving average, weighting every batch equally
      if (this.momentum === null) factor = 1 / this.numBatchesTracked.item();
    }
    if (this.training && this.syncForward) return this.syncForward(x, factor);
    const useBatchStats = this.training || this.runningMean === null;
    return F.batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      // in training, batch_norm updates these in place
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: useBatchStats,
      momentum: factor,
      eps: this.eps,
    });
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.weight !== null}, trackRunningStats=${this.runningMean !== null}`;
  }
}

/** Batch norm over [N, C] or [N, C, L] inputs. */
export class BatchNorm1d extends BatchNorm {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new RangeError(`BatchNorm1d: expected a 2-d or 3-d input, got shape [${x.shape.join(', ')}]`);
  }
}

/** Batch norm over [N, C, H, W] inputs. */
export class BatchNorm2d extends BatchNorm {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) throw new RangeError(`BatchNorm2d: expected a 4-d input, got shape [${x.shape.join(', ')}]`);
  }
}

/**
 * Recomputes the running statistics of every trainable batch-norm layer under `model` as
 * the plain average over the batches `forward` runs (PyTorch's momentum=None), in training
 * mode and without gradients; weights, frozen layers and the model's mode are left as they
 * were. What a network pretrained on other inputs than it now meets (a jigsaw encoder
 * trained on tiles, evaluated on whole images) needs before its running statistics are used.
 * Returns the number of layers recomputed.
 */
export function recomputeBatchNormStats(model: Module, forward: () => void): number {
  const layers = model.namedModules().map(([, m]) => m).filter((m): m is BatchNorm => m instanceof BatchNorm && m.runningMean !== null && !m.frozen);
  const momenta = layers.map((m) => m.momentum);
  const wasTraining = model.training;
  try {
    for (const m of layers) {
      (m as { momentum: number | null }).momentum = null;
      m.resetRunningStats();
    }
    model.train();
    noGrad(forward);
  } finally {
    layers.forEach((m, i) => { (m as { momentum: number | null }).momentum = momenta[i]!; });
    model.train(wasTraining);
  }
  return layers.length;
}
