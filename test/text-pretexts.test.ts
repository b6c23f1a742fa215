// ELECTRA and SimCSE beyond the text contract: ELECTRA's loss against PyTorch
// (test/fixtures/ssl_text_losses.json from scripts/make_text_loss_fixtures.py), both
// methods learning on a toy corpus with their held-out figures, SimCSE starting from a
// masked-LM encoder, and text budgets in steps (the same seed gives the same run however
// slow the machine is).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tensor, tidy, noGrad, memory, manualSeed, setNumThreads, type Tensor, type DType } from '../src/tensor/index.js';
import { BpeTokenizer, PAD_ID } from '../src/data/text/bpe.js';
import { SequenceBatchSource } from '../src/data/text/sequences.js';
import { WordVocab } from '../src/data/text/vocab.js';
import { replacedTokenLoss } from '../src/ssl/losses/replaced-token.js';
import { Electra, electraSource, defaultElectraConfig, generatorSizes, pretrainElectra, type ElectraConfig } from '../src/ssl/methods/electra.js';
import { SimCSE, defaultSimCseConfig, sentenceData, pretrainSimCse, type SimCseConfig } from '../src/ssl/methods/simcse.js';
import { maskedLmData, defaultMlmConfig, pretrainMaskedLM, type MlmConfig } from '../src/ssl/methods/masked-lm.js';
import { trainSkipGram, defaultSkipGramConfig } from '../src/ssl/methods/skipgram.js';
import { TransformerTextEncoder } from '../src/models/text-transformer.js';
import { pretrainOn } from '../src/ssl/pretrain.js';
import { BudgetLinearDecayLR, SGD, scheduleSteps } from '../src/optim/index.js';
import { Linear } from '../src/nn/index.js';
import { toyTexts } from './support/text-method-contract.js';

setNumThreads(1);

// ------------------------------------------------------------------ ELECTRA's loss against PyTorch

interface Enc { shape: number[]; data: number[] }
interface RtdCase { name: string; logits: Enc; replaced: number[]; real: number[]; loss: number; grad: Enc }
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/ssl_text_losses.json', import.meta.url), 'utf8')) as { replacedToken: RtdCase[] };

const scaledDifference = (a: number[], b: number[]): number => {
  const scale = Math.max(...b.map(Math.abs), 1e-30);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / scale));
};

describe('replacedTokenLoss matches a PyTorch reference written from ELECTRA\'s Eq. 2', () => {
  for (const c of fixture.replacedToken) {
    for (const [dtype, tol] of [['float64', 1e-10], ['float32', 1e-5]] as [DType, number][]) {
      test(`${c.name} (${dtype})`, () => tidy(() => {
        const logits = tidy(() => tensor(Float32Array.from(c.logits.data), { shape: c.logits.shape }).to(dtype)).requiresGrad_(true);
        const mask = (v: number[]): Tensor => tensor(Int32Array.from(v), { shape: c.logits.shape, dtype: 'int64' }).ne(0);
        const loss = replacedTokenLoss(logits, mask(c.replaced), mask(c.real));
        assert.deepEqual(loss.shape, []);
        assert.ok(Math.abs(loss.item() - c.loss) / Math.abs(c.loss) <= tol, `loss ${loss.item()} vs PyTorch ${c.loss}`);
        loss.backward();
        const d = scaledDifference(logits.grad!.dataNumbers(), c.grad.data);
        assert.ok(d <= tol, `gradient differs by ${d.toExponential(2)}`);
        logits.grad!.dispose();
      }));
    }
  }

  test('input checks name the loss', () => tidy(() => {
    const logits = tensor(new Float32Array(6), { shape: [2, 3] });
    const yes = tensor(new Float32Array(6), { shape: [2, 3] }).eq(0);
    assert.throws(() => replacedTokenLoss(logits, yes.narrow(1, 0, 2), yes), { name: 'RangeError', message: /replacedTokenLoss: 'replaced' must have the logits' shape \[2, 3\], got \[2, 2\]/ });
    assert.throws(() => replacedTokenLoss(logits, logits, yes), { name: 'TypeError', message: /must be bool/ });
    assert.throws(() => replacedTokenLoss(logits, yes, yes.logicalNot()), { name: 'RangeError', message: /no real tokens/ });
  }));
});

// ------------------------------------------------------------------ learning on a toy corpus

const TEXTS = toyTexts(400);
const tokenizer = BpeTokenizer.train(TEXTS, { vocabSize: 64 });
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function electraConfig(seed = 5): ElectraConfig {
  return { ...defaultElectraConfig(), dModel: 32, heads: 4, dimFeedforward: 64, maxLen: 16, batchSize: 16, maskProb: 0.3, heldOut: 40, warmupSteps: 10, lr: 3e-3, embeddingLrScale: 1, seed };
}

describe('ELECTRA', () => {
  test('the generator is a quarter of the discriminator\'s width, sharing its token embedding', () => {
    assert.deepEqual(generatorSizes(defaultElectraConfig()), { width: 32, heads: 1, dimFeedforward: 64 });
    using m = new Electra(tokenizer.size, electraConfig(), tokenizer.firstRegularId);
    const names = m.namedParameters().map(([n]) => n);
    assert.equal(names.filter((n) => n.includes('tok_embed')).length, 1, 'one token embedding, the encoder\'s');
    assert.ok(names.includes('generator.project.weight') && names.includes('generator.output_bias'));
  });

  test('learns on a toy corpus: the loss falls and held-out detection beats calling every token original', async (t) => {
    const config = electraConfig();
    manualSeed(config.seed);
    const baseline = memory().numTensors;
    const losses: number[] = [];
    const r = await pretrainElectra({
      tokenizer, texts: TEXTS, config: { ...config, epochs: 40, maxSteps: 300 }, progress: false,
      callbacks: { onStepEnd: (_s, logs) => { losses.push(logs.loss); } },
    });
    assert.equal(r.fit.steps, 300);
    const v = r.validation!;
    assert.ok(mean(losses.slice(-20)) < 0.8 * mean(losses.slice(0, 20)), `loss ${mean(losses.slice(0, 20))} -> ${mean(losses.slice(-20))}`);
    assert.ok(v.original_frac! > 0.5 && v.original_frac! < 1, `original fraction ${v.original_frac}`);
    assert.ok(v.replaced_acc! > v.original_frac! + 0.02, `held-out detection ${v.replaced_acc} vs all-original ${v.original_frac}`);
    // Words within a topic are drawn alike: a same-topic replacement cannot be told, so the AUC stays well below 1.
    assert.ok(v.replaced_auc! > 0.6, `held-out AUC ${v.replaced_auc}`);
    t.diagnostic(JSON.stringify(v));
    assert.ok(v.generator_acc! > 0.1, `generator accuracy ${v.generator_acc}`);
    const encoder = r.model.takeEncoder();
    assert.ok(encoder instanceof TransformerTextEncoder);
    encoder.dispose();
    assert.equal(memory().numTensors, baseline);
  });
});

function simcseConfig(seed = 7): SimCseConfig {
  return { ...defaultSimCseConfig(), dModel: 32, heads: 4, dimFeedforward: 64, maxLen: 16, batchSize: 32, heldOut: 64, lr: 3e-3, embeddingLrScale: 1, seed };
}

describe('SimCSE', () => {
  test('needs dropout: without it the two views are the same', () => {
    using encoder = new TransformerTextEncoder(tokenizer.size, { ...simcseConfig(), dropout: 0 });
    assert.throws(() => new SimCSE(encoder, simcseConfig()), { name: 'RangeError', message: /SimCSE needs dropout > 0/ });
  });

  test('learns on a toy corpus: the loss falls, views of one sentence find each other on held-out text', async () => {
    const config = simcseConfig();
    manualSeed(config.seed);
    const baseline = memory().numTensors;
    const data = sentenceData(tokenizer, TEXTS, config);
    const before = (() => {
      using m = new SimCSE(new TransformerTextEncoder(tokenizer.size, config), config);
      return m.validate(data.heldOut);
    })();
    const losses: number[] = [];
    const r = await pretrainSimCse({
      tokenizer, texts: TEXTS, config: { ...config, epochs: 40, maxSteps: 150 }, progress: false,
      callbacks: { onStepEnd: (_s, logs) => { losses.push(logs.loss); } },
    });
    assert.equal(r.fit.steps, 150);
    const v = r.validation!;
    assert.ok(mean(losses.slice(-10)) < 0.8 * mean(losses.slice(0, 10)), `loss ${mean(losses.slice(0, 10))} -> ${mean(losses.slice(-10))}`);
    assert.ok(v.heldout_ntxent < before.heldout_ntxent, `held-out NT-Xent ${before.heldout_ntxent} -> ${v.heldout_ntxent}`);
    assert.ok(v.uniformity < before.uniformity, `uniformity ${before.uniformity} -> ${v.uniformity}`);
    assert.ok(v.view_match_acc > 0.5 && v.view_match_acc >= before.view_match_acc, `view matching ${before.view_match_acc} -> ${v.view_match_acc}`);
    assert.ok(Number.isFinite(v.alignment) && v.alignment > 0);
    r.model.dispose();
    assert.equal(memory().numTensors, baseline);
  });

  test('init: starts from a masked-LM encoder\'s weights (sizes must match), leaving it unchanged', async () => {
    const config = { ...simcseConfig(), maxSteps: 2 };
    using mlm = new TransformerTextEncoder(tokenizer.size, { ...config, dropout: 0 });
    noGrad(() => mlm.tokEmbed.weight.normal_(0, 1));
    const start = noGrad(() => mlm.tokEmbed.weight.dataNumbers());
    const r = await pretrainSimCse({ tokenizer, texts: TEXTS, config: { ...config, lr: 1e-12 }, init: mlm, progress: false });
    const after = noGrad(() => r.model.encoder.tokEmbed.weight.dataNumbers());
    assert.ok(scaledDifference(after, start) < 1e-6, 'the trained encoder began from the masked LM\'s embedding');
    assert.deepEqual(noGrad(() => mlm.tokEmbed.weight.dataNumbers()), start, 'the masked-LM encoder is not changed');
    r.model.dispose();
    await assert.rejects(pretrainSimCse({ tokenizer, texts: TEXTS, config: { ...config, dModel: 16, heads: 2 }, init: mlm, progress: false }), /does not fit the config's sizes/);
  });
});

// ------------------------------------------------------------------ budgets in steps

/** Blocks the thread for `ms` (a slower or busier machine). */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('text budgets in steps', () => {
  test('scheduleSteps: the epochs, or the step budget when it ends first', () => {
    assert.equal(scheduleSteps({ epochs: 3 }, 10), 30);
    assert.equal(scheduleSteps({ epochs: 3, maxSteps: 12 }, 10), 12);
    assert.equal(scheduleSteps({ epochs: 1, maxSteps: 50 }, 10), 10);
    assert.equal(scheduleSteps({ epochs: 3, maxSteps: null }, 10), 30, 'null (from a config file): no step budget');
    assert.throws(() => scheduleSteps({ epochs: 3, maxSteps: 0 }, 10), /maxSteps must be a whole number/);
  });

  test('without a time budget the linear-decay rate is a function of the step alone', () => tidy(() => {
    using layer = new Linear(2, 2);
    const a = new BudgetLinearDecayLR(new SGD(layer.parameters(), { lr: 1 }), { totalSteps: 100, warmupSteps: 10, minFactor: 0 });
    const first = [0, 5, 50, 99].map((s) => a.lrAt(s));
    stall(30);
    assert.deepEqual([0, 5, 50, 99].map((s) => a.lrAt(s)), first);
    // Warm-up over 10 steps, then linear decay over the 100: 0.1, 0.6 x 0.95, 0.5, 0.01.
    [0.1, 0.57, 0.5, 0.01].forEach((x, i) => assert.ok(Math.abs(first[i]! - x) < 1e-12, `step ${[0, 5, 50, 99][i]}: ${first[i]}`));
  }));

  test('masked LM: a step budget trains exactly that many steps, and a stalled run gives the same losses and accuracy', async () => {
    const config: MlmConfig = { ...defaultMlmConfig(), dModel: 16, heads: 2, dimFeedforward: 32, maxLen: 16, batchSize: 8, heldOut: 20, warmupSteps: 5, sampledNegatives: 16, epochs: 100, maxSteps: 25, seed: 3 };
    const run = async (stallMs: number): Promise<{ losses: number[]; lrs: number[]; acc: number | null; steps: number }> => {
      manualSeed(3);
      const losses: number[] = [];
      const lrs: number[] = [];
      const r = await pretrainMaskedLM({
        tokenizer, texts: TEXTS, config, progress: false,
        callbacks: { onStepEnd: (_s, logs) => { losses.push(logs.loss); lrs.push(logs.lr); if (stallMs) stall(stallMs); } },
      });
      r.model.dispose();
      return { losses, lrs, acc: r.heldOutAccuracy, steps: r.fit.steps };
    };
    const fast = await run(0);
    const slow = await run(20);
    assert.equal(fast.steps, 25);
    assert.equal(slow.steps, 25);
    assert.deepEqual(slow.losses, fast.losses);
    assert.deepEqual(slow.lrs, fast.lrs);
    assert.equal(slow.acc, fast.acc);
    assert.ok(fast.lrs.at(-1)! < 0.1 * Math.max(...fast.lrs), 'the rate decays to (nearly) zero over the step budget');
  });

  test('skip-gram (batched engine): a step budget trains exactly that many steps, identical under a stall', async () => {
    const vocab = WordVocab.build(TEXTS, { minCount: 1 });
    const corpus = vocab.encodeCorpus(TEXTS);
    const config = { ...defaultSkipGramConfig(), engine: 'batched' as const, dim: 8, batchSize: 64, epochs: 50, maxSteps: 30, seed: 2 };
    const run = async (stallMs: number): Promise<number[]> => {
      manualSeed(2);
      const losses: number[] = [];
      const r = await trainSkipGram({ vocab, corpus, config, progress: false, callbacks: { onStepEnd: (_s, logs) => { losses.push(logs.loss); if (stallMs) stall(stallMs); } } });
      assert.equal(r.fit.steps, 30);
      r.model.dispose();
      return losses;
    };
    assert.deepEqual(await run(15), await run(0));
  });

  test('SimCSE and ELECTRA: identical under a stall too (their dropout and samples are seeded by the step)', async () => {
    const e = electraConfig(9);
    const s = simcseConfig(9);
    const data = maskedLmData(tokenizer, TEXTS, { ...defaultMlmConfig(), ...e, sampledNegatives: 0 });
    const seqs = sentenceData(tokenizer, TEXTS, s);
    for (const [name, make, source] of [
      ['electra', () => new Electra(tokenizer.size, e, tokenizer.firstRegularId), electraSource(data.train, tokenizer.size, tokenizer.firstRegularId, e)],
      ['simcse', () => new SimCSE(new TransformerTextEncoder(tokenizer.size, s), s), new SequenceBatchSource(seqs.train, { batchSize: s.batchSize, maxLen: s.maxLen, seed: 9, padId: PAD_ID })],
    ] as const) {
      const run = async (stallMs: number): Promise<number[]> => {
        manualSeed(9);
        const m = make();
        const losses: number[] = [];
        // A different global stream before each run: nothing may depend on it.
        if (stallMs) manualSeed(1234);
        await pretrainOn(m, source, {
          epochs: 10, maxSteps: 12, optimizer: { kind: 'adamw', lr: 3e-3, weightDecay: 0.01 }, progress: false,
          callbacks: { onStepEnd: (_st, logs) => { losses.push(logs.loss); if (stallMs) stall(stallMs); } },
        });
        m.dispose();
        return losses;
      };
      assert.deepEqual(await run(15), await run(0), name);
      source.dispose();
    }
  });
});
