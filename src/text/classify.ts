// Few-label text classification with the shared trainer: inputs are token-id
// sequences, padded per batch; the models are in models/text-classifier.ts.
import { Tensor, F, tensor, tidy, noGrad } from '../tensor/index.js';
import { inEvalMode, type Module } from '../nn/index.js';
import type { Optimizer } from '../optim/index.js';
import { fit, type FitResult } from '../train/trainer.js';
import type { MetricsLog } from '../train/metrics-log.js';
import { Rng } from '../data/random.js';
import { padSequences, TensorBatch } from '../data/text/sequences.js';
import type { WordVocab } from '../data/text/vocab.js';

/** The distinct known-word ids of each text: the one-hot bag of words. */
export function bagOfWordsInputs(vocab: WordVocab, texts: readonly string[]): Int32Array[] {
  return texts.map((t) => Int32Array.from(new Set(vocab.encode(t).filter((i) => i !== 0))));
}

export interface SequenceData {
  sequences: readonly Int32Array[];
  labels: ArrayLike<number>;
  padId: number;
  /** Cut sequences to this length. */
  maxLen?: number;
}

export interface ClassifierTrainOptions {
  name: string;
  model: Module;
  optimizer: Optimizer;
  data: SequenceData;
  steps: number;
  batchSize: number;
  seed: number;
  metrics?: MetricsLog;
  progress?: boolean;
}

function labelsOf(labels: ArrayLike<number>, rows: ArrayLike<number>): Tensor {
  return tensor(Int32Array.from(rows, (i) => labels[i]!), { dtype: 'int64' });
}

/** Trains `model` to classify the sequences for `steps` steps of shuffled mini-batches. */
export async function trainClassifier(o: ClassifierTrainOptions): Promise<FitResult> {
  const n = o.data.sequences.length;
  if (n === 0) throw new RangeError(`${o.name}: no training examples`);
  const batchSize = Math.min(o.batchSize, n);
  const stepsPerEpoch = Math.floor(n / batchSize);
  const epochs = Math.max(1, Math.ceil(o.steps / stepsPerEpoch));
  const { sequences, labels, padId, maxLen } = o.data;
  const batches = function* (epoch: number): Generator<TensorBatch> {
    const order = new Rng(o.seed, epoch, 0xc1a).shuffle(Int32Array.from({ length: n }, (_, i) => i));
    for (let s = 0; s < stepsPerEpoch; s++) {
      const rows = order.subarray(s * batchSize, (s + 1) * batchSize);
      yield new TensorBatch(padSequences(Array.from(rows, (i) => sequences[i]!), padId, maxLen), labelsOf(labels, rows));
    }
  };
  return fit<TensorBatch>({
    name: o.name, model: o.model, optimizer: o.optimizer, epochs, stepsPerEpoch, batches,
    step: (b) => {
      const [x, y] = b.tensors as [Tensor, Tensor];
      const logits = o.model.forward(x);
      return { loss: F.crossEntropy(logits, y), correct: logits.argmax(1).eq(y).sum(), count: y.shape[0]! };
    },
    metrics: o.metrics, progress: o.progress ?? false, handleInterrupt: false, unit: 'docs',
  });
}

/** Top-1 accuracy of a sequence classifier, in eval mode without gradients. */
export function classifierAccuracy(model: Module, data: SequenceData, batchSize = 256): number {
  const n = data.sequences.length;
  let correct = 0;
  inEvalMode(model, () => noGrad(() => {
    for (let s = 0; s < n; s += batchSize) {
      const rows = Int32Array.from({ length: Math.min(batchSize, n - s) }, (_, i) => s + i);
      correct += tidy(() => {
        const x = padSequences(Array.from(rows, (i) => data.sequences[i]!), data.padId, data.maxLen);
        return model.forward(x).argmax(1).eq(labelsOf(data.labels, rows)).sum().item();
      });
    }
  }));
  return n ? correct / n : 0;
}
