// A small seeded PRNG: call `index` of run `seed` always draws the same numbers,
// so one failing call can be replayed alone (--only).
export class Rng {
  #s: number;
  constructor(seed: number, index = 0) {
    // splitmix-style mixing of (seed, index) into one 32-bit state
    let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index | 0, 0x85ebca6b)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
    this.#s = (h ^ (h >>> 16)) >>> 0;
  }
  /** Uniform on [0, 1) (mulberry32). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer on [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  /** A 31-bit integer, e.g. to seed libtorch for this call. */
  seed(): number {
    return Math.floor(this.next() * 0x7fffffff);
  }
}
