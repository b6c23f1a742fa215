// Byte-pair encoding (Sennrich et al. 2016) trained on the corpus's words: start
// from characters, with the last one of a word marked '</w>', and repeatedly merge
// the most frequent adjacent pair. Five special tokens come first for the masked model.
import { CorpusError } from './corpus.js';
import { CountHeap } from './heap.js';
import { splitWords } from './words.js';
import { saveJson, loadJson, checkJson } from './json-file.js';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
export const PAD_ID = 0;
export const UNK_ID = 1;
export const CLS_ID = 2;
export const SEP_ID = 3;
export const MASK_ID = 4;
const END = '</w>';
/** Pair keys pack two token ids below 2^21 into one safe integer. */
const PAIR = 2 ** 21;

export interface BpeJson {
  type: 'selfsup.bpe';
  version: 1;
  alphabet: string[];
  merges: [string, string][];
}

export interface BpeTrainOptions {
  /** Tokens in the vocabulary, specials and characters included (default 8000). */
  vocabSize?: number;
  /** Stop merging pairs seen fewer times (default 2). */
  minFrequency?: number;
  /** Characters seen fewer times are unknown; words holding them encode as [UNK] (default 2). */
  minCharCount?: number;
}

export interface EncodeOptions {
  /** Wrap in [CLS] ... [SEP] (default false). */
  special?: boolean;
  /** Keep at most this many tokens (the specials included). */
  maxLength?: number;
}

export class BpeTokenizer {
  /** Token strings by id. */
  readonly vocab: string[] = [...SPECIAL_TOKENS];
  readonly #ids = new Map<string, number>(SPECIAL_TOKENS.map((t, i) => [t, i]));
  /** (left id, right id) -> [rank, merged id]. */
  readonly #merges = new Map<number, [number, number]>();
  readonly #chars: Set<string>;
  readonly #cache = new Map<string, Int32Array>();

  constructor(readonly alphabet: readonly string[], readonly merges: readonly (readonly [string, string])[]) {
    this.#chars = new Set(alphabet);
    for (const c of alphabet) {
      if ([...c].length !== 1) throw new CorpusError(`BpeTokenizer: alphabet entries must be single characters, got ${JSON.stringify(c)}`);
      this.#add(c);
      this.#add(c + END);
    }
    merges.forEach(([a, b], rank) => {
      const left = this.#ids.get(a);
      const right = this.#ids.get(b);
      if (left === undefined || right === undefined) throw new CorpusError(`BpeTokenizer: merge ${rank} (${a} + ${b}) uses a token not made before it`);
      this.#merges.set(left * PAIR + right, [rank, this.#add(a + b)]);
    });
  }

  #add(token: string): number {
    let id = this.#ids.get(token);
    if (id === undefined) {
      id = this.vocab.push(token) - 1;
      this.#ids.set(token, id);
    }
    return id;
  }

  get size(): number {
    return this.vocab.length;
  }

  /** The first id that is not a special token. */
  get firstRegularId(): number {
    return SPECIAL_TOKENS.length;
  }

  /** The id of a token string, or undefined. */
  tokenId(token: string): number | undefined {
    return this.#ids.get(token);
  }

  /** Learns merges from the words of `texts`. */
  static train(texts: Iterable<string>, o: BpeTrainOptions = {}): BpeTokenizer {
    const vocabSize = o.vocabSize ?? 8000;
    const minFrequency = o.minFrequency ?? 2;
    const wordCounts = new Map<string, number>();
    for (const t of texts) for (const w of splitWords(t)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    const charCounts = new Map<string, number>();
    for (const [w, n] of wordCounts) for (const c of w) charCounts.set(c, (charCounts.get(c) ?? 0) + n);
    const alphabet = [...charCounts].filter(([, n]) => n >= (o.minCharCount ?? 2)).map(([c]) => c).sort();
    if (alphabet.length === 0) throw new CorpusError('BpeTokenizer.train: the corpus has no words');
    const base = new BpeTokenizer(alphabet, []);
    if (vocabSize < base.size) throw new RangeError(`BpeTokenizer.train: vocabSize ${vocabSize} is smaller than the ${base.size} special and character tokens`);

    // Each distinct word as a list of token ids, with its count.
    const known = new Set(alphabet);
    const words: number[][] = [];
    const freqs: number[] = [];
    for (const [w, n] of [...wordCounts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const chars = [...w];
      if (!chars.every((c) => known.has(c))) continue;
      words.push(chars.map((c, i) => base.#ids.get(i === chars.length - 1 ? c + END : c)!));
      freqs.push(n);
    }
    const pairCounts = new Map<number, number>();
    const pairWords = new Map<number, Set<number>>();
    const count = (syms: number[], w: number, sign: 1 | -1, changed: Set<number>): void => {
      for (let i = 0; i + 1 < syms.length; i++) {
        const key = syms[i]! * PAIR + syms[i + 1]!;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * freqs[w]!);
        changed.add(key);
        if (sign > 0) {
          let set = pairWords.get(key);
          if (!set) pairWords.set(key, (set = new Set()));
          set.add(w);
        }
      }
    };
    const heap = new CountHeap();
    const initial = new Set<number>();
    words.forEach((syms, w) => count(syms, w, 1, initial));
    for (const key of initial) heap.push(pairCounts.get(key)!, key);

    const vocab = [...base.vocab];
    const ids = new Map(vocab.map((t, i) => [t, i]));
    const merges: [string, string][] = [];
    while (vocab.length < vocabSize) {
      const top = heap.pop();
      if (!top) break;
      if (pairCounts.get(top.key) !== top.count) continue; // stale entry
      if (top.count < minFrequency) break;
      const a = Math.floor(top.key / PAIR);
      const b = top.key % PAIR;
      const token = vocab[a]! + vocab[b]!;
      let merged = ids.get(token);
      if (merged === undefined) {
        merged = vocab.push(token) - 1;
        ids.set(token, merged);
      }
      merges.push([vocab[a]!, vocab[b]!]);
      const changed = new Set<number>();
      for (const w of pairWords.get(top.key) ?? []) {
        const syms = words[w]!;
        count(syms, w, -1, changed);
        const next: number[] = [];
        for (let i = 0; i < syms.length; i++) {
          if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
            next.push(merged);
            i++;
          } else next.push(syms[i]!);
        }
        words[w] = next;
        count(next, w, 1, changed);
      }
      pairWords.delete(top.key);
      for (const key of changed) {
        const c = pairCounts.get(key)!;
        if (c > 0) heap.push(c, key);
        else pairCounts.delete(key);
      }
    }
    return new BpeTokenizer(alphabet, merges);
  }

  /** The token ids of one (lower-case) word; [UNK] if it holds an unknown character. */
  encodeWord(word: string): Int32Array {
    const cached = this.#cache.get(word);
    if (cached) return cached;
    const chars = [...word];
    let syms: number[];
    if (chars.length === 0 || !chars.every((c) => this.#chars.has(c))) syms = [UNK_ID];
    else {
      syms = chars.map((c, i) => this.#ids.get(i === chars.length - 1 ? c + END : c)!);
      for (;;) {
        let best: [number, number] | null = null;
        for (let i = 0; i + 1 < syms.length; i++) {
          const m = this.#merges.get(syms[i]! * PAIR + syms[i + 1]!);
          if (m && (!best || m[0] < best[0])) best = m;
        }
        if (!best) break;
        const next: number[] = [];
        for (let i = 0; i < syms.length; i++) {
          const m = i + 1 < syms.length ? this.#merges.get(syms[i]! * PAIR + syms[i + 1]!) : undefined;
          if (m && m[0] === best[0]) {
            next.push(m[1]);
            i++;
          } else next.push(syms[i]!);
        }
        syms = next;
      }
    }
    const ids = Int32Array.from(syms);
    if (this.#cache.size < 200_000) this.#cache.set(word, ids);
    return ids;
  }

  /** The token ids of `text` (lower-cased, punctuation dropped, as splitWords does). */
  encode(text: string, o: EncodeOptions = {}): Int32Array {
    const parts = splitWords(text).map((w) => this.encodeWord(w));
    let n = parts.reduce((s, p) => s + p.length, 0) + (o.special ? 2 : 0);
    if (o.maxLength !== undefined) n = Math.min(n, o.maxLength);
    const out = new Int32Array(n);
    let pos = 0;
    if (o.special && pos < n) out[pos++] = CLS_ID;
    const end = o.special ? n - 1 : n;
    for (const p of parts) {
      for (let i = 0; i < p.length && pos < end; i++) out[pos++] = p[i]!;
      if (pos >= end) break;
    }
    if (o.special && pos < n) out[pos++] = SEP_ID;
    return out;
  }

  /** Text from token ids: words separated by spaces; [PAD], [CLS] and [SEP] left out. */
  decode(ids: ArrayLike<number>): string {
    let text = '';
    for (const id of Array.from(ids)) {
      const t = this.vocab[id];
      if (t === undefined) throw new RangeError(`BpeTokenizer.decode: id ${id} is outside 0..${this.size - 1}`);
      if (id === PAD_ID || id === CLS_ID || id === SEP_ID) continue;
      if (id < SPECIAL_TOKENS.length) text += `${t} `;
      else text += t.endsWith(END) ? `${t.slice(0, -END.length)} ` : t;
    }
    return text.trimEnd();
  }

  toJSON(): BpeJson {
    return { type: 'selfsup.bpe', version: 1, alphabet: [...this.alphabet], merges: this.merges.map(([a, b]) => [a, b]) };
  }

  static fromJSON(doc: BpeJson): BpeTokenizer {
    checkJson(doc, 'selfsup.bpe', 1, 'the BPE tokenizer');
    return new BpeTokenizer(doc.alphabet, doc.merges);
  }

  save(path: string): void {
    saveJson(path, this.toJSON());
  }

  static load(path: string): BpeTokenizer {
    return BpeTokenizer.fromJSON(loadJson<BpeJson>(path, 'selfsup.bpe', 1));
  }
}
