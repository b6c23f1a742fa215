// A tiny end-to-end run of the text experiment on WordNet and fortune files made
// here: three noun categories and two fortune files, with a quick configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { memory, setNumThreads } from '../src/tensor/index.js';
import { Rng } from '../src/data/random.js';
import { runTextExperiment, quickTextConfig, defaultTextConfig, splitPerClass, expandTextMethods, TEXT_METHODS, DEFAULT_TEXT_METHODS } from '../src/experiment/text.js';
import { loadWordVectors, nearestNeighbors, WordVocab, BpeTokenizer } from '../src/text/index.js';

setNumThreads(1);
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const TOPICS: Record<string, { lexfile: string; words: string[] }> = {
  animal: { lexfile: '05', words: ['dog', 'cat', 'wolf', 'fox', 'bear', 'horse', 'mammal', 'fur', 'tail', 'paw', 'hunts', 'wild', 'tame', 'barks'] },
  food: { lexfile: '13', words: ['bread', 'soup', 'cheese', 'apple', 'sauce', 'baked', 'eaten', 'sweet', 'salty', 'dish', 'meal', 'flour', 'cooked', 'spice'] },
  plant: { lexfile: '20', words: ['tree', 'shrub', 'leaf', 'flower', 'root', 'grass', 'seed', 'petal', 'stem', 'grows', 'bloom', 'moss', 'fern', 'herb'] },
};
const FILLER = ['a', 'the', 'of', 'with', 'and', 'or', 'that', 'is', 'in', 'small', 'large', 'any'];
// Synonym pairs, each written into many glosses of its topic, so the synonym test has frequent words to use.
const SYNONYMS = [['big', 'huge'], ['quick', 'fast'], ['little', 'tiny'], ['pretty', 'lovely']];

function wordnetFixture(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(42);
  const lines: string[] = ['  1 This software and database is being provided to you  '];
  let offset = 1000;
  for (const [name, t] of Object.entries(TOPICS)) {
    for (let i = 0; i < 60; i++) {
      const gloss = Array.from({ length: 10 }, () => (rng.next() < 0.3 ? FILLER[rng.int(FILLER.length)]! : t.words[rng.int(t.words.length)]!));
      const syn = SYNONYMS[i % SYNONYMS.length]!;
      gloss.push(syn[rng.int(2)]!);
      const words = i < SYNONYMS.length ? `02 ${syn[0]} 0 ${syn[1]} 0` : `01 ${name}${i} 0`;
      lines.push(`${String(offset++).padStart(8, '0')} ${t.lexfile} n ${words} 000 | ${gloss.join(' ')}; "the ${t.words[rng.int(t.words.length)]} ${t.words[rng.int(t.words.length)]}"  `);
    }
  }
  writeFileSync(join(dir, 'data.noun'), lines.join('\n') + '\n');
  for (const pos of ['verb', 'adj', 'adv']) writeFileSync(join(dir, `data.${pos}`), lines[0] + '\n');
}

function fortuneFixture(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(7);
  const files: Record<string, string[]> = {
    computers: ['program', 'bug', 'code', 'kernel', 'compile', 'disk', 'byte', 'unix', 'screen', 'memory'],
    love: ['heart', 'kiss', 'darling', 'romance', 'sweet', 'passion', 'marry', 'lover', 'tender', 'embrace'],
  };
  for (const [file, words] of Object.entries(files)) {
    const quotes = Array.from({ length: 40 }, () => Array.from({ length: 9 }, () => (rng.next() < 0.3 ? FILLER[rng.int(FILLER.length)]! : words[rng.int(words.length)]!)).join(' '));
    writeFileSync(join(dir, file), quotes.join('\n%\n') + '\n%\n');
  }
}

test('runTextExperiment with a quick config: every method (ELECTRA and SimCSE too) on both tasks, a report, no leaks', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'selfsup-text-exp-'));
  try {
    const wordnet = join(tmp, 'wordnet');
    const fortunes = join(tmp, 'fortunes');
    wordnetFixture(wordnet);
    fortuneFixture(fortunes);
    const quick = quickTextConfig(wordnet, fortunes);
    assert.deepEqual(quick.methods, [...TEXT_METHODS], 'the quick config covers every method');
    const config = {
      ...quick,
      // Step budgets shorter than the epochs, so that they bind on this tiny corpus.
      // The fused skip-gram engine's budget is its epochs.
      skipgram: { ...quick.skipgram, epochs: 3 },
      mlm: { ...quick.mlm, epochs: 100, maxSteps: 40 },
      electra: { ...quick.electra, epochs: 100, maxSteps: 20 },
      simcse: { ...quick.simcse, epochs: 100, maxSteps: 10 },
      gloss: { categories: ['noun.animal', 'noun.food', 'noun.plant'], testPerClass: 15 },
      fortunes: { files: ['computers', 'love'], testPerClass: 10 },
      ks: [3, 8],
      synonyms: { pairs: 10, minCount: 5 },
    };
    const out = join(tmp, 'out');
    const baseline = memory().numTensors;
    const lines: string[] = [];
    const r = await runTextExperiment(config, out, (l) => lines.push(l));
    // Step budgets: each pretraining runs exactly its steps.
    assert.ok(lines.some((l) => l.startsWith('skip-gram: 3 epochs in')), `skip-gram ran 3 epochs: ${lines.filter((l) => l.startsWith('skip-gram')).join(' | ')}`);
    for (const [name, steps] of [['masked LM', 40], ['ELECTRA', 20], ['SimCSE', 10]] as const) {
      assert.ok(lines.some((l) => l.startsWith(`${name}: ${steps} steps in`)), `${name} ran ${steps} steps: ${lines.filter((l) => l.startsWith(name)).join(' | ')}`);
    }
    assert.ok(lines.some((l) => /SimCSE: from the masked LM's encoder/.test(l)));

    for (const task of r.tasks) {
      assert.deepEqual([...new Set(task.results.map((x) => x.method))], [...TEXT_METHODS], `${task.task}: every method ran`);
      assert.equal(task.results.length, TEXT_METHODS.length * config.ks.length);
      for (const x of task.results) {
        assert.equal(x.runs.length, config.seeds.length);
        for (const acc of x.runs) assert.ok(acc >= 0 && acc <= 1, `${task.task} ${x.method} k=${x.k}: accuracy ${acc} is a fraction`);
        assert.ok(Number.isFinite(x.std));
      }
    }
    assert.deepEqual(r.tasks.map((t) => t.task), ['WordNet glosses', 'fortunes']);
    assert.equal(r.tasks[0]!.testSize, 45);
    // The topics share no words: the bag of words, with 8 labels per class, is far above chance (1/3).
    const bow8 = r.results.find((x) => x.method === 'bow-scratch' && x.k === 8)!;
    assert.ok(bow8.mean > 0.6, `bow-scratch k=8 on disjoint topics: ${bow8.mean}`);

    assert.equal(r.report.modality, 'text');
    assert.deepEqual(r.report.results, r.results);
    assert.ok(r.report.curves.some((c) => c.run === 'skipgram-pretrain' && c.points.length > 0));
    assert.ok(r.report.curves.some((c) => c.run === 'mlm-pretrain'));
    assert.ok(r.report.curves.some((c) => c.run === 'electra-pretrain' && c.points.length > 0));
    assert.ok(r.report.curves.some((c) => c.run === 'simcse-pretrain' && c.points.length > 0));
    assert.ok(r.electraHeldOutAccuracy! >= 0 && r.electraHeldOutAccuracy! <= 1, `ELECTRA held-out accuracy ${r.electraHeldOutAccuracy}`);
    assert.ok(r.electraAllOriginalAccuracy! > 0 && r.electraAllOriginalAccuracy! <= 1);
    assert.ok(Number.isFinite(r.simcseAlignment), `SimCSE alignment ${r.simcseAlignment}`);
    assert.equal(typeof r.report.extra!['ELECTRA replaced-token ROC AUC (held out)'], 'number');
    assert.equal(typeof r.report.extra!['SimCSE uniformity (held out)'], 'number');
    assert.ok(r.report.notes!.some((n) => /Pretraining budgets: skip-gram 3 epochs \(fused engine\); in steps, masked LM 40, ELECTRA 20, SimCSE 10\./.test(n)));
    assert.equal(r.report.wordMaps!.length, 1);
    assert.equal(r.report.wordMaps![0]!.vectors.length, r.report.wordMaps![0]!.words.length);
    assert.equal(typeof r.report.extra!['synonym AUC (skip-gram)'], 'number');
    assert.ok(r.synonymAuc >= 0 && r.synonymAuc <= 1, `synonym AUC ${r.synonymAuc}`);
    assert.ok(r.skipgramWordsPerSecond > 0);
    assert.ok(typeof r.report.extra!['fortunes: bow-scratch k=3'] === 'string');

    // What the run leaves on disk: tokenizers, vectors the CLI's neighbors command can load, checkpoints.
    for (const f of ['vocab.json', 'bpe.json', 'word-vectors.safetensors', 'skipgram.json', 'mlm.json', 'electra.json', 'simcse.json', 'metrics.jsonl', 'masked-lm-encoder/text-encoder.json', 'electra-encoder/text-encoder.json', 'simcse-encoder/text-encoder.json']) {
      assert.ok(existsSync(join(out, f)), `${f} written`);
    }
    assert.ok(WordVocab.load(join(out, 'vocab.json')).has('dog'));
    assert.ok(BpeTokenizer.load(join(out, 'bpe.json')).size > 5);
    const vectors = loadWordVectors(join(out, 'word-vectors.safetensors'));
    assert.equal(nearestNeighbors(vectors, 'dog', 3).length, 3);
    vectors.dispose();

    gc(); // unreachable handles' finalizers (the experiment itself disposes every tensor it made)
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(memory().numTensors, baseline, 'the experiment frees every tensor it made');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('splitPerClass: disjoint test and pool sets, testPerClass per class', () => {
  const labels = Int32Array.from({ length: 100 }, (_, i) => i % 4);
  const { pool, test: held } = splitPerClass(labels, 4, 5, 0);
  assert.equal(held.length, 20);
  assert.equal(pool.length, 80);
  assert.equal(new Set([...pool, ...held]).size, 100);
  for (let c = 0; c < 4; c++) assert.equal(Array.from(held).filter((i) => labels[i] === c).length, 5);
  assert.deepEqual(splitPerClass(labels, 4, 5, 0), { pool, test: held }, 'seeded');
});

test('the default config: the methods it always ran and skip-gram propagation, both tasks, and budgets in steps, not seconds', () => {
  const c = defaultTextConfig();
  assert.deepEqual(c.methods, [...DEFAULT_TEXT_METHODS]);
  assert.deepEqual(DEFAULT_TEXT_METHODS, ['bow-scratch', 'skipgram-linear', 'skipgram-propagate', 'mlm-probe', 'mlm-finetune']);
  // The probe's weight decay and the propagation settings were chosen on a validation split of the pool.
  assert.equal(c.probe.weightDecay, 0.1);
  assert.deepEqual(c.propagate, { graphNeighbors: 20, alpha: 0.9, iterations: 20, classBalance: true, neighbors: 20, temperature: 0.07, poolLimit: null });
  assert.deepEqual(c.ks, [10, 100]);
  assert.equal(c.seeds.length, 5);
  // What 120 s of skip-gram and 600 s of masked LM gave on 2 idle cores (README); ELECTRA and SimCSE
  // sized to keep the experiment with all four under 25 minutes. No time budgets: runs repeat.
  assert.deepEqual([c.skipgram.maxSteps, c.mlm.maxSteps, c.electra.maxSteps, c.simcse.maxSteps], [1000, 20000, 3000, 750]);
  for (const p of [c.skipgram, c.mlm, c.electra, c.simcse]) assert.equal(p.timeBudgetSeconds, undefined);
  assert.equal(c.simcse.init, 'masked-lm');
  assert.equal(c.gloss.categories.length, 10);
  assert.ok(c.fortunes && c.fortunes.files.length >= 6);
});

test('expandTextMethods: registered methods become their protocols, old names stay, bow-scratch joins', () => {
  assert.deepEqual(expandTextMethods(['skipgram', 'masked-lm', 'electra', 'simcse']), [...TEXT_METHODS]);
  assert.deepEqual(expandTextMethods(['electra']), ['bow-scratch', 'electra-probe', 'electra-finetune']);
  assert.deepEqual(expandTextMethods(['skipgram']), ['bow-scratch', 'skipgram-linear', 'skipgram-propagate']);
  assert.deepEqual(expandTextMethods(['mlm-finetune', 'skipgram-linear']), ['bow-scratch', 'skipgram-linear', 'mlm-finetune']);
  assert.deepEqual(expandTextMethods(['simcse-probe', 'bow-scratch']), ['bow-scratch', 'simcse-probe']);
  assert.throws(() => expandTextMethods(['bert']), { name: 'RangeError', message: /unknown text method 'bert': use skipgram, masked-lm, electra, simcse, bow-scratch/ });
});
