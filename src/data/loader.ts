// DataLoader: seeded shuffling, batching, augmentation and normalization, done as a
// few libtorch ops per batch. Images stay uint8 until the last step, where one op
// turns them into float32 in [0, 1].
import { Tensor, tensor, tidy } from '../tensor/index.js';
import { gatherImages, imageSize, type ImageDataset } from './dataset.js';
import { normalizeBatch_, randomCrop, randomFlip, type PadMode } from './augment.js';
import { Rng } from './random.js';
import { checkShard, shardOrder, shardedBatches, type Shard } from '../distributed/sampler.js';

/** Data already in tensors: x [N, C, H, W] (uint8 0..255 or float), y int64 [N]. The caller keeps ownership. */
export interface TensorSource {
  x: Tensor;
  y?: Tensor | null;
}

export interface LoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (default true); false keeps the source order. */
  shuffle?: boolean;
  /** Fixes the order and augmentation of every epoch (default 0). */
  seed?: number;
  /** Skip the last batch when it would be smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Use only these examples of the source (e.g. from kPerClass or splitIndices). */
  indices?: ArrayLike<number>;
  /** Random crop after padding every side by `padding` pixels (a number means zero padding). */
  crop?: number | { padding: number; mode?: PadMode };
  /** Random horizontal flip: true for probability 0.5, or the probability. */
  flip?: boolean | number;
  /** Per-channel normalization applied after scaling to [0, 1]: (x - mean) / std. */
  mean?: number[];
  std?: number[];
  /** Where batches go ('cpu' default, or 'cuda'); augmentation runs there. */
  device?: string;
  /** Data-parallel: this rank's slice of every global batch (see distributed/sampler.ts); needs dropLast. */
  shard?: Shard;
}

/**
 * One batch. The consumer owns its tensors and must free them: call `dispose()`,
 * write `using batch = b` inside the loop, or run the step in a scope that frees them.
 */
export interface Batch extends Disposable {
  /** float32 [B, C, H, W] */
  x: Tensor;
  /** int64 [B], or null for unlabelled data */
  y: Tensor | null;
  /** Which examples of the source are in the batch, in batch order. */
  indices: Int32Array;
  dispose(): void;
}

function makeBatch(x: Tensor, y: Tensor | null, indices: Int32Array): Batch {
  const dispose = (): void => {
    x.dispose();
    y?.dispose();
  };
  return { x, y, indices, dispose, [Symbol.dispose]: dispose };
}

function isTensorSource(s: ImageDataset | TensorSource): s is TensorSource {
  return 'x' in s && s.x instanceof Tensor;
}

/**
 * Iterates over a data set in batches, one epoch per `for...of`.
 *
 * ```ts
 * const loader = new DataLoader(train, { batchSize: 128, seed: 1, crop: 2, flip: true, mean: [0.286], std: [0.353] });
 * for (const b of loader) {
 *   using batch = b;            // frees batch.x and batch.y at the end of the body
 *   step(batch.x, batch.y);
 * }
 * ```
 */
export class DataLoader implements Iterable<Batch> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly shard: Shard | null;
  /** The epoch the next `for...of` runs (counts up from 0). */
  epoch = 0;
  private readonly source: ImageDataset | TensorSource;
  private readonly pool: Int32Array;
  private readonly shape: [number, number, number];
  private readonly crop: { padding: number; mode: PadMode } | null;
  private readonly flipP: number;
  private readonly norm: { mean: number[]; std: number[] } | null;
  private readonly device: string;
  /** Reused for the bytes of each batch (tensor() copies them). */
  private scratch: Uint8Array | null = null;

  constructor(source: ImageDataset | TensorSource, opts: LoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    this.source = source;
    this.batchSize = opts.batchSize;
    this.shuffle = opts.shuffle ?? true;
    this.seed = opts.seed ?? 0;
    if (!Number.isSafeInteger(this.seed)) throw new TypeError(`DataLoader: seed must be an integer, got ${opts.seed}`);
    this.dropLast = opts.dropLast ?? false;
    this.device = opts.device ?? 'cpu';
    this.shard = opts.shard && opts.shard.worldSize > 1 ? opts.shard : null;
    if (this.shard) {
      checkShard(this.shard);
      // Every rank must take the same number of steps, or the collectives would wait on a rank that has finished.
      if (!this.dropLast) throw new RangeError('DataLoader: a sharded (data-parallel) loader needs dropLast');
    }

    const n = isTensorSource(source) ? this.checkTensorSource(source) : source.length;
    this.shape = isTensorSource(source) ? (source.x.shape.slice(1) as [number, number, number]) : source.imageShape;
    this.pool = opts.indices ? Int32Array.from(opts.indices) : Int32Array.from({ length: n }, (_, i) => i);
    const bad = this.pool.findIndex((i) => i < 0 || i >= n);
    if (bad >= 0) throw new RangeError(`DataLoader: indices[${bad}] = ${this.pool[bad]} is outside 0..${n - 1}`);

    const crop = typeof opts.crop === 'number' ? { padding: opts.crop } : opts.crop;
    this.crop = crop && crop.padding > 0 ? { padding: crop.padding, mode: crop.mode ?? 'zeros' } : null;
    this.flipP = opts.flip === true ? 0.5 : opts.flip === false || opts.flip === undefined ? 0 : opts.flip;
    if (!(this.flipP >= 0 && this.flipP <= 1)) throw new RangeError(`DataLoader: flip probability must be in [0, 1], got ${opts.flip}`);
    if ((opts.mean === undefined) !== (opts.std === undefined)) throw new TypeError('DataLoader: give both mean and std, or neither');
    this.norm = opts.mean && opts.std ? { mean: opts.mean, std: opts.std } : null;
    if (this.norm && (this.norm.mean.length !== this.shape[0] || this.norm.std.length !== this.shape[0])) {
      throw new RangeError(`DataLoader: mean and std need one value per channel (${this.shape[0]}), got ${this.norm.mean.length} and ${this.norm.std.length}`);
    }
  }

  private checkTensorSource(s: TensorSource): number {
    if (s.x.ndim !== 4) throw new RangeError(`DataLoader: x must be [N, C, H, W], got shape [${s.x.shape.join(', ')}]`);
    const n = s.x.size(0);
    if (s.y && (s.y.ndim !== 1 || s.y.size(0) !== n)) throw new RangeError(`DataLoader: y must be [${n}] to match x, got shape [${s.y.shape.join(', ')}]`);
    return n;
  }

  /** Examples per epoch. */
  get size(): number {
    return this.dropLast ? this.length * this.batchSize : this.pool.length;
  }

  /** Batches per epoch. */
  get length(): number {
    if (this.shard) return shardedBatches(this.pool.length, this.batchSize, this.shard);
    return this.dropLast ? Math.floor(this.pool.length / this.batchSize) : Math.ceil(this.pool.length / this.batchSize);
  }

  /** The order in which epoch `epoch` visits the examples (source indices). */
  order(epoch: number): Int32Array {
    const pool = Int32Array.from(this.pool);
    const order = this.shuffle ? new Rng(this.seed, epoch, 0).shuffle(pool) : pool;
    return this.shard ? shardOrder(order, this.batchSize, this.shard) : order;
  }

  [Symbol.iterator](): Iterator<Batch> {
    return this.batches(this.epoch++);
  }

  /** The batches of one epoch; the same epoch number always gives the same batches. */
  *batches(epoch: number): Generator<Batch, void, undefined> {
    const order = this.order(epoch);
    // Each rank draws its own crops and flips.
    const augmentRng = this.shard ? new Rng(this.seed, epoch, 1, this.shard.rank) : new Rng(this.seed, epoch, 1);
    for (let b = 0; b < this.length; b++) {
      const indices = order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize));
      yield this.makeBatch(indices.slice(), augmentRng);
    }
  }

  private makeBatch(indices: Int32Array, rng: Rng): Batch {
    const { x, y } = tidy(() => {
      const raw = this.gather(indices);
      let x = raw.x;
      // x is always a fresh tensor here (never the source's), so the in-place steps are safe.
      // Each large fresh allocation costs page faults, so there are as few as possible.
      if (this.crop) x = randomCrop(x, this.crop.padding, rng, this.crop.mode);
      if (this.flipP > 0) randomFlip(x, rng, this.flipP, true);
      // Scale last, so cropping and flipping move bytes rather than floats.
      // uint8 / 255 is true division: one op straight to float32.
      if (x.dtype === 'uint8') x = x.div(255);
      else if (x.dtype !== 'float32') x = x.to('float32');
      if (this.norm) normalizeBatch_(x, this.norm.mean, this.norm.std);
      return { x, y: raw.y };
    });
    return makeBatch(x, y, indices);
  }

  /** The examples at `indices` as a uint8 (or float) batch and int64 labels, on the target device. */
  private gather(indices: Int32Array): { x: Tensor; y: Tensor | null } {
    const src = this.source;
    let x: Tensor;
    let y: Tensor | null = null;
    if (isTensorSource(src)) {
      const idx = tensor(indices, { dtype: 'int64', device: src.x.device });
      x = src.x.indexSelect(0, idx);
      if (src.y) {
        y = src.y.indexSelect(0, idx.to(src.y.device));
        if (y.dtype !== 'int64') y = y.to('int64');
      }
    } else {
      this.scratch ??= new Uint8Array(this.batchSize * imageSize(src));
      const bytes = gatherImages(src, indices, this.scratch.subarray(0, indices.length * imageSize(src)));
      x = tensor(bytes, { shape: [indices.length, ...src.imageShape] });
      const labels = src.labels;
      if (labels) y = tensor(Int32Array.from(indices, (i) => labels[i]!), { dtype: 'int64' });
    }
    if (x.device !== this.device) x = x.to(this.device);
    if (y && y.device !== this.device) y = y.to(this.device);
    return { x, y };
  }
}
