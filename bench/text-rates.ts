// `node dist/bench/text-rates.js [SECONDS]`: steps per second of each text pretraining
// (skip-gram, masked LM, ELECTRA, SimCSE) at the text experiment's default settings on
// its corpus (WordNet glosses and fortunes), each for SECONDS (default 30) of a time
// budget. The experiment's step budgets (experiment/text.ts, defaultTextConfig) come
// from such rates: steps = rate on 2 idle cores x the seconds a pretraining may take.
// On a busy machine compare the ratios to the masked LM's (README: 1,080 sequences/s,
// 20,300 steps in 600 s idle) rather than the raw rates.
import { manualSeed } from '../src/tensor/index.js';
import { defaultTextConfig } from '../src/experiment/text.js';
import {
  readWordNet, synsetText, readFortunes, WordVocab, BpeTokenizer, trainSkipGram, pretrainMaskedLM, pretrainElectra, pretrainSimCse,
} from '../src/text/index.js';
import { SkipGramSource } from '../src/data/text/skipgram-batches.js';

const seconds = Number(process.argv[2] ?? 30);
const only = process.argv[3]?.split(',');
const c = defaultTextConfig();
const texts = [...readWordNet(c.wordnetDir).map(synsetText), ...(c.fortuneDir ? readFortunes(c.fortuneDir).texts : [])].filter((t) => t.length > 0);
const line = (name: string, steps: number, s: number, extra = ''): void => console.log(`${name}: ${steps} steps in ${s.toFixed(1)} s = ${(steps / s).toFixed(2)} steps/s${extra}`);
const budget = { maxSteps: undefined, timeBudgetSeconds: seconds };

if (!only || only.includes('skipgram')) {
  const vocab = WordVocab.build(texts, c.vocab);
  const corpus = vocab.encodeCorpus(texts);
  using source = new SkipGramSource(vocab, corpus, c.skipgram);
  console.log(`skip-gram: ${corpus.ids.length} corpus words, ${source.pairsPerEpoch} pairs and ${source.stepsPerEpoch} steps per epoch (batch ${c.skipgram.batchSize}); ${(corpus.ids.length / source.stepsPerEpoch).toFixed(0)} corpus words per step`);
  manualSeed(0);
  const r = await trainSkipGram({ vocab, corpus, config: { ...c.skipgram, ...budget }, progress: false });
  line('skip-gram', r.fit.steps, r.fit.seconds, `, ${Math.round(r.wordsPerSecond)} words/s`);
  r.model.dispose();
}
const t0 = performance.now();
const tokenizer = BpeTokenizer.train(texts, { vocabSize: c.bpe.vocabSize });
console.log(`BPE: ${tokenizer.size} tokens in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
if (!only || only.includes('masked-lm')) {
  manualSeed(0);
  const r = await pretrainMaskedLM({ tokenizer, texts, config: { ...c.mlm, ...budget }, progress: false });
  line('masked LM', r.fit.steps, r.fit.seconds, `, ${Math.round(r.sequencesPerSecond)} sequences/s`);
  r.model.dispose();
}
if (!only || only.includes('electra')) {
  manualSeed(0);
  const r = await pretrainElectra({ tokenizer, texts, config: { ...c.electra, ...budget }, progress: false });
  line('ELECTRA', r.fit.steps, r.fit.seconds, `, ${Math.round(r.sequencesPerSecond)} sequences/s; held out ${JSON.stringify(r.validation)}`);
  r.model.dispose();
}
if (!only || only.includes('simcse')) {
  manualSeed(0);
  const r = await pretrainSimCse({ tokenizer, texts, config: { ...c.simcse, ...budget }, progress: false });
  line('SimCSE', r.fit.steps, r.fit.seconds, `, ${Math.round(r.sequencesPerSecond)} sequences/s; held out ${JSON.stringify(r.validation)}`);
  r.model.dispose();
}
