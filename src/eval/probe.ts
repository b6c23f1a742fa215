// Linear probe: a linear classifier trained on frozen, pooled features of one
// block. The encoder runs once, in eval mode, without gradients; the probe sees
// standardised features (train-set mean and std), as is usual for linear evaluation.
import { Tensor, tidy, noGrad, enableGrad, keep, F, checkDevice, onDevice } from '../tensor/index.js';
import { Linear } from '../nn/index.js';
import { Adam } from '../optim/index.js';
import type { Classifier } from '../models/heads.js';
import type { ImageDataset } from '../data/index.js';
import { extractFeatures, labelTensor, type Normalization } from './evaluate.js';

export interface ProbeOptions {
  /** Optimisation steps over the whole (small) training set (default 300). */
  steps?: number;
  lr?: number;
  weightDecay?: number;
  seed?: number;
  /**
   * Where to train ('cpu', 'cuda', 'cuda:N'; default: where trainFeatures are). Inputs elsewhere
   * are copied there; the classifier is initialised on the CPU, then moved.
   */
  device?: string;
}

export interface ProbeResult {
  accuracy: number;
  trainAccuracy: number;
  classifier: Linear;
  /** Standardisation the classifier expects (on the classifier's device). */
  mean: Tensor;
  std: Tensor;
}

/** `tensors` on `device`; disposing the result frees the copies it made (inputs already there are not copied). */
function placedOn(device: string, ...inputs: Tensor[]): { tensors: Tensor[]; [Symbol.dispose](): void } {
  const tensors = inputs.map((t) => onDevice(t, device));
  return { tensors, [Symbol.dispose]: () => tensors.forEach((t, i) => { if (t !== inputs[i]) t.dispose(); }) };
}

/** A linear classifier fitted to standardised features, and the standardisation it expects. */
export interface FittedProbe {
  classifier: Linear;
  /** Train-set mean and std of the features (on the classifier's device). */
  mean: Tensor;
  std: Tensor;
}

/**
 * Fits a linear classifier to `trainFeatures` [N, D] standardised by their own mean and std
 * (full-batch Adam), on `device` (default: where the features are).
 */
export function fitLinearProbe(trainFeatures: Tensor, trainLabels: Tensor, numClasses: number, o: ProbeOptions = {}): FittedProbe {
  const d = trainFeatures.shape[1]!;
  const device = o.device === undefined ? trainFeatures.device : checkDevice(o.device, 'fitLinearProbe');
  using placed = placedOn(device, trainFeatures, trainLabels);
  const [X, Y] = placed.tensors as [Tensor, Tensor];
  const mean = keep(X.mean(0, true));
  const std = keep(tidy(() => X.std(0, { keepdim: true, unbiased: false }).add(1e-6)));
  const classifier = new Linear(d, numClasses).to(device);
  const optimizer = new Adam(classifier.parameters(), { lr: o.lr ?? 0.01, weightDecay: o.weightDecay ?? 5e-4 });
  const x = tidy(() => X.sub(mean).div(std));
  try {
    for (let s = 0; s < (o.steps ?? 300); s++) {
      // Training records gradients even when the caller sits inside noGrad().
      enableGrad(() => tidy(() => {
        const loss = F.crossEntropy(classifier.forward(x), Y);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
      }));
    }
  } finally {
    x.dispose();
    optimizer.dispose(); // its moment estimates: the caller keeps only the classifier
  }
  return { classifier, mean, std };
}

/** Trains a linear classifier on `trainFeatures` [N, D] and reports its accuracy on `testFeatures`. */
export function linearProbe(trainFeatures: Tensor, trainLabels: Tensor, testFeatures: Tensor, testLabels: Tensor, numClasses: number, o: ProbeOptions = {}): ProbeResult {
  const d = trainFeatures.shape[1]!;
  if (testFeatures.shape[1] !== d) throw new TypeError(`linearProbe: train features have ${d} dims, test features ${testFeatures.shape[1]}`);
  const device = o.device === undefined ? trainFeatures.device : checkDevice(o.device, 'linearProbe');
  // Copies only for inputs that are not on `device` yet, made once for fitting and scoring.
  using placed = placedOn(device, trainFeatures, trainLabels, testFeatures, testLabels);
  const [trainX, trainY, testX, testY] = placed.tensors as [Tensor, Tensor, Tensor, Tensor];
  const { classifier, mean, std } = fitLinearProbe(trainX, trainY, numClasses, { ...o, device });
  const acc = (features: Tensor, labels: Tensor): number => noGrad(() => tidy(() =>
    classifier.forward(features.sub(mean).div(std)).argmax(1).eq(labels).to('float32').mean().item()));
  return { accuracy: acc(testX, testY), trainAccuracy: acc(trainX, trainY), classifier, mean, std };
}

/**
 * Sets a linear head to the linear probe of its classifier's frozen features on the labelled
 * images (the first stage of LP-FT, Kumar et al. 2022, "Fine-Tuning can Distort Pretrained
 * Features", https://arxiv.org/abs/2202.10054): fine-tuning then starts from a head that
 * already fits the features, instead of a random one whose first, large gradients reach and
 * disturb the pretrained encoder. The probe's standardisation is folded into the head's
 * weights (W' = W / std, b' = b - W' mean), so the model is unchanged otherwise.
 */
export function initHeadFromProbe(model: Classifier, data: ImageDataset, indices: ArrayLike<number>, numClasses: number, o: ProbeOptions & { norm?: Normalization } = {}): void {
  const head = model.head;
  if (!(head instanceof Linear)) throw new TypeError('initHeadFromProbe: the classifier\'s head must be one Linear layer (head: \'linear\')');
  if (!head.bias) throw new TypeError('initHeadFromProbe: the head needs a bias');
  const bias = head.bias;
  using features = extractFeatures(model.encoder, (x) => model.encoder.features(x, model.block), data, { norm: o.norm, indices });
  using labels = labelTensor(data, indices);
  const probe = fitLinearProbe(features, labels, numClasses, { ...o, device: head.weight.device });
  try {
    noGrad(() => tidy(() => {
      const w = probe.classifier.weight.div(probe.std);
      head.weight.copy_(w);
      bias.copy_(probe.classifier.bias!.sub(w.matmul(probe.mean.T).flatten()));
    }));
  } finally {
    for (const t of [probe.classifier, probe.mean, probe.std]) t.dispose();
  }
}
