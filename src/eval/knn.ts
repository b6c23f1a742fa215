// Weighted k-nearest-neighbour classification on frozen features, the usual
// self-supervised evaluation (Wu et al. 2018, as in solo-learn and LightlySSL):
// cosine similarity, the k most similar training points vote with weight
// exp(similarity / temperature). k and temperature are recorded with the result.
import { Tensor, tidy, noGrad, F, zeros, cat, checkDevice, onDevice } from '../tensor/index.js';

export interface KnnOptions {
  /** Neighbours that vote (default 20). */
  k?: number;
  /** Softness of the vote weights exp(sim / T) (default 0.07). */
  temperature?: number;
  /** Test rows compared at once, to bound memory (default 1024). */
  chunk?: number;
  /** Where to compare ('cpu', 'cuda', 'cuda:N'; default: where trainFeatures are). Inputs elsewhere are copied there. */
  device?: string;
}

export interface KnnResult {
  accuracy: number;
  predictions: Int32Array;
  k: number;
  temperature: number;
}

/** knnClassify of unlabelled queries: predictions only. */
export interface KnnPredictions extends Omit<KnnResult, 'accuracy'> {
  accuracy: null;
}

/**
 * Classifies `testFeatures` [M, D] by their neighbours among `trainFeatures` [N, D]
 * with int64 labels `trainLabels` [N]; `testLabels` [M] give the accuracy. Without
 * test labels (null: new, unlabelled images) only the predictions are returned.
 */
export function knnClassify(trainFeatures: Tensor, trainLabels: Tensor, testFeatures: Tensor, testLabels: Tensor, numClasses: number, opts?: KnnOptions): KnnResult;
export function knnClassify(trainFeatures: Tensor, trainLabels: Tensor, testFeatures: Tensor, testLabels: null | undefined, numClasses: number, opts?: KnnOptions): KnnPredictions;
export function knnClassify(
  trainFeatures: Tensor, trainLabels: Tensor, testFeatures: Tensor, testLabels: Tensor | null | undefined, numClasses: number, opts: KnnOptions = {},
): KnnResult | KnnPredictions {
  const k = Math.min(opts.k ?? 20, trainFeatures.shape[0]!);
  const temperature = opts.temperature ?? 0.07;
  const chunk = opts.chunk ?? 1024;
  if (!(k >= 1)) throw new RangeError(`knn: k must be at least 1 (got ${opts.k})`);
  if (!(temperature > 0)) throw new RangeError(`knn: temperature must be positive (got ${temperature})`);
  if (trainFeatures.shape[1] !== testFeatures.shape[1]) {
    throw new TypeError(`knn: train features have ${trainFeatures.shape[1]} dims, test features ${testFeatures.shape[1]}`);
  }
  const device = opts.device === undefined ? trainFeatures.device : checkDevice(opts.device, 'knn');
  const m = testFeatures.shape[0]!;
  const predictions = new Int32Array(m);
  noGrad(() => {
    const train = tidy(() => F.normalize(onDevice(trainFeatures, device).flatten(1), 1));
    // Labels where the neighbour indices are (a copy only when they are elsewhere).
    const labels = onDevice(trainLabels, device);
    try {
      for (let start = 0; start < m; start += chunk) {
        const pred = tidy(() => chunkVotes(testFeatures.slice(0, start, start + chunk), train, labels, numClasses, k, temperature, device).argmax(1));
        predictions.set(Array.from(pred.data() as BigInt64Array, Number), start);
        pred.dispose();
      }
    } finally {
      train.dispose();
      if (labels !== trainLabels) labels.dispose();
    }
  });
  if (!testLabels) return { accuracy: null, predictions, k, temperature };
  if (testLabels.shape[0] !== m) throw new TypeError(`knn: ${m} test features but ${testLabels.shape[0]} test labels`);
  const truth = testLabels.dataNumbers();
  let correct = 0;
  for (let i = 0; i < m; i++) if (predictions[i] === truth[i]) correct++;
  return { accuracy: m ? correct / m : 0, predictions, k, temperature };
}

/** Votes [q, numClasses] of one chunk of queries: each of its k nearest (cosine) rows of `train` adds exp(similarity / T) to its label. */
function chunkVotes(queries: Tensor, train: Tensor, labels: Tensor, numClasses: number, k: number, temperature: number, device: string): Tensor {
  return tidy(() => {
    const q = F.normalize(onDevice(queries, device).flatten(1), 1);
    const { values, indices } = q.matmul(train.T).topk(k, 1);
    const weights = values.div(temperature).exp();
    const votes = labels.index([indices]); // [chunk, k]
    return zeros([q.shape[0]!, numClasses], { device }).scatterAdd(1, votes, weights);
  });
}

/**
 * kNN class distributions: for each test row, the weighted votes of its k nearest training
 * rows (as in knnClassify), normalised to sum to 1; [M, numClasses], the caller owns it.
 */
export function knnVotes(trainFeatures: Tensor, trainLabels: Tensor, testFeatures: Tensor, numClasses: number, opts: Omit<KnnOptions, 'device'> = {}): Tensor {
  const k = Math.min(opts.k ?? 20, trainFeatures.shape[0]!);
  const temperature = opts.temperature ?? 0.07;
  const chunk = opts.chunk ?? 1024;
  if (!(k >= 1)) throw new RangeError(`knnVotes: k must be at least 1 (got ${opts.k})`);
  if (!(temperature > 0)) throw new RangeError(`knnVotes: temperature must be positive (got ${temperature})`);
  const device = trainFeatures.device;
  return noGrad(() => tidy(() => {
    const train = F.normalize(trainFeatures.flatten(1), 1);
    const parts: Tensor[] = [];
    for (let start = 0; start < testFeatures.shape[0]!; start += chunk) {
      parts.push(chunkVotes(testFeatures.slice(0, start, start + chunk), train, trainLabels, numClasses, k, temperature, device));
    }
    const votes = cat(parts, 0);
    return votes.div(votes.sum(1, true).clamp(1e-12));
  }));
}
