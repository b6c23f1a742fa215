// 2-D maps of feature vectors: UMAP (seeded, so the same input gives the same map),
// PCA when there are too few points for UMAP's neighbour graph.
import { UMAP } from 'umap-js';
import { ReportInputError } from './types.js';

export interface MapOptions {
  seed?: number;
  /** Larger sets are randomly subsampled (seeded) to this many points. */
  maxPoints?: number;
  /** Below this many points, PCA is used instead of UMAP. */
  minUmapPoints?: number;
  nNeighbors?: number;
  minDist?: number;
}

export interface Map2d {
  /** One [x, y] per kept point. */
  points: [number, number][];
  /** Index into the input of each kept point (sorted ascending). */
  indices: number[];
  method: 'umap' | 'pca' | 'identity';
  /** Number of input vectors before subsampling. */
  total: number;
  /** Why UMAP was not used, when it was not. */
  fallbackReason?: string;
}

type Vector = ArrayLike<number>;

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks `count` distinct indices out of `n` (sorted), deterministic for a given random source. */
export function sampleIndices(n: number, count: number, random: () => number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (count >= n) return all;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (n - i));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, count).sort((a, b) => a - b);
}

function checkVectors(vectors: readonly Vector[]): number {
  const dim = vectors.length > 0 ? vectors[0].length : 0;
  vectors.forEach((v, i) => {
    if (v.length !== dim) {
      throw new ReportInputError(`vector ${i} has ${v.length} dimensions, expected ${dim} like vector 0`);
    }
    for (let j = 0; j < v.length; j++) {
      if (!Number.isFinite(v[j])) throw new ReportInputError(`vector ${i} has a non-finite value (${v[j]}) at dimension ${j}`);
    }
  });
  if (vectors.length > 0 && dim === 0) throw new ReportInputError('vectors have no dimensions');
  return dim;
}

/** Top-`k` eigenvectors of a symmetric matrix by power iteration with deflation. */
function topEigen(matrix: number[][], k: number): { vector: number[]; value: number }[] {
  const n = matrix.length;
  const a = matrix.map((row) => row.slice());
  const out: { vector: number[]; value: number }[] = [];
  for (let e = 0; e < k; e++) {
    // Deterministic, not axis-aligned start so we do not begin orthogonal to the answer.
    let v = Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % 13) / 13);
    let value = 0;
    for (let iter = 0; iter < 500; iter++) {
      const w = a.map((row) => row.reduce((s, x, j) => s + x * v[j], 0));
      const norm = Math.hypot(...w);
      if (norm < 1e-12) { value = 0; break; }
      const next = w.map((x) => x / norm);
      const delta = next.reduce((s, x, j) => s + Math.abs(x - v[j]), 0);
      v = next;
      value = norm;
      if (delta < 1e-10) break;
    }
    out.push({ vector: v, value });
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i][j] -= value * v[i] * v[j];
  }
  return out;
}

/** Projects onto the first two principal components. */
export function pca2d(vectors: readonly Vector[]): [number, number][] {
  const n = vectors.length;
  const dim = checkVectors(vectors);
  if (n === 0) return [];
  const mean = new Array<number>(dim).fill(0);
  for (const v of vectors) for (let j = 0; j < dim; j++) mean[j] += v[j] / n;
  const centred = vectors.map((v) => Array.from({ length: dim }, (_, j) => v[j] - mean[j]));
  const coords: [number, number][] = centred.map(() => [0, 0]);
  if (n <= dim) {
    // Few points: eigenvectors of the n×n Gram matrix give the scores directly (u · sqrt(λ)).
    const gram = centred.map((a) => centred.map((b) => a.reduce((s, x, j) => s + x * b[j], 0)));
    topEigen(gram, Math.min(2, n)).forEach(({ vector, value }, c) => {
      const scale = Math.sqrt(Math.max(value, 0));
      vector.forEach((u, i) => { coords[i][c] = u * scale; });
    });
  } else {
    const cov = Array.from({ length: dim }, (_, a) =>
      Array.from({ length: dim }, (_, b) => centred.reduce((s, v) => s + v[a] * v[b], 0)));
    topEigen(cov, Math.min(2, dim)).forEach(({ vector }, c) => {
      centred.forEach((v, i) => { coords[i][c] = v.reduce((s, x, j) => s + x * vector[j], 0); });
    });
  }
  return coords;
}

/** 2-D map of `vectors`; repeats exactly for the same input and seed. */
export function embed2d(vectors: readonly Vector[], options: MapOptions = {}): Map2d {
  const { seed = 42, maxPoints = 2000, minUmapPoints = 15, minDist = 0.1 } = options;
  const total = vectors.length;
  const dim = checkVectors(vectors);
  const random = seededRandom(seed);
  const indices = sampleIndices(total, maxPoints, random);
  const kept = indices.map((i) => Array.from(vectors[i]));

  if (dim === 2) return { points: kept.map((v) => [v[0], v[1]]), indices, method: 'identity', total };
  if (kept.length < minUmapPoints) {
    return {
      points: pca2d(kept), indices, method: 'pca', total,
      fallbackReason: `too few points for UMAP (${kept.length} < ${minUmapPoints})`,
    };
  }
  const nNeighbors = Math.min(options.nNeighbors ?? 15, kept.length - 1);
  const umap = new UMAP({ nComponents: 2, nNeighbors, minDist, random });
  const points = umap.fit(kept).map((p) => [p[0], p[1]] as [number, number]);
  if (points.some(([x, y]) => !Number.isFinite(x) || !Number.isFinite(y))) {
    return { points: pca2d(kept), indices, method: 'pca', total, fallbackReason: 'UMAP gave non-finite coordinates' };
  }
  return { points, indices, method: 'umap', total };
}
