// Seedable random streams. A Generator gives a run its own repeatable stream;
// manualSeed() seeds libtorch's global one.
import { native, type GeneratorHandle } from '../native/binding.js';

export class Generator {
  readonly handle: GeneratorHandle;
  constructor(seed: number) {
    checkSeed(seed);
    this.handle = native.newGenerator(seed);
  }
  manualSeed(seed: number): this {
    checkSeed(seed);
    native.generatorSeed(this.handle, seed);
    return this;
  }
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new TypeError(`seed must be a non-negative integer, got ${seed}`);
}

/** Seeds libtorch's global random generator (used when no Generator is passed). */
export function manualSeed(seed: number): void {
  checkSeed(seed);
  native.manualSeed(seed);
}
