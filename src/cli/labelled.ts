// What finetune, probe and knn share: labelled data with a test split, an encoder
// (from --encoder, or none), the input normalisation, k labels per class and seeds.
import { channelStats, kPerClass, type ImageDataset } from '../data/index.js';
import { createBackbone, type Backbone } from '../models/index.js';
import type { Normalization } from '../eval/evaluate.js';
import { loadData, classCount, type LoadedData } from './data.js';
import { loadEncoder, checkEncoderFits, type EncoderInfo } from '../io/encoder-files.js';
import { UsageError } from './errors.js';
import type { Args } from './options.js';
import type { Output } from './output.js';
import { dataLimits, labelsPerClass, pct } from './settings.js';
import { meanStd, meanPlusMinus } from '../experiment/summary.js';

export interface LabelledSetup {
  data: LoadedData;
  train: ImageDataset;
  test: ImageDataset;
  numClasses: number;
  /** The encoder from --encoder (the command owns it), or null. */
  encoder: { module: Backbone; info: EncoderInfo; dir: string } | null;
  /** Normalisation of the inputs: the encoder's own, or the training images' for a fresh backbone. */
  norm: Normalization;
  k: number | 'all';
  seeds: number[];
}

export async function prepareLabelled(args: Args, out: Output, o: { encoderRequired: boolean }): Promise<LabelledSetup> {
  const k = labelsPerClass(args);
  const seeds = args.intList('seeds')!;
  const encoderPath = o.encoderRequired ? args.required('encoder', "(a directory written by 'selfsup pretrain --out DIR')") : args.string('encoder');
  const encoder = encoderPath === undefined ? null : loadEncoder(encoderPath);
  // A folder is read with the encoder's channels (grey digits for a grey encoder, RGB for an RGB one).
  const channels = encoder && (encoder.info.inChannels === 1 || encoder.info.inChannels === 3) ? encoder.info.inChannels : undefined;
  let data: LoadedData;
  try {
    data = await loadData(args.string('data')!, { ...dataLimits(args), needTest: true, needLabels: true, channels });
  } catch (err) {
    encoder?.encoder.dispose();
    throw err;
  }
  const train = data.train;
  const test = data.test!;
  if (encoder) {
    checkEncoderFits(encoder.info, train, data.spec.text);
    out.note(`encoder: ${encoder.info.backbone} from ${encoder.dir} (${encoder.info.method} on ${encoder.info.data}; blocks ${encoder.info.blocks.join(', ')})`);
  }
  return {
    data, train, test, numClasses: classCount(train), k, seeds,
    encoder: encoder && { module: encoder.encoder, info: encoder.info, dir: encoder.dir },
    norm: encoder?.info.norm ?? channelStats(train),
  };
}

/** The labelled training images of one seed: k per class, or all of them. */
export function labelledSubset(s: LabelledSetup, seed: number): Int32Array {
  if (s.k === 'all') return Int32Array.from({ length: s.train.length }, (_, i) => i);
  try {
    return kPerClass(s.train.labels!, s.k, seed, s.numClasses);
  } catch (err) {
    throw new UsageError(`--k ${s.k}: ${(err as Error).message.replace(/^kPerClass: /, '')} in ${s.train.name}; lower --k, or use --k all for every training image`);
  }
}

/** A fresh backbone like the setup's encoder, with its weights (or freshly initialised without one). */
export function freshEncoder(s: LabelledSetup, fallback: () => Backbone): Backbone {
  if (!s.encoder) return fallback();
  const { info, module } = s.encoder;
  const copy = createBackbone(info.backbone, { inChannels: info.inChannels, width: info.width ?? undefined, imageSize: [info.imageShape[1], info.imageShape[2]] });
  copy.loadStateDict(module.stateDict());
  copy.inputNorm = module.inputNorm;
  return copy;
}

export interface SeedRun {
  seed: number;
  accuracy: number;
  [detail: string]: number;
}

/** Prints mean ± std over seeds and returns the JSON fields every evaluation command shares. */
export function summarizeRuns(what: string, s: LabelledSetup, runs: SeedRun[], out: Output): Record<string, unknown> {
  const { mean, std } = meanStd(runs.map((r) => r.accuracy));
  out.say(`${what}, k=${s.k}: ${meanPlusMinus(mean, std, runs.length, (x) => pct(x))} test accuracy over ${runs.length} seed${runs.length > 1 ? 's' : ''} (${s.test.length} test images)`);
  return {
    ok: true, k: s.k, seeds: runs.map((r) => r.seed), runs, mean, std, testImages: s.test.length, data: s.data.spec.text,
    encoder: s.encoder?.dir ?? null,
  };
}
