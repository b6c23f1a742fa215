// The selfsup side of the fastText/gensim comparison (see skipgram-bench.ts): reads the
// corpus file the parent wrote (one document per line), builds the vocabulary, then
// times trainSkipGram's fused engine alone (vocabulary and encoding happen before the
// clock starts), saves the input vectors and the input + output sums in word2vec text
// format, and prints one JSON line.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { manualSeed, setNumThreads, noGrad } from '../src/tensor/index.js';
import { WordVocab, trainSkipGram, defaultSkipGramConfig } from '../src/text/index.js';

const { values } = parseArgs({
  options: {
    corpus: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string', default: '2' }, dim: { type: 'string', default: '100' },
    window: { type: 'string', default: '3' }, negatives: { type: 'string', default: '5' }, epochs: { type: 'string', default: '5' },
    'min-count': { type: 'string', default: '3' }, subsample: { type: 'string', default: '1e-4' }, lr: { type: 'string', default: '0.05' },
    seed: { type: 'string', default: '0' },
  },
});
if (!values.corpus || !values.out) throw new Error('usage: node dist/bench/skipgram-fused-child.js --corpus FILE --out PREFIX [...]');
const threads = Number(values.threads);
setNumThreads(threads);
const texts = readFileSync(values.corpus, 'utf8').split('\n').filter((l) => l.length > 0);
const vocab = WordVocab.build(texts, { minCount: Number(values['min-count']) });
const corpus = vocab.encodeCorpus(texts);
manualSeed(Number(values.seed));
const config = {
  ...defaultSkipGramConfig(), engine: 'fused' as const, threads, dim: Number(values.dim), window: Number(values.window), negatives: Number(values.negatives),
  epochs: Number(values.epochs), subsample: Number(values.subsample), lr: Number(values.lr), seed: Number(values.seed),
};
const t0 = performance.now();
const r = await trainSkipGram({ vocab, corpus, config, progress: false });
const seconds = (performance.now() - t0) / 1000;

/** word2vec's text format: a header line, then one word and its vector per line (the unknown token left out). */
function saveVec(path: string, rows: Float32Array, dim: number): void {
  const lines = [`${vocab.size - 1} ${dim}`];
  for (let i = 1; i < vocab.size; i++) lines.push(`${vocab.words[i]} ${Array.from(rows.subarray(i * dim, (i + 1) * dim), (x) => x.toPrecision(6)).join(' ')}`);
  writeFileSync(path, lines.join('\n') + '\n');
}
const input = r.model.inEmbed.weight.data() as Float32Array;
const sum = noGrad(() => r.model.inEmbed.weight.add(r.model.outEmbed.weight));
saveVec(`${values.out}.input.vec`, input, config.dim);
saveVec(`${values.out}.sum.vec`, sum.data() as Float32Array, config.dim);
sum.dispose();
r.model.dispose();
console.log(JSON.stringify({ impl: 'selfsup', seconds, corpus_words: corpus.ids.length, vocab: vocab.size - 1, last_loss: r.fit.lastLoss }));
