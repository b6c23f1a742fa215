// The (center, context) pairs of one skip-gram epoch, made in two passes over
// typed arrays: drop unknown words and subsample frequent ones, then pair every
// kept word with the kept words of its own document within a random window
// b in 1..window (word2vec's reduced window, which weights near words more).
import { Rng } from '../random.js';
import type { EncodedCorpus } from './vocab.js';

export interface PairOptions {
  /** Largest distance between center and context (default 5). */
  window?: number;
  /** Keep probability of each word id (see keepProbabilities); default keep all. */
  keep?: Float32Array;
  /** Drop this id (the unknown word; default 0). Use -1 to keep every id. */
  dropId?: number;
}

export interface SkipGramPairs {
  centers: Int32Array;
  contexts: Int32Array;
  /** Words left after subsampling: the epoch's word count, for words/s. */
  words: number;
}

export function skipGramPairs(corpus: EncodedCorpus, rng: Rng, o: PairOptions = {}): SkipGramPairs {
  const window = o.window ?? 5;
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`skipGramPairs: window must be a positive integer, got ${window}`);
  const dropId = o.dropId ?? 0;
  const { ids, offsets } = corpus;
  // Pass 1: subsample; kept words keep their document's boundaries.
  const kept = new Int32Array(ids.length);
  const starts = new Int32Array(offsets.length);
  let n = 0;
  for (let d = 0; d + 1 < offsets.length; d++) {
    starts[d] = n;
    for (let i = offsets[d]!; i < offsets[d + 1]!; i++) {
      const w = ids[i]!;
      if (w === dropId) continue;
      if (o.keep && rng.next() >= o.keep[w]!) continue;
      kept[n++] = w;
    }
  }
  starts[offsets.length - 1] = n;
  // Pass 2: a window per word, then the pairs.
  const reach = new Uint8Array(n);
  let total = 0;
  for (let d = 0; d + 1 < starts.length; d++) {
    const s = starts[d]!;
    const e = starts[d + 1]!;
    for (let i = s; i < e; i++) {
      const b = 1 + rng.int(window);
      reach[i] = b;
      total += Math.min(e - 1, i + b) - Math.max(s, i - b);
    }
  }
  const centers = new Int32Array(total);
  const contexts = new Int32Array(total);
  let p = 0;
  for (let d = 0; d + 1 < starts.length; d++) {
    const s = starts[d]!;
    const e = starts[d + 1]!;
    for (let i = s; i < e; i++) {
      const b = reach[i]!;
      const lo = Math.max(s, i - b);
      const hi = Math.min(e - 1, i + b);
      for (let j = lo; j <= hi; j++) {
        if (j === i) continue;
        centers[p] = kept[i]!;
        contexts[p++] = kept[j]!;
      }
    }
  }
  return { centers, contexts, words: n };
}
