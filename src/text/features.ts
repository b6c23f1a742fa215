// Document features from word ids: averaged word vectors and bag-of-words inputs,
// both through libtorch's embedding_bag (one call per batch of documents).
import { Tensor, op, tensor, tidy, noGrad, arange } from '../tensor/index.js';
import type { WordVocab } from './vocab.js';
import type { WordVectors } from './word-vectors.js';

/** Bag modes of aten::embedding_bag. */
const SUM = 0;
const MEAN = 1;

/**
 * Reduces rows of `weight` over each row of `ids` [B, L] (sum or mean), skipping
 * `paddingIdx` entries (a row of only padding gives zeros): [B, D].
 */
export function embeddingBag(weight: Tensor, ids: Tensor, mode: 'sum' | 'mean', paddingIdx: number): Tensor {
  return tidy(() => {
    const [b, l] = ids.shape as [number, number];
    const offsets = arange(0, b * l, l, { dtype: 'int64' });
    const [out] = op<Tensor[]>('aten::embedding_bag.padding_idx', weight, ids.reshape(-1), offsets, false, mode === 'sum' ? SUM : MEAN, false, null, false, paddingIdx);
    return out!;
  });
}

/** Word ids of each text, padded with 0 (the unknown word) into [N, L] int64; `unique` keeps each word once. */
export function wordIdMatrix(vocab: WordVocab, texts: readonly string[], o: { unique?: boolean } = {}): Tensor {
  const rows = texts.map((t) => {
    const ids = vocab.encode(t).filter((i) => i !== 0);
    return o.unique ? Int32Array.from(new Set(ids)) : ids;
  });
  const len = Math.max(1, ...rows.map((r) => r.length));
  const out = new Int32Array(texts.length * len);
  rows.forEach((r, i) => out.set(r, i * len));
  return tensor(out, { shape: [texts.length, len], dtype: 'int64' });
}

/** The mean of the known words' vectors of each text, [N, dim] (zeros for a text without known words). */
export function averageWordVectors(model: WordVectors, texts: readonly string[], o: { normalize?: boolean } = {}): Tensor {
  return noGrad(() => tidy(() => {
    const ids = wordIdMatrix(model.vocab, texts);
    return embeddingBag(o.normalize ? model.unit : model.vectors, ids, 'mean', 0);
  }));
}
