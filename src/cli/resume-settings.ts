// What `pretrain --resume` repeats: the settings `pretrain` saved in its checkpoint.
// A checkpoint without them (saved by `experiment`, `demo` or the API, or edited by
// hand) is refused: filling the gaps with defaults would silently train another run
// (a digits run resumed on Fashion-MNIST).
import { readCheckpointInfo } from '../io/index.js';

/** Settings every `pretrain` checkpoint carries under meta.cli. */
const REQUIRED = ['data', 'limit', 'imageSize', 'backbone', 'width', 'epochs', 'batchSize', 'lr', 'heldOut', 'augment', 'seed'] as const;

/**
 * The settings saved in the checkpoint at `checkpoint` (the previous complete one if that
 * cannot be read) and the step it reached; an error naming the file and what is missing otherwise.
 */
export function savedPretrainSettings<S extends { method: string; maxSteps: number | null }>(checkpoint: string): { settings: S; step: number; file: string; worldSize: number } {
  let info: ReturnType<typeof readCheckpointInfo>;
  try {
    info = readCheckpointInfo(checkpoint, { fallBackToPrevious: true });
  } catch (err) {
    throw new Error(`cannot resume: ${(err as Error).message}. The checkpoint was cut short or edited (and no previous complete one is beside it): ` +
      'restore it, or start over with --force (the run in --out is replaced)');
  }
  const file = info.paths.tensors;
  const cli = info.meta.cli;
  const by = info.meta.experiment ? ' (it was saved by the image experiment: `selfsup experiment` or `selfsup demo`)' : '';
  if (cli === null || typeof cli !== 'object' || Array.isArray(cli)) {
    throw new Error(`cannot resume ${file}: it holds no pretrain settings (meta.cli, with ${REQUIRED.join(', ')})${by}; ` +
      'only checkpoints written by `selfsup pretrain` can be resumed; start a new run without --resume (and --force to replace it)');
  }
  const saved = { ...cli } as Record<string, unknown>;
  const missing = REQUIRED.filter((k) => !(k in saved));
  if (missing.length) {
    throw new Error(`cannot resume ${file}: its pretrain settings (meta.cli) lack ${missing.join(', ')}; the file was edited or not written by \`selfsup pretrain\`; start a new run without --resume`);
  }
  saved.method ??= 'rotation'; // checkpoints from before the method library
  saved.maxSteps ??= null; // checkpoints from before --steps: every step of --epochs
  const step = typeof info.meta.step === 'number' ? info.meta.step : 0;
  // Processes the run was trained on (recorded by data-parallel runs only).
  const worldSize = typeof info.meta.worldSize === 'number' ? info.meta.worldSize : 1;
  return { settings: saved as S, step, file, worldSize };
}
