// Linear probe: a linear classifier trained on frozen, pooled features of one
// block. The encoder runs once, in eval mode, without gradients; the probe sees
// standardised features (train-set mean and std), as is usual for linear evaluation.
import { Tensor, tidy, noGrad, enableGrad, keep, F, checkDevice, onDevice } from '../tensor/index.js';
import { Linear } from '../nn/index.js';
import { Adam } from '../optim/index.js';

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

/** Trains a linear classifier on `trainFeatures` [N, D] and reports its accuracy on `testFeatures`. */
export function linearProbe(trainFeatures: Tensor, trainLabels: Tensor, testFeatures: Tensor, testLabels: Tensor, numClasses: number, o: ProbeOptions = {}): ProbeResult {
  const d = trainFeatures.shape[1]!;
  if (testFeatures.shape[1] !== d) throw new TypeError(`linearProbe: train features have ${d} dims, test features ${testFeatures.shape[1]}`);
  const device = o.device === undefined ? trainFeatures.device : checkDevice(o.device, 'linearProbe');
  // Copies only for inputs that are not on `device` yet.
  const inputs = [trainFeatures, trainLabels, testFeatures, testLabels];
  const placed = inputs.map((t) => onDevice(t, device));
  const [trainX, trainY, testX, testY] = placed as [Tensor, Tensor, Tensor, Tensor];
  const copies = placed.filter((t, i) => t !== inputs[i]);
  try {
    const mean = keep(trainX.mean(0, true));
    const std = keep(tidy(() => trainX.std(0, { keepdim: true, unbiased: false }).add(1e-6)));
    const classifier = new Linear(d, numClasses).to(device);
    const optimizer = new Adam(classifier.parameters(), { lr: o.lr ?? 0.01, weightDecay: o.weightDecay ?? 5e-4 });
    const x = tidy(() => trainX.sub(mean).div(std));
    try {
      for (let s = 0; s < (o.steps ?? 300); s++) {
        // Training records gradients even when the caller sits inside noGrad().
        enableGrad(() => tidy(() => {
          const loss = F.crossEntropy(classifier.forward(x), trainY);
          optimizer.zeroGrad();
          loss.backward();
          optimizer.step();
        }));
      }
    } finally {
      x.dispose();
      optimizer.dispose(); // its moment estimates: the caller keeps only the classifier
    }
    const acc = (features: Tensor, labels: Tensor): number => noGrad(() => tidy(() =>
      classifier.forward(features.sub(mean).div(std)).argmax(1).eq(labels).to('float32').mean().item()));
    return { accuracy: acc(testX, testY), trainAccuracy: acc(trainX, trainY), classifier, mean, std };
  } finally {
    for (const t of copies) t.dispose();
  }
}

