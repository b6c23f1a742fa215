// An encoder on disk: DIR/encoder.json says how to rebuild the backbone (name,
// width, input channels, block names, the input normalisation it was trained
// with) and which safetensors file in DIR holds its weights.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { loadSafetensors, saveSafetensors } from './safetensors.js';
import { writeFileAtomic } from './atomic.js';
import { describedMetadata, descriptionFitting, newSaveId } from './described-weights.js';
import { tidy } from '../tensor/index.js';
import { createBackbone, BACKBONES, type Backbone, type BackboneName } from '../models/index.js';
import type { Normalization } from '../eval/evaluate.js';
import type { ImageDataset } from '../data/index.js';

export const ENCODER_FORMAT = 'selfsup.encoder';
export const ENCODER_JSON = 'encoder.json';
export const ENCODER_WEIGHTS = 'encoder.safetensors';

export interface EncoderInfo {
  format: typeof ENCODER_FORMAT;
  version: 1;
  backbone: BackboneName;
  /** The width given to createBackbone, or null for the backbone's default. */
  width: number | null;
  inChannels: number;
  /** [C, H, W] of the images it was trained on. */
  imageShape: [number, number, number];
  blocks: string[];
  /** Per-channel normalisation of its training images; inputs should get the same. */
  norm: Normalization;
  /** File in the same directory holding the weights. */
  weights: string;
  /** How it was trained, e.g. 'rotation'. */
  method: string;
  /** The --data it was trained on. */
  data: string;
  rotationAccuracy: number | null;
  savedAt: string;
  /** Shared with the weights file when saveEncoder wrote both (see described-weights.ts). */
  saveId?: string;
}

export type EncoderDescription = Omit<EncoderInfo, 'format' | 'version' | 'savedAt' | 'blocks' | 'weights' | 'saveId'>;

function encoderInfo(blocks: readonly string[], d: EncoderDescription, weights: string, saveId?: string): EncoderInfo {
  return { format: ENCODER_FORMAT, version: 1, ...d, blocks: [...blocks], weights, savedAt: new Date().toISOString(), ...(saveId ? { saveId } : {}) };
}

function writeInfo(dir: string, info: EncoderInfo): string {
  const path = join(dir, ENCODER_JSON);
  writeFileAtomic(path, Buffer.from(JSON.stringify(info, null, 2) + '\n', 'utf8'));
  return path;
}

/** Writes DIR/encoder.json for weights already saved as DIR/`weights`. */
export function writeEncoderInfo(dir: string, blocks: readonly string[], d: EncoderDescription, weights: string): string {
  return writeInfo(dir, encoderInfo(blocks, d, weights));
}

/**
 * Saves the weights (with their description inside) as DIR/encoder.safetensors, then the
 * description as DIR/encoder.json. The normalisation stored is `d.norm`, or else the
 * encoder's own inputNorm; one of them must be known.
 */
export function saveEncoder(dir: string, encoder: Backbone, d: Omit<EncoderDescription, 'norm'> & { norm?: Normalization }): { weights: string; json: string } {
  const norm = d.norm ?? encoder.inputNorm;
  if (!norm) throw new TypeError(`saveEncoder: no normalisation to store in ${join(dir, ENCODER_JSON)}: pass { norm } (the training images' channelStats) or set encoder.inputNorm`);
  const weights = join(dir, ENCODER_WEIGHTS);
  const saveId = newSaveId();
  const info = encoderInfo(encoder.blockNames, { ...d, norm }, ENCODER_WEIGHTS, saveId);
  saveSafetensors(weights, encoder.stateDict(), describedMetadata({ ...info, saveId }, { format: ENCODER_FORMAT, backbone: d.backbone }));
  return { weights, json: writeInfo(dir, info) };
}

function readInfo(path: string): EncoderInfo {
  const info = readDescription<EncoderInfo>(path, ENCODER_FORMAT, 'encoder');
  for (const field of ['backbone', 'inChannels', 'imageShape', 'blocks', 'norm', 'weights'] as const) {
    if (info[field] === undefined || info[field] === null) throw new Error(`${path}: the field '${field}' is missing; the file was not written by selfsup pretrain, or was edited`);
  }
  checkDescribedImages(path, info);
  return info;
}

/**
 * The fields an encoder.json or classifier.json shares, checked before anything is built
 * from them: a known backbone, an image shape [C, H, W] and a normalisation with one
 * positive std per channel. Each error names the file, the field and what it should hold.
 */
export function checkDescribedImages(path: string, info: { backbone: unknown; inChannels: unknown; imageShape: unknown; norm?: unknown }): void {
  const fix = 'the file was not written by selfsup, or was edited';
  if (typeof info.backbone !== 'string' || !(BACKBONES as readonly string[]).includes(info.backbone)) {
    throw new Error(`${path}: 'backbone' is ${JSON.stringify(info.backbone)}, not one of ${BACKBONES.join(', ')}; ${fix}`);
  }
  const c = info.inChannels;
  if (!Number.isInteger(c) || (c as number) < 1) throw new Error(`${path}: 'inChannels' must be a positive integer, got ${JSON.stringify(c)}; ${fix}`);
  const shape = info.imageShape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d >= 1) || shape[0] !== c) {
    throw new Error(`${path}: 'imageShape' must be [channels, height, width] with channels = inChannels (${c}), got ${JSON.stringify(shape)}; ${fix}`);
  }
  if (info.norm === undefined) return;
  const n = info.norm as { mean?: unknown; std?: unknown } | null;
  const perChannel = (v: unknown, positive: boolean): boolean => Array.isArray(v) && v.length === c && v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
  if (!n || !perChannel(n.mean, false) || !perChannel(n.std, true)) {
    throw new Error(`${path}: 'norm' must be { "mean": [${c} numbers], "std": [${c} positive numbers] }, one per input channel, got ${JSON.stringify(info.norm)}; ${fix}`);
  }
}

/**
 * A description file (encoder.json, classifier.json, text-encoder.json): its JSON, which
 * must carry `format`; an unreadable file or another format is an error naming the file.
 */
export function readDescription<T extends { format: string }>(path: string, format: string, what: string): T {
  let info: T;
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (info?.format !== format) throw new Error(`${path} does not describe a selfsup ${what} (format is ${JSON.stringify(info?.format)})`);
  return info;
}

/**
 * The file a description names, inside the description's own folder: a name such as
 * '../../etc/passwd' or an absolute path is refused, never opened.
 */
export function fileInside(dir: string, name: unknown, json: string, field = 'weights'): string {
  if (typeof name !== 'string' || name === '' || isAbsolute(name) || basename(name) !== name || name === '.' || name === '..') {
    throw new Error(`${json}: '${field}' must be a file name in ${dir} (no folders), got ${JSON.stringify(name)}`);
  }
  return join(dir, name);
}

/** An encoder path that is one of the encoder's files: the folder is what commands take. */
function encoderDirHint(path: string): string {
  return /\.(safetensors|onnx)$/i.test(path) ? ` (pass the encoder's folder, ${dirname(path)}, not one of its files)` : '';
}

/** Rebuilds the encoder in `path` (a directory holding encoder.json, or that file). */
export function loadEncoder(path: string): { encoder: Backbone; info: EncoderInfo; dir: string } {
  if (!existsSync(path)) throw new Error(`encoder not found: ${path} does not exist`);
  if (!statSync(path).isDirectory() && !/\.json$/i.test(path)) throw new Error(`${path} is not an encoder folder${encoderDirHint(path)}`);
  const json = statSync(path).isDirectory() ? join(path, ENCODER_JSON) : path;
  if (!existsSync(json)) {
    throw new Error(`no encoder in ${path}: ${json} does not exist (write one with 'selfsup pretrain --out ${path}')`);
  }
  const named = readInfo(json);
  const dir = dirname(json);
  const weights = fileInside(dir, named.weights, json);
  if (!existsSync(weights)) throw new Error(`encoder weights missing: ${json} names ${weights}, which does not exist`);
  const info = descriptionFitting(json, named, weights);
  const encoder = createBackbone(info.backbone, { inChannels: info.inChannels, width: info.width ?? undefined, imageSize: [info.imageShape[1], info.imageShape[2]] });
  const { tensors } = loadSafetensors(weights);
  try {
    encoder.loadStateDict(tensors);
  } catch (err) {
    encoder.dispose();
    for (const t of tensors.values()) t.dispose();
    throw new Error(`${weights} does not fit a ${info.backbone} backbone as ${json} describes it: ${(err as Error).message}`);
  }
  // NaN or infinite weights would give chance-level results further on, without any error.
  const bad = [...tensors.entries()].find(([, t]) => t.dtype.startsWith('float') && !tidy(() => t.isfinite().all().item()));
  for (const t of tensors.values()) t.dispose();
  if (bad) {
    encoder.dispose();
    throw new Error(`${weights}: the tensor '${bad[0]}' holds NaN or infinite values (did training diverge?); this encoder cannot be used`);
  }
  encoder.inputNorm = info.norm; // embed, extractFeatures and the rest apply it by default
  return { encoder, info, dir };
}

/** Block names of a backbone as createBackbone makes it (built once and freed). */
export function backboneBlocks(name: BackboneName, inChannels: number, width: number | undefined): string[] {
  const b = createBackbone(name, { inChannels, width });
  const names = [...b.blockNames];
  b.dispose();
  return names;
}

/** Throws unless images of `data` can go into the encoder. */
export function checkEncoderFits(info: EncoderInfo, data: ImageDataset, dataSpec: string): void {
  const channels = data.imageShape[0];
  if (channels !== info.inChannels) {
    throw new Error(`the encoder takes ${info.inChannels}-channel images but ${dataSpec} has ${channels} channels; give it data like the ${info.data} it was trained on`);
  }
}
