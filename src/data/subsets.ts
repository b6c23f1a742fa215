// Seeded index subsets: a few labelled examples per class (for linear probes and
// semi-supervised evaluation) and random splits.
import { Rng, permutation } from './random.js';

/**
 * Indices of `k` examples of every class in `labels`, chosen at random by `seed`,
 * returned in ascending order. Classes are the distinct labels present, or
 * 0..numClasses-1 when `numClasses` is given (then a missing class is an error).
 */
export function kPerClass(labels: ArrayLike<number>, k: number, seed: number, numClasses?: number): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`kPerClass: k must be a positive integer, got ${k}`);
  const byClass = new Map<number, number[]>();
  if (numClasses !== undefined) for (let c = 0; c < numClasses; c++) byClass.set(c, []);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    let list = byClass.get(c);
    if (!list) {
      if (numClasses !== undefined) throw new RangeError(`kPerClass: label ${c} at index ${i} is outside 0..${numClasses - 1}`);
      byClass.set(c, (list = []));
    }
    list.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const out = new Int32Array(classes.length * k);
  let n = 0;
  for (const c of classes) {
    const members = byClass.get(c)!;
    if (members.length < k) throw new RangeError(`kPerClass: class ${c} has only ${members.length} examples, fewer than k = ${k}`);
    // Each class draws from its own stream, so adding a class does not change the others' picks.
    const rng = new Rng(seed, c);
    for (let i = 0; i < k; i++) { // partial Fisher-Yates: the first k after i swaps are a uniform sample
      const j = i + rng.int(members.length - i);
      const pick = members[j]!;
      members[j] = members[i]!;
      members[i] = pick;
      out[n++] = pick;
    }
  }
  return out.sort();
}

/**
 * Splits 0..n-1, shuffled by `seed`, into consecutive parts of the given fractions
 * (part sizes are rounded at cumulative boundaries, so fractions summing to 1 cover
 * every index exactly once; a smaller sum leaves the rest out).
 */
export function splitIndices(n: number, fractions: number[], seed: number): Int32Array[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`splitIndices: n must be a non-negative integer, got ${n}`);
  if (fractions.length === 0 || fractions.some((f) => !(f >= 0))) {
    throw new RangeError(`splitIndices: fractions must be non-negative numbers, got [${fractions.join(', ')}]`);
  }
  const total = fractions.reduce((a, b) => a + b, 0);
  if (total > 1 + 1e-9) throw new RangeError(`splitIndices: fractions sum to ${total}, more than 1`);
  const order = permutation(n, seed);
  const parts: Int32Array[] = [];
  let cumulative = 0;
  let start = 0;
  for (const f of fractions) {
    cumulative += f;
    const end = Math.min(n, Math.round(Math.min(cumulative, 1) * n));
    parts.push(order.slice(start, end));
    start = end;
  }
  return parts;
}
