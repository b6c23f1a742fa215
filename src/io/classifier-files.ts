// A fine-tuned classifier on disk: DIR/classifier.json says how to rebuild it (the
// backbone as in encoder.json, the head, the block it reads, the class names, the
// input size and normalisation) and DIR/classifier.safetensors holds all its weights.
// `selfsup finetune --out DIR` writes one; `selfsup predict --model DIR` reads it.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadSafetensors, saveSafetensors } from './safetensors.js';
import { writeFileAtomic } from './atomic.js';
import { checkDescribedImages, fileInside, readDescription } from './encoder-files.js';
import { describedMetadata, descriptionFitting, newSaveId } from './described-weights.js';
import { createBackbone, Classifier, linearHead, mlpHead, type BackboneName } from '../models/index.js';
import type { Normalization } from '../eval/evaluate.js';

export const CLASSIFIER_FORMAT = 'selfsup.classifier';
export const CLASSIFIER_JSON = 'classifier.json';
export const CLASSIFIER_WEIGHTS = 'classifier.safetensors';

export interface ClassifierInfo {
  format: typeof CLASSIFIER_FORMAT;
  version: 1;
  backbone: BackboneName;
  width: number | null;
  inChannels: number;
  /** [C, H, W] the model takes. */
  imageShape: [number, number, number];
  norm: Normalization;
  head: 'linear' | 'mlp';
  /** The block whose pooled features the head reads (null: the last). */
  block: string | null;
  /** Names of the classes, by label; their count is the head's output size. */
  classNames: string[];
  weights: string;
  /** How it was made: the encoder it started from (or 'scratch'), data, k, seed, test accuracy. */
  trainedFrom: string;
  data: string;
  labelsPerClass: number | 'all';
  seed: number;
  testAccuracy: number | null;
  savedAt: string;
  /** Shared with the weights file (see described-weights.ts). */
  saveId?: string;
}

export type ClassifierDescription = Omit<ClassifierInfo, 'format' | 'version' | 'savedAt' | 'weights' | 'saveId'>;

/** The head a description names, for `classes` outputs on `inFeatures` features. */
function makeHead(kind: 'linear' | 'mlp', inFeatures: number, classes: number) {
  return kind === 'mlp' ? mlpHead(inFeatures, classes) : linearHead(inFeatures, classes);
}

/** Saves the classifier's weights and description into `dir` (both written atomically). */
export function saveClassifier(dir: string, model: Classifier, d: ClassifierDescription): { weights: string; json: string } {
  const weights = join(dir, CLASSIFIER_WEIGHTS);
  const saveId = newSaveId();
  const info: ClassifierInfo = { format: CLASSIFIER_FORMAT, version: 1, ...d, weights: CLASSIFIER_WEIGHTS, savedAt: new Date().toISOString(), saveId };
  saveSafetensors(weights, model.stateDict(), describedMetadata({ ...info, saveId }, { format: CLASSIFIER_FORMAT, backbone: d.backbone }));
  const json = join(dir, CLASSIFIER_JSON);
  writeFileAtomic(json, Buffer.from(JSON.stringify(info, null, 2) + '\n', 'utf8'));
  return { weights, json };
}

/** Rebuilds the classifier in `path` (a directory holding classifier.json, or that file), in eval mode. */
export function loadClassifier(path: string): { model: Classifier; info: ClassifierInfo; dir: string } {
  if (!existsSync(path)) throw new Error(`model not found: ${path} does not exist`);
  if (!statSync(path).isDirectory() && !/\.json$/i.test(path)) throw new Error(`${path} is not a model folder (pass the folder that holds ${CLASSIFIER_JSON})`);
  const json = statSync(path).isDirectory() ? join(path, CLASSIFIER_JSON) : path;
  if (!existsSync(json)) {
    const hint = existsSync(join(path, 'encoder.json')) ? ' (it holds an encoder: fine-tune it first with selfsup finetune --encoder DIR --out MODEL)' : " (write one with 'selfsup finetune --out DIR')";
    throw new Error(`no classifier in ${path}: ${json} does not exist${hint}`);
  }
  const named = readDescription<ClassifierInfo>(json, CLASSIFIER_FORMAT, 'classifier');
  if (named.weights === undefined || named.weights === null) throw new Error(`${json}: the field 'weights' is missing; the file was not written by selfsup finetune --out, or was edited`);
  const dir = dirname(json);
  const weights = fileInside(dir, named.weights, json);
  if (!existsSync(weights)) throw new Error(`classifier weights missing: ${json} names ${weights}, which does not exist`);
  const info = descriptionFitting(json, named, weights);
  for (const field of ['backbone', 'inChannels', 'imageShape', 'norm', 'head', 'classNames'] as const) {
    if (info[field] === undefined || info[field] === null) throw new Error(`${json}: the field '${field}' is missing; the file was not written by selfsup finetune --out, or was edited`);
  }
  checkDescribedImages(json, info);
  if (info.head !== 'linear' && info.head !== 'mlp') throw new Error(`${json}: 'head' must be "linear" or "mlp", got ${JSON.stringify(info.head)}`);
  if (!Array.isArray(info.classNames) || info.classNames.length < 1) throw new Error(`${json}: classNames must be a non-empty list`);
  const encoder = createBackbone(info.backbone, { inChannels: info.inChannels, width: info.width ?? undefined, imageSize: [info.imageShape[1], info.imageShape[2]] });
  const model = new Classifier(encoder, makeHead(info.head, encoder.featureDim(info.block ?? undefined), info.classNames.length), info.block ?? undefined);
  const { tensors } = loadSafetensors(weights);
  try {
    model.loadStateDict(tensors);
  } catch (err) {
    model.dispose();
    throw new Error(`${weights} does not fit the classifier ${json} describes: ${(err as Error).message}`);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  model.eval();
  if (info.norm) encoder.inputNorm = info.norm; // accuracy and predict apply it by default
  return { model, info, dir };
}
