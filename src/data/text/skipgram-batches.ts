// Skip-gram's batches, corpus-side: each epoch's (centre, context) pairs are made in
// typed arrays (pairs.ts, after subsampling), shuffled by libtorch, cut into batches,
// and given K noise words per pair from the unigram^0.75 distribution (noise.ts).
// Everything is a function of (seed, epoch), so a resumed run repeats its batches.
import { Tensor, tensor, tidy, randperm, keep, cat, Generator as TorchGenerator } from '../../tensor/index.js';
import { Rng, mixSeed } from '../random.js';
import { AliasSampler, noiseDistribution } from './noise.js';
import { keepProbabilities } from './subsample.js';
import { skipGramPairs } from './pairs.js';
import type { WordVocab, EncodedCorpus } from './vocab.js';

/** What the batches depend on (a subset of SkipGramConfig). */
export interface SkipGramBatchOptions {
  window: number;
  negatives: number;
  /** Subsampling threshold t; 0 turns subsampling off. */
  subsample: number;
  noisePower: number;
  batchSize: number;
  seed: number;
}

/** One training batch: B (center, context) pairs and K noise words per pair. */
export class SkipGramBatch implements Disposable {
  constructor(readonly centers: Tensor, readonly contexts: Tensor, readonly negatives: Tensor) {}
  [Symbol.dispose](): void {
    this.centers.dispose();
    this.contexts.dispose();
    this.negatives.dispose();
  }
}

/**
 * The batches of one epoch, a function of (seed, epoch) alone so that a resumed run
 * repeats them. Exactly `steps` batches: a short epoch wraps around to its start.
 */
export function* skipGramBatches(corpus: EncodedCorpus, keepProb: Float32Array | undefined, sampler: AliasSampler,
  c: Pick<SkipGramBatchOptions, 'window' | 'negatives' | 'batchSize' | 'seed'>, epoch: number, steps: number): Generator<SkipGramBatch> {
  const pairs = skipGramPairs(corpus, new Rng(c.seed, epoch), { window: c.window, keep: keepProb });
  if (pairs.centers.length === 0) throw new Error('skip-gram: the corpus gives no (center, context) pairs; documents need at least two known words');
  const generator = new TorchGenerator(mixSeed(c.seed, epoch, 1));
  const [centers, contexts] = tidy(() => {
    const order = randperm(pairs.centers.length, { generator });
    const need = steps * c.batchSize;
    const wrap = (t: Tensor): Tensor => {
      let s = t.indexSelect(0, order);
      while (s.shape[0]! < need) s = cat([s, s.slice(0, 0, need - s.shape[0]!)]);
      return s;
    };
    return [wrap(tensor(pairs.centers, { dtype: 'int64' })), wrap(tensor(pairs.contexts, { dtype: 'int64' }))];
  }).map((t) => keep(t));
  try {
    for (let s = 0; s < steps; s++) {
      const from = s * c.batchSize;
      yield new SkipGramBatch(
        keep(centers.slice(0, from, from + c.batchSize)),
        keep(contexts.slice(0, from, from + c.batchSize)),
        keep(sampler.sample([c.batchSize, c.negatives], generator)),
      );
    }
  } finally {
    centers.dispose();
    contexts.dispose();
  }
}

/** A corpus as pretrainOn's batch source; dispose it (its noise sampler holds tensors) when training is over. */
export class SkipGramSource implements Disposable {
  readonly sampler: AliasSampler;
  readonly keepProb: Float32Array | undefined;
  /** Pairs in the first epoch (later epochs subsample and window differently). */
  readonly pairsPerEpoch: number;
  readonly stepsPerEpoch: number;

  constructor(vocab: WordVocab, readonly corpus: EncodedCorpus, readonly options: SkipGramBatchOptions) {
    const c = options;
    const noise = noiseDistribution(vocab.counts, c.noisePower);
    noise[0] = 0; // the unknown token is never a noise word
    this.sampler = new AliasSampler(noise);
    this.keepProb = c.subsample > 0 ? keepProbabilities(vocab.counts, c.subsample) : undefined;
    this.pairsPerEpoch = skipGramPairs(corpus, new Rng(c.seed, 0), { window: c.window, keep: this.keepProb }).centers.length;
    this.stepsPerEpoch = Math.max(1, Math.floor(this.pairsPerEpoch / c.batchSize));
  }

  batches(epoch: number): Iterable<SkipGramBatch> {
    return skipGramBatches(this.corpus, this.keepProb, this.sampler, this.options, epoch, this.stepsPerEpoch);
  }

  dispose(): void {
    this.sampler.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
