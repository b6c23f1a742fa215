// Token sequences into padded int64 batches. An epoch's order is a function of
// (seed, epoch); documents of similar length share a batch so padding stays small.
import { Tensor, tensor, keep, tidy } from '../../tensor/index.js';
import { Rng } from '../random.js';

/** Pads sequences with `padId` to the longest one (at most `maxLen`; longer ones are cut): [B, L] int64. */
export function padSequences(seqs: readonly Int32Array[], padId: number, maxLen = Infinity): Tensor {
  if (seqs.length === 0) throw new RangeError('padSequences: no sequences');
  const len = Math.max(1, Math.min(maxLen, Math.max(...seqs.map((s) => s.length))));
  const out = new Int32Array(seqs.length * len).fill(padId);
  seqs.forEach((s, i) => out.set(s.length > len ? s.subarray(0, len) : s, i * len));
  return tensor(out, { shape: [seqs.length, len], dtype: 'int64' });
}

/**
 * The batches of one epoch as lists of indices into `lengths`: shuffled by (seed, epoch),
 * sorted by length within windows of 50 batches, then the batches themselves shuffled.
 * Batches are full (the last partial one is dropped) unless there are fewer items than one batch.
 */
export function lengthBucketedBatches(lengths: ArrayLike<number>, batchSize: number, seed: number, epoch: number): Int32Array[] {
  const n = lengths.length;
  const rng = new Rng(seed, epoch, 0xb0c);
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const size = Math.min(batchSize, n);
  const window = 50 * size;
  const batches: Int32Array[] = [];
  for (let start = 0; start + size <= n; start += window) {
    const chunk = order.slice(start, Math.min(n, start + window)).sort((a, b) => lengths[a]! - lengths[b]!);
    for (let b = 0; b + size <= chunk.length; b += size) batches.push(chunk.slice(b, b + size));
  }
  for (let i = batches.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [batches[i], batches[j]] = [batches[j]!, batches[i]!];
  }
  return batches;
}

/** How many batches lengthBucketedBatches gives. */
export function bucketedBatchCount(n: number, batchSize: number): number {
  const size = Math.min(batchSize, n);
  const window = 50 * size;
  let count = 0;
  for (let start = 0; start + size <= n; start += window) count += Math.floor(Math.min(window, n - start) / size);
  return count;
}

/** A batch the trainer disposes after its step. */
export class TensorBatch implements Disposable {
  readonly tensors: Tensor[];
  constructor(...tensors: Tensor[]) {
    this.tensors = tensors.map((t) => keep(t));
  }
  [Symbol.dispose](): void {
    for (const t of this.tensors) t.dispose();
  }
}

/**
 * Length-bucketed batches of padded token sequences, nothing else (SimCSE's input: its
 * second view comes from dropout, not from the data). An epoch is a function of (seed, epoch).
 */
export class SequenceBatchSource {
  readonly stepsPerEpoch: number;
  readonly #lengths: Int32Array;

  constructor(readonly sequences: readonly Int32Array[], readonly config: { batchSize: number; maxLen: number; seed: number; padId: number }) {
    if (sequences.length === 0) throw new RangeError('SequenceBatchSource: no sequences');
    this.#lengths = Int32Array.from(sequences, (s) => s.length);
    this.stepsPerEpoch = bucketedBatchCount(sequences.length, config.batchSize);
  }

  *batches(epoch: number): Generator<TensorBatch> {
    const c = this.config;
    for (const b of lengthBucketedBatches(this.#lengths, c.batchSize, c.seed, epoch)) {
      yield tidy(() => new TensorBatch(padSequences(Array.from(b, (i) => this.sequences[i]!), c.padId, c.maxLen)));
    }
  }

  dispose(): void {}

  [Symbol.dispose](): void {}
}
