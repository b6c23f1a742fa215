// The label-efficiency experiment for text: pretrain on unlabelled WordNet glosses
// and fortunes (skip-gram word vectors; a masked-token transformer), then classify
// WordNet glosses by lexicographer category and fortunes by file with k labels per
// class, against a bag-of-words classifier trained from scratch on the same labels.
// Ctrl-C stops the whole experiment after the run it interrupts; the runs that
// finished come back, marked partial (an interrupted pretraining: none, and its checkpoint).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, noGrad, tidy, tensor, type Tensor } from '../tensor/index.js';
import { AdamW } from '../optim/index.js';
import { MetricsLog } from '../train/metrics-log.js';
import { linearProbe } from '../eval/probe.js';
import { kPerClass } from '../data/subsets.js';
import { Rng } from '../data/random.js';
import { checkpointPaths } from '../io/index.js';
import type { Callbacks } from '../train/trainer.js';
import { InterruptWatch } from './interrupt.js';
import { summarize } from './summary.js';
import type { MethodResult, TrainingCurve, ReportData, WordMap } from '../report/types.js';
import {
  readWordNet, synsetText, glossCorpus, readFortunes, readTextCorpus, CorpusError, WordVocab, BpeTokenizer, PAD_ID,
  trainSkipGram, WordVectors, nearestNeighbors, pairSimilarities, synonymTest, rocAuc, pretrainMaskedLM,
  TransformerTextEncoder, encodeTexts, encodeForModel, averageWordVectors, BagOfWordsClassifier, bagOfWordsInputs,
  TextClassifier, trainClassifier, classifierAccuracy, subsetCorpus,
  DEFAULT_WORDNET_DIR, DEFAULT_FORTUNE_DIR, defaultSkipGramConfig, defaultMlmConfig,
  type SkipGramConfig, type MlmConfig, type TextCorpus, type Synset, type SequenceData,
} from '../text/index.js';

export const TEXT_METHODS = ['bow-scratch', 'skipgram-linear', 'mlm-probe', 'mlm-finetune'] as const;
export type TextMethod = (typeof TEXT_METHODS)[number];

export interface TextExperimentConfig {
  /** Folder of WordNet's data.* files (Debian wordnet-base). */
  wordnetDir: string;
  /** Folder of fortune files (Debian fortunes, fortunes-min); null leaves fortunes out. */
  fortuneDir: string | null;
  /** More unlabelled text (files or folders) for pretraining. */
  extraText?: string[];
  /** The gloss task: lexicographer files to tell apart, and test glosses per class. */
  gloss: { categories: string[]; testPerClass: number };
  /** The fortune task: files to tell apart (null: no fortune task). */
  fortunes: { files: string[]; testPerClass: number } | null;
  /** Labelled corpora of the user's (a TSV of label<TAB>text, or a folder per label), evaluated as more tasks. */
  userTasks?: { name: string; path: string; testPerClass: number }[];
  ks: number[];
  seeds: number[];
  methods: TextMethod[];
  vocab: { minCount: number; maxSize?: number };
  bpe: { vocabSize: number };
  skipgram: SkipGramConfig;
  mlm: MlmConfig;
  /** Linear probe on frozen features (skipgram-linear, mlm-probe). */
  probe: { steps: number; lr: number; weightDecay: number };
  /** The bag-of-words baseline. */
  bow: { steps: number; batchSize: number; lr: number; weightDecay: number };
  /** mlm-finetune: encoder and head train together, the head at its own rate. */
  finetune: { steps: number; batchSize: number; lr: number; headLr: number; weightDecay: number; allLayers?: boolean };
  /** The synonym test (its synsets' glosses are held out of pretraining). */
  synonyms: { pairs: number; minCount: number };
  /** Words on the 2-D map: `words` words after the `skipMostFrequent` most frequent. */
  wordMap: { words: number; skipMostFrequent: number };
  /** Use at most this many pretraining documents (quick runs); null for all. */
  maxPretrainDocs?: number | null;
  seed: number;
}

export interface TextExperimentOptions {
  /** Passed to skip-gram and masked-LM pretraining, e.g. for a progress display. */
  callbacks?: Callbacks;
  /**
   * Listen for SIGINT (Ctrl-C) for the whole experiment, so that Ctrl-C between runs
   * also stops it cleanly (default true). Either way, a run that its trainer reports
   * as interrupted stops the experiment.
   */
  handleInterrupt?: boolean;
}

export interface TaskResults {
  task: string;
  classNames: string[];
  testSize: number;
  results: MethodResult[];
}

export interface TextExperimentOutput {
  /** The gloss task's results (the headline), over the seeds that finished. */
  results: MethodResult[];
  /** Every task's results, the gloss task first (after Ctrl-C: the tasks that got results). */
  tasks: TaskResults[];
  report: ReportData;
  /** NaN when Ctrl-C stopped skip-gram pretraining. */
  synonymAuc: number;
  skipgramWordsPerSecond: number;
  mlmHeldOutAccuracy: number | null;
  /** True when Ctrl-C stopped the experiment before every run finished: the results are partial. */
  interrupted: boolean;
  /** Classification runs (task x method x k x seed) finished, and planned. */
  runsDone: number;
  runsPlanned: number;
  /** The checkpoint (.safetensors) of the pretraining Ctrl-C interrupted, if it did; null otherwise. */
  pretrainCheckpoint: string | null;
}

/** Per class: `testPerClass` documents for testing (seeded), the rest a pool to draw k labels from. */
export function splitPerClass(labels: Int32Array, numClasses: number, testPerClass: number, seed: number): { pool: Int32Array; test: Int32Array } {
  const pool: number[] = [];
  const test: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const members = Int32Array.from(labels.keys()).filter((i) => labels[i] === c);
    new Rng(seed, c, 0x7e57).shuffle(members);
    const t = Math.min(testPerClass, Math.floor(members.length / 2));
    test.push(...members.subarray(0, t));
    pool.push(...members.subarray(t));
  }
  return { pool: Int32Array.from(pool).sort(), test: Int32Array.from(test).sort() };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export async function runTextExperiment(c: TextExperimentConfig, outDir: string,
  log: (line: string) => void = (l) => process.stderr.write(l + '\n'), options: TextExperimentOptions = {}): Promise<TextExperimentOutput> {
  mkdirSync(outDir, { recursive: true });
  using stop = new InterruptWatch('experiment', log, options.handleInterrupt ?? true);
  const metrics = new MetricsLog(join(outDir, 'metrics.jsonl'));
  const curves: TrainingCurve[] = [];
  const notes: string[] = [];
  const wants = (m: TextMethod): boolean => c.methods.includes(m);
  const wantsMlm = wants('mlm-probe') || wants('mlm-finetune');

  // 1. Corpora and tasks.
  const synsets = readWordNet(c.wordnetDir);
  const fortunes = c.fortuneDir ? readFortunes(c.fortuneDir) : null;
  const extra = (c.extraText ?? []).flatMap((p) => readTextCorpus(p).texts);
  const tasks: { name: string; corpus: TextCorpus; testPerClass: number }[] = [
    { name: 'WordNet glosses', corpus: glossCorpus(synsets, c.gloss.categories), testPerClass: c.gloss.testPerClass },
  ];
  if (c.fortunes) {
    if (!c.fortuneDir) throw new CorpusError('the fortune task needs fortuneDir');
    tasks.push({ name: 'fortunes', corpus: readFortunes(c.fortuneDir, { files: c.fortunes.files }), testPerClass: c.fortunes.testPerClass });
  }
  for (const t of c.userTasks ?? []) {
    const corpus = readTextCorpus(t.path);
    if (!corpus.labels) throw new CorpusError(`user task '${t.name}': '${t.path}' has no labels (use a TSV of label<TAB>text, or one sub-folder per label)`);
    tasks.push({ name: t.name, corpus, testPerClass: t.testPerClass });
  }
  const runsPlanned = tasks.length * c.ks.length * c.seeds.length * TEXT_METHODS.filter(wants).length;
  let runsDone = 0;

  // 2. The synonym test's synsets, and the pretraining text without their glosses.
  const allTexts = [...synsets.map(synsetText), ...(fortunes?.texts ?? []), ...extra];
  const fullCounts = WordVocab.build(allTexts, { minCount: 1 });
  const synTest = synonymTest(synsets, (w) => (fullCounts.has(w) ? fullCounts.counts[fullCounts.id(w)]! : 0), { pairs: c.synonyms.pairs, minCount: c.synonyms.minCount, seed: c.seed });
  const heldOut = new Set<Synset>(synTest.synsets);
  let pretrainTexts = [...synsets.filter((s) => !heldOut.has(s)).map(synsetText), ...(fortunes?.texts ?? []), ...extra].filter((t) => t.length > 0);
  if (c.maxPretrainDocs && pretrainTexts.length > c.maxPretrainDocs) {
    const order = new Rng(c.seed, 0xd0c).shuffle(Int32Array.from(pretrainTexts.keys()));
    pretrainTexts = Array.from(order.subarray(0, c.maxPretrainDocs)).sort((a, b) => a - b).map((i) => pretrainTexts[i]!);
  }
  const vocab = WordVocab.build(pretrainTexts, c.vocab);
  vocab.save(join(outDir, 'vocab.json'));
  const corpus = vocab.encodeCorpus(pretrainTexts);
  log(`text: ${pretrainTexts.length} unlabelled documents, ${corpus.ids.length} words, vocabulary of ${vocab.size} words (min count ${c.vocab.minCount}); ${heldOut.size} synonym-test synsets held out`);

  /** What steps 3 to 5 make, filled in as they go (an early stop leaves the rest unset). */
  const got: {
    vectors: WordVectors | null; sgRates: { words: number; pairs: number } | null; synonymAuc: number; synonymPairs: [number, number]; wordMap: WordMap | null;
    tokenizer: BpeTokenizer | null; encoder: TransformerTextEncoder | null; mlmAccuracy: number | null; mlmRate: number | null;
    /** The pretraining Ctrl-C interrupted: no classification ran after it. */
    stoppedIn: { run: string; steps: number; checkpoint: string } | null;
  } = { vectors: null, sgRates: null, synonymAuc: NaN, synonymPairs: [0, 0], wordMap: null, tokenizer: null, encoder: null, mlmAccuracy: null, mlmRate: null, stoppedIn: null };
  const taskResults: TaskResults[] = [];
  const methodSeconds: Partial<Record<TextMethod, number>> = {};

  const pretrainingInterrupted = (run: string, steps: number, checkpoint: string): void => {
    stop.markInterrupted();
    got.stoppedIn = { run, steps, checkpoint: checkpointPaths(checkpoint).tensors };
    log(`${run}: interrupted after ${steps} steps; its checkpoint is ${got.stoppedIn.checkpoint}; no classification runs`);
  };

  // Steps 3 to 5; returns early when Ctrl-C stops the experiment.
  const runAll = async (): Promise<void> => {
    // 3. Skip-gram word vectors: the synonym test, the word map, skipgram-linear.
    manualSeed(c.seed);
    log(`skip-gram: ${c.skipgram.dim}-d vectors, window ${c.skipgram.window}, ${c.skipgram.negatives} negatives, ${c.skipgram.epochs} epochs${c.skipgram.timeBudgetSeconds ? `, at most ${c.skipgram.timeBudgetSeconds} s` : ''}`);
    const sgCheckpoint = join(outDir, 'skipgram');
    const sg = await stop.training(() => trainSkipGram({ vocab, corpus, config: c.skipgram, metrics, checkpoint: sgCheckpoint, callbacks: options.callbacks }));
    got.sgRates = { words: sg.wordsPerSecond, pairs: sg.pairsPerSecond };
    if (sg.fit.interrupted) {
      sg.model.dispose();
      pretrainingInterrupted('skip-gram', sg.fit.steps, sgCheckpoint);
      return;
    }
    curves.push({ run: 'skipgram-pretrain', points: sg.fit.curve });
    const vectors = got.vectors = WordVectors.fromSkipGram(sg.model, vocab);
    sg.model.dispose();
    vectors.save(join(outDir, 'word-vectors.safetensors'));
    const inVocab = (p: { a: string; b: string }): boolean => vocab.has(p.a) && vocab.has(p.b);
    const ids = (ps: { a: string; b: string }[]): [number, number][] => ps.filter(inVocab).map((p) => [vocab.id(p.a), vocab.id(p.b)]);
    const synSims = pairSimilarities(vectors, ids(synTest.synonyms));
    const randSims = pairSimilarities(vectors, ids(synTest.random));
    got.synonymAuc = synSims.length && randSims.length ? rocAuc(synSims, randSims) : NaN;
    got.synonymPairs = [synSims.length, randSims.length];
    log(`skip-gram: ${sg.fit.steps} steps in ${sg.fit.seconds.toFixed(0)} s, ${Math.round(sg.wordsPerSecond)} words/s (${Math.round(sg.pairsPerSecond)} pairs/s); synonym AUC ${got.synonymAuc.toFixed(3)} over ${synSims.length} synonym and ${randSims.length} random pairs`);
    for (const w of ['dog', 'music', 'computer', 'red', 'king', 'happy']) {
      if (!vocab.has(w)) continue;
      const nn = nearestNeighbors(vectors, w, 8).map((n) => n.word).join(', ');
      notes.push(`Skip-gram neighbours of '${w}': ${nn}.`);
      log(`  neighbours of ${w}: ${nn}`);
    }
    const mapIds = Array.from({ length: Math.min(c.wordMap.words, vocab.size - 1 - c.wordMap.skipMostFrequent) }, (_, i) => 1 + c.wordMap.skipMostFrequent + i);
    got.wordMap = {
      title: `Skip-gram vectors of ${mapIds.length} frequent words (ranks ${c.wordMap.skipMostFrequent + 1}-${c.wordMap.skipMostFrequent + mapIds.length})`,
      vectors: mapIds.length ? noGrad(() => tidy(() => vectors.vectors.index([tensorOfIds(mapIds)]).toArray() as number[][])) : [],
      words: mapIds.map((i) => vocab.words[i]!),
    };
    if (await stop.shouldStop()) return;

    // 4. The masked-token model on subwords.
    if (wantsMlm) {
      const tokenizer = got.tokenizer = BpeTokenizer.train(pretrainTexts, { vocabSize: c.bpe.vocabSize });
      tokenizer.save(join(outDir, 'bpe.json'));
      if (await stop.shouldStop()) return;
      manualSeed(c.seed);
      log(`masked LM: ${c.mlm.layers} transformer layer${c.mlm.layers === 1 ? '' : 's'}, d=${c.mlm.dModel}, ${c.mlm.heads} heads, ${tokenizer.size} BPE tokens${c.mlm.sampledNegatives ? ` (sampled softmax, ${c.mlm.sampledNegatives} negatives)` : ''}, ${c.mlm.epochs} epochs${c.mlm.timeBudgetSeconds ? `, at most ${c.mlm.timeBudgetSeconds} s` : ''}`);
      const mlmCheckpoint = join(outDir, 'mlm');
      const r = await stop.training(() => pretrainMaskedLM({ tokenizer, texts: pretrainTexts, config: c.mlm, metrics, checkpoint: mlmCheckpoint, callbacks: options.callbacks }));
      if (r.fit.interrupted) {
        // A half-trained encoder would make the mlm methods' numbers meaningless: stop here.
        r.model.dispose();
        pretrainingInterrupted('masked LM', r.fit.steps, mlmCheckpoint);
        return;
      }
      curves.push({ run: 'mlm-pretrain', points: r.fit.curve });
      got.encoder = r.model.takeEncoder();
      got.mlmAccuracy = r.heldOutAccuracy;
      got.mlmRate = r.sequencesPerSecond;
      log(`masked LM: ${r.fit.steps} steps in ${r.fit.seconds.toFixed(0)} s, ${got.mlmRate.toFixed(0)} sequences/s; held-out masked-token accuracy ${pct(got.mlmAccuracy ?? 0)}`);
      if (await stop.shouldStop()) return;
    }

    // 5. Few-label classification on every task; a task stopped by Ctrl-C keeps the runs that finished.
    for (const task of tasks) {
      const { results, testSize, stopped } = await classifyTask(task, vectors);
      if (!stopped || results.length) taskResults.push({ task: task.name, classNames: task.corpus.classNames!, testSize, results });
      if (stopped) return;
    }
  };

  /** One task's runs (every k, seed and method); `stopped` when Ctrl-C ends the experiment during it. */
  const classifyTask = async (task: (typeof tasks)[number], vectors: WordVectors): Promise<{ results: MethodResult[]; testSize: number; stopped: boolean }> => {
    const { tokenizer, encoder } = got;
    const labels = task.corpus.labels!;
    const classNames = task.corpus.classNames!;
    const numClasses = classNames.length;
    const { pool, test } = splitPerClass(labels, numClasses, task.testPerClass, c.seed);
    const poolCorpus = subsetCorpus(task.corpus, pool);
    const testCorpus = subsetCorpus(task.corpus, test);
    log(`task ${task.name}: ${numClasses} classes (${classNames.join(', ')}), ${test.length} test documents, ${pool.length} to draw labels from`);
    const runs = new Map<string, number[]>();
    let clock = performance.now();
    /** Records a finished run (null: interrupted, not counted); false when the experiment stops here. */
    const done = async (method: TextMethod, k: number, seed: number, acc: number | null): Promise<boolean> => {
      if (acc !== null) {
        const key = `${method}|${k}`;
        const seconds = (performance.now() - clock) / 1000;
        runs.set(key, [...(runs.get(key) ?? []), acc]);
        runsDone++;
        methodSeconds[method] = (methodSeconds[method] ?? 0) + seconds;
        metrics.write({ kind: 'result', task: task.name, method, k, seed, accuracy: acc, seconds });
        log(`  ${task.name}: ${method.padEnd(16)} k=${String(k).padEnd(4)} seed=${seed}  test accuracy ${pct(acc)}  (${seconds.toFixed(1)} s)`);
      }
      const go = acc !== null && !(await stop.shouldStop());
      clock = performance.now();
      return go;
    };
    const bowTest: SequenceData = { sequences: bagOfWordsInputs(vocab, testCorpus.texts), labels: testCorpus.labels!, padId: 0 };
    const mlmTest: SequenceData | null = tokenizer ? { sequences: encodeForModel(tokenizer, testCorpus.texts, c.mlm.maxLen), labels: testCorpus.labels!, padId: PAD_ID } : null;
    /** Trains a classifier and returns its test accuracy, or null when Ctrl-C interrupted the training. */
    const trainAndTest = async (method: TextMethod, k: number, seed: number, model: BagOfWordsClassifier | TextClassifier, optimizer: AdamW,
      data: SequenceData, steps: number, batchSize: number, testData: SequenceData): Promise<number | null> => {
      const name = `${method} k=${k}`;
      try {
        // Not under stop.training: trainClassifier leaves Ctrl-C to the watch, which lets
        // this short run finish (and be counted), says so, and quits on a second Ctrl-C.
        const r = await trainClassifier({ name, model, optimizer, data, steps, batchSize, seed, metrics });
        if (r.interrupted) {
          stop.markInterrupted();
          log(`  ${task.name}: ${name} seed=${seed}: interrupted after ${r.steps} steps; not counted`);
          return null;
        }
        if (seed === c.seeds[0] && task === tasks[0]) curves.push({ run: name, points: r.curve });
        return classifierAccuracy(model, testData);
      } finally {
        optimizer.dispose();
        model.dispose();
      }
    };

    const testY = noGrad(() => tensorOfIds(Array.from(testCorpus.labels!)));
    let testSg: Tensor | null = null;
    let testMlm: Tensor | null = null;
    /** Test accuracy of a linear probe; frees the train features and everything the probe made. */
    const probeAndFree = (trainFeatures: Tensor, trainY: Tensor, testFeatures: Tensor): number => {
      try {
        const r = linearProbe(trainFeatures, trainY, testFeatures, testY, numClasses, c.probe);
        r.classifier.dispose();
        r.mean.dispose();
        r.std.dispose();
        return r.accuracy;
      } finally {
        trainFeatures.dispose();
      }
    };
    /** Every run of one k and seed; false when the experiment stops. */
    const runSeed = async (k: number, seed: number): Promise<boolean> => {
      const picked = kPerClass(poolCorpus.labels!, k, seed, numClasses);
      const train = subsetCorpus(poolCorpus, picked);
      const trainY = tensorOfIds(Array.from(train.labels!));
      try {
        if (wants('bow-scratch')) {
          manualSeed(seed);
          const model = new BagOfWordsClassifier(vocab.size, numClasses);
          const optimizer = new AdamW(model.parameters(), { lr: c.bow.lr, weightDecay: c.bow.weightDecay });
          const data: SequenceData = { sequences: bagOfWordsInputs(vocab, train.texts), labels: train.labels!, padId: 0 };
          if (!await done('bow-scratch', k, seed, await trainAndTest('bow-scratch', k, seed, model, optimizer, data, c.bow.steps, c.bow.batchSize, bowTest))) return false;
        }
        if (testSg) {
          manualSeed(seed);
          if (!await done('skipgram-linear', k, seed, probeAndFree(averageWordVectors(vectors, train.texts), trainY, testSg))) return false;
        }
        if (testMlm && encoder) {
          manualSeed(seed);
          if (!await done('mlm-probe', k, seed, probeAndFree(encodeTexts(encoder, tokenizer!, train.texts, { allLayers: true }), trainY, testMlm))) return false;
        }
        if (encoder && mlmTest && wants('mlm-finetune')) {
          manualSeed(seed);
          const copy = new TransformerTextEncoder(tokenizer!.size, c.mlm);
          copy.loadStateDict(encoder.stateDict());
          const model = new TextClassifier(copy, numClasses, { allLayers: c.finetune.allLayers });
          const optimizer = new AdamW([
            { params: model.encoder.parameters(), lr: c.finetune.lr },
            { params: model.head.parameters(), lr: c.finetune.headLr },
          ], { weightDecay: c.finetune.weightDecay });
          const data: SequenceData = { sequences: encodeForModel(tokenizer!, train.texts, c.mlm.maxLen), labels: train.labels!, padId: PAD_ID };
          if (!await done('mlm-finetune', k, seed, await trainAndTest('mlm-finetune', k, seed, model, optimizer, data, c.finetune.steps, c.finetune.batchSize, mlmTest))) return false;
        }
        return true;
      } finally {
        trainY.dispose();
      }
    };

    let stopped = false;
    try {
      testSg = wants('skipgram-linear') ? averageWordVectors(vectors, testCorpus.texts) : null;
      testMlm = encoder && wants('mlm-probe') ? encodeTexts(encoder, tokenizer!, testCorpus.texts, { allLayers: true }) : null;
      stopped = await stop.shouldStop();
      for (const k of c.ks) {
        for (const seed of c.seeds) {
          if (stopped) break;
          clock = performance.now();
          stopped = !await runSeed(k, seed);
        }
      }
    } finally {
      testSg?.dispose();
      testMlm?.dispose();
      testY.dispose();
    }
    const results: MethodResult[] = [];
    for (const m of TEXT_METHODS) for (const k of c.ks) {
      const r = runs.get(`${m}|${k}`);
      if (r) results.push(summarize(m, k, r));
    }
    return { results, testSize: test.length, stopped };
  };

  try {
    await runAll();
  } finally {
    got.encoder?.dispose();
    got.vectors?.dispose();
  }
  const { sgRates, synonymAuc, synonymPairs, wordMap, mlmAccuracy, mlmRate, stoppedIn } = got;
  const interrupted = stop.requested && (runsDone < runsPlanned || stoppedIn !== null);
  if (interrupted) log(`experiment: stopped by Ctrl-C after ${runsDone} of ${runsPlanned} runs; the results are partial`);

  // 6. Report data.
  const headline = taskResults[0];
  const extraFigures: Record<string, number | string> = {};
  if (wordMap) extraFigures['synonym AUC (skip-gram)'] = Number(synonymAuc.toFixed(4));
  if (sgRates) {
    extraFigures['skip-gram words/s'] = Math.round(sgRates.words);
    extraFigures['skip-gram pairs/s'] = Math.round(sgRates.pairs);
  }
  if (mlmAccuracy !== null) extraFigures['masked-token accuracy (held out)'] = Number(mlmAccuracy.toFixed(4));
  if (mlmRate !== null) extraFigures['masked LM sequences/s'] = Math.round(mlmRate);
  for (const t of taskResults.slice(1)) {
    for (const r of t.results) extraFigures[`${t.task}: ${r.method} k=${r.k}`] = `${pct(r.mean)} ± ${pct(r.std)}`;
  }
  const partialNote = `Interrupted by Ctrl-C: ${runsDone} of ${runsPlanned} runs finished, and only those are counted; these results are partial.` +
    (stoppedIn ? ` The ${stoppedIn.run} pretraining was interrupted after ${stoppedIn.steps} steps, before any classification; its checkpoint is ${stoppedIn.checkpoint}.` : '');
  const report: ReportData = {
    title: `Label efficiency on WordNet glosses${interrupted ? ' (partial)' : ''}`, modality: 'text', dataset: tasks[0]!.name, createdAt: new Date().toISOString(),
    results: headline?.results ?? [], curves, wordMaps: wordMap ? [wordMap] : [], extra: extraFigures,
    notes: [
      ...(interrupted ? [partialNote] : []),
      ...(headline ? [`Gloss classification into ${headline.classNames.length} lexicographer files (${headline.classNames.join(', ')}), ${headline.testSize} test glosses; mean and standard deviation over seeds ${c.seeds.join(', ')} (each seed draws its own k labelled glosses per class).`] : []),
      `Pretraining used ${pretrainTexts.length} unlabelled documents (WordNet glosses and examples${fortunes ? ', fortunes' : ''}${extra.length ? ', the user\'s text' : ''}); the ${heldOut.size} synsets of the synonym test were held out of it. Labels are never used in pretraining.`,
      'bow-scratch: a linear classifier on one-hot bags of words trained on the k labels. skipgram-linear: a linear probe on averaged skip-gram vectors. mlm-probe: a linear probe on the masked-LM encoder\'s mean-pooled embedding and layer outputs, side by side. mlm-finetune: the encoder fine-tuned with a linear head.',
      ...(wordMap ? [`Synonym test: ROC AUC ${synonymAuc.toFixed(3)} of cosine similarity between ${synonymPairs[0]} WordNet synonym pairs and ${synonymPairs[1]} random pairs of the same words.`] : []),
      ...(Object.keys(methodSeconds).length ? [`Seconds spent per method (training and testing, all tasks, seeds and k): ${Object.entries(methodSeconds).map(([m, t]) => `${m} ${t!.toFixed(0)}`).join(', ')}.`] : []),
      ...taskResults.slice(1).map((t) => `${t.task} (${t.classNames.length} classes, ${t.testSize} test documents): ${t.results.map((r) => `${r.method} k=${r.k} ${pct(r.mean)} ± ${pct(r.std)}`).join('; ')}.`),
      ...notes,
    ],
    config: c as unknown as Record<string, unknown>,
    ...(interrupted ? { partial: true } : {}),
  };
  return {
    results: headline?.results ?? [], tasks: taskResults, report, synonymAuc, skipgramWordsPerSecond: sgRates?.words ?? 0, mlmHeldOutAccuracy: mlmAccuracy,
    interrupted, runsDone, runsPlanned, pretrainCheckpoint: stoppedIn?.checkpoint ?? null,
  };
}

function tensorOfIds(ids: number[]): Tensor {
  return tensor(Int32Array.from(ids), { dtype: 'int64' });
}

/** The gloss task's default categories: ten noun lexicographer files. */
export const DEFAULT_GLOSS_CATEGORIES = [
  'noun.animal', 'noun.artifact', 'noun.body', 'noun.feeling', 'noun.food',
  'noun.location', 'noun.person', 'noun.plant', 'noun.substance', 'noun.time',
];
/** The fortune task's default files: eight topics with at least 198 quotes each. */
export const DEFAULT_FORTUNE_FILES = ['computers', 'education', 'food', 'law', 'politics', 'science', 'songs-poems', 'startrek'];

/** The full experiment: about fourteen minutes on two idle cores (the masked LM takes ten). */
export function defaultTextConfig(): TextExperimentConfig {
  return {
    wordnetDir: DEFAULT_WORDNET_DIR,
    fortuneDir: DEFAULT_FORTUNE_DIR,
    gloss: { categories: [...DEFAULT_GLOSS_CATEGORIES], testPerClass: 200 },
    fortunes: { files: [...DEFAULT_FORTUNE_FILES], testPerClass: 80 },
    ks: [10, 100],
    seeds: [0, 1, 2, 3, 4],
    methods: [...TEXT_METHODS],
    vocab: { minCount: 3, maxSize: 40000 },
    bpe: { vocabSize: 16000 },
    skipgram: { ...defaultSkipGramConfig(), timeBudgetSeconds: 120 },
    mlm: { ...defaultMlmConfig(), timeBudgetSeconds: 600 },
    probe: { steps: 300, lr: 0.01, weightDecay: 5e-4 },
    bow: { steps: 200, batchSize: 1000, lr: 0.05, weightDecay: 0 },
    finetune: { steps: 100, batchSize: 32, lr: 1e-4, headLr: 1e-3, weightDecay: 0.01, allLayers: true },
    synonyms: { pairs: 500, minCount: 10 },
    wordMap: { words: 300, skipMostFrequent: 100 },
    extraText: [],
    userTasks: [],
    maxPretrainDocs: null,
    seed: 0,
  };
}

/** A small, fast configuration for tests and smoke runs (seconds, not minutes). */
export function quickTextConfig(wordnetDir: string = DEFAULT_WORDNET_DIR, fortuneDir: string | null = DEFAULT_FORTUNE_DIR): TextExperimentConfig {
  const c = defaultTextConfig();
  return {
    ...c, wordnetDir, fortuneDir,
    ks: [2], seeds: [0, 1],
    vocab: { minCount: 1 },
    bpe: { vocabSize: 300 },
    skipgram: { ...c.skipgram, dim: 16, epochs: 2, batchSize: 256, timeBudgetSeconds: 10 },
    mlm: { ...c.mlm, dModel: 32, heads: 2, dimFeedforward: 64, maxLen: 32, batchSize: 16, epochs: 2, warmupSteps: 5, heldOut: 20, timeBudgetSeconds: 10, sampledNegatives: 64 },
    probe: { ...c.probe, steps: 50 },
    bow: { ...c.bow, steps: 30 },
    finetune: { ...c.finetune, steps: 5, batchSize: 8 },
    synonyms: { pairs: 20, minCount: 2 },
    wordMap: { words: 30, skipMostFrequent: 0 },
    maxPretrainDocs: 3000,
  };
}
