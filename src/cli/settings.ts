// Option values several commands read the same way: data limits, augmentation,
// labels per class, frozen blocks.
import type { Args } from './options.js';
import type { Augmentation } from '../train/supervised.js';
import type { ImageExperimentConfig } from '../experiment/image.js';
import { UsageError } from './errors.js';

export function dataLimits(args: Args): { limit?: number; testLimit?: number; imageSize?: number } {
  return { limit: args.int('limit', { min: 1 }), testLimit: args.int('test-limit', { min: 1 }), imageSize: args.int('image-size', { min: 1 }) };
}

/** --augment crop,flip | crop | flip | none; without it, `base`, with no flip unless mirrored images keep their class. */
export function augmentation(args: Args, base: Augmentation, mirrorSafe: boolean): Augmentation {
  const items = args.choices('augment', ['crop', 'flip', 'none'] as const);
  if (!items) return { crop: base.crop ?? 0, flip: mirrorSafe ? (base.flip ?? false) : false };
  if (items.includes('none')) {
    if (items.length > 1) throw new UsageError(`--augment none cannot be combined with ${items.filter((i) => i !== 'none').join(', ')}`);
    return { crop: 0, flip: false };
  }
  return { crop: items.includes('crop') ? (base.crop || 2) : 0, flip: items.includes('flip') };
}

/** --k N, or 'all' for every training image. */
export function labelsPerClass(args: Args): number | 'all' {
  const raw = args.string('k');
  if (raw === 'all') return 'all';
  if (raw !== undefined && !/^\s*\+?\d+\s*$/.test(raw)) throw new UsageError(`--k must be a positive integer or 'all' (every training image), got '${raw}'`);
  return args.int('k', { min: 1 })!;
}

/** --freeze block1,block2 | none, checked against the encoder's block names. */
export function frozenBlocks(args: Args, blocks: readonly string[], fallback: string[]): string[] {
  const items = args.list('freeze') ?? fallback;
  if (items.length === 1 && items[0] === 'none') return [];
  for (const b of items) {
    if (!blocks.includes(b)) throw new UsageError(`--freeze: the encoder has no block '${b}'; its blocks are ${blocks.join(', ')} (or use 'none')`);
  }
  return [...new Set(items)];
}

/** --block NAME checked against the encoder; default `preferred` when it has it, else the last block. */
export function featureBlock(args: Args, blocks: readonly string[], preferred: string | undefined): string {
  const given = args.string('block');
  if (given !== undefined) {
    if (!blocks.includes(given)) throw new UsageError(`--block: the encoder has no block '${given}'; its blocks are ${blocks.join(', ')}`);
    return given;
  }
  return preferred !== undefined && blocks.includes(preferred) ? preferred : blocks[blocks.length - 1]!;
}

export const pct = (fraction: number, digits = 2): string => `${(100 * fraction).toFixed(digits)}%`;

/**
 * Warm-up steps that fit in a run of `totalSteps`: the scheduler needs more steps
 * than warm-up, so a short run (a small --limit, few epochs) gets a quarter of its steps.
 */
export function fittingWarmup(wanted: number | undefined, totalSteps: number): number {
  return Math.min(wanted ?? 0, Math.floor(totalSteps / 4));
}

/**
 * --pretrain-steps and --minutes of experiment and demo (0 lifts either limit), for every
 * method's pretraining: the shared settings and each method's own (methodPretrain), which
 * would otherwise keep their own budgets. Returns whether the epochs follow the steps:
 * --pretrain-steps N without --epochs means N steps, however many passes over the data
 * they take (runImageCommand sets the epochs once the data is known).
 */
export function pretrainLimits(args: Args, c: ImageExperimentConfig): { epochsFollowSteps: boolean } {
  const settings = [c.pretrain, ...Object.values(c.methodPretrain ?? {})];
  if (args.has('pretrain-steps')) {
    const steps = args.int('pretrain-steps', { min: 0 }) || undefined;
    for (const s of settings) s.maxSteps = steps;
  }
  if (args.has('minutes')) {
    const seconds = (args.number('minutes', { min: 0 }) ?? 0) * 60 || undefined;
    for (const s of settings) s.timeBudgetSeconds = seconds;
  }
  return { epochsFollowSteps: args.has('pretrain-steps') && c.pretrain.maxSteps !== undefined && !args.has('epochs') };
}
