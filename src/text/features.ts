// Document features: averaged word vectors through libtorch's embedding_bag
// (F.embeddingBag, one call per batch of documents), and a text encoder's pooled outputs.
import { Tensor, F, tensor, tidy, noGrad, keep, cat } from '../tensor/index.js';
import { inEvalMode } from '../nn/index.js';
import type { WordVocab } from '../data/text/vocab.js';
import { PAD_ID, type BpeTokenizer } from '../data/text/bpe.js';
import { padSequences } from '../data/text/sequences.js';
import type { TransformerTextEncoder } from '../models/text-transformer.js';
import type { WordVectors } from './word-vectors.js';

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
    return F.embeddingBag(o.normalize ? model.unit : model.vectors, ids, 'mean', 0);
  }));
}

/** Encodes texts for the encoder: [CLS] tokens [SEP], cut to maxLen. */
export function encodeForModel(tokenizer: BpeTokenizer, texts: readonly string[], maxLen: number): Int32Array[] {
  return texts.map((t) => tokenizer.encode(t, { special: true, maxLength: maxLen }));
}

/** Mean-pooled encoder outputs of texts, [N, dModel], in eval mode without gradients. */
export function encodeTexts(encoder: TransformerTextEncoder, tokenizer: BpeTokenizer, texts: readonly string[], o: { allLayers?: boolean; batchSize?: number } = {}): Tensor {
  const batchSize = o.batchSize ?? 256;
  const seqs = encodeForModel(tokenizer, texts, encoder.config.maxLen);
  const parts: Tensor[] = [];
  try {
    inEvalMode(encoder, () => noGrad(() => {
      for (let s = 0; s < seqs.length; s += batchSize) {
        parts.push(keep(tidy(() => encoder.pool(padSequences(seqs.slice(s, s + batchSize), PAD_ID, encoder.config.maxLen), o))));
      }
    }));
    return cat(parts, 0);
  } finally {
    for (const p of parts) p.dispose();
  }
}
