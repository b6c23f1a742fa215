// selfsup pretrain: self-supervised pretraining of a backbone on unlabelled images
// with any registered method (rotation by default), with a checkpoint every epoch
// (and on Ctrl-C), resume, and the encoder saved for finetune, probe and knn.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed } from '../../tensor/index.js';
import { channelStats, splitIndices } from '../../data/index.js';
import { createBackbone, type BackboneName } from '../../models/index.js';
import { checkpointPaths, checkpointExists } from '../../io/index.js';
import { savedPretrainSettings } from '../resume-settings.js';
import { createMethod, pretrain, methodInfo, methodNames, type MonitorOptions } from '../../ssl/index.js';
import { checkMethodBackbone } from '../../ssl/catalog.js';
import { MetricsLog } from '../../train/metrics-log.js';
import type { Augmentation } from '../../train/supervised.js';
import { defaultImageConfig } from '../../experiment/defaults.js';
import { BACKBONE_NAMES } from '../commands.js';
import { loadData } from '../data.js';
import { deviceOption } from '../device.js';
import { saveEncoder } from '../../io/encoder-files.js';
import { InterruptedError, UsageError } from '../errors.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';
import { augmentation, dataLimits, fittingWarmup, pct } from '../settings.js';
import { joinJob } from '../distributed.js';

/** What a run was started with; saved in the checkpoint so that --resume repeats it. */
interface PretrainSettings {
  /** The registered method, e.g. 'rotation' or 'simclr'. */
  method: string;
  data: string;
  limit: number | null;
  imageSize: number | null;
  backbone: BackboneName;
  width: number | null;
  /** Passes over the images, or null for as many as the steps take (runs saved before this setting hold a number). */
  epochs: number | null;
  /** Steps in all, or null for every step of --epochs. */
  maxSteps: number | null;
  batchSize: number;
  lr: number;
  /** The optimizer's weight decay (null in checkpoints saved before this setting: the method's default). */
  weightDecay?: number | null;
  /** The method's own options (--method-options; null: its defaults). */
  methodOptions?: Record<string, unknown> | null;
  heldOut: number;
  augment: Augmentation;
  seed: number;
  /** Data-parallel runs: batch norm over the global batch (absent from checkpoints saved before this setting). */
  syncBatchNorm: boolean;
}

/** --method-options: a JSON object, or a UsageError saying what is wrong with it. */
function methodOptionsFrom(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--method-options: not JSON (${(err as Error).message}); give an object such as '{"grid": 2}'`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`--method-options: expected a JSON object such as '{"grid": 2}', got ${text}`);
  return v as Record<string, unknown>;
}

/** Steps a method trains for by default: rotation's 300, or the experiment's budget for that method. */
function defaultSteps(method: string): number {
  const c = defaultImageConfig();
  return c.methodPretrain?.[method]?.maxSteps ?? c.pretrain.maxSteps ?? 0;
}

function settingsFromArgs(args: Args, method: string): PretrainSettings {
  const d = defaultImageConfig().pretrain;
  const info = methodInfo(method);
  const limits = dataLimits(args);
  return {
    method,
    data: args.string('data')!,
    limit: limits.limit ?? null,
    imageSize: limits.imageSize ?? null,
    backbone: args.choice('backbone', BACKBONE_NAMES)!,
    width: args.int('width', { min: 1 }) ?? null,
    epochs: args.int('epochs', { min: 1 }) ?? null,
    maxSteps: (args.has('steps') ? args.int('steps', { min: 0 }) : defaultSteps(method)) || null,
    batchSize: args.has('batch-size') ? args.int('batch-size', { min: 1 })! : info.defaults.batchSize,
    lr: args.has('lr') ? args.number('lr', { positive: true })! : info.defaults.optimizer.lr,
    weightDecay: args.has('weight-decay') ? args.number('weight-decay', { min: 0 })! : null,
    methodOptions: args.has('method-options') ? methodOptionsFrom(args.string('method-options')!) : null,
    heldOut: args.int('held-out', { min: 0 })!,
    augment: d.augment, // settled once the data is known (digits and folders are not flipped)
    seed: args.int('seed', { min: 0 })!,
    syncBatchNorm: args.flag('sync-batchnorm'),
  };
}

/** The option each setting comes from, for messages. */
const OPTION_OF: Record<keyof PretrainSettings, string> = {
  method: 'method', data: 'data', limit: 'limit', imageSize: 'image-size', backbone: 'backbone', width: 'width', epochs: 'epochs', maxSteps: 'steps',
  batchSize: 'batch-size', lr: 'lr', weightDecay: 'weight-decay', methodOptions: 'method-options', heldOut: 'held-out', augment: 'augment', seed: 'seed', syncBatchNorm: 'sync-batchnorm',
};

/**
 * On --resume: the checkpoint's settings; options given on the command line must agree with them, except --epochs and --steps.
 * On another number of processes (`world`) the global batch is kept: --batch-size, per process, becomes the saved global
 * batch / `world` (see checkResumedWorld in src/ssl/pretrain.ts for what stays the same); one that does not split evenly is refused.
 */
function resumeSettings(args: Args, checkpoint: string, fresh: PretrainSettings, world: number): { settings: PretrainSettings; step: number; note?: string } {
  if (!checkpointExists(checkpoint)) {
    throw new Error(`nothing to resume: ${checkpointPaths(checkpoint).tensors} does not exist (start without --resume, or point --out at the run's directory)`);
  }
  const { settings: saved, step, worldSize: savedWorld } = savedPretrainSettings<PretrainSettings>(checkpoint);
  const merged = { ...saved };
  // Saved before --sync-batchnorm was a setting of the run: the command line says, as it did then.
  if (typeof saved.syncBatchNorm !== 'boolean') merged.syncBatchNorm = fresh.syncBatchNorm;
  else if (args.has('sync-batchnorm') && !saved.syncBatchNorm) {
    throw new UsageError('--sync-batchnorm: the checkpoint\'s run trained without it (batch norm over each process\'s batch); a resumed run keeps its settings (leave --sync-batchnorm out)');
  }
  let note: string | undefined;
  if (world !== savedWorld) {
    const global = saved.batchSize * savedWorld;
    const processes = (n: number): string => `${n} process${n === 1 ? '' : 'es'}`;
    const was = `the checkpoint's run trained on ${processes(savedWorld)} x ${saved.batchSize} images (a global batch of ${global})`;
    if (args.has('batch-size') && fresh.batchSize * world !== global) {
      throw new UsageError(`--batch-size ${fresh.batchSize} on ${processes(world)} is a global batch of ${fresh.batchSize * world}, but ${was}; ` +
        `a resumed run keeps its global batch${global % world === 0 ? ` (--batch-size ${global / world} on ${processes(world)}, or leave it out)` : ''}`);
    }
    if (global % world !== 0) {
      throw new UsageError(`${was}, which ${processes(world)} cannot split evenly; resume on a number of processes that divides ${global} (${processes(savedWorld)} as before)`);
    }
    merged.batchSize = global / world;
    note = `resuming a ${savedWorld}-process run on ${processes(world)}: ${merged.batchSize} images per process keep its global batch of ${global} ` +
      '(the same batches and schedule; random crops and views are drawn per process, so not the same bits as an uninterrupted run)';
  }
  for (const key of Object.keys(OPTION_OF) as (keyof PretrainSettings)[]) {
    const option = OPTION_OF[key];
    if (!args.has(option)) continue;
    if (key === 'syncBatchNorm' || (key === 'batchSize' && world !== savedWorld)) continue; // checked above
    if (key === 'epochs' || key === 'maxSteps') {
      Object.assign(merged, { [key]: fresh[key] });
      // --steps alone means steps: a cap of epochs saved with the run no longer holds it back.
      if (key === 'maxSteps' && !args.has('epochs')) merged.epochs = null;
      continue;
    }
    if (key === 'augment') continue; // checked once the data is known
    if (JSON.stringify(fresh[key]) !== JSON.stringify(saved[key])) {
      const shown = (v: unknown): string => (v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v));
      throw new UsageError(`--${option} ${shown(fresh[key])} differs from the checkpoint's ${shown(saved[key])}; a resumed run keeps its settings (leave --${option} out)`);
    }
  }
  return { settings: merged, step, note };
}

/** On --resume without --method: the method whose checkpoint is in DIR (one of them, or rotation). */
function methodToResume(outDir: string): string {
  const names = existsSync(outDir) ? readdirSync(outDir) : [];
  const found = methodNames().filter((m) => names.includes(`${m}-pretrain.safetensors`) || names.includes(`${m}-pretrain.json`));
  if (found.length > 1) throw new UsageError(`${outDir} holds checkpoints of ${found.join(' and ')}; say which to resume with --method`);
  return found[0] ?? 'rotation';
}

export async function run(args: Args, cliOut: Output): Promise<void> {
  const nproc = args.int('nproc', { min: 1 })!;
  if (nproc > 1 && process.env.WORLD_SIZE === undefined) {
    const { relaunch } = await import('./launch.js');
    return relaunch(nproc, process.argv.slice(2));
  }
  const outDir = args.required('out');
  // Where to train is not a setting of the run: a resumed run may move to another device.
  const job = await joinJob(deviceOption(args), cliOut);
  const { device, root, group, out } = job;
  const resume = args.flag('resume');
  const method = args.has('method') ? args.choice('method', methodNames('image'))! : resume ? methodToResume(outDir) : 'rotation';
  const checkpoint = join(outDir, `${method}-pretrain`);
  const paths = checkpointPaths(checkpoint);
  if (root && !resume && !args.flag('force') && (checkpointExists(checkpoint) || existsSync(join(outDir, 'encoder.json')))) {
    // Starting over would silently mix this run into the old one's metrics.jsonl and replace its encoder.
    throw new UsageError(`${outDir} already holds a pretraining run; continue it with --resume, start over with --force, or choose another --out`);
  }
  // --force starts a fresh metrics log instead of appending to the old run's.
  if (root && !resume && args.flag('force')) rmSync(join(outDir, 'metrics.jsonl'), { force: true });
  const minutes = args.number('minutes', { min: 0 })!;
  const fresh = settingsFromArgs(args, method);
  const resumed = resume ? resumeSettings(args, checkpoint, fresh, group?.worldSize ?? 1) : null;
  const s = resumed?.settings ?? fresh;
  if (resumed?.note) out.note(resumed.note);
  try {
    checkMethodBackbone(s.method, s.backbone);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  const data = await loadData(s.data, { limit: s.limit ?? undefined, imageSize: s.imageSize ?? undefined });
  const train = data.train;
  const info = methodInfo(s.method);
  const augment = augmentation(args, s.method === 'rotation' ? defaultImageConfig().pretrain.augment : { ...info.defaults.augment, flip: true }, data.mirrorSafe);
  if (resume && args.has('augment') && JSON.stringify(augment) !== JSON.stringify(s.augment)) {
    throw new UsageError('--augment differs from the checkpoint\'s; a resumed run keeps its settings (leave --augment out)');
  }
  if (!resume) s.augment = augment;
  const [, h, w] = train.imageShape;
  if (h !== w && s.method === 'rotation') throw new Error(`rotation pretraining needs square images; ${s.data} has ${h}x${w} (for folder: data, pass --image-size)`);

  const heldOut = Math.min(s.heldOut, Math.floor(train.length / 10));
  const [heldIdx, trainIdx] = splitIndices(train.length, [heldOut / train.length, 1 - heldOut / train.length], s.seed);
  if (!resume && !args.has('batch-size') && s.batchSize > trainIdx!.length && trainIdx!.length >= 2) {
    // A small folder: the method's default batch would not fit even once, so take the largest power of two that does.
    const fitted = 2 ** Math.floor(Math.log2(trainIdx!.length));
    out.note(`batch size ${fitted}: the method's default ${s.batchSize} is more than the ${trainIdx!.length} training images`);
    s.batchSize = fitted;
  }
  const world = group?.worldSize ?? 1;
  const stepsPerEpoch = Math.floor(trainIdx!.length / (s.batchSize * world));
  if (stepsPerEpoch < 1) throw new UsageError(`--batch-size ${s.batchSize}${world > 1 ? ` x ${world} processes` : ''} is larger than the ${trainIdx!.length} training images; lower it`);
  // --steps counts steps: without --epochs the passes over the data follow from it (and one pass with neither).
  const epochs = s.epochs ?? (s.maxSteps ? Math.ceil(s.maxSteps / stepsPerEpoch) : 1);
  const totalSteps = Math.min(epochs * stepsPerEpoch, s.maxSteps ?? Infinity);
  const norm = channelStats(train);
  const inChannels = train.imageShape[0];

  const optimizer = s.method === 'rotation' ? defaultImageConfig().pretrain.optimizer : info.defaults.optimizer;
  manualSeed(s.seed);
  const encoder = createBackbone(s.backbone, { inChannels, width: s.width ?? undefined, imageSize: [train.imageShape[1], train.imageShape[2]] });
  let model: ReturnType<typeof createMethod>;
  try {
    model = createMethod(s.method, encoder, { imageShape: train.imageShape, norm, noFlip: s.augment.flip === false }, s.methodOptions ?? undefined);
  } catch (err) {
    encoder.dispose();
    // Without --method-options the method's own defaults failed: not a usage error.
    if (s.methodOptions && (err instanceof RangeError || err instanceof TypeError)) throw new UsageError(`--method-options: ${err.message}`);
    throw err;
  }
  // With labels, half the held-out images vote and half are classified: the kNN and collapse monitors.
  const half = Math.floor(heldOut / 2);
  const monitor: MonitorOptions | undefined = train.labels && half >= 10 && s.method !== 'rotation'
    ? { data: train, bank: heldIdx!.subarray(0, half), queries: heldIdx!.subarray(half), every: Math.max(1, Math.floor(totalSteps / 10)) }
    : undefined;
  out.note(`${s.method} pretraining: ${s.backbone}${s.width ? ` (width ${s.width})` : ''} on ${trainIdx!.length} images of ${train.name}, ` +
    `${totalSteps} steps (${epochs} epoch${epochs > 1 ? 's' : ''} of ${stepsPerEpoch}${s.maxSteps && s.epochs !== null && s.epochs * stepsPerEpoch < s.maxSteps ? `: --epochs ${s.epochs} stops it before --steps ${s.maxSteps}` : ''})` +
    `${minutes > 0 ? `, at most ${minutes} min` : ''}; ${heldOut} images held out${device === 'cpu' ? '' : `; on ${device}`}`);
  let announced = false;
  const r = await pretrain(model, {
    data: train, indices: trainIdx, heldOut: heldOut > 0 ? { data: train, indices: heldIdx } : undefined, monitor,
    norm, batchSize: s.batchSize, epochs, maxSteps: s.maxSteps ?? undefined, seed: s.seed, augment: s.augment, device,
    optimizer: { ...optimizer, lr: s.lr, weightDecay: s.weightDecay ?? optimizer.weightDecay, warmupSteps: fittingWarmup(optimizer.warmupSteps, totalSteps) },
    timeBudgetSeconds: minutes > 0 ? minutes * 60 : undefined,
    metrics: root ? new MetricsLog(join(outDir, 'metrics.jsonl')) : undefined,
    checkpoint, resume, group, syncBatchNorm: s.syncBatchNorm,
    checkpointMeta: { backbone: s.backbone, width: s.width, inChannels, norm, cli: s },
    callbacks: {
      onStepEnd: () => {
        if (!announced) out.note(`training (Ctrl-C stops after the current step and saves ${paths.tensors})`);
        announced = true;
      },
    },
  });
  const fit = r.fit;
  const epochsDone = (fit.steps / stepsPerEpoch).toFixed(2);
  if (!root) {
    // Rank 0 saves and reports; the others only say how they ended.
    group?.destroy();
    if (fit.interrupted) throw new InterruptedError(`stopped with the other ranks after ${fit.steps} steps`);
    return;
  }
  if (fit.interrupted) {
    throw new InterruptedError(`interrupted after ${fit.steps} steps (${epochsDone} epochs); checkpoint saved: ${paths.tensors} and ${paths.json}. ` +
      `Continue with: selfsup pretrain --resume --out ${outDir}`);
  }
  const rotationAccuracy = s.method === 'rotation' && heldOut > 0 ? (r.validation.rotation_acc ?? null) : null;
  const description = {
    backbone: s.backbone, width: s.width, inChannels, imageShape: train.imageShape, norm, method: s.method,
    data: s.data, rotationAccuracy,
  };
  const trained = model.takeEncoder();
  const saved = saveEncoder(outDir, trained, description);
  trained.dispose();

  const stop = fit.stoppedByBudget && fit.steps < totalSteps ? ` (stopped by the ${minutes}-minute limit)` : '';
  if (resumed && fit.steps === resumed.step) out.say(`nothing left to train: the checkpoint has done all ${totalSteps} steps (raise --steps or --epochs to train longer)`);
  if (rotationAccuracy !== null) out.say(`held-out rotation accuracy: ${pct(rotationAccuracy)} (${heldOut} images x 4 rotations)`);
  const v = r.validation;
  for (const [k, a] of Object.entries(v)) {
    if (k.endsWith('_acc') && k !== 'knn_acc' && k !== 'rotation_acc') out.say(`held-out ${k.slice(0, -'_acc'.length).replace(/_/g, ' ')} accuracy: ${pct(a)} (${heldOut} images, one draw per image)`);
  }
  if (v.knn_acc !== undefined) out.say(`monitors on ${heldOut} held-out images: kNN accuracy ${pct(v.knn_acc)}, embedding spread ${v.embedding_std?.toFixed(3)} (l2-normalised; a collapse falls toward 0)`);
  if (group) out.say(`data-parallel: ${group.worldSize} processes x ${s.batchSize} images per step; all-reduce ${(r.communication!.allReduceMs / Math.max(1, r.communication!.steps)).toFixed(1)} ms and ${(r.communication!.gradBytesPerStep / 1e6).toFixed(2)} MB of gradients per step (speed below is rank 0's; the job's is ${group.worldSize}x)`);
  group?.destroy();
  out.say(`speed: ${fit.examplesPerSecond.toFixed(0)} images/s (${s.method === 'rotation' ? 'each rotation counted' : info.family === 'classification-pretext' ? 'each image counted once, with all its tiles' : 'each view counted'}), ${fit.steps} steps = ${epochsDone} epochs in ${fit.seconds.toFixed(1)} s${stop}`);
  out.say(`encoder: ${saved.weights} (rebuilt from ${saved.json})`);
  out.say(`checkpoint: ${paths.tensors}`);
  out.result({
    command: 'pretrain', ok: true, method: s.method, rotationAccuracy, monitors: v, heldOut, imagesPerSecond: fit.examplesPerSecond,
    steps: fit.steps, epochs: fit.steps / stepsPerEpoch, stepsPerEpoch, seconds: fit.seconds, stoppedByBudget: fit.stoppedByBudget,
    resumed: resume, encoder: saved.weights, encoderJson: saved.json, checkpoint: paths.tensors, outDir, settings: s, device,
  });
}
