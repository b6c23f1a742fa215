// The word vocabulary: every lower-cased word seen at least `minCount` times,
// most frequent first, after an unknown token at id 0 that stands for the rest.
// Counts travel with it: skip-gram's subsampling and noise distribution need them.
import { CorpusError } from './corpus.js';
import { splitWords } from './words.js';
import { saveJson, loadJson, checkJson } from './json-file.js';

export const UNK = '<unk>';

export interface WordVocabJson {
  type: 'selfsup.word-vocab';
  version: 1;
  minCount: number;
  words: string[];
  counts: number[];
}

export interface WordVocabOptions {
  /** Words seen fewer times become the unknown token (default 5). */
  minCount?: number;
  /** Keep at most this many words (the most frequent; default unlimited). */
  maxSize?: number;
}

/** Token ids of many documents in one array: document i is ids[offsets[i]..offsets[i+1]). */
export interface EncodedCorpus {
  ids: Int32Array;
  offsets: Int32Array;
}

export class WordVocab {
  readonly #index: Map<string, number>;

  /** `words[0]` must be the unknown token; `counts[i]` is how often word i was seen. */
  constructor(readonly words: readonly string[], readonly counts: Float64Array, readonly minCount: number) {
    if (words[0] !== UNK) throw new CorpusError(`WordVocab: the first word must be the unknown token '${UNK}'`);
    if (counts.length !== words.length) throw new CorpusError(`WordVocab: ${words.length} words but ${counts.length} counts`);
    this.#index = new Map(words.map((w, i) => [w, i]));
    if (this.#index.size !== words.length) throw new CorpusError('WordVocab: a word appears twice');
  }

  /** Counts the words of `texts` and keeps the frequent ones. */
  static build(texts: Iterable<string>, o: WordVocabOptions = {}): WordVocab {
    const minCount = o.minCount ?? 5;
    if (!Number.isInteger(minCount) || minCount < 1) throw new RangeError(`WordVocab: minCount must be a positive integer, got ${minCount}`);
    const counts = new Map<string, number>();
    for (const text of texts) for (const w of splitWords(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const kept = [...counts].filter(([w, c]) => c >= minCount && w !== UNK)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, o.maxSize ?? Infinity);
    if (kept.length === 0) throw new CorpusError(`WordVocab: no word occurs at least ${minCount} times in the corpus (${counts.size} distinct words)`);
    let unknown = 0;
    const keptSet = new Set(kept.map(([w]) => w));
    for (const [w, c] of counts) if (!keptSet.has(w)) unknown += c;
    return new WordVocab([UNK, ...kept.map(([w]) => w)], Float64Array.from([unknown, ...kept.map(([, c]) => c)]), minCount);
  }

  get size(): number {
    return this.words.length;
  }

  has(word: string): boolean {
    return this.#index.has(word);
  }

  /** The id of a word (lower-cased), or 0, the unknown token. */
  id(word: string): number {
    return this.#index.get(word.toLowerCase()) ?? 0;
  }

  /** The ids of the words of `text`; unknown words give 0. */
  encode(text: string): Int32Array {
    return Int32Array.from(splitWords(text), (w) => this.#index.get(w) ?? 0);
  }

  /** The words of `ids` joined by spaces. */
  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (i) => {
      const w = this.words[i];
      if (w === undefined) throw new RangeError(`WordVocab.decode: id ${i} is outside 0..${this.size - 1}`);
      return w;
    }).join(' ');
  }

  /** Every document's ids in one array with offsets. */
  encodeCorpus(texts: readonly string[]): EncodedCorpus {
    const parts = texts.map((t) => this.encode(t));
    const offsets = new Int32Array(parts.length + 1);
    parts.forEach((p, i) => { offsets[i + 1] = offsets[i]! + p.length; });
    const ids = new Int32Array(offsets[parts.length]!);
    parts.forEach((p, i) => ids.set(p, offsets[i]!));
    return { ids, offsets };
  }

  toJSON(): WordVocabJson {
    return { type: 'selfsup.word-vocab', version: 1, minCount: this.minCount, words: [...this.words], counts: Array.from(this.counts) };
  }

  static fromJSON(doc: WordVocabJson): WordVocab {
    checkJson(doc, 'selfsup.word-vocab', 1, 'the word vocabulary');
    return new WordVocab(doc.words, Float64Array.from(doc.counts), doc.minCount);
  }

  save(path: string): void {
    saveJson(path, this.toJSON());
  }

  static load(path: string): WordVocab {
    return WordVocab.fromJSON(loadJson<WordVocabJson>(path, 'selfsup.word-vocab', 1));
  }
}
