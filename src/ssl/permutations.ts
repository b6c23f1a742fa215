// The jigsaw puzzle's permutation set (Noroozi & Favaro 2016, "Unsupervised Learning of
// Visual Representations by Solving Jigsaw Puzzles", sec. 3.2 and Algorithm 1,
// https://arxiv.org/abs/1603.09246): of all n! orders of n tiles, N are chosen greedily
// so that they lie far apart in Hamming distance (the number of positions at which two
// orders differ). The paper found that the task's difficulty, and with it the features,
// depend more on the set's distances than on N: near permutations are hard to tell
// apart from tiles alone and teach little.
//
// Algorithm 1: start from one order drawn at random (here: from `seed`); then, N - 1
// times, add the candidate whose mean Hamming distance to the orders chosen so far is
// largest (the paper's 1^T D; its code takes the mean, the same argmax). The paper
// leaves ties open (numpy's argmax takes the first); here a tie goes to the candidate
// whose nearest chosen order is farthest, then to the first in lexicographic order, so
// the set depends on (tiles, N, seed) alone and its minimum distance is no worse.
import { Rng } from '../data/random.js';

export interface PermutationSetOptions {
  /** Draws the first order (default 0). */
  seed?: number;
}

export interface PermutationSet {
  /** Tiles per puzzle (9 for a 3x3 grid). */
  tiles: number;
  /** The orders, N rows of `tiles` entries: row p, slot i holds the tile from cell perms[p * tiles + i]. */
  perms: Uint8Array;
  count: number;
  seed: number;
  /** Smallest and mean Hamming distance between two orders of the set. */
  minDistance: number;
  meanDistance: number;
}

/** n! for the small n this module enumerates. */
function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

/** Every order of 0..n-1, lexicographically, as n! rows of n bytes. */
export function allPermutations(n: number): Uint8Array {
  const total = factorial(n);
  const out = new Uint8Array(total * n);
  const a = Uint8Array.from({ length: n }, (_, i) => i);
  for (let row = 0; row < total; row++) {
    out.set(a, row * n);
    // Next permutation in lexicographic order.
    let i = n - 2;
    while (i >= 0 && a[i]! >= a[i + 1]!) i--;
    if (i < 0) break;
    let j = n - 1;
    while (a[j]! <= a[i]!) j--;
    [a[i], a[j]] = [a[j]!, a[i]!];
    for (let l = i + 1, r = n - 1; l < r; l++, r--) [a[l], a[r]] = [a[r]!, a[l]!];
  }
  return out;
}

/** Positions at which orders `a` (row i of `pa`) and `b` (row j of `pb`) differ. */
export function hammingDistance(pa: ArrayLike<number>, i: number, pb: ArrayLike<number>, j: number, n: number): number {
  let d = 0;
  for (let k = 0; k < n; k++) if (pa[i * n + k] !== pb[j * n + k]) d++;
  return d;
}

/** Smallest and mean pairwise Hamming distance of `count` orders of `n` tiles. */
export function pairwiseDistances(perms: ArrayLike<number>, count: number, n: number): { min: number; mean: number } {
  let min = count > 1 ? n : 0;
  let sum = 0;
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) {
      const d = hammingDistance(perms, a, perms, b, n);
      sum += d;
      if (d < min) min = d;
    }
  }
  const pairs = (count * (count - 1)) / 2;
  return { min, mean: pairs ? sum / pairs : 0 };
}

const cache = new Map<string, PermutationSet>();

/**
 * N orders of `tiles` tiles (at most 9: all 9! = 362,880 candidates are scanned once per
 * order chosen, about 10 ms each), far apart in Hamming distance, by the paper's greedy
 * algorithm. Deterministic: the same (tiles, N, seed) give the same set (kept in a cache).
 */
export function maximalHammingPermutations(tiles: number, count: number, o: PermutationSetOptions = {}): PermutationSet {
  const seed = o.seed ?? 0;
  if (!Number.isInteger(tiles) || tiles < 2 || tiles > 9) throw new RangeError(`maximalHammingPermutations: tiles must be an integer in 2..9 (all tiles! orders are scanned), got ${tiles}`);
  const total = factorial(tiles);
  if (!Number.isInteger(count) || count < 2 || count > total) throw new RangeError(`maximalHammingPermutations: need 2 to ${total} permutations of ${tiles} tiles, got ${count}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`maximalHammingPermutations: seed must be a non-negative integer, got ${seed}`);
  const key = `${tiles}/${count}/${seed}`;
  const hit = cache.get(key);
  if (hit) return { ...hit, perms: hit.perms.slice() };

  const all = allPermutations(tiles);
  const sum = new Int32Array(total);
  const nearest = new Uint8Array(total).fill(255);
  const taken = new Uint8Array(total);
  const chosen = new Uint8Array(count * tiles);
  let next = new Rng(seed, 0x1195).int(total);
  for (let p = 0; p < count; p++) {
    chosen.set(all.subarray(next * tiles, (next + 1) * tiles), p * tiles);
    taken[next] = 1;
    if (p + 1 === count) break;
    const base = next * tiles;
    let best = -1;
    let bestSum = -1;
    let bestNearest = -1;
    for (let c = 0; c < total; c++) {
      if (taken[c]) continue;
      let d = 0;
      const off = c * tiles;
      for (let k = 0; k < tiles; k++) if (all[off + k] !== all[base + k]) d++;
      const s = (sum[c] += d);
      const m = d < nearest[c]! ? (nearest[c] = d) : nearest[c]!;
      if (s > bestSum || (s === bestSum && m > bestNearest)) {
        best = c;
        bestSum = s;
        bestNearest = m;
      }
    }
    next = best;
  }
  const { min, mean } = pairwiseDistances(chosen, count, tiles);
  const set: PermutationSet = { tiles, perms: chosen, count, seed, minDistance: min, meanDistance: mean };
  cache.set(key, set);
  return { ...set, perms: chosen.slice() };
}
