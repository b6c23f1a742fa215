// Tokenizers are saved as small JSON documents with a type tag and a version.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../io/atomic.js';
import { CorpusError } from './corpus.js';

export function saveJson(path: string, value: unknown): void {
  writeFileAtomic(path, Buffer.from(JSON.stringify(value) + '\n', 'utf8'));
}

/** Reads a JSON file and checks its `type` tag and `version`. */
export function loadJson<T extends { type: string; version: number }>(path: string, type: string, version: number): T {
  let doc: T;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new CorpusError(`cannot read ${type} from '${path}': ${(err as Error).message}`);
  }
  return checkJson(doc, type, version, `'${path}'`);
}

export function checkJson<T extends { type: string; version: number }>(doc: T, type: string, version: number, where = 'the JSON'): T {
  if (doc === null || typeof doc !== 'object' || doc.type !== type) {
    throw new CorpusError(`${where} is not a ${type} (its type is ${JSON.stringify((doc as { type?: unknown } | null)?.type)})`);
  }
  if (!Number.isInteger(doc.version) || doc.version > version) {
    throw new CorpusError(`${where} is a ${type} of version ${doc.version}; this selfsup reads up to version ${version}`);
  }
  return doc;
}
