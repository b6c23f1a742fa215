// Learning-rate schedules. Each is a pure function of the step (for plotting and
// testing) and a small class that writes it into an optimizer's groups, with
// PyTorch's semantics: constructing a scheduler sets the lr for step 0
// (lastEpoch = 0); each step() advances lastEpoch by one and sets the lr for it.
import type { Optimizer } from './optimizer.js';

// ---------------------------------------------------------------------------- pure schedules

export interface StepLROptions {
  /** Decay every `stepSize` steps. */
  stepSize: number;
  /** Factor applied at each decay. */
  gamma?: number;
}

/** baseLr * gamma^floor(step / stepSize) (torch.optim.lr_scheduler.StepLR). */
export function stepLr(step: number, baseLr: number, o: StepLROptions): number {
  return baseLr * (o.gamma ?? 0.1) ** Math.floor(step / o.stepSize);
}

export interface MultiStepLROptions {
  /** Steps at which the lr is multiplied by gamma (increasing). */
  milestones: number[];
  gamma?: number;
}

/** baseLr * gamma^(number of milestones <= step) (torch.optim.lr_scheduler.MultiStepLR). */
export function multiStepLr(step: number, baseLr: number, o: MultiStepLROptions): number {
  return baseLr * (o.gamma ?? 0.1) ** o.milestones.filter((m) => m <= step).length;
}

export interface WarmupCosineOptions {
  /** Steps of linear warmup: step s < warmupSteps gets baseLr * (s + 1) / warmupSteps. */
  warmupSteps: number;
  /** Step at which the cosine reaches minLr; later steps stay at minLr. */
  totalSteps: number;
  /** The final learning rate (absolute). */
  minLr?: number;
}

/**
 * Linear warmup to baseLr, then cosine annealing to minLr at totalSteps. Equals PyTorch's
 * SequentialLR(LinearLR(1/warmupSteps, total_iters=warmupSteps-1), CosineAnnealingLR(totalSteps-warmupSteps, minLr)),
 * and CosineAnnealingLR alone when warmupSteps is 0.
 */
export function warmupCosineLr(step: number, baseLr: number, o: WarmupCosineOptions): number {
  const minLr = o.minLr ?? 0;
  if (step < o.warmupSteps) return (baseLr * (step + 1)) / o.warmupSteps;
  const progress = Math.min(1, (step - o.warmupSteps) / (o.totalSteps - o.warmupSteps));
  return minLr + ((baseLr - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
}

export interface OneCycleOptions {
  /** Peak learning rate. */
  maxLr: number;
  totalSteps: number;
  /** Fraction of the steps spent increasing the lr. */
  pctStart?: number;
  /** Initial lr = maxLr / divFactor. */
  divFactor?: number;
  /** Final lr = initial lr / finalDivFactor. */
  finalDivFactor?: number;
  annealStrategy?: 'cos' | 'linear';
  /** Fast.ai's three phases: up, back down to the initial lr, then down to the final lr. */
  threePhase?: boolean;
  /** Momentum (or Adam's beta1) cycles inversely to the lr between these. */
  baseMomentum?: number;
  maxMomentum?: number;
}

interface Phase { endStep: number; lr: [number, number]; momentum: [number, number] }

function oneCyclePhases(o: OneCycleOptions): Phase[] {
  const pct = o.pctStart ?? 0.3;
  const initial = o.maxLr / (o.divFactor ?? 25);
  const min = initial / (o.finalDivFactor ?? 1e4);
  const base = o.baseMomentum ?? 0.85;
  const max = o.maxMomentum ?? 0.95;
  const T = o.totalSteps;
  if (o.threePhase) {
    return [
      { endStep: pct * T - 1, lr: [initial, o.maxLr], momentum: [max, base] },
      { endStep: 2 * pct * T - 2, lr: [o.maxLr, initial], momentum: [base, max] },
      { endStep: T - 1, lr: [initial, min], momentum: [max, max] },
    ];
  }
  return [
    { endStep: pct * T - 1, lr: [initial, o.maxLr], momentum: [max, base] },
    { endStep: T - 1, lr: [o.maxLr, min], momentum: [base, max] },
  ];
}

function oneCycleAt(step: number, o: OneCycleOptions, which: 'lr' | 'momentum'): number {
  if (step > o.totalSteps) throw new RangeError(`OneCycleLR: step ${step} is past totalSteps (${o.totalSteps})`);
  const anneal = (o.annealStrategy ?? 'cos') === 'cos'
    ? (a: number, b: number, p: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * p) + 1)
    : (a: number, b: number, p: number) => (b - a) * p + a;
  const phases = oneCyclePhases(o);
  let start = 0;
  for (let i = 0; i < phases.length; i++) {
    const ph = phases[i]!;
    if (step <= ph.endStep || i === phases.length - 1) {
      const [a, b] = ph[which];
      return anneal(a, b, (step - start) / (ph.endStep - start));
    }
    start = ph.endStep;
  }
  throw new Error('unreachable');
}

/** The one-cycle learning rate at `step` (torch.optim.lr_scheduler.OneCycleLR). */
export function oneCycleLr(step: number, o: OneCycleOptions): number {
  return oneCycleAt(step, o, 'lr');
}

/** The one-cycle momentum at `step`, which moves opposite to the learning rate. */
export function oneCycleMomentum(step: number, o: OneCycleOptions): number {
  return oneCycleAt(step, o, 'momentum');
}

// ---------------------------------------------------------------------------- schedulers

export interface SchedulerState {
  lastEpoch: number;
  baseLrs: number[];
}

/** Base of the schedulers: subclasses define lrAt and call `this.step()` at the end of their constructor. */
export abstract class LRScheduler {
  /** The step the current learning rates belong to (-1 before the first). */
  lastEpoch = -1;
  /** Each group's learning rate when the scheduler was made. */
  baseLrs: number[];
  #lastLrs: number[] = [];

  constructor(readonly optimizer: Optimizer) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rate of group `group` at `step`; pure (changes nothing). */
  abstract lrAt(step: number, group?: number): number;

  /** Moves to the next step and sets every group's learning rate for it. */
  step(): void {
    this.lastEpoch += 1;
    this.applyAt(this.lastEpoch);
  }

  protected applyAt(step: number): void {
    this.#lastLrs = this.optimizer.paramGroups.map((g, i) => (g.lr = this.lrAt(step, i)));
  }

  /** The learning rate of the first group, as last set. */
  get lr(): number {
    return this.#lastLrs[0]!;
  }

  /** Every group's learning rate, as last set. */
  getLastLr(): number[] {
    return [...this.#lastLrs];
  }

  stateDict(): SchedulerState {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  /** Resumes at a saved step, setting the optimizer's learning rates for it. */
  loadStateDict(s: SchedulerState): void {
    if (!Number.isInteger(s?.lastEpoch) || !Array.isArray(s.baseLrs) || s.baseLrs.length !== this.baseLrs.length) {
      throw new TypeError(`${this.constructor.name}.loadStateDict: expected { lastEpoch, baseLrs } with ${this.baseLrs.length} base lrs`);
    }
    this.lastEpoch = s.lastEpoch;
    this.baseLrs = [...s.baseLrs];
    this.applyAt(this.lastEpoch);
  }
}

function checkPositiveInt(sched: string, name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${sched}: ${name} must be an integer >= ${min}, got ${v}`);
}

export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly options: StepLROptions) {
    super(optimizer);
    checkPositiveInt('StepLR', 'stepSize', options.stepSize);
    this.step();
  }
  lrAt(step: number, group = 0): number {
    return stepLr(step, this.baseLrs[group]!, this.options);
  }
}

export class MultiStepLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly options: MultiStepLROptions) {
    super(optimizer);
    if (!options.milestones.every((m, i, a) => Number.isInteger(m) && (i === 0 || m > a[i - 1]!))) {
      throw new RangeError(`MultiStepLR: milestones must be increasing integers, got [${options.milestones}]`);
    }
    this.step();
  }
  lrAt(step: number, group = 0): number {
    return multiStepLr(step, this.baseLrs[group]!, this.options);
  }
}

/** Linear warmup then cosine annealing (see warmupCosineLr). */
export class WarmupCosineLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly options: WarmupCosineOptions) {
    super(optimizer);
    checkPositiveInt('WarmupCosineLR', 'warmupSteps', options.warmupSteps, 0);
    checkPositiveInt('WarmupCosineLR', 'totalSteps', options.totalSteps, options.warmupSteps + 1);
    this.step();
  }
  lrAt(step: number, group = 0): number {
    return warmupCosineLr(step, this.baseLrs[group]!, this.options);
  }
}

export interface OneCycleLROptions extends Omit<OneCycleOptions, 'maxLr'> {
  /** Peak learning rate, one for all groups or one per group. */
  maxLr: number | number[];
  /** Also cycle SGD's momentum or Adam's beta1 (as PyTorch does by default). */
  cycleMomentum?: boolean;
}

/**
 * PyTorch's OneCycleLR: starts at maxLr / divFactor, anneals up to maxLr over pctStart of
 * totalSteps, then down to the initial lr / finalDivFactor. Its own starting lr replaces the
 * optimizer's. With cycleMomentum (the default) momentum moves the other way, between
 * maxMomentum and baseMomentum; the optimizer needs a momentum or betas option for that.
 */
export class OneCycleLR extends LRScheduler {
  readonly maxLrs: number[];
  readonly #momentumKey: 'momentum' | 'betas' | null;

  constructor(optimizer: Optimizer, readonly options: OneCycleLROptions) {
    super(optimizer);
    const n = optimizer.paramGroups.length;
    checkPositiveInt('OneCycleLR', 'totalSteps', options.totalSteps);
    const pct = options.pctStart ?? 0.3;
    if (!(pct >= 0 && pct <= 1)) throw new RangeError(`OneCycleLR: pctStart must be in [0, 1], got ${pct}`);
    if (options.annealStrategy !== undefined && options.annealStrategy !== 'cos' && options.annealStrategy !== 'linear') {
      throw new RangeError(`OneCycleLR: annealStrategy must be 'cos' or 'linear', got '${String(options.annealStrategy)}'`);
    }
    this.maxLrs = typeof options.maxLr === 'number' ? new Array<number>(n).fill(options.maxLr) : [...options.maxLr];
    if (this.maxLrs.length !== n) throw new RangeError(`OneCycleLR: expected ${n} values for maxLr, got ${this.maxLrs.length}`);
    this.baseLrs = this.maxLrs.map((m) => m / (options.divFactor ?? 25));
    const defaults = optimizer.defaults as Record<string, unknown>;
    const cycle = options.cycleMomentum ?? true;
    this.#momentumKey = !cycle ? null : 'betas' in defaults ? 'betas' : 'momentum' in defaults ? 'momentum' : null;
    if (cycle && this.#momentumKey === null) {
      throw new Error(`OneCycleLR: ${optimizer.constructor.name} has no momentum or betas to cycle; pass cycleMomentum: false`);
    }
    this.step();
  }

  #groupOptions(group: number): OneCycleOptions {
    return { ...this.options, maxLr: this.maxLrs[group]! };
  }

  lrAt(step: number, group = 0): number {
    return oneCycleLr(step, this.#groupOptions(group));
  }

  /** The momentum (or beta1) of group `group` at `step`. */
  momentumAt(step: number, group = 0): number {
    return oneCycleMomentum(step, this.#groupOptions(group));
  }

  protected override applyAt(step: number): void {
    super.applyAt(step);
    if (!this.#momentumKey) return;
    this.optimizer.paramGroups.forEach((g, i) => {
      const m = this.momentumAt(step, i);
      const group = g as unknown as Record<string, unknown>;
      if (this.#momentumKey === 'betas') group.betas = [m, (group.betas as [number, number])[1]];
      else group.momentum = m;
    });
  }
}
