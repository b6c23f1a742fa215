// selfsup neighbors WORD: the nearest words by skip-gram vectors, with
// loadWordVectors and nearestNeighbors from src/text.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Args } from '../options.js';
import type { Output } from '../output.js';

/** Where `selfsup experiment --modality text` saves its skip-gram vectors. */
const WORD_VECTORS = 'word-vectors.safetensors';

type TextModule = typeof import('../../text/index.js');
type WordVectors = ReturnType<TextModule['loadWordVectors']>;

function loadVectors(text: TextModule, path: string): { vectors: WordVectors; from: string } {
  if (!existsSync(path) && !existsSync(`${path}.json`)) {
    throw new Error(`word vectors not found: ${path} does not exist (train some with 'selfsup experiment --modality text --out DIR')`);
  }
  if (!existsSync(path) || !statSync(path).isDirectory()) return { vectors: text.loadWordVectors(path), from: path };
  // The text experiment's final vectors first, then any other file (a skip-gram checkpoint, say).
  const candidates = readdirSync(path).filter((f) => f.endsWith('.safetensors') && !f.endsWith('.prev.safetensors'))
    .sort((a, b) => Number(b === WORD_VECTORS) - Number(a === WORD_VECTORS) || a.localeCompare(b));
  for (const file of candidates) {
    try {
      return { vectors: text.loadWordVectors(join(path, file)), from: join(path, file) };
    } catch {
      // not word vectors (an image encoder, say): try the next file
    }
  }
  throw new Error(`no word vectors in ${path}: none of its .safetensors files (${candidates.join(', ') || 'none'}) holds saved word vectors or a skip-gram checkpoint`);
}

export async function run(args: Args, out: Output): Promise<void> {
  const word = args.positionals[0]!;
  const count = args.int('count', { min: 1 })!;
  // Loaded here, not at the top: `--help` and usage errors answer without libtorch.
  const text = await import('../../text/index.js');
  const { vectors, from } = loadVectors(text, args.string('vectors')!);
  try {
    const neighbors = text.nearestNeighbors(vectors, word, count);
    const width = Math.max(4, ...neighbors.map((n) => n.word.length));
    out.say(`nearest to '${word}' (${from}):`);
    for (const n of neighbors) out.say(`  ${n.word.padEnd(width)}  ${n.similarity.toFixed(3)}`);
    out.result({ command: 'neighbors', ok: true, word, count, vectors: from, neighbors });
  } finally {
    vectors.dispose();
  }
}
