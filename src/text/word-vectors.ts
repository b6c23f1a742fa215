// Word vectors with their vocabulary: what skip-gram training leaves behind, what
// `selfsup neighbors WORD` loads, and what averaged-vector features are made from.
import { existsSync } from 'node:fs';
import { Tensor, F, keep, noGrad, tidy, tensor } from '../tensor/index.js';
import { saveSafetensors, loadSafetensors, loadCheckpoint, checkpointExists, readSafetensorsHeader, CHECKPOINT_FORMAT } from '../io/index.js';
import { CorpusError } from '../data/text/corpus.js';
import { WordVocab, type WordVocabJson } from '../data/text/vocab.js';
import type { WordTable } from '../models/word-table.js';

const FORMAT = 'selfsup.word-vectors';

/** Which skip-gram vectors stand for a word: the input vectors, or input + output. */
export type SkipGramVectors = 'input' | 'sum';

function combineVectors(input: Tensor, output: Tensor, which: SkipGramVectors): Tensor {
  if (which !== 'input' && which !== 'sum') throw new TypeError(`skip-gram vectors must be 'input' or 'sum', got '${String(which)}'`);
  return noGrad(() => tidy(() => (which === 'sum' ? input.add(output) : input.clone()).detach()));
}

export class WordVectors implements Disposable {
  #unit: Tensor | null = null;

  /** `vectors` [vocab.size, dim] is owned by this object from now on. */
  constructor(readonly vocab: WordVocab, readonly vectors: Tensor) {
    if (vectors.ndim !== 2 || vectors.shape[0] !== vocab.size) {
      throw new RangeError(`WordVectors: expected [${vocab.size}, dim] vectors for ${vocab.size} words, got [${vectors.shape.join(', ')}]`);
    }
    keep(vectors);
  }

  /**
   * A copy of a skip-gram model's vectors: the input (word) vectors, or by default their sum
   * with the output (context) vectors, which Levy et al. (2015) found better for similarity.
   */
  static fromSkipGram(model: WordTable, vocab: WordVocab, which: SkipGramVectors = 'sum'): WordVectors {
    return new WordVectors(vocab, combineVectors(model.inEmbed.weight, model.outEmbed.weight, which));
  }

  get dim(): number {
    return this.vectors.shape[1]!;
  }

  /** Unit-length rows, for cosine similarity (computed once). */
  get unit(): Tensor {
    return (this.#unit ??= keep(noGrad(() => F.normalize(this.vectors, 1))));
  }

  /** The id of a word in the vocabulary; throws a clear error for an unknown word. */
  idOf(word: string): number {
    const w = word.toLowerCase();
    if (!this.vocab.has(w) || this.vocab.id(w) === 0) {
      throw new CorpusError(`'${word}' is not in the vocabulary (${this.vocab.size - 1} words seen at least ${this.vocab.minCount} times)`);
    }
    return this.vocab.id(w);
  }

  /** Saves vectors and vocabulary in one safetensors file. */
  save(path: string): void {
    saveSafetensors(path, { vectors: this.vectors }, { format: FORMAT, vocab: JSON.stringify(this.vocab.toJSON()) });
  }

  dispose(): void {
    this.vectors.dispose();
    this.#unit?.dispose();
    this.#unit = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Loads word vectors from a file written by WordVectors.save, or from a skip-gram
 * training checkpoint (its vectors, combined as `which` says, and the vocabulary saved with them).
 */
export function loadWordVectors(path: string, which: SkipGramVectors = 'sum'): WordVectors {
  // A checkpoint's .safetensors says so in its header (since format version 2 it is the whole checkpoint).
  if (path.endsWith('.safetensors') && existsSync(path) && readSafetensorsHeader(path).metadata?.format !== CHECKPOINT_FORMAT) {
    const { tensors, metadata } = loadSafetensors(path);
    const vectors = tensors.get('vectors');
    if (metadata?.format !== FORMAT || !vectors || !metadata.vocab) {
      for (const t of tensors.values()) t.dispose();
      throw new CorpusError(`'${path}' holds no word vectors (expected a file saved by WordVectors.save, or a skip-gram checkpoint)`);
    }
    return new WordVectors(WordVocab.fromJSON(JSON.parse(metadata.vocab) as WordVocabJson), vectors);
  }
  if (!checkpointExists(path)) throw new CorpusError(`no word vectors or skip-gram checkpoint at '${path}'`);
  const ck = loadCheckpoint(path);
  // Since skip-gram became an SslMethod its checkpoints hold the table as 'encoder.*'; older ones hold it at the top.
  const table = (name: string): Tensor | undefined => ck.model.get(`encoder.${name}`) ?? ck.model.get(name);
  const input = table('in_embed.weight');
  const output = table('out_embed.weight');
  const vocab = ck.meta.vocab as WordVocabJson | undefined;
  try {
    if (ck.meta.method !== 'skipgram' || !input || !output || !vocab) {
      throw new CorpusError(`'${ck.paths.json}' is not a skip-gram checkpoint (method ${JSON.stringify(ck.meta.method)})`);
    }
    return new WordVectors(WordVocab.fromJSON(vocab), combineVectors(input, output, which));
  } finally {
    for (const t of ck.model.values()) t.dispose();
    for (const t of ck.optimizer?.state.values() ?? []) t.dispose();
  }
}

export interface Neighbor {
  word: string;
  similarity: number;
}

/** The k words closest to `word` by cosine similarity, most similar first (the word itself and the unknown token left out). */
export function nearestNeighbors(model: WordVectors, word: string, k = 10): Neighbor[] {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`nearestNeighbors: k must be a positive integer, got ${k}`);
  const id = model.idOf(word);
  const count = Math.min(k + 2, model.vocab.size);
  const { values, indices } = noGrad(() => tidy(() => {
    const sims = model.unit.matmul(model.unit.select(0, id).unsqueeze(1)).squeeze(1);
    return sims.topk(count);
  }));
  const sims = values.dataNumbers();
  const ids = indices.dataNumbers();
  values.dispose();
  indices.dispose();
  const out: Neighbor[] = [];
  for (let i = 0; i < ids.length && out.length < k; i++) {
    if (ids[i] === id || ids[i] === 0) continue;
    out.push({ word: model.vocab.words[ids[i]!]!, similarity: sims[i]! });
  }
  return out;
}

/** Cosine similarity of each pair of word ids. */
export function pairSimilarities(model: WordVectors, pairs: readonly [number, number][]): number[] {
  if (pairs.length === 0) return [];
  return noGrad(() => tidy(() => {
    const a = model.unit.index([tensorOf(pairs.map((p) => p[0]))]);
    const b = model.unit.index([tensorOf(pairs.map((p) => p[1]))]);
    return a.mul(b).sum(1).dataNumbers();
  }));
}

function tensorOf(ids: number[]): Tensor {
  return tensor(Int32Array.from(ids), { dtype: 'int64' });
}
