// Text self-supervision: corpus readers, tokenizers, the skip-gram and masked-LM
// pretext tasks, and the few-label classifiers, on small files and toy corpora
// made here (no system corpus needed).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, zeros, memory, manualSeed, setNumThreads, tidy, noGrad, F, Generator, type Tensor } from '../src/tensor/index.js';
import { Adam } from '../src/optim/index.js';
import { linearProbe } from '../src/eval/probe.js';
import { loadCheckpoint } from '../src/io/index.js';
import { Rng } from '../src/data/random.js';
import {
  parseWordNetLine, readWordNet, splitGloss, glossCorpus, synsetText, readFortunes, parseFortunes, readTextCorpus,
  CorpusError, WordVocab, BpeTokenizer, SPECIAL_TOKENS, PAD_ID, CLS_ID, SEP_ID, UNK_ID, MASK_ID,
  noiseDistribution, AliasSampler, keepProbabilities, skipGramPairs, maskTokens, frequencyMaskWeights, IGNORE_INDEX,
  SkipGram, SparseAdam, isSparse, trainSkipGram, defaultSkipGramConfig, WordVectors, loadWordVectors, nearestNeighbors,
  pairSimilarities, rocAuc, synonymTest, MaskedLanguageModel, defaultMlmConfig, pretrainMaskedLM, encodeTexts,
  averageWordVectors, BagOfWordsClassifier, bagOfWordsInputs, trainClassifier, classifierAccuracy, SampledSoftmax, TextClassifier,
  type Synset,
} from '../src/text/index.js';

// Tiny shapes gain nothing from threads, and two busy threads crawl when another process shares the cores.
setNumThreads(1);

let tmp: string;
before(() => { tmp = mkdtempSync(join(tmpdir(), 'selfsup-text-')); });
after(() => rmSync(tmp, { recursive: true, force: true }));

// ------------------------------------------------------------------ corpora

const LICENSE = '  1 This software and database is being provided to you, the LICENSEE, by  \n  2 Princeton University under the following license.  \n';
const NOUN_LINES = [
  '02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 001 @ 02083346 n 0000 | a member of the genus Canis; "the dog barked all night"',
  '07747607 13 n 01 apple 0 002 @ 07705931 n 0000 ~ 07739125 n 0000 | fruit with red or yellow or green skin and sweet to tart crisp whitish flesh',
  '00001740 03 n 01 entity 0 000 | that which is perceived or known or inferred to have its own distinct existence (living or nonliving)',
];
const ADJ_LINE = '00001740 00 a 02 able(a) 0 capable(p) 0 001 ! 00002098 a 0101 | (usually followed by `to\') having the necessary means; "able to swim"; "she was able to program her computer"';
const VERB_LINE = '00001740 29 v 04 breathe 0 take_a_breath 0 respire 0 suspire 3 005 * 00005041 v 0000 + 03110322 a 0301 02 + 08 00 + 02 00 | draw air into, and expel out of, the lungs; "I can breathe better"';

describe('WordNet reader', () => {
  test('parses synset lines: offset, lexicographer file, words, definition, examples', () => {
    const dog = parseWordNetLine(NOUN_LINES[0]!)!;
    assert.equal(dog.offset, 2084071);
    assert.equal(dog.pos, 'noun');
    assert.equal(dog.lexFilenum, 5);
    assert.equal(dog.lexname, 'noun.animal');
    assert.deepEqual(dog.words, ['dog', 'domestic_dog', 'Canis_familiaris']);
    assert.equal(dog.definition, 'a member of the genus Canis');
    assert.deepEqual(dog.examples, ['the dog barked all night']);
    assert.equal(synsetText(dog), 'a member of the genus Canis; the dog barked all night');
    const able = parseWordNetLine(ADJ_LINE)!;
    assert.deepEqual(able.words, ['able', 'capable'], 'adjective markers (a), (p) are removed');
    assert.equal(able.lexname, 'adj.all');
    assert.deepEqual(able.examples, ['able to swim', 'she was able to program her computer']);
    const breathe = parseWordNetLine(VERB_LINE)!;
    assert.equal(breathe.pos, 'verb');
    assert.equal(breathe.lexname, 'verb.body');
    assert.equal(breathe.words.length, 4);
    assert.equal(breathe.definition, 'draw air into, and expel out of, the lungs');
  });

  test('skips the license header; rejects malformed lines', () => {
    assert.equal(parseWordNetLine('  1 This software and database'), null);
    assert.equal(parseWordNetLine(''), null);
    assert.throws(() => parseWordNetLine('hello world | gloss'), CorpusError);
    assert.throws(() => parseWordNetLine('00001740 05 x 01 dog 0 000 | gloss'), /unknown synset type 'x'/);
  });

  test('splitGloss separates quoted examples from the definition', () => {
    assert.deepEqual(splitGloss('a round fruit; "an apple a day"; "she ate it"'), { definition: 'a round fruit', examples: ['an apple a day', 'she ate it'] });
    assert.deepEqual(splitGloss('just a definition'), { definition: 'just a definition', examples: [] });
  });

  test('reads data files, uses a lexnames file when present, and builds a labelled gloss corpus', () => {
    const dir = join(tmp, 'wordnet');
    mkdirSync(dir);
    writeFileSync(join(dir, 'data.noun'), LICENSE + NOUN_LINES.join('  \n') + '  \n');
    writeFileSync(join(dir, 'data.verb'), LICENSE + VERB_LINE + '\n');
    writeFileSync(join(dir, 'data.adj'), LICENSE + ADJ_LINE + '\n');
    writeFileSync(join(dir, 'data.adv'), LICENSE);
    const synsets = readWordNet(dir);
    assert.equal(synsets.length, 5);
    const corpus = glossCorpus(synsets, ['noun.food', 'noun.animal']);
    assert.deepEqual(corpus.classNames, ['noun.food', 'noun.animal']);
    assert.deepEqual(Array.from(corpus.labels!), [1, 0]);
    assert.match(corpus.texts[1]!, /^fruit with red/);
    assert.throws(() => glossCorpus(synsets, ['noun.animal', 'noun.plant']), /no synsets in 'noun.plant'/);
    writeFileSync(join(dir, 'lexnames'), '05\tnoun.beasts\t1\n13\tnoun.food\t1\n');
    assert.equal(readWordNet(dir, ['noun'])[0]!.lexname, 'noun.beasts');
  });

  test('missing or empty WordNet files give errors naming the Debian package', () => {
    assert.throws(() => readWordNet(join(tmp, 'no-such-dir')), (e: Error) => e instanceof CorpusError && /wordnet-base/.test(e.message) && /no-such-dir/.test(e.message));
    const empty = join(tmp, 'wordnet-empty');
    mkdirSync(empty);
    assert.throws(() => readWordNet(empty, ['noun']), /data\.noun.*wordnet-base/);
    writeFileSync(join(empty, 'data.noun'), LICENSE);
    assert.throws(() => readWordNet(empty, ['noun']), /no synsets.*wordnet-base/);
  });
});

describe('fortune reader', () => {
  test('splits quotes on lines holding only %', () => {
    assert.deepEqual(parseFortunes('first quote\nline two\n%\nsecond\n%\n\n%\nthird %not a separator\n'), ['first quote\nline two', 'second', 'third %not a separator']);
  });

  test('labels quotes by file name, skipping .dat indexes and .u8 links', () => {
    const dir = join(tmp, 'fortunes');
    mkdirSync(dir);
    writeFileSync(join(dir, 'science'), 'E = mc^2\n%\nAtoms are small.\n%\n');
    writeFileSync(join(dir, 'science.dat'), Buffer.from([0, 1, 2, 3]));
    symlinkSync('science', join(dir, 'science.u8'));
    writeFileSync(join(dir, 'food'), 'Eat your greens.\n%\nPie is good.\n%\nSoup!\n');
    const c = readFortunes(dir);
    assert.deepEqual(c.classNames, ['food', 'science']);
    assert.equal(c.texts.length, 5);
    assert.deepEqual(Array.from(c.labels!), [0, 0, 0, 1, 1]);
    assert.deepEqual(readFortunes(dir, { files: ['science'] }).texts, ['E = mc^2', 'Atoms are small.']);
    assert.throws(() => readFortunes(dir, { files: ['sports'] }), /no fortune file 'sports'/);
  });

  test('missing and empty folders give errors naming the Debian packages', () => {
    assert.throws(() => readFortunes(join(tmp, 'nowhere')), /fortune folder not found.*fortunes fortunes-min/);
    const empty = join(tmp, 'fortunes-empty');
    mkdirSync(empty);
    assert.throws(() => readFortunes(empty), /empty.*fortunes-min/);
    writeFileSync(join(empty, 'blank'), '%\n\n%\n');
    assert.throws(() => readFortunes(empty), CorpusError);
  });
});

describe("the user's corpora", () => {
  test('a text file: one document per line', () => {
    const f = join(tmp, 'lines.txt');
    writeFileSync(f, 'first document\n\n  second document  \nthird\n');
    const c = readTextCorpus(f);
    assert.deepEqual(c.texts, ['first document', 'second document', 'third']);
    assert.equal(c.labels, undefined);
  });

  test('a TSV: label<TAB>text, classes sorted', () => {
    const f = join(tmp, 'labelled.tsv');
    writeFileSync(f, 'sport\tthe match was won\nfood\tbread and butter\nsport\ta goal\n');
    const c = readTextCorpus(f);
    assert.deepEqual(c.texts, ['the match was won', 'bread and butter', 'a goal']);
    assert.deepEqual(c.classNames, ['food', 'sport']);
    assert.deepEqual(Array.from(c.labels!), [1, 0, 1]);
    writeFileSync(f, 'sport\tok\nno tab here\n');
    assert.throws(() => readTextCorpus(f), /line 2: expected 'label<TAB>text'/);
  });

  test('a folder of files (one document each), and a folder of label sub-folders', () => {
    const flat = join(tmp, 'docs');
    mkdirSync(flat);
    writeFileSync(join(flat, 'a.txt'), 'document a\nstill a\n');
    writeFileSync(join(flat, 'b.txt'), 'document b');
    assert.deepEqual(readTextCorpus(flat).texts, ['document a\nstill a', 'document b']);
    assert.deepEqual(readTextCorpus(flat, { documents: 'line' }).texts, ['document a', 'still a', 'document b']);
    const byLabel = join(tmp, 'by-label');
    mkdirSync(join(byLabel, 'pos'), { recursive: true });
    mkdirSync(join(byLabel, 'neg'));
    writeFileSync(join(byLabel, 'pos', '1.txt'), 'great');
    writeFileSync(join(byLabel, 'pos', '2.txt'), 'lovely');
    writeFileSync(join(byLabel, 'neg', '1.txt'), 'awful');
    const c = readTextCorpus(byLabel);
    assert.deepEqual(c.classNames, ['neg', 'pos']);
    assert.deepEqual(c.texts, ['awful', 'great', 'lovely']);
    assert.deepEqual(Array.from(c.labels!), [0, 1, 1]);
    writeFileSync(join(byLabel, 'stray.txt'), 'x');
    assert.throws(() => readTextCorpus(byLabel), /mixes files \(stray\.txt\) with label sub-folders/);
  });

  test('missing paths and empty corpora are clear errors', () => {
    assert.throws(() => readTextCorpus(join(tmp, 'missing.txt')), /text corpus not found at '.*missing\.txt'/);
    const empty = join(tmp, 'empty.txt');
    writeFileSync(empty, '\n  \n');
    assert.throws(() => readTextCorpus(empty), /the corpus is empty/);
    const emptyDir = join(tmp, 'empty-dir');
    mkdirSync(emptyDir);
    assert.throws(() => readTextCorpus(emptyDir), /the corpus is empty/);
  });
});

// ------------------------------------------------------------------ tokenizers

const TEXTS = [
  'The cat sat on the mat.', 'The dog sat on the log!', 'A cat and a dog played.', 'Cats chase mice; dogs chase cats.',
  'the mat was red', 'The log was brown and the mat was red.',
];

describe('word vocabulary', () => {
  test('lower-cases, keeps words seen minCount times, most frequent first, unknown at 0', () => {
    const v = WordVocab.build(TEXTS, { minCount: 2 });
    assert.equal(v.words[0], '<unk>');
    assert.equal(v.words[1], 'the', '"The" and "the" count together and are the most frequent');
    assert.ok(v.has('cat') && v.has('dog') && !v.has('mice') && !v.has('The'));
    for (let i = 2; i < v.size; i++) assert.ok(v.counts[i - 1]! >= v.counts[i]!, 'sorted by count');
    assert.equal(v.counts[v.id('the')], 7);
    assert.equal(v.id('mice'), 0);
    const ids = v.encode('The cat chased MICE');
    assert.deepEqual(Array.from(ids), [v.id('the'), v.id('cat'), 0, 0]);
    assert.equal(v.decode(ids), 'the cat <unk> <unk>');
    assert.equal(v.decode(v.encode('the red mat')), 'the red mat');
    assert.throws(() => WordVocab.build(['a b c'], { minCount: 2 }), /no word occurs at least 2 times/);
  });

  test('save and load give an equal vocabulary', () => {
    const v = WordVocab.build(TEXTS, { minCount: 1 });
    const file = join(tmp, 'vocab.json');
    v.save(file);
    const w = WordVocab.load(file);
    assert.deepEqual(w.toJSON(), v.toJSON());
    for (const t of TEXTS) assert.deepEqual(Array.from(w.encode(t)), Array.from(v.encode(t)));
    writeFileSync(file, JSON.stringify({ type: 'selfsup.bpe', version: 1 }));
    assert.throws(() => WordVocab.load(file), /is not a selfsup\.word-vocab/);
  });

  test('encodeCorpus joins documents with offsets', () => {
    const v = WordVocab.build(TEXTS, { minCount: 1 });
    const { ids, offsets } = v.encodeCorpus(['the cat', '', 'a dog sat']);
    assert.deepEqual(Array.from(offsets), [0, 2, 2, 5]);
    assert.deepEqual(Array.from(ids), [v.id('the'), v.id('cat'), v.id('a'), v.id('dog'), v.id('sat')]);
  });
});

describe('BPE tokenizer', () => {
  const corpus = [...TEXTS, ...TEXTS, 'lowest newest widest', 'low lower lowest new newer newest'];

  test('learns merges: frequent words become single tokens; the vocabulary size is honoured', () => {
    const bpe = BpeTokenizer.train(corpus, { vocabSize: 60 });
    assert.equal(bpe.size, 60);
    assert.deepEqual(SPECIAL_TOKENS.map((t) => bpe.tokenId(t)), [0, 1, 2, 3, 4]);
    assert.equal(bpe.encode('the').length, 1, `'the' is one token: ${bpe.vocab[bpe.encode('the')[0]!]}`);
    assert.ok(bpe.encode('newest').length < 6, 'subwords shorter than characters');
  });

  test('encode then decode gives the words back; save then load gives the same tokenizer', () => {
    const bpe = BpeTokenizer.train(corpus, { vocabSize: 80 });
    for (const text of ['the cat sat on the mat', 'lowest newer cats', 'a dog and a log', 'tan cow']) {
      assert.equal(bpe.decode(bpe.encode(text)), text);
    }
    assert.equal(bpe.decode(bpe.encode('The CAT, sat!')), 'the cat sat');
    const file = join(tmp, 'bpe.json');
    bpe.save(file);
    const back = BpeTokenizer.load(file);
    assert.deepEqual(back.toJSON(), bpe.toJSON());
    assert.deepEqual(back.vocab, bpe.vocab);
    for (const t of corpus) assert.deepEqual(Array.from(back.encode(t)), Array.from(bpe.encode(t)));
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).type, 'selfsup.bpe');
  });

  test('unknown characters give [UNK]; special tokens wrap and maxLength cuts', () => {
    const bpe = BpeTokenizer.train(corpus, { vocabSize: 80 });
    const ids = bpe.encode('the zebra cat');
    assert.ok(Array.from(ids).includes(UNK_ID), "'z' was never seen");
    assert.equal(bpe.decode(ids), 'the [UNK] cat');
    const wrapped = bpe.encode('the cat sat on the mat', { special: true });
    assert.equal(wrapped[0], CLS_ID);
    assert.equal(wrapped[wrapped.length - 1], SEP_ID);
    const cut = bpe.encode('the cat sat on the mat', { special: true, maxLength: 4 });
    assert.equal(cut.length, 4);
    assert.equal(cut[3], SEP_ID);
    assert.equal(bpe.decode(cut), bpe.decode(wrapped.subarray(0, 3)), 'the first two tokens survive');
  });
});

// ------------------------------------------------------------------ skip-gram pieces

describe('negative sampling', () => {
  test('the alias sampler draws words with frequencies close to unigram^0.75, normalised', () => {
    const counts = [0, 5000, 2000, 900, 400, 100, 40, 10, 3, 1, 1];
    const expected = noiseDistribution(counts, 0.75);
    assert.ok(Math.abs(expected.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    const raw = counts.map((c) => c ** 0.75);
    assert.ok(Math.abs(expected[2]! - raw[2]! / raw.reduce((a, b) => a + b, 0)) < 1e-12);
    using sampler = new AliasSampler(expected);
    const n = 400_000;
    const draws = tidy(() => sampler.sample([n], new Generator(7)).bincount(counts.length).dataNumbers());
    assert.equal(draws[0], 0, 'a zero-probability word is never drawn');
    let chi2 = 0;
    let maxDev = 0;
    expected.forEach((p, i) => {
      if (p === 0) return;
      chi2 += (draws[i]! - n * p) ** 2 / (n * p);
      maxDev = Math.max(maxDev, Math.abs(draws[i]! / n - p));
    });
    // 9 degrees of freedom: P(chi2 > 27.9) = 0.001.
    assert.ok(chi2 < 27.9, `chi-square ${chi2.toFixed(2)} against unigram^0.75`);
    assert.ok(maxDev < 0.005, `largest deviation ${maxDev}`);
    // The plain unigram distribution is far from what was drawn: the test can tell them apart.
    const unigram = noiseDistribution(counts, 1);
    let chi2Unigram = 0;
    unigram.forEach((p, i) => { if (p > 0) chi2Unigram += (draws[i]! - n * p) ** 2 / (n * p); });
    assert.ok(chi2Unigram > 1000, `draws differ from plain unigram frequencies (chi-square ${chi2Unigram.toFixed(0)})`);
  });
});

describe('subsampling and pairs', () => {
  test('keep probability (sqrt(f/t) + 1) * t/f: frequent words are kept less often', () => {
    const counts = [0, 10_000, 1000, 100, 10, 1];
    const total = counts.reduce((a, b) => a + b, 0);
    const keep = keepProbabilities(counts, 1e-3);
    const f = counts[1]! / total;
    assert.ok(Math.abs(keep[1]! - (Math.sqrt(f / 1e-3) + 1) * (1e-3 / f)) < 1e-6);
    for (let i = 2; i < counts.length; i++) assert.ok(keep[i - 1]! <= keep[i]!, 'less frequent, kept more');
    assert.equal(keep[5], 1);
    // Empirically, in the pair generator: a stream of many 'frequent' and a few 'rare' words.
    const ids = new Int32Array(20_000).map((_, i) => (i % 200 === 100 ? 2 : 1));
    const kept = keepProbabilities([0, 19_900, 100], 1e-2);
    assert.ok(kept[1]! < 0.2 && kept[2] === 1);
    const pairs = skipGramPairs({ ids, offsets: Int32Array.from([0, ids.length]) }, new Rng(3), { window: 1, keep: kept });
    let frequent = 0;
    let rare = 0;
    // With window 1, every kept word but the two ends is a center twice.
    for (const c of pairs.centers) c === 1 ? frequent++ : rare++;
    const frequentRate = frequent / 2 / 19_900;
    const rareRate = rare / 2 / 100;
    assert.ok(Math.abs(frequentRate - kept[1]!) < 0.02, `frequent word kept ${frequentRate.toFixed(3)}, expected ${kept[1]!.toFixed(3)}`);
    assert.ok(rareRate > 0.95, `rare word kept ${rareRate}`);
  });

  test('pairs stay inside documents, skip the unknown word, and respect the window', () => {
    const corpus = { ids: Int32Array.from([1, 2, 0, 3, 4, 5, 6]), offsets: Int32Array.from([0, 4, 7]) };
    const p = skipGramPairs(corpus, new Rng(0), { window: 1 });
    const got = Array.from(p.centers, (c, i) => `${c}-${p.contexts[i]}`).sort();
    // Document 1 is [1, 2, 3] once 0 is dropped; document 2 is [4, 5, 6].
    assert.deepEqual(got, ['1-2', '2-1', '2-3', '3-2', '4-5', '5-4', '5-6', '6-5']);
    assert.equal(p.words, 6);
    const wide = skipGramPairs(corpus, new Rng(0), { window: 5 });
    for (let i = 0; i < wide.centers.length; i++) {
      assert.equal(wide.centers[i]! <= 3, wide.contexts[i]! <= 3, 'no pair crosses documents');
    }
  });
});

describe('skip-gram model and SparseAdam', () => {
  test('the loss is -log σ(u·v) - Σ log σ(-u·n), averaged over the batch, with sparse gradients', () => tidy(() => {
    manualSeed(1);
    const m = new SkipGram(10, 4);
    noGrad(() => { m.inEmbed.weight.normal_(); m.outEmbed.weight.normal_(); });
    const centers = tensor([1, 2], { dtype: 'int64' });
    const contexts = tensor([3, 4], { dtype: 'int64' });
    const negatives = tensor([[5, 6], [7, 8]], { dtype: 'int64' });
    const loss = m.loss(centers, contexts, negatives);
    const W = m.inEmbed.weight.toArray() as number[][];
    const C = m.outEmbed.weight.toArray() as number[][];
    const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
    const logSig = (x: number): number => -Math.log1p(Math.exp(-x));
    const expected = [[1, 3, [5, 6]], [2, 4, [7, 8]]].map(([c, x, ns]) =>
      -logSig(dot(W[c as number]!, C[x as number]!)) - (ns as number[]).reduce((s, n) => s + logSig(-dot(W[c as number]!, C[n]!)), 0));
    assert.ok(Math.abs(loss.item() - (expected[0]! + expected[1]!) / 2) < 1e-5);
    loss.backward();
    assert.ok(isSparse(m.outEmbed.weight.grad!) && isSparse(m.inEmbed.weight.grad!), 'embedding gradients are sparse');
    m.dispose();
  }));

  test('SparseAdam updates only the rows a batch touched, by about lr on its first step', () => tidy(() => {
    manualSeed(2);
    const m = new SkipGram(20, 3);
    noGrad(() => m.outEmbed.weight.normal_());
    const before = m.inEmbed.weight.clone();
    const opt = new SparseAdam(m.parameters(), { lr: 0.1 });
    const loss = m.loss(tensor([4, 4, 9], { dtype: 'int64' }), tensor([1, 2, 3], { dtype: 'int64' }), tensor([[5], [6], [7]], { dtype: 'int64' }));
    loss.backward();
    opt.step();
    const delta = m.inEmbed.weight.sub(before).abs().sum(1).dataNumbers();
    delta.forEach((d, row) => {
      if (row === 4 || row === 9) assert.ok(Math.abs(d - 0.3) < 1e-3, `row ${row} moved by lr in each of 3 dims (${d})`);
      else assert.equal(d, 0, `row ${row} untouched`);
    });
    assert.throws(() => { // a dense gradient is refused clearly
      const p = zeros([3, 2], { requiresGrad: true });
      const o = new SparseAdam([p]);
      p.sum().backward();
      o.step();
    }, /gradient of a \[3, 2\] parameter is dense/);
    opt.dispose();
    m.dispose();
  }));

  test('SparseAdam state saves and loads: a resumed optimizer takes exactly the same steps', () => tidy(() => {
    const batch = (i: number): [Tensor, Tensor, Tensor] => [tensor([i % 5, 7, 9], { dtype: 'int64' }), tensor([1, 2, (i % 3) + 3], { dtype: 'int64' }), tensor([[5], [6], [8]], { dtype: 'int64' })];
    const train = (m: SkipGram, opt: SparseAdam, from: number, to: number): void => {
      for (let i = from; i < to; i++) tidy(() => { opt.zeroGrad(); m.loss(...batch(i)).backward(); opt.step(); });
    };
    manualSeed(3);
    const a = new SkipGram(12, 4);
    noGrad(() => a.outEmbed.weight.normal_());
    const optA = new SparseAdam(a.parameters(), { lr: 0.05 });
    train(a, optA, 0, 3);
    const b = new SkipGram(12, 4);
    b.loadStateDict(a.stateDict());
    const optB = new SparseAdam(b.parameters(), { lr: 0.05 });
    optB.loadStateDict(optA.stateDict());
    assert.deepEqual([...optB.stateDict().state.keys()].sort(), ['0.exp_avg', '0.exp_avg_sq', '1.exp_avg', '1.exp_avg_sq'], "PyTorch's names");
    train(a, optA, 3, 6);
    train(b, optB, 3, 6);
    assert.ok(b.inEmbed.weight.allclose(a.inEmbed.weight, 1e-6, 1e-7) && b.outEmbed.weight.allclose(a.outEmbed.weight, 1e-6, 1e-7), 'same weights after three more steps');
    for (const o of [optA, optB]) o.dispose();
    a.dispose();
    b.dispose();
  }));
});

const PYTHON = '/usr/bin/python3';
const torchProbe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const noTorch = torchProbe.status === 0 ? false : `PyTorch check skipped: '${PYTHON} -c "import torch"' failed`;

describe('skip-gram against PyTorch', { skip: noTorch }, () => {
  test('same losses and vectors as torch.optim.SparseAdam over five steps', () => tidy(() => {
    manualSeed(9);
    const V = 12;
    const D = 4;
    const model = new SkipGram(V, D);
    noGrad(() => model.outEmbed.weight.normal_(0, 0.3));
    const inInit = model.inEmbed.weight.toArray() as number[][];
    const outInit = model.outEmbed.weight.toArray() as number[][];
    const rng = new Rng(5);
    const batches = Array.from({ length: 5 }, () => ({
      c: Array.from({ length: 6 }, () => rng.int(V)), x: Array.from({ length: 6 }, () => rng.int(V)),
      n: Array.from({ length: 6 }, () => Array.from({ length: 3 }, () => rng.int(V))),
    }));
    const opt = new SparseAdam(model.parameters(), { lr: 0.05 });
    const losses = batches.map((b) => tidy(() => {
      const loss = model.loss(tensor(b.c, { dtype: 'int64' }), tensor(b.x, { dtype: 'int64' }), tensor(b.n, { dtype: 'int64' }));
      opt.zeroGrad();
      loss.backward();
      opt.step();
      return loss.item();
    }));
    const script = `
import json, sys, torch, torch.nn.functional as F
d = json.load(sys.stdin)
inp = torch.nn.Embedding(${V}, ${D}, sparse=True); out = torch.nn.Embedding(${V}, ${D}, sparse=True)
with torch.no_grad():
    inp.weight.copy_(torch.tensor(d['in'])); out.weight.copy_(torch.tensor(d['out']))
opt = torch.optim.SparseAdam(list(inp.parameters()) + list(out.parameters()), lr=0.05)
losses = []
for b in d['batches']:
    u = inp(torch.tensor(b['c'])); v = out(torch.cat([torch.tensor(b['x']).unsqueeze(1), torch.tensor(b['n'])], 1))
    s = torch.bmm(v, u.unsqueeze(2)).squeeze(2)
    loss = -(F.logsigmoid(s[:, 0]) + F.logsigmoid(-s[:, 1:]).sum(1)).mean()
    opt.zero_grad(); loss.backward(); opt.step(); losses.append(loss.item())
print(json.dumps({'losses': losses, 'in': inp.weight.tolist(), 'out': out.weight.tolist()}))
`;
    const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify({ in: inInit, out: outInit, batches }), encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const want = JSON.parse(r.stdout) as { losses: number[]; in: number[][]; out: number[][] };
    losses.forEach((l, i) => assert.ok(Math.abs(l - want.losses[i]!) < 1e-5, `step ${i}: loss ${l} vs PyTorch ${want.losses[i]}`));
    const close = (got: number[][], exp: number[][], what: string): void => got.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - exp[i]![j]!) < 1e-5, `${what}[${i}][${j}]: ${v} vs PyTorch ${exp[i]![j]}`)));
    close(model.inEmbed.weight.toArray() as number[][], want.in, 'input vectors');
    close(model.outEmbed.weight.toArray() as number[][], want.out, 'output vectors');
    opt.dispose();
    model.dispose();
  }));
});

/** Two topics with disjoint words: animals and machines, with a shared filler word. */
function twoTopics(n: number, seed: number): { texts: string[]; labels: Int32Array } {
  const rng = new Rng(seed);
  const topics = [
    ['cat', 'dog', 'horse', 'cow', 'sheep', 'goat', 'pig', 'hen', 'duck', 'mouse'],
    ['engine', 'motor', 'gear', 'pump', 'valve', 'piston', 'lever', 'wheel', 'bolt', 'axle'],
  ];
  const texts: string[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = i % 2;
    const words = Array.from({ length: 8 }, () => (rng.next() < 0.25 ? 'the' : topics[t]![rng.int(10)]!));
    texts.push(words.join(' '));
    labels.push(t);
  }
  return { texts, labels: Int32Array.from(labels) };
}

describe('skip-gram training', () => {
  test('words of one topic end up closer than words of different topics; vectors travel with their vocabulary', async () => {
    manualSeed(0);
    const { texts } = twoTopics(400, 1);
    const vocab = WordVocab.build(texts, { minCount: 1 });
    const config = { ...defaultSkipGramConfig(), dim: 16, epochs: 3, batchSize: 512, lr: 0.05, subsample: 0 };
    const baseline = memory().numTensors;
    const checkpoint = join(tmp, 'sg');
    const r = await trainSkipGram({ vocab, corpus: vocab.encodeCorpus(texts), config, progress: false, checkpoint });
    assert.ok(r.fit.steps > 0 && r.wordsPerSecond > 0 && r.pairsPerSecond > 0);
    const vectors = WordVectors.fromSkipGram(r.model, vocab);
    r.model.dispose();
    const animals = ['cat', 'dog', 'horse', 'cow', 'sheep'];
    const machines = ['engine', 'motor', 'gear', 'pump', 'valve'];
    const same: [number, number][] = [];
    const cross: [number, number][] = [];
    for (const a of animals) for (const b of animals) if (a < b) same.push([vocab.id(a), vocab.id(b)]);
    for (const a of machines) for (const b of machines) if (a < b) same.push([vocab.id(a), vocab.id(b)]);
    for (const a of animals) for (const b of machines) cross.push([vocab.id(a), vocab.id(b)]);
    const auc = rocAuc(pairSimilarities(vectors, same), pairSimilarities(vectors, cross));
    assert.ok(auc > 0.95, `same-topic pairs closer than cross-topic pairs: AUC ${auc}`);
    const nn = nearestNeighbors(vectors, 'cat', 4);
    assert.equal(nn.length, 4);
    assert.ok(nn.every((x) => x.word !== 'cat'));
    assert.ok(nn.filter((x) => animals.includes(x.word) || ['goat', 'pig', 'hen', 'duck', 'mouse'].includes(x.word)).length >= 3, JSON.stringify(nn));
    for (let i = 1; i < nn.length; i++) assert.ok(nn[i - 1]!.similarity >= nn[i]!.similarity);
    assert.throws(() => nearestNeighbors(vectors, 'zebra'), /'zebra' is not in the vocabulary/);
    // The vocabulary is in the checkpoint, and loadWordVectors reads it back (from the checkpoint and from a saved file).
    const ck = loadCheckpoint(checkpoint);
    assert.deepEqual(WordVocab.fromJSON(ck.meta.vocab as never).toJSON(), vocab.toJSON());
    for (const t of ck.model.values()) t.dispose();
    for (const t of ck.optimizer?.state.values() ?? []) t.dispose();
    using fromCheckpoint = loadWordVectors(checkpoint);
    assert.deepEqual(nearestNeighbors(fromCheckpoint, 'cat', 4), nn);
    vectors.save(join(tmp, 'vectors.safetensors'));
    using fromFile = loadWordVectors(join(tmp, 'vectors.safetensors'));
    assert.deepEqual(fromFile.vocab.toJSON(), vocab.toJSON());
    assert.ok(fromFile.vectors.equal(vectors.vectors));
    vectors.dispose();
    fromCheckpoint.dispose();
    fromFile.dispose();
    assert.equal(memory().numTensors, baseline, 'training and loading leave no tensor behind');
  });

  test('rocAuc and the synonym test', () => {
    assert.equal(rocAuc([3, 4], [1, 2]), 1);
    assert.equal(rocAuc([1, 2], [3, 4]), 0);
    assert.equal(rocAuc([1, 1], [1, 1]), 0.5);
    assert.equal(rocAuc([2, 0], [1]), 0.5);
    const synsets = [
      { words: ['car', 'auto', 'automobile'] }, { words: ['big', 'large'] }, { words: ['cold_war'] }, { words: ['dog'] }, { words: ['rare', 'scarce'] },
    ].map((s, i) => ({ offset: i, pos: 'noun', lexFilenum: 5, lexname: 'noun.animal', definition: '', examples: [], ...s }) as Synset);
    const t = synonymTest(synsets, (w) => (w === 'scarce' ? 1 : 100), { pairs: 10, minCount: 10 });
    assert.equal(t.synonyms.length, 2, 'pairs come from synsets with two frequent single words');
    assert.deepEqual(new Set(t.synsets.map((s) => s.offset)), new Set([0, 1]));
    for (const p of [...t.synonyms, ...t.random]) assert.notEqual(p.a, p.b);
    const sameSynset = (a: string, b: string): boolean => synsets.some((s) => s.words.includes(a) && s.words.includes(b));
    for (const p of t.synonyms) assert.ok(sameSynset(p.a, p.b));
    for (const p of t.random) assert.ok(!sameSynset(p.a, p.b), `${p.a}/${p.b} share no synset`);
  });
});

// ------------------------------------------------------------------ masked LM

describe('masking', () => {
  test('15% of ordinary tokens chosen; of those 80% [MASK], 10% random, 10% unchanged; specials never', () => tidy(() => {
    const vocabSize = 1000;
    const rows = 400;
    const len = 100;
    const data = new Int32Array(rows * len);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < len; i++) data[r * len + i] = i === 0 ? CLS_ID : i === len - 1 ? SEP_ID : i > 80 ? PAD_ID : 5 + ((r * 31 + i * 7) % (vocabSize - 5));
    }
    const ids = tensor(data, { shape: [rows, len], dtype: 'int64' });
    const m = maskTokens(ids, { maskId: MASK_ID, firstRegularId: 5, vocabSize, generator: new Generator(11) });
    const orig = Array.from(data);
    const input = m.input.dataNumbers();
    const labels = m.labels.dataNumbers();
    const chosen = m.chosen.dataNumbers();
    let regular = 0, picked = 0, masked = 0, replaced = 0, unchanged = 0;
    for (let i = 0; i < orig.length; i++) {
      const special = orig[i]! < 5;
      if (special) {
        assert.equal(chosen[i], 0, 'a special token is never chosen');
        assert.equal(input[i], orig[i]);
        continue;
      }
      regular++;
      if (!chosen[i]) {
        assert.equal(labels[i], IGNORE_INDEX);
        assert.equal(input[i], orig[i], 'tokens not chosen are left alone');
        continue;
      }
      picked++;
      assert.equal(labels[i], orig[i], 'the label is the original token');
      if (input[i] === MASK_ID) masked++;
      else if (input[i] === orig[i]) unchanged++;
      else {
        replaced++;
        assert.ok(input[i]! >= 5 && input[i]! < vocabSize, 'random replacements are ordinary tokens');
      }
    }
    const rate = picked / regular;
    assert.ok(Math.abs(rate - 0.15) < 0.01, `chosen fraction ${rate}`);
    assert.ok(Math.abs(masked / picked - 0.8) < 0.02, `[MASK] fraction ${masked / picked}`);
    // A random replacement equals the original 1 time in 995; such tokens count as unchanged.
    assert.ok(Math.abs(replaced / picked - 0.1) < 0.015, `random fraction ${replaced / picked}`);
    assert.ok(Math.abs(unchanged / picked - 0.1) < 0.015, `unchanged fraction ${unchanged / picked}`);
  }));

  test('frequency weights: frequent tokens are chosen less often, rare ones more, at the same overall rate', () => tidy(() => {
    // Zipf counts over 200 ordinary tokens; a corpus drawn from them.
    const vocabSize = 205;
    const counts = Float64Array.from({ length: vocabSize }, (_, i) => (i < 5 ? 0 : 10000 / (i - 4)));
    const weights = frequencyMaskWeights(counts, 1e-3, 0.3);
    const total = counts.reduce((a, b) => a + b, 0);
    const expected = Array.from(counts, (c, i) => (c / total) * Math.min(1, 0.3 * weights[i]!)).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(expected - 0.3) < 1e-6, `expected chosen fraction ${expected}`);
    assert.ok(weights[5]! < weights[50]! && weights[50]! <= weights[200]!, 'the most frequent token has the smallest weight');
    const rng = new Rng(12);
    const cdf = Array.from(counts, (_, i) => counts.slice(0, i + 1).reduce((a, b) => a + b, 0) / total);
    const data = Int32Array.from({ length: 200 * 100 }, () => { const u = rng.next(); return cdf.findIndex((c) => u < c); });
    const ids = tensor(data, { shape: [200, 100], dtype: 'int64' });
    const m = maskTokens(ids, { maskId: MASK_ID, firstRegularId: 5, vocabSize, maskProb: 0.3, tokenWeights: tensor(weights), generator: new Generator(13) });
    const chosen = m.chosen.dataNumbers();
    const rate = chosen.reduce((a, b) => a + b, 0) / data.length;
    assert.ok(Math.abs(rate - 0.3) < 0.015, `chosen fraction ${rate}`);
    const rateOf = (id: number): number => {
      let n = 0, c = 0;
      data.forEach((t, i) => { if (t === id) { n++; c += chosen[i]!; } });
      return c / n;
    };
    const top = rateOf(5);
    assert.ok(Math.abs(top - 0.3 * weights[5]!) < 0.03, `the most frequent token is chosen ${top}, expected ${0.3 * weights[5]!}`);
    assert.ok(top < 0.3, `the most frequent token is chosen less than the average (${top})`);
  }));
});

describe('masked language model', () => {
  const tiny = { ...defaultMlmConfig(), dModel: 16, heads: 2, layers: 2, dimFeedforward: 32, maxLen: 16, dropout: 0 };

  test('the loss is the cross-entropy at chosen positions only', () => tidy(() => {
    manualSeed(3);
    const model = new MaskedLanguageModel(30, tiny);
    model.eval();
    const input = tensor([[2, 7, 4, 9, 3, 0], [2, 4, 11, 3, 0, 0]], { dtype: 'int64' });
    const labels = tensor([[-100, -100, 8, -100, -100, -100], [-100, 12, -100, -100, -100, -100]], { dtype: 'int64' });
    const { loss, count } = model.loss(input, labels);
    assert.equal(count, 2);
    const logits = model.forward(input); // [2, 6, 30]
    const picked = F.logSoftmax(logits, -1);
    const expected = -((picked.toArray() as number[][][])[0]![2]![8]! + (picked.toArray() as number[][][])[1]![1]![12]!) / 2;
    assert.ok(Math.abs(loss.item() - expected) < 1e-5, `${loss.item()} vs ${expected}`);
    // Padding is masked out of attention and pooling; a real token in its place does count.
    const padded = tensor([[2, 7, 4, 9, 3, 5], [2, 4, 11, 3, 0, 0]], { dtype: 'int64' });
    assert.ok(!model.encoder.pool(padded).select(0, 0).allclose(model.encoder.pool(input).select(0, 0)), 'a real token does change the output');
    assert.ok(model.encoder.pool(input).select(0, 1).allclose(model.encoder.pool(tensor([[2, 4, 11, 3]], { dtype: 'int64' })).select(0, 0), 1e-4, 1e-5),
      'a padded sequence pools like the same sequence without padding');
    model.dispose();
  }));

  test('a classifier on the encoder: a head on the last layer, or on every layer side by side', () => tidy(() => {
    manualSeed(7);
    const ids = tensor([[2, 7, 4, 9, 3], [2, 4, 11, 3, 0]], { dtype: 'int64' });
    for (const allLayers of [false, true]) {
      const model = new TextClassifier(new MaskedLanguageModel(30, tiny).takeEncoder(), 3, { allLayers });
      model.eval();
      assert.equal(model.head.weight.shape[1], allLayers ? 16 * 3 : 16, 'the head sees d or (layers + 1) * d features');
      const logits = model.forward(ids);
      assert.deepEqual(logits.shape, [2, 3]);
      assert.ok(logits.allclose(model.head.forward(model.encoder.pool(ids, { allLayers })), 1e-5, 1e-6));
      model.dispose();
    }
  }));

  for (const [how, extra] of [['full softmax', { sampledNegatives: 0, embeddingLrScale: 1 }], ['sampled softmax, faster embedding', { sampledNegatives: 16, embeddingLrScale: 10 }]] as const) test(`pretraining (${how}) lowers the loss, keeps the tokenizer in its checkpoint, and leaks nothing`, async () => {
    manualSeed(4);
    const { texts } = twoTopics(300, 2);
    const tokenizer = BpeTokenizer.train(texts, { vocabSize: 60 });
    const baseline = memory().numTensors;
    const checkpoint = join(tmp, 'mlm');
    const r = await pretrainMaskedLM({ tokenizer, texts, config: { ...tiny, ...extra, epochs: 4, batchSize: 16, lr: 3e-3, warmupSteps: 10, heldOut: 30 }, progress: false, checkpoint });
    const losses = r.fit.curve.filter((p) => p.loss !== undefined).map((p) => p.loss!);
    const head = losses.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
    const tail = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    assert.ok(tail < head - 0.5, `loss fell from ${head.toFixed(2)} to ${tail.toFixed(2)}`);
    // 60 tokens: guessing uniformly gets 1.7%.
    assert.ok(r.heldOutAccuracy! > 0.05, `held-out masked-token accuracy ${r.heldOutAccuracy}`);
    const ck = loadCheckpoint(checkpoint);
    assert.deepEqual(BpeTokenizer.fromJSON(ck.meta.tokenizer as never).toJSON(), tokenizer.toJSON());
    for (const t of ck.model.values()) t.dispose();
    for (const t of ck.optimizer?.state.values() ?? []) t.dispose();
    const features = encodeTexts(r.model.encoder, tokenizer, texts.slice(0, 10));
    assert.deepEqual(features.shape, [10, 16]);
    features.dispose();
    r.model.dispose();
    assert.equal(memory().numTensors, baseline, 'pretraining leaves no tensor behind');
  });
});

describe('sampled softmax', () => {
  test('the loss is the cross-entropy over the true token and the drawn negatives, each less log(K q), hits removed', () => tidy(() => {
    const counts = [0, 5, 1, 3, 8, 2];
    const K = 12;
    using s = new SampledSoftmax(counts, K);
    manualSeed(5);
    const hidden = tensor([[0.5, -1.0], [0.2, 0.3], [-0.7, 0.1]]);
    const weight = tensor([[0, 0], [1, 0], [0, 1], [1, 1], [-1, 0.5], [0.3, -0.2]]);
    const bias = tensor([0, 0.1, -0.2, 0.3, 0, 0.05]);
    const targets = tensor([3, 4, 1], { dtype: 'int64' });
    const drawn = s.sampler.sample([K], new Generator(77)).toArray() as number[];
    const { loss, correct } = s.loss(hidden, weight, bias, targets, new Generator(77));
    const q = noiseDistribution(counts, 0.75);
    const h = hidden.toArray() as number[][];
    const w = weight.toArray() as number[][];
    const b = bias.toArray() as number[];
    const logit = (i: number, j: number): number => h[i]![0]! * w[j]![0]! + h[i]![1]! * w[j]![1]! + b[j]! - Math.log(K * q[j]!);
    let total = 0;
    let right = 0;
    [3, 4, 1].forEach((t, i) => {
      assert.ok(!drawn.includes(0), 'a token never seen is never drawn');
      const negatives = drawn.filter((j) => j !== t).map((j) => logit(i, j));
      const all = [logit(i, t), ...negatives];
      const max = Math.max(...all);
      total += -(all[0]! - max - Math.log(all.reduce((a, l) => a + Math.exp(l - max), 0)));
      if (negatives.every((l) => l < all[0]!)) right++;
    });
    assert.ok(Math.abs(loss.item() - total / 3) < 1e-5, `${loss.item()} vs ${total / 3}`);
    assert.equal(correct.item(), right);
  }));

  test('training with it recovers the true distribution, not the proposal-biased one', () => {
    // Free logits for 8 tokens; targets drawn from p; negatives from a q unlike p. The
    // log-q correction makes softmax(logits) converge to p (without it, to about p / q).
    const p = [0.30, 0.20, 0.15, 0.12, 0.10, 0.07, 0.04, 0.02];
    const counts = [1, 2, 4, 8, 8, 4, 2, 1];
    manualSeed(6);
    using s = new SampledSoftmax(counts, 8);
    const weight = zeros([8, 1]);
    weight.requiresGrad = true;
    const optimizer = new Adam([weight], { lr: 0.05 });
    const g = new Generator(8);
    const rng = new Rng(9);
    const cdf = p.map((_, i) => p.slice(0, i + 1).reduce((a, b) => a + b, 0));
    for (let step = 0; step < 600; step++) {
      tidy(() => {
        const targets = tensor(Int32Array.from({ length: 256 }, () => { const u = rng.next(); return Math.max(0, cdf.findIndex((c) => u < c)); }), { dtype: 'int64' });
        const { loss } = s.loss(zeros([256, 1]).add(1), weight, zeros([8]), targets, g);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
      });
    }
    const learned = noGrad(() => tidy(() => F.softmax(weight.reshape([8]), 0).toArray() as number[]));
    const l1 = learned.reduce((a, x, i) => a + Math.abs(x - p[i]!), 0);
    assert.ok(l1 < 0.08, `softmax of the learned logits ${learned.map((x) => x.toFixed(3)).join(' ')} vs p (L1 ${l1.toFixed(3)})`);
    optimizer.dispose();
    weight.dispose();
  });
});

// ------------------------------------------------------------------ few-label classification

describe('classifiers on a toy task with a known answer', () => {
  test('two topics with disjoint words: bag of words and averaged vectors both reach ~100%', async () => {
    manualSeed(5);
    const train = twoTopics(40, 3);
    const test = twoTopics(200, 4);
    const vocab = WordVocab.build([...train.texts, ...test.texts], { minCount: 1 });
    const baseline = memory().numTensors;
    const model = new BagOfWordsClassifier(vocab.size, 2);
    const optimizer = new Adam(model.parameters(), { lr: 0.05 });
    const r = await trainClassifier({ name: 'bow', model, optimizer, data: { sequences: bagOfWordsInputs(vocab, train.texts), labels: train.labels, padId: 0 }, steps: 60, batchSize: 40, seed: 0 });
    assert.equal(r.steps, 60);
    const acc = classifierAccuracy(model, { sequences: bagOfWordsInputs(vocab, test.texts), labels: test.labels, padId: 0 });
    assert.ok(acc > 0.97, `bag-of-words accuracy ${acc}`);
    // An untrained (all-zero) classifier is at chance: the accuracy is earned.
    using untrained = new BagOfWordsClassifier(vocab.size, 2);
    assert.ok(classifierAccuracy(untrained, { sequences: bagOfWordsInputs(vocab, test.texts), labels: test.labels, padId: 0 }) <= 0.5 + 1e-9);
    optimizer.dispose();
    model.dispose();
    untrained.dispose();

    // Averaged word vectors where each topic's words share a direction: a linear probe separates them.
    const vectors = tidy(() => {
      const v = zeros([vocab.size, 4]);
      const rows = vocab.words.map((w, i) => [i, ['cat', 'dog', 'horse', 'cow', 'sheep', 'goat', 'pig', 'hen', 'duck', 'mouse'].includes(w) ? 1 : w === 'the' ? 2 : 0] as const);
      const data = new Float32Array(vocab.size * 4);
      for (const [i, kind] of rows) data[i * 4 + kind] = 1;
      return v.add(tensor(data, { shape: [vocab.size, 4] }));
    });
    using wv = new WordVectors(vocab, vectors);
    const trainX = averageWordVectors(wv, train.texts);
    const testX = averageWordVectors(wv, test.texts);
    const y = tensor(train.labels, { dtype: 'int64' });
    const ty = tensor(test.labels, { dtype: 'int64' });
    const probe = linearProbe(trainX, y, testX, ty, 2, { steps: 100 });
    assert.ok(probe.accuracy > 0.97, `averaged-vector probe accuracy ${probe.accuracy}`);
    for (const t of [trainX, testX, y, ty, probe.mean, probe.std] as Tensor[]) t.dispose();
    probe.classifier.dispose();
    wv.dispose();
    // No garbage collection here: linearProbe frees its own optimizer.
    assert.equal(memory().numTensors, baseline, 'no tensor left behind');
  });

  test('averageWordVectors ignores unknown words and gives zeros for a text without known words', () => tidy(() => {
    const vocab = WordVocab.build(['a b c', 'a b', 'a'], { minCount: 1 });
    using wv = new WordVectors(vocab, tensor([[0, 0], [1, 0], [0, 1], [1, 1]]));
    const x = averageWordVectors(wv, ['a b', 'a zzz', 'qqq', 'c c a']).toArray() as number[][];
    const row = (w: string): number[] => [[0, 0], [1, 0], [0, 1], [1, 1]][vocab.id(w)]!;
    const mean = (...ws: string[]): number[] => [0, 1].map((d) => ws.reduce((s, w) => s + row(w)[d]!, 0) / ws.length);
    assert.deepEqual(x[0], mean('a', 'b'));
    assert.deepEqual(x[1], row('a'));
    assert.deepEqual(x[2], [0, 0]);
    assert.deepEqual(x[3]!.map((v) => Math.round(v * 1e6) / 1e6), mean('c', 'c', 'a').map((v) => Math.round(v * 1e6) / 1e6));
  }));
});

describe('no leaks over many steps', () => {
  test('live tensors stay flat across skip-gram steps and a classifier run', async () => {
    manualSeed(6);
    const { texts, labels } = twoTopics(200, 5);
    const vocab = WordVocab.build(texts, { minCount: 1 });
    const corpus = vocab.encodeCorpus(texts);
    const counts: number[] = [];
    // The batched engine's steps (the fused engine's leaks: test/skipgram-fused.test.ts).
    const config = { ...defaultSkipGramConfig(), engine: 'batched' as const, dim: 8, epochs: 4, batchSize: 128, subsample: 0 };
    const r = await trainSkipGram({
      vocab, corpus, config, progress: false,
      callbacks: { onStepEnd: () => { counts.push(memory().numTensors); } },
    });
    assert.ok(counts.length > 40, `${counts.length} steps`);
    // After the first step the optimizer holds its moments; from then on the count is flat.
    assert.equal(Math.max(...counts.slice(2)), Math.min(...counts.slice(2)), `live tensors per step: ${[...new Set(counts)].join(', ')}`);
    r.model.dispose();
    const before = memory().numTensors;
    const model = new BagOfWordsClassifier(vocab.size, 2);
    const optimizer = new Adam(model.parameters(), { lr: 0.05 });
    await trainClassifier({ name: 'bow', model, optimizer, data: { sequences: bagOfWordsInputs(vocab, texts), labels, padId: 0 }, steps: 50, batchSize: 32, seed: 0 });
    classifierAccuracy(model, { sequences: bagOfWordsInputs(vocab, texts), labels, padId: 0 });
    optimizer.dispose();
    model.dispose();
    assert.equal(memory().numTensors, before);
  });
});
