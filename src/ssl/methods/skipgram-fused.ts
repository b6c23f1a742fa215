// Skip-gram's fused engine: whole epochs in the native word2vec loop (native/skipgram.cc)
// instead of one libtorch graph per batch. The word table stays a WordTable of selfsup
// tensors, written in place, so checkpoints, WordVectors and export work as before.
//
// Budget: `epochs` passes over the corpus, the rate decaying linearly from `lr` over all
// of them as in word2vec and fastText; `maxSteps`, `batchSize` and `optimizer` belong to
// the batched engine and are not used. One "step" here is one epoch: checkpoints, the
// curve, callbacks and Ctrl-C act between epochs; a time budget stops after the epoch
// that crosses it. With one thread a run repeats exactly; with more, lock-free updates
// race as in word2vec, so the vectors differ slightly from run to run.
import { existsSync } from 'node:fs';
import { tensor, getNumThreads, noGrad, type Tensor } from '../../tensor/index.js';
import { saveCheckpoint, loadCheckpoint, checkpointPaths } from '../../io/index.js';
import { noiseDistribution } from '../../data/text/noise.js';
import { keepProbabilities } from '../../data/text/subsample.js';
import { skipGramNative } from '../../native/skipgram-kernel.js';
import type { CurvePoint } from '../../report/types.js';
import type { Callbacks } from '../../train/callbacks/types.js';
import type { FitResult } from '../../train/trainer.js';
import type { SkipGramNegativeSampling, SkipGramTrainOptions, SkipGramTrainResult } from './skipgram.js';

/** word2vec's floor on the decayed rate, as a fraction of the starting rate. */
const MIN_LR_FRACTION = 1e-4;

interface FusedCheckpointMeta {
  engine?: string;
  epoch?: number;
  curve?: CurvePoint[];
  seconds?: number;
}

/** Trains `method`'s word table in place with the fused loop; see the file comment for the budget. */
export async function trainSkipGramFused(method: SkipGramNegativeSampling, o: SkipGramTrainOptions): Promise<SkipGramTrainResult> {
  const c = o.config;
  const name = o.name ?? 'skipgram';
  const table = method.encoder;
  const threads = c.threads ?? getNumThreads();
  const noise = noiseDistribution(o.vocab.counts, c.noisePower);
  noise[0] = 0; // the unknown token is never a noise word
  const owned: Tensor[] = [];
  const own = (t: Tensor): Tensor => (owned.push(t), t);
  const ids = own(tensor(o.corpus.ids));
  const offsets = own(tensor(o.corpus.offsets));
  const keep = c.subsample > 0 ? own(tensor(keepProbabilities(o.vocab.counts, c.subsample))) : null;
  const noiseWeights = own(tensor(noise));
  const callbacks: Callbacks[] = o.callbacks === undefined ? [] : Array.isArray(o.callbacks) ? [...o.callbacks] : [o.callbacks as Callbacks];

  let startEpoch = 0;
  let curve: CurvePoint[] = [];
  let secondsBefore = 0;
  if (o.resume && o.checkpoint && existsSync(checkpointPaths(o.checkpoint).json)) {
    const ck = loadCheckpoint(o.checkpoint);
    const meta = ck.meta as FusedCheckpointMeta;
    try {
      if (meta.engine !== 'fused') throw new Error(`${name}: the checkpoint at ${ck.paths.json} comes from the batched engine; resume it with engine: 'batched'`);
      method.loadStateDict(ck.model);
    } finally {
      for (const t of ck.model.values()) t.dispose();
    }
    startEpoch = meta.epoch ?? 0;
    curve = meta.curve ?? [];
    secondsBefore = meta.seconds ?? 0;
  }

  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${name}: Ctrl-C: stopping after this epoch (Ctrl-C again to quit at once)\n`);
  };
  process.on('SIGINT', onSigint);
  let stopReason: string | null = null;
  const control = { stop: (reason: string): void => { stopReason = reason; } };
  let epoch = startEpoch;
  let seconds = 0;
  let words = 0;
  let pairs = 0;
  let lastLoss = NaN;
  let stoppedByBudget = false;
  try {
    while (epoch < c.epochs) {
      const t0 = performance.now();
      const r = noGrad(() => skipGramNative.skipgramTrainEpoch(
        table.inEmbed.weight.handle, table.outEmbed.weight.handle, ids.handle, offsets.handle, keep?.handle ?? null, noiseWeights.handle,
        {
          window: c.window, negatives: c.negatives, threads, dropId: 0, lr: c.lr, minLrFraction: MIN_LR_FRACTION,
          progressFrom: epoch / c.epochs, progressTo: (epoch + 1) / c.epochs, seed: c.seed, epoch, shuffle: true,
        }));
      const dt = (performance.now() - t0) / 1000;
      seconds += dt;
      words += r.words;
      pairs += r.pairs;
      lastLoss = r.loss;
      const lr = c.lr * Math.max(MIN_LR_FRACTION, 1 - (epoch + 1) / c.epochs);
      curve.push({ step: epoch + 1, epoch, loss: r.loss, lr });
      o.metrics?.write({ run: name, engine: 'fused', epoch, step: epoch + 1, loss: r.loss, lr, words: r.words, keptWords: r.keptWords, pairs: r.pairs, wordsPerSecond: r.words / dt });
      if (o.progress !== false) process.stderr.write(`${name}: epoch ${epoch + 1}/${c.epochs}: loss ${r.loss.toFixed(4)}, ${Math.round(r.words / dt)} words/s (${threads} threads)\n`);
      epoch++;
      for (const cb of callbacks) {
        await cb.onStepEnd?.(epoch, { loss: r.loss, lr }, control);
        await cb.onEpochEnd?.(epoch - 1, { loss: r.loss, lr }, control);
      }
      if (o.checkpoint) {
        saveCheckpoint(o.checkpoint, {
          model: method,
          meta: { ...o.checkpointMeta, method: method.name, family: method.family, engine: 'fused', run: name, epoch, step: epoch, curve, seconds: secondsBefore + seconds, config: c, vocab: o.vocab.toJSON() },
          keepPrevious: true,
        });
      }
      await new Promise<void>((resolve) => setImmediate(resolve)); // lets a pending Ctrl-C in
      if (interrupted || stopReason) break;
      if (c.timeBudgetSeconds !== undefined && secondsBefore + seconds >= c.timeBudgetSeconds && epoch < c.epochs) {
        stoppedByBudget = true;
        break;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    for (const t of owned) t.dispose();
  }
  const fit: FitResult = {
    epochsDone: epoch, steps: epoch, interrupted, stoppedByBudget, examplesPerSecond: seconds > 0 ? pairs / seconds : 0,
    seconds: secondsBefore + seconds, lastLoss, curve, lastValidation: {},
  };
  const epochsRun = epoch - startEpoch;
  return {
    model: method.takeEncoder(), fit, pairsPerSecond: fit.examplesPerSecond, wordsPerSecond: seconds > 0 ? words / seconds : 0,
    pairsPerEpoch: epochsRun > 0 ? Math.round(pairs / epochsRun) : 0,
  };
}
