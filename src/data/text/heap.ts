// A max-heap of (count, key) pairs, larger count first and smaller key on ties,
// so that BPE training picks the same merge every time.

export class CountHeap {
  readonly #counts: number[] = [];
  readonly #keys: number[] = [];

  get size(): number {
    return this.#counts.length;
  }

  #above(i: number, j: number): boolean {
    const ci = this.#counts[i]!;
    const cj = this.#counts[j]!;
    return ci > cj || (ci === cj && this.#keys[i]! < this.#keys[j]!);
  }

  #swap(i: number, j: number): void {
    [this.#counts[i], this.#counts[j]] = [this.#counts[j]!, this.#counts[i]!];
    [this.#keys[i], this.#keys[j]] = [this.#keys[j]!, this.#keys[i]!];
  }

  push(count: number, key: number): void {
    this.#counts.push(count);
    this.#keys.push(key);
    let i = this.#counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#above(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the top entry, or null when empty. */
  pop(): { count: number; key: number } | null {
    const n = this.#counts.length;
    if (n === 0) return null;
    const top = { count: this.#counts[0]!, key: this.#keys[0]! };
    this.#swap(0, n - 1);
    this.#counts.pop();
    this.#keys.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n - 1 && this.#above(l, best)) best = l;
      if (r < n - 1 && this.#above(r, best)) best = r;
      if (best === i) break;
      this.#swap(i, best);
      i = best;
    }
    return top;
  }
}
