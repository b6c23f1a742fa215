// A text encoder on disk: DIR/text-encoder.json (its config, vocabulary size, how it
// was trained), DIR/text-encoder.safetensors (weights) and DIR/bpe.json (the tokenizer
// it reads). The text experiment writes one per transformer method; `selfsup embed
// --text FILE` and `selfsup similar --query-text` read them.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadSafetensors, saveSafetensors } from './safetensors.js';
import { writeFileAtomic } from './atomic.js';
import { fileInside, readDescription } from './encoder-files.js';
import { describedMetadata, descriptionFitting, newSaveId } from './described-weights.js';
import { TransformerTextEncoder, type EncoderConfig } from '../models/text-transformer.js';
import { BpeTokenizer } from '../data/text/bpe.js';

export const TEXT_ENCODER_FORMAT = 'selfsup.text-encoder';
export const TEXT_ENCODER_JSON = 'text-encoder.json';

export interface TextEncoderInfo {
  format: typeof TEXT_ENCODER_FORMAT;
  version: 1;
  vocabSize: number;
  config: EncoderConfig;
  weights: string;
  tokenizer: string;
  method: string;
  data: string;
  savedAt: string;
  /** Shared with the weights file (see described-weights.ts). */
  saveId?: string;
}

/** Saves the encoder, its tokenizer and its description into `dir` (created if needed). */
export function saveTextEncoder(dir: string, encoder: TransformerTextEncoder, tokenizer: BpeTokenizer, d: { method: string; data: string }): string {
  mkdirSync(dir, { recursive: true });
  const saveId = newSaveId();
  const info: TextEncoderInfo = {
    format: TEXT_ENCODER_FORMAT, version: 1, vocabSize: encoder.vocabSize, config: encoder.config,
    weights: 'text-encoder.safetensors', tokenizer: 'bpe.json', ...d, savedAt: new Date().toISOString(), saveId,
  };
  saveSafetensors(join(dir, 'text-encoder.safetensors'), encoder.stateDict(), describedMetadata({ ...info, saveId }, { format: TEXT_ENCODER_FORMAT }));
  tokenizer.save(join(dir, 'bpe.json'));
  const json = join(dir, TEXT_ENCODER_JSON);
  writeFileAtomic(json, Buffer.from(JSON.stringify(info, null, 2) + '\n', 'utf8'));
  return json;
}

/** True when `path` is (or holds) a text encoder. */
export function isTextEncoder(path: string): boolean {
  return existsSync(path) && (statSync(path).isDirectory() ? existsSync(join(path, TEXT_ENCODER_JSON)) : path.endsWith(TEXT_ENCODER_JSON));
}

/** Rebuilds the text encoder in `path` (in eval mode) with its tokenizer. */
export function loadTextEncoder(path: string): { encoder: TransformerTextEncoder; tokenizer: BpeTokenizer; info: TextEncoderInfo; dir: string } {
  if (!existsSync(path)) throw new Error(`text encoder not found: ${path} does not exist`);
  const json = statSync(path).isDirectory() ? join(path, TEXT_ENCODER_JSON) : path;
  if (!existsSync(json)) throw new Error(`no text encoder in ${path}: ${json} does not exist (selfsup experiment --modality text writes DIR/masked-lm-encoder and the like)`);
  const dir = dirname(json);
  const named = readDescription<TextEncoderInfo>(json, TEXT_ENCODER_FORMAT, 'text encoder');
  const info = descriptionFitting(json, named, fileInside(dir, named.weights, json));
  const tokenizer = BpeTokenizer.load(fileInside(dir, info.tokenizer, json, 'tokenizer'));
  if (tokenizer.size !== info.vocabSize) throw new Error(`${json}: the tokenizer has ${tokenizer.size} tokens, the encoder ${info.vocabSize}`);
  const encoder = new TransformerTextEncoder(info.vocabSize, info.config);
  const { tensors } = loadSafetensors(fileInside(dir, info.weights, json));
  try {
    encoder.loadStateDict(tensors);
  } catch (err) {
    encoder.dispose();
    throw new Error(`${join(dir, info.weights)} does not fit the text encoder ${json} describes: ${(err as Error).message}`);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  encoder.eval();
  return { encoder, tokenizer, info, dir };
}
