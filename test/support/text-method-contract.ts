// The contract for text methods, in the spirit of method-contract.ts (which is about
// images): a tiny two-topic corpus, each registered text method trained through
// pretrainOn on its own batch source, and checks of the loss, live tensors, exact
// resume and embeddings. test/method-contract.test.ts runs it for every text method.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memory, manualSeed, tidy, noGrad, type Tensor } from '../../src/tensor/index.js';
import { Rng } from '../../src/data/random.js';
import { WordVocab } from '../../src/data/text/vocab.js';
import { BpeTokenizer, PAD_ID } from '../../src/data/text/bpe.js';
import { padSequences } from '../../src/data/text/sequences.js';
import { SkipGramSource } from '../../src/data/text/skipgram-batches.js';
import { wordIdMatrix } from '../../src/text/features.js';
import { defaultSkipGramConfig } from '../../src/ssl/methods/skipgram.js';
import { MaskedTokenSource, maskedLmData, defaultMlmConfig, type MlmConfig } from '../../src/ssl/methods/masked-lm.js';
import { electraSource, defaultElectraConfig, type ElectraConfig } from '../../src/ssl/methods/electra.js';
import { defaultSimCseConfig, sentenceData, type SimCseConfig } from '../../src/ssl/methods/simcse.js';
import { SequenceBatchSource } from '../../src/data/text/sequences.js';
import { createTextMethod, getTextMethod, type TextSslMethod } from '../../src/ssl/registry.js';
import { pretrainOn, type BatchSource } from '../../src/ssl/pretrain.js';
import type { OptimizerConfig } from '../../src/optim/index.js';
import { trackOptimizers } from './track-optimizers.js';

const TOPICS = [
  ['cat', 'dog', 'horse', 'cow', 'sheep', 'goat', 'pig', 'hen'],
  ['engine', 'wheel', 'motor', 'gear', 'piston', 'valve', 'pump', 'axle'],
];

/** `n` documents of 8 words, each from one topic (seeded). */
export function toyTexts(n: number, seed = 3): string[] {
  const rng = new Rng(seed, 0x7e47);
  return Array.from({ length: n }, (_, i) => Array.from({ length: 8 }, () => TOPICS[i % 2]![rng.int(8)]!).join(' '));
}

/** One text method on the toy corpus: how to make it, its batches, and inputs to embed. */
interface TextToy {
  make(): TextSslMethod;
  source: BatchSource<Disposable> & { dispose(): void };
  optimizer: OptimizerConfig;
  /** Five documents as the encoder's input ids. */
  inputs(): Tensor;
}

const TEXTS = toyTexts(120);

const TOYS: Record<string, (seed: number) => TextToy> = {
  'skipgram': (seed) => {
    const vocab = WordVocab.build(TEXTS, { minCount: 1 });
    const config = { ...defaultSkipGramConfig(), window: 2, negatives: 3, subsample: 0, batchSize: 64, seed };
    return {
      make: () => createTextMethod('skipgram', { vocabSize: vocab.size }, { dim: 8, batchSize: 64 }),
      source: new SkipGramSource(vocab, vocab.encodeCorpus(TEXTS), config),
      optimizer: { kind: 'adam', lr: 0.01 },
      inputs: () => wordIdMatrix(vocab, TEXTS.slice(0, 5)),
    };
  },
  'masked-lm': (seed) => {
    const tokenizer = BpeTokenizer.train(TEXTS, { vocabSize: 64 });
    // The sampled softmax, as by default: its negatives are seeded by the step, so a resume is exact.
    const config: MlmConfig = { ...defaultMlmConfig(), dModel: 16, heads: 2, dimFeedforward: 32, maxLen: 16, batchSize: 8, heldOut: 4, sampledNegatives: 16, seed };
    const data = maskedLmData(tokenizer, TEXTS, config);
    return {
      make: () => createTextMethod('masked-lm', { vocabSize: tokenizer.size, tokenCounts: data.counts ?? undefined }, { ...config }),
      source: new MaskedTokenSource(data.train, tokenizer.size, tokenizer.firstRegularId, config, data.counts),
      optimizer: { kind: 'adamw', lr: 3e-3, weightDecay: 0.01 },
      inputs: () => padSequences(data.train.slice(0, 5), PAD_ID, config.maxLen),
    };
  },
  'electra': (seed) => {
    const tokenizer = BpeTokenizer.train(TEXTS, { vocabSize: 64 });
    const config: ElectraConfig = { ...defaultElectraConfig(), dModel: 16, heads: 2, dimFeedforward: 32, maxLen: 16, batchSize: 8, heldOut: 4, seed };
    const data = maskedLmData(tokenizer, TEXTS, { ...defaultMlmConfig(), ...config, sampledNegatives: 0 });
    return {
      make: () => createTextMethod('electra', { vocabSize: tokenizer.size, firstRegularId: tokenizer.firstRegularId }, { ...config }),
      source: electraSource(data.train, tokenizer.size, tokenizer.firstRegularId, config),
      optimizer: { kind: 'adamw', lr: 3e-3, weightDecay: 0.01 },
      inputs: () => padSequences(data.train.slice(0, 5), PAD_ID, config.maxLen),
    };
  },
  'simcse': (seed) => {
    const tokenizer = BpeTokenizer.train(TEXTS, { vocabSize: 64 });
    // Dropout 0.1 makes the views; the per-step reseeding makes resume exact.
    const config: SimCseConfig = { ...defaultSimCseConfig(), dModel: 16, heads: 2, dimFeedforward: 32, maxLen: 16, batchSize: 8, heldOut: 4, seed };
    const data = sentenceData(tokenizer, TEXTS, config);
    return {
      make: () => createTextMethod('simcse', { vocabSize: tokenizer.size }, { ...config }),
      source: new SequenceBatchSource(data.train, { batchSize: config.batchSize, maxLen: config.maxLen, seed, padId: PAD_ID }),
      optimizer: { kind: 'adamw', lr: 3e-3, weightDecay: 0.01 },
      inputs: () => padSequences(data.train.slice(0, 5), PAD_ID, config.maxLen),
    };
  },
};

interface TextRun {
  method: TextSslMethod;
  losses: number[];
  tensors: number[];
  steps: number;
}

async function run(toy: TextToy, seed: number, steps: number, o: { checkpoint?: string; resume?: boolean; stopAt?: number } = {}): Promise<TextRun> {
  manualSeed(seed);
  const method = toy.make();
  const losses: number[] = [];
  const tensors: number[] = [];
  // pretrain frees its optimizer's state; the test frees it again (a no-op) so the counts stay exact even if it did not.
  const made = trackOptimizers(method);
  const r = await pretrainOn(method, toy.source, {
    epochs: Math.ceil(steps / toy.source.stepsPerEpoch), maxSteps: steps, optimizer: toy.optimizer, progress: false,
    checkpoint: o.checkpoint, resume: o.resume,
    callbacks: {
      onStepEnd: (step, logs, control) => {
        losses[step - 1] = logs.loss;
        tensors[step - 1] = memory().numTensors;
        if (step === o.stopAt) control.stop('contract stop');
      },
    },
  });
  for (const opt of made) opt.dispose();
  return { method, losses, tensors, steps: r.fit.steps };
}

const close = (a: number, b: number, tol: number): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

/** Adds the text contract's tests for the registered text method `name`. */
export function textMethodContract(name: string, o: { steps?: number; stopAt?: number; resumeTo?: number; seed?: number } = {}): void {
  const steps = o.steps ?? 30;
  const stopAt = o.stopAt ?? 5;
  const resumeTo = o.resumeTo ?? 10;
  const seed = o.seed ?? 11;
  describe(`text method contract: ${name}`, () => {
    let dir: string;
    let toy: TextToy;
    let main: TextRun;
    let baseline: number;
    /** True once the last test has taken the main run's encoder (the method is then spent). */
    let taken = false;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `selfsup-text-contract-${name}-`));
      const makeToy = TOYS[name];
      assert.ok(makeToy, `the text contract has no toy run for '${name}'; add one to TOYS`);
      toy = makeToy(seed);
      baseline = memory().numTensors;
      main = await run(toy, seed, steps);
    });
    after(() => {
      if (!taken) main?.method.dispose();
      toy?.source.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    test('spec and method agree on name, modality and family', () => {
      const spec = getTextMethod(name);
      assert.equal(spec.modality, 'text');
      assert.equal(main.method.name, name);
      assert.equal(main.method.family, spec.family);
    });

    test('every step gives a finite scalar loss', () => {
      assert.equal(main.steps, steps);
      assert.equal(main.losses.length, steps);
      assert.ok(main.losses.every(Number.isFinite), `losses ${main.losses.join(', ')}`);
    });

    test('live tensors stay flat over the steps', () => {
      const at = Math.min(5, steps);
      assert.equal(main.tensors[steps - 1], main.tensors[at - 1], `per step: ${main.tensors.join(' ')}`);
    });

    test(`resume: stopping after step ${stopAt} and resuming repeats the next losses`, async () => {
      const path = join(dir, 'resume');
      const first = await run(toy, seed, steps, { checkpoint: path, stopAt });
      assert.equal(first.steps, stopAt);
      const second = await run(toy, seed, steps, { checkpoint: path, resume: true, stopAt: resumeTo });
      assert.equal(second.steps, resumeTo);
      const resumed = [...first.losses.slice(0, stopAt), ...second.losses.slice(stopAt, resumeTo)];
      const bad = main.losses.slice(0, resumeTo).map((v, i) => [i + 1, v, resumed[i]!] as const).filter(([, a, b]) => !close(a, b, 1e-5));
      assert.deepEqual(bad, [], `steps whose loss differs after resume (step, uninterrupted, resumed): ${JSON.stringify(bad)}`);
      first.method.dispose();
      second.method.dispose();
    });

    test('embed and takeEncoder().embed give [N, embedDim]; nothing stays alive after', () => {
      const x = toy.inputs();
      const method = main.method;
      const dim = method.encoder.embedDim;
      noGrad(() => tidy(() => {
        method.eval();
        assert.deepEqual(method.embed(x).shape, [5, dim]);
      }));
      const encoder = method.takeEncoder();
      taken = true;
      noGrad(() => tidy(() => assert.deepEqual(encoder.embed(x).shape, [5, dim])));
      x.dispose();
      encoder.dispose();
      assert.equal(memory().numTensors, baseline, 'live tensors after disposing the taken encoder equal those before the method was made');
    });
  });
}
