// The synonym test: two single words that share a WordNet synset should be closer
// (cosine) than two words paired at random from the same pool. The score is the
// ROC AUC: the chance that a random synonym pair beats a random non-synonym pair.
// The test synsets' glosses must be held out of the training text.
import { Rng } from '../data/random.js';
import type { Synset } from '../data/text/wordnet.js';

export interface WordPair {
  a: string;
  b: string;
}

export interface SynonymTest {
  /** Pairs of words sharing a synset, one pair per test synset. */
  synonyms: WordPair[];
  /** As many pairs of pool words that share no synset. */
  random: WordPair[];
  /** The synsets the pairs come from: hold their glosses out of training. */
  synsets: Synset[];
}

export interface SynonymTestOptions {
  /** Test synsets to pick (default 500). */
  pairs?: number;
  /** Only words this frequent in the corpus (as `count` says) take part. */
  minCount?: number;
  seed?: number;
}

const isSingleWord = (w: string): boolean => /^[a-z]+$/.test(w);

/**
 * Picks test synsets with two single (lower-case, letters only) words that are each
 * seen at least `minCount` times according to `count`, one pair from each, and an
 * equal number of random pairs from the same words that share no synset anywhere.
 */
export function synonymTest(synsets: readonly Synset[], count: (word: string) => number, o: SynonymTestOptions = {}): SynonymTest {
  const minCount = o.minCount ?? 10;
  const rng = new Rng(o.seed ?? 0, 0x5e);
  // Every pair of words sharing some synset, so that random pairs avoid them.
  const related = new Set<string>();
  const candidates: { synset: Synset; words: string[] }[] = [];
  for (const s of synsets) {
    const words = [...new Set(s.words.map((w) => w.toLowerCase()))];
    for (const a of words) for (const b of words) if (a < b) related.add(`${a} ${b}`);
    const usable = words.filter((w) => isSingleWord(w) && count(w) >= minCount);
    if (usable.length >= 2) candidates.push({ synset: s, words: usable });
  }
  const order = rng.shuffle(Int32Array.from(candidates.keys()));
  const synonyms: WordPair[] = [];
  const chosen: Synset[] = [];
  const seenPairs = new Set<string>();
  for (const i of order) {
    if (synonyms.length >= (o.pairs ?? 500)) break;
    const { synset, words } = candidates[i]!;
    const a = words[rng.int(words.length)]!;
    let b = words[rng.int(words.length - 1)]!;
    if (b === a) b = words[words.length - 1]!;
    const key = a < b ? `${a} ${b}` : `${b} ${a}`;
    if (seenPairs.has(key)) continue;
    seenPairs.add(key);
    synonyms.push({ a, b });
    chosen.push(synset);
  }
  const pool = [...new Set(synonyms.flatMap((p) => [p.a, p.b]))].sort();
  const random: WordPair[] = [];
  for (let tries = 0; random.length < synonyms.length && tries < 100 * synonyms.length; tries++) {
    const a = pool[rng.int(pool.length)]!;
    const b = pool[rng.int(pool.length)]!;
    if (a === b || related.has(a < b ? `${a} ${b}` : `${b} ${a}`)) continue;
    random.push({ a, b });
  }
  return { synonyms, random, synsets: chosen };
}

/**
 * ROC AUC of scores: the probability that a positive outscores a negative, ties
 * counting one half (the Mann-Whitney U statistic over the product of the sizes).
 */
export function rocAuc(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) throw new RangeError('rocAuc: needs at least one positive and one negative score');
  const all = [...positives.map((s) => ({ s, pos: true })), ...negatives.map((s) => ({ s, pos: false }))].sort((x, y) => x.s - y.s);
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j]!.s === all[i]!.s) j++;
    const rank = (i + 1 + j) / 2; // mean of ranks i+1..j
    for (let t = i; t < j; t++) if (all[t]!.pos) rankSum += rank;
    i = j;
  }
  const n = positives.length;
  return (rankSum - (n * (n + 1)) / 2) / (n * negatives.length);
}
