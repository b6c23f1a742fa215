// An optimizer from a plain configuration (kind, rate, decay, per-prefix rate
// multipliers): what pretraining, fine-tuning and distillation settings name.
import type { Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import type { Optimizer } from './optimizer.js';
import { SGD } from './sgd.js';
import { Adam, AdamW } from './adam.js';

export interface OptimizerConfig {
  kind: 'sgd' | 'adam' | 'adamw';
  lr: number;
  weightDecay?: number;
  momentum?: number;
  /** Linear warm-up steps before the cosine decay (default 0). */
  warmupSteps?: number;
  /**
   * Learning-rate multipliers by parameter-name prefix, e.g. `{ encoder: 0.1 }` to
   * fine-tune a pretrained encoder more gently than a new head.
   */
  lrScale?: Record<string, number>;
}

export function makeOptimizer(model: Module, c: OptimizerConfig): Optimizer {
  const trainable = model.namedParameters().filter(([, p]) => p.requiresGrad);
  if (trainable.length === 0) throw new Error('nothing to train: every parameter is frozen');
  // One parameter group per distinct multiplier, in first-seen order.
  const groups = new Map<number, Tensor[]>();
  for (const [name, p] of trainable) {
    const prefix = Object.keys(c.lrScale ?? {}).find((k) => name === k || name.startsWith(`${k}.`));
    const scale = prefix === undefined ? 1 : c.lrScale![prefix]!;
    groups.set(scale, [...(groups.get(scale) ?? []), p]);
  }
  const params = [...groups].map(([scale, ps]) => ({ params: ps, lr: c.lr * scale }));
  switch (c.kind) {
    case 'sgd': return new SGD(params, { lr: c.lr, momentum: c.momentum ?? 0.9, nesterov: (c.momentum ?? 0.9) > 0, weightDecay: c.weightDecay ?? 5e-4 });
    case 'adam': return new Adam(params, { lr: c.lr, weightDecay: c.weightDecay ?? 0 });
    case 'adamw': return new AdamW(params, { lr: c.lr, weightDecay: c.weightDecay ?? 0.01 });
    default: throw new RangeError(`unknown optimizer '${String((c as OptimizerConfig).kind)}'; use sgd, adam or adamw`);
  }
}
