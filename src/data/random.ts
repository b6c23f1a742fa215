// A small seeded PRNG for data handling (shuffles, subsets, augmentation choices),
// independent of libtorch's generators so that data order repeats from a seed alone.

/** Mixes numbers into one 32-bit seed (murmur3-style finalizer), so (seed, epoch) pairs give unrelated streams. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    if (!Number.isSafeInteger(p)) throw new TypeError(`seed parts must be integers, got ${p}`);
    // Fold in the low and high 32 bits so large seeds still matter.
    for (const word of [p >>> 0, Math.floor(p / 2 ** 32) >>> 0]) {
      h = Math.imul(h ^ word, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}

/** mulberry32: 32-bit state, fast, good enough for shuffling and coin flips. */
export class Rng {
  private state: number;

  /** Seeded by one number or several (e.g. seed, epoch), mixed together. */
  constructor(...seedParts: number[]) {
    this.state = mixSeed(...seedParts);
  }

  /** Uniform on [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer on [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles `a` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i]!;
      a[i] = a[j]!;
      a[j] = tmp;
    }
    return a;
  }
}

/** 0..n-1 in an order fixed by `seed`. */
export function permutation(n: number, seed: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return new Rng(seed).shuffle(a);
}
