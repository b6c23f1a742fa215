// A learning-rate schedule for runs bounded by a time budget as well as a step
// count: linear warm-up, then linear decay to `minFactor` of the base rate over
// whichever ends first, the steps or the seconds. (A step-only schedule would stop
// a budgeted run at a high rate, before it had annealed.) Without `budgetSeconds` the
// rate is a function of the step alone, so a resumed or slowed-down run gets the same
// rates; with it, the rate also depends on the clock, and runs no longer repeat exactly.
import { LRScheduler } from './schedule.js';
import type { Optimizer } from './optimizer.js';

export interface BudgetDecayOptions {
  totalSteps: number;
  budgetSeconds?: number;
  warmupSteps?: number;
  /** The final rate as a fraction of the base rate (default 1e-4, word2vec's). */
  minFactor?: number;
}

export class BudgetLinearDecayLR extends LRScheduler {
  readonly #started = performance.now();

  constructor(optimizer: Optimizer, readonly options: BudgetDecayOptions) {
    super(optimizer);
    if (!(options.totalSteps >= 1)) throw new RangeError(`BudgetLinearDecayLR: totalSteps must be at least 1, got ${options.totalSteps}`);
    this.step();
  }

  /** The rate at `step`, given the time spent so far (so not a pure function of the step when there is a budget). */
  lrAt(step: number, group = 0): number {
    const o = this.options;
    const warm = o.warmupSteps ? Math.min(1, (step + 1) / o.warmupSteps) : 1;
    const byTime = o.budgetSeconds ? (performance.now() - this.#started) / 1000 / o.budgetSeconds : 0;
    const progress = Math.min(1, Math.max(step / o.totalSteps, byTime));
    return this.baseLrs[group]! * warm * Math.max(o.minFactor ?? 1e-4, 1 - progress);
  }
}

/**
 * Warm-up then cosine annealing, like WarmupCosineLR, over whichever ends first: the
 * steps or `budgetSeconds` of wall-clock time from the schedule's making. A run cut
 * short by its time budget so ends annealed instead of at its peak rate. The clock
 * starts afresh for each schedule, so a resumed run anneals over its own budget.
 */
export class BudgetWarmupCosineLR extends LRScheduler {
  readonly #started = performance.now();

  constructor(optimizer: Optimizer, readonly options: { totalSteps: number; budgetSeconds: number; warmupSteps?: number; minLr?: number }) {
    super(optimizer);
    const warm = options.warmupSteps ?? 0;
    if (!(Number.isInteger(options.totalSteps) && options.totalSteps > warm)) throw new RangeError(`BudgetWarmupCosineLR: totalSteps must be an integer above warmupSteps (${warm}), got ${options.totalSteps}`);
    if (!(options.budgetSeconds > 0)) throw new RangeError(`BudgetWarmupCosineLR: budgetSeconds must be positive, got ${options.budgetSeconds}`);
    this.step();
  }

  /** The rate at `step` given the time spent so far. */
  lrAt(step: number, group = 0): number {
    const o = this.options;
    const warm = o.warmupSteps ?? 0;
    const base = this.baseLrs[group]!;
    const minLr = o.minLr ?? 0;
    const byTime = (performance.now() - this.#started) / 1000 / o.budgetSeconds;
    if (step < warm && byTime < 1) return (base * (step + 1)) / warm;
    const progress = Math.min(1, Math.max((step - warm) / (o.totalSteps - warm), byTime));
    return minLr + ((base - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
  }
}

/**
 * The steps a pretraining's schedule decays over: its epochs, or its step budget when
 * that ends first (counted from the config, not pretrainOn's at-least-2).
 */
export function scheduleSteps(c: { epochs: number; maxSteps?: number | null }, stepsPerEpoch: number): number {
  const max = c.maxSteps ?? undefined; // null (a config file's way to say none): no step budget
  if (max !== undefined && !(Number.isInteger(max) && max >= 1)) throw new RangeError(`maxSteps must be a whole number of steps >= 1, got ${max}`);
  return Math.max(1, Math.min(c.epochs * stepsPerEpoch, max ?? Infinity));
}
