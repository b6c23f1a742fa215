// Typed access to the fused skip-gram loop (native/skipgram.cc). The kernel writes the
// two word tables in place; it checks every input itself and throws on a bad one.
import { native, type TensorHandle } from './binding.js';

export interface SkipGramEpochOptions {
  window: number;
  negatives: number;
  /** Threads, each on its own slice of the documents, updating the tables without locks. */
  threads: number;
  /** Word id never trained (the unknown word, 0); -1 trains every id. */
  dropId: number;
  /** Starting rate; it decays linearly over the run, as in word2vec. */
  lr: number;
  /** Where this epoch starts and ends in the run's schedule, as fractions in [0, 1]. */
  progressFrom: number;
  progressTo: number;
  /** Floor of the rate as a fraction of lr (word2vec: 1e-4). */
  minLrFraction: number;
  seed: number;
  epoch: number;
  /** Visit documents in a fresh random order each epoch. */
  shuffle: boolean;
}

export interface SkipGramEpochResult {
  /** Corpus words read (before subsampling), as word2vec counts them. */
  words: number;
  /** Words left after subsampling. */
  keptWords: number;
  pairs: number;
  /** Mean pair loss over every 16th centre position. */
  loss: number;
}

interface SkipGramNative {
  skipgramTrainEpoch(input: TensorHandle, output: TensorHandle, ids: TensorHandle, offsets: TensorHandle, keep: TensorHandle | null,
    noise: TensorHandle, options: SkipGramEpochOptions): SkipGramEpochResult;
  skipgramTrainPairs(input: TensorHandle, output: TensorHandle, centres: TensorHandle, contexts: TensorHandle, negatives: TensorHandle, lr: number): number;
}

export const skipGramNative = native as unknown as SkipGramNative;
