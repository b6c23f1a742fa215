// Which examples each rank trains on: the epoch's one seeded order (the same on every
// rank) cut into global batches of worldSize x batchSize, and each rank takes its own
// contiguous slice of every global batch. The shards are disjoint, depend only on
// (seed, epoch, rank), so resume repeats them, and together each global batch is
// exactly the batch one process with worldSize x batchSize would see.
export interface Shard {
  rank: number;
  worldSize: number;
}

export function checkShard(s: Shard): void {
  if (!Number.isInteger(s.worldSize) || s.worldSize < 1 || !Number.isInteger(s.rank) || s.rank < 0 || s.rank >= s.worldSize) {
    throw new RangeError(`shard: rank ${s.rank} of world size ${s.worldSize} is not a rank 0..worldSize-1`);
  }
}

/** Global batches in one epoch of `n` examples (the tail that fills no global batch is dropped). */
export function shardedBatches(n: number, batchSize: number, s: Shard): number {
  return Math.floor(n / (batchSize * s.worldSize));
}

/** This rank's examples of `order`, in batch order: `shardedBatches` batches of `batchSize`. */
export function shardOrder(order: Int32Array, batchSize: number, s: Shard): Int32Array {
  checkShard(s);
  const batches = shardedBatches(order.length, batchSize, s);
  const out = new Int32Array(batches * batchSize);
  const globalBatch = batchSize * s.worldSize;
  for (let b = 0; b < batches; b++) {
    out.set(order.subarray(b * globalBatch + s.rank * batchSize, b * globalBatch + (s.rank + 1) * batchSize), b * batchSize);
  }
  return out;
}
