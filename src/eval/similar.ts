// Similarity search: for each query embedding, the gallery rows with the highest
// cosine similarity. Gallery rows go through in chunks, so a large gallery never
// needs a [Q, N] matrix larger than one chunk's.
import { F, tensor, tidy, noGrad, cat, type Tensor } from '../tensor/index.js';

export interface NearestOptions {
  /** For each query, a gallery row to leave out (itself, when the queries are gallery rows); -1 for none. */
  exclude?: ArrayLike<number>;
  /** Gallery rows compared at a time (default 65,536). */
  chunk?: number;
}

export interface Nearest {
  /** Q * k gallery row indices, each query's best first. */
  indices: Int32Array;
  /** Their cosine similarities. */
  scores: Float32Array;
  k: number;
}

/** The `k` gallery rows most cosine-similar to each query row ([Q, D] and [N, D] tensors). */
export function nearestNeighbors(queries: Tensor, gallery: Tensor, k: number, o: NearestOptions = {}): Nearest {
  if (queries.ndim !== 2 || gallery.ndim !== 2 || queries.size(1) !== gallery.size(1)) {
    throw new RangeError(`nearestNeighbors: need [Q, D] queries and [N, D] gallery rows, got [${queries.shape.join(', ')}] and [${gallery.shape.join(', ')}]`);
  }
  const q = queries.size(0);
  const n = gallery.size(0);
  const exclude = o.exclude;
  if (exclude && exclude.length !== q) throw new RangeError(`nearestNeighbors: ${exclude.length} exclusions for ${q} queries`);
  const kk = Math.min(k, n - (exclude ? 1 : 0));
  if (!Number.isInteger(k) || k < 1 || kk < 1) throw new RangeError(`nearestNeighbors: k must be a positive integer with enough gallery rows, got k=${k} for ${n} rows`);
  const chunk = o.chunk ?? 65_536;
  const { values, indices } = noGrad(() => tidy(() => {
    const qn = F.normalize(queries.to('float32'));
    const bestValues: Tensor[] = [];
    const bestIndices: Tensor[] = [];
    for (let start = 0; start < n; start += chunk) {
      const len = Math.min(chunk, n - start);
      let sim = qn.matmul(F.normalize(gallery.narrow(0, start, len).to('float32')).T);
      if (exclude) {
        // -inf at each query's own row (when it falls in this chunk), so it is never chosen.
        const mask = new Float32Array(q * len);
        for (let i = 0; i < q; i++) {
          const j = exclude[i]! - start;
          if (j >= 0 && j < len) mask[i * len + j] = -Infinity;
        }
        sim = sim.add(tensor(mask, { shape: [q, len] }).to(sim.device));
      }
      const top = sim.topk(Math.min(kk, len), 1);
      bestValues.push(top.values);
      bestIndices.push(top.indices.add(start));
    }
    const allValues = cat(bestValues, 1);
    const top = allValues.topk(kk, 1);
    return { values: top.values, indices: cat(bestIndices, 1).gather(1, top.indices) };
  }));
  const result = { indices: Int32Array.from(indices.dataNumbers()), scores: values.to('cpu').data() as Float32Array, k: kk };
  values.dispose();
  indices.dispose();
  return result;
}
