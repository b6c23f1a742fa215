// Momentum (exponential moving average) copies of a network: MoCo's key encoder,
// BYOL's target and DINO's teacher. The copy never trains by gradient; after each
// optimizer step it moves a little toward the online network.
import { noGrad, tidy } from '../tensor/index.js';
import type { Module } from '../nn/index.js';

/** Loads `online`'s weights and buffers into `twin` (same architecture) and freezes it. */
export function frozenCopy<M extends Module>(online: Module, twin: M): M {
  twin.to(online.device);
  noGrad(() => twin.loadStateDict(online.stateDict()));
  for (const p of twin.parameters()) p.requiresGrad_(false);
  return twin;
}

/**
 * target = m * target + (1 - m) * online for every parameter; buffers (BatchNorm's
 * running statistics) are copied, as in BYOL's and MoCo's reference code.
 */
export function emaUpdate_(target: Module, online: Module, momentum: number): void {
  if (!(momentum >= 0 && momentum <= 1)) throw new RangeError(`emaUpdate_: momentum must be in [0, 1], got ${momentum}`);
  const from = online.parameters();
  const to = target.parameters();
  if (from.length !== to.length) throw new Error(`emaUpdate_: the target has ${to.length} parameters, the online network ${from.length}`);
  noGrad(() => tidy(() => {
    for (let i = 0; i < to.length; i++) to[i]!.lerp_(from[i]!, 1 - momentum);
    const fromBuffers = online.buffers();
    const toBuffers = target.buffers();
    for (let i = 0; i < toBuffers.length; i++) toBuffers[i]!.copy_(fromBuffers[i]!);
  }));
}

/** BYOL's schedule: from `base` at step 0 up to 1 at the end, along a half cosine. */
export function cosineMomentum(step: number, totalSteps: number, base: number): number {
  const t = Math.min(1, Math.max(0, step / Math.max(1, totalSteps)));
  return 1 - (1 - base) * (Math.cos(Math.PI * t) + 1) / 2;
}
