// Label spreading (Zhou, Bousquet, Lal, Weston & Schölkopf 2004, "Learning with Local
// and Global Consistency") over a kNN graph of embeddings: class scores flow along
// edges between similar images, F <- alpha S F + (1 - alpha) Y, with S the
// symmetrically normalised, symmetrised graph. Graph-based semi-supervised learning
// of this kind is the best published few-label Fashion-MNIST family we found (Poisson
// learning on VAE features, Calder et al. 2020); here the graph is over an encoder's
// embeddings of the unlabelled pool and Y holds a teacher's predictions.
import { Tensor, tidy, noGrad, op, F, cat, zeros, tensor } from '../tensor/index.js';
import { knnVotes } from './knn.js';

/** Each row's k nearest other rows by cosine similarity: indices [N, k] (int64) and similarities [N, k]. */
export interface KnnGraph extends Disposable {
  indices: Tensor;
  similarities: Tensor;
  dispose(): void;
}

export function knnGraph(features: Tensor, k: number, o: { chunk?: number } = {}): KnnGraph {
  const n = features.shape[0]!;
  if (!(Number.isInteger(k) && k >= 1 && k < n)) throw new RangeError(`knnGraph: k must be an integer in 1..${n - 1}, got ${k}`);
  const chunk = o.chunk ?? 2048;
  const { indices, similarities } = noGrad(() => tidy(() => {
    const f = F.normalize(features.flatten(1), 1);
    const idx: Tensor[] = [];
    const sim: Tensor[] = [];
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const s = f.narrow(0, start, rows).matmul(f.T);
      // A row is not its own neighbour.
      op<Tensor>('aten::diagonal', s.narrow(1, start, rows)).fill_(-2);
      const { values, indices: nearest } = s.topk(k, 1);
      idx.push(nearest);
      sim.push(values);
    }
    return { indices: cat(idx, 0), similarities: cat(sim, 0) };
  }));
  const dispose = (): void => {
    indices.dispose();
    similarities.dispose();
  };
  return { indices, similarities, dispose, [Symbol.dispose]: dispose };
}

export interface SpreadingOptions {
  /** How much of each step comes from the neighbours (Zhou et al.: 0.99; 0.9 keeps closer to the seeds). */
  alpha?: number;
  iterations?: number;
}

/**
 * Spreads the scores `seeds` [N, C] (a teacher's probabilities, one-hot rows for labelled
 * images) over `graph` and returns the spread scores [N, C] (the caller owns them). Edge
 * weights are the similarities clamped at 0, the graph made symmetric as (W + W^T) / 2.
 */
export function spreadLabels(graph: KnnGraph, seeds: Tensor, o: SpreadingOptions = {}): Tensor {
  const alpha = o.alpha ?? 0.9;
  const iterations = o.iterations ?? 20;
  if (!(alpha >= 0 && alpha < 1)) throw new RangeError(`spreadLabels: alpha must be in [0, 1), got ${alpha}`);
  const [n, k] = graph.indices.shape as [number, number];
  if (seeds.ndim !== 2 || seeds.shape[0] !== n) throw new RangeError(`spreadLabels: seeds must be [${n}, classes], got [${seeds.shape.join(', ')}]`);
  return noGrad(() => tidy(() => {
    const w = graph.similarities.clamp(0).mul(0.5); // [N, k]; halves of W and of W^T
    const cols = graph.indices.flatten();
    // Degrees of (W + W^T) / 2: each row's own edges plus the edges that point at it.
    const degree = op<Tensor>('aten::index_add', w.sum(1), 0, cols, w.flatten()).clamp(1e-12);
    const scale = degree.rsqrt().unsqueeze(1);
    /** S x = D^-1/2 (W + W^T)/2 D^-1/2 x, with W as k neighbour lists. */
    const propagate = (x: Tensor): Tensor => tidy(() => {
      const g = x.mul(scale);
      const gathered = g.indexSelect(0, cols).view([n, k, -1]); // [N, k, C]
      const forward = gathered.mul(w.unsqueeze(2)).sum(1); // W g
      // W^T g: every edge (i -> j) adds w_ij g_i to row j.
      const backward = op<Tensor>('aten::index_add', zeros(g.shape, { device: g.device }), 0, cols, g.unsqueeze(1).mul(w.unsqueeze(2)).reshape([n * k, -1]));
      return forward.add(backward).mul(scale);
    });
    const pull = seeds.mul(1 - alpha);
    let f = seeds.clone();
    for (let i = 0; i < iterations; i++) {
      const next = tidy(() => propagate(f).mul(alpha).add(pull));
      f.dispose();
      f = next;
    }
    return f;
  }));
}

export interface SpreadAndVoteOptions extends SpreadingOptions {
  /** The labelled pool rows and their labels (int64): one-hot seeds that override the teacher there. */
  labelledRows: Int32Array;
  labels: Tensor;
  numClasses: number;
  /** A teacher's probabilities on the pool [N, C] and the test images [M, C]; null: seeds from the labels alone. */
  teacher: { pool: Tensor; test: Tensor } | null;
  /** Scale each class's spread scores to the same total before the argmax (class mass normalisation, Zhu et al. 2003). */
  classBalance?: boolean;
  /** Neighbours and temperature of each test image's vote among the pool's spread labels. */
  neighbors?: number;
  temperature?: number;
  /** Add the teacher's test probabilities to the vote. */
  withTeacher?: boolean;
}

/**
 * Transductive on the pool, inductive on the test set: spreads the seeds (the teacher's
 * probabilities, labelled rows one-hot) over `graph` of `poolFeatures`, then scores each test
 * image by the kNN vote of its pool neighbours' spread labels (plus the teacher's own
 * probabilities when `withTeacher`). Returns the test scores [M, C] and the pool's labels [N].
 */
export function spreadAndVote(graph: KnnGraph, poolFeatures: Tensor, testFeatures: Tensor, o: SpreadAndVoteOptions): { scores: Tensor; poolLabels: Tensor } {
  const n = poolFeatures.shape[0]!;
  return noGrad(() => tidy(() => {
    const device = poolFeatures.device;
    const onehot = o.labels.to(device).oneHot(o.numClasses).to('float32');
    const rows = tensor(o.labelledRows, { dtype: 'int64', device });
    const base = o.teacher ? o.teacher.pool.to(device) : zeros([n, o.numClasses], { device });
    const seeds = o.labelledRows.length ? op<Tensor>('aten::index_copy', base, 0, rows, onehot) : base;
    let spread = spreadLabels(graph, seeds, o);
    if (o.classBalance) spread = spread.div(spread.sum(0, true).clamp(1e-12));
    const poolLabels = spread.argmax(1);
    const votes = knnVotes(poolFeatures, poolLabels, testFeatures, o.numClasses, { k: o.neighbors ?? 20, temperature: o.temperature ?? 0.07 });
    const scores = o.withTeacher && o.teacher ? votes.add(o.teacher.test.to(device)) : votes;
    return { scores, poolLabels };
  }));
}
