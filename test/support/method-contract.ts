// The contract every registered self-supervised method must keep, as node:test
// suites: `methodContract(name, options)` adds one describe() block for that method.
// It trains a tiny method through `pretrain` (the path the CLI and the experiments
// take) and checks the loss, live tensors, exact resume, embeddings, the encoder in
// the checkpoint and what the checkpoint records. test/method-contract.test.ts runs
// it for every name in METHODS, so a new method is covered by registering it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memory, manualSeed, tidy, noGrad, tensor, Tensor } from '../../src/tensor/index.js';
import { SmallCnn, VisionTransformer, type Backbone } from '../../src/models/index.js';
import { DataLoader, Rng, channelStats, toTensors, type ImageDataset } from '../../src/data/index.js';
import { loadCheckpoint } from '../../src/io/index.js';
import { getImageMethod, type MethodSpec } from '../../src/ssl/registry.js';
import { pretrain, type PretrainOptions } from '../../src/ssl/pretrain.js';
import type { MethodContext, MethodFamily, SslMethod, ViewBatch } from '../../src/ssl/method.js';
import type { Normalization } from '../../src/eval/evaluate.js';
import type { FitResult } from '../../src/train/trainer.js';
import { trackOptimizers } from './track-optimizers.js';
import { toyImages } from './toy-images.js';

const FAMILIES: readonly MethodFamily[] = ['classification-pretext', 'joint-embedding', 'masked-modelling', 'context-prediction'];

/** Head sizes for an 8-d encoder; each method gets the ones it knows. */
const SMALL_HEADS: Record<string, number> = {
  hiddenDim: 32, projectionDim: 16, tileDim: 8, bottleneckDim: 8, expanderDim: 32, prototypes: 32,
  // A queue of 4 batches of 16 wraps around inside the contract's runs.
  queueSize: 64,
  // MAE's decoder on a 16-wide ViT.
  decoderWidth: 16, decoderHeads: 2,
};

/** The small head options that the image method `name` takes. */
export function smallHeads(name: string): Record<string, unknown> {
  // The registry's list of the options each method takes (rotation: only its head).
  const known = getImageMethod(name).optionNames;
  return Object.fromEntries(Object.entries(SMALL_HEADS).filter(([k]) => known.includes(k)));
}

/** The contract's encoder: 16x16 grey images go 16 -> 8 -> 4, 8-d embeddings. */
export const makeEncoder = (): Backbone => new SmallCnn({ widths: [4, 8, 8] });

/** A ViT for 16x16 grey images: 4x4 patches of 4x4 pixels, two layers 16 wide, 16-d embeddings. */
export const makeTinyVit = (): Backbone => new VisionTransformer({ inChannels: 1, imageSize: 16, patchSize: 4, width: 16, depth: 2, heads: 2 });

/** The methods that need an encoder of a particular kind, and the one they get; every other method gets `makeEncoder`'s small CNN. */
const METHOD_ENCODERS: Record<string, () => Backbone> = { mae: makeTinyVit };

/** The contract's encoder maker for the method `name`. */
export function encoderFor(name: string): () => Backbone {
  return METHOD_ENCODERS[name] ?? makeEncoder;
}

export interface ContractOptions {
  /** Method options (small heads); pass only names the method knows. */
  options?: Record<string, unknown>;
  /** Training images (default: 64 toy images of 1x16x16). */
  data?: ImageDataset;
  /** Default 16, so 64 images give 4 steps an epoch and resume lands inside an epoch. */
  batchSize?: number;
  /** Steps of the main run (default 40); live tensors are compared at step 10 and at the last. */
  steps?: number;
  /** Where the interrupted run stops and where its resumed part stops (default 6 and 12). */
  stopAt?: number;
  resumeTo?: number;
  seed?: number;
  /** Makes the method's encoder (default: `encoderFor(name)`). */
  encoder?: () => Backbone;
  /** Names the suite beside the method, for a variant of its options (e.g. 'input assembled'). */
  variant?: string;
}

/** What one pretraining run of the contract saw, step by step. */
export interface RunRecord {
  method: SslMethod;
  fit: FitResult;
  /** Loss of step i + 1 at index i (steps before a resume are left undefined). */
  losses: number[];
  /** Live tensors right after each step, indexed like `losses`. */
  tensors: number[];
  /** Live tensors just before `pretrain` was called and just after it returned (before the contract freed its optimizer). */
  tensorsBefore: number;
  tensorsAfter: number;
  /** Tensors that disposing the run's optimizer freed. */
  optimizerTensors: number;
}

export interface ToyRun {
  spec: MethodSpec;
  data: ImageDataset;
  ctx: MethodContext;
  norm: Normalization;
  batchSize: number;
  seed: number;
  options: Record<string, unknown>;
  /** A fresh encoder of the kind the method takes. */
  makeEncoder: () => Backbone;
}

export function toyRun(name: string, o: ContractOptions = {}): ToyRun {
  const data = o.data ?? toyImages(64, { size: 16, seed: 7 });
  const norm = channelStats(data);
  return {
    spec: getImageMethod(name), data, norm, ctx: { imageShape: data.imageShape, norm }, batchSize: o.batchSize ?? 16,
    seed: o.seed ?? 11, options: o.options ?? {}, makeEncoder: o.encoder ?? encoderFor(name),
  };
}

/** A fresh method whose initial weights depend only on the seed. */
export function freshMethod(r: ToyRun): SslMethod {
  manualSeed(r.seed);
  return r.spec.create(r.makeEncoder(), r.ctx, r.options);
}

/**
 * Pretrains `method` on the toy run for at most `steps` steps (the schedule is always
 * `steps` long, so a run stopped early and resumed follows the same schedule), stopping
 * after step `stopAt` if given.
 */
export async function runSteps(r: ToyRun, method: SslMethod, steps: number, extra: Partial<PretrainOptions> & { stopAt?: number } = {}): Promise<RunRecord> {
  const losses: number[] = [];
  const tensors: number[] = [];
  const { stopAt, ...rest } = extra;
  const stepsPerEpoch = Math.floor(r.data.length / r.batchSize);
  // pretrain frees its optimizer's state; the test frees it again (a no-op) so the counts stay exact even if it did not.
  const made = trackOptimizers(method);
  const tensorsBefore = memory().numTensors;
  const fit = (await pretrain(method, {
    data: r.data, norm: r.norm, batchSize: r.batchSize, epochs: Math.ceil(steps / stepsPerEpoch), maxSteps: steps,
    optimizer: r.spec.defaults.optimizer, augment: r.spec.defaults.augment, seed: r.seed, progress: false,
    ...rest,
    callbacks: {
      onStepEnd: (step, logs, control) => {
        losses[step - 1] = logs.loss;
        tensors[step - 1] = memory().numTensors;
        if (step === stopAt) control.stop('contract stop');
      },
    },
  })).fit;
  const tensorsAfter = memory().numTensors;
  for (const opt of made) opt.dispose();
  return { method, fit, losses, tensors, tensorsBefore, tensorsAfter, optimizerTensors: tensorsAfter - memory().numTensors };
}

/** Normalised images the way the loader makes them, [n, C, H, W]. */
export function normalisedImages(r: ToyRun, n: number): Tensor {
  const { x, y } = toTensors(r.data, Int32Array.from({ length: n }, (_, i) => i));
  y?.dispose();
  const [c] = r.data.imageShape;
  const out = tidy(() => x.sub(tensor(r.norm.mean, { shape: [1, c, 1, 1] })).div(tensor(r.norm.std, { shape: [1, c, 1, 1] })));
  x.dispose();
  return out;
}

const close = (a: number, b: number, tol: number): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

function assertTensorsClose(a: Tensor, b: Tensor, tol: number, what: string): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shapes`);
  const x = a.dataNumbers();
  const y = b.dataNumbers();
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  assert.ok(worst <= tol, `${what}: largest difference ${worst}`);
}

/** Adds the contract's tests for the registered method `name`. */
export function methodContract(name: string, o: ContractOptions = {}): void {
  const steps = o.steps ?? 40;
  const stopAt = o.stopAt ?? 6;
  const resumeTo = o.resumeTo ?? 12;
  describe(`method contract: ${name}${o.variant ? ` (${o.variant})` : ''}`, () => {
    let dir: string;
    let r: ToyRun;
    let main: RunRecord;
    let baseline: number;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `selfsup-contract-${name}-`));
      r = toyRun(name, o);
      baseline = memory().numTensors;
      main = await runSteps(r, freshMethod(r), steps, { checkpoint: join(dir, 'main') });
    });
    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    test('spec: name, family and defaults are well formed', () => {
      const { spec } = r;
      assert.equal(spec.name, name);
      assert.equal(main.method.name, name, 'the method reports its registry name');
      assert.equal(main.method.family, spec.family, 'the method and its spec agree on the family');
      assert.ok(FAMILIES.includes(spec.family), `family '${spec.family}'`);
      assert.ok(spec.paper.length > 0 && spec.summary.length > 0, 'paper and summary for the help text');
      const d = spec.defaults;
      assert.ok(Number.isInteger(d.batchSize) && d.batchSize >= 1, `batchSize ${d.batchSize}`);
      assert.ok(['sgd', 'adam', 'adamw'].includes(d.optimizer.kind), `optimizer ${d.optimizer.kind}`);
      assert.ok(Number.isFinite(d.optimizer.lr) && d.optimizer.lr > 0, `lr ${d.optimizer.lr}`);
      const w = d.optimizer.warmupSteps;
      assert.ok(w === undefined || (Number.isInteger(w) && w >= 0), `warmupSteps ${w}`);
      assert.equal(typeof d.augment, 'object');
      const { crop, flip } = d.augment;
      assert.ok(crop === undefined || (Number.isInteger(crop) && crop >= 0), `augment.crop ${crop}`);
      assert.ok(flip === undefined || typeof flip === 'boolean', `augment.flip ${flip}`);
      // Methods that make their own views would be cropped twice by the loader.
      if (main.method.rawInput) assert.ok(!crop && !flip, 'a method with views of its own takes no loader augmentation');
    });

    test('making and disposing the method leaves no tensor behind', () => {
      const before = memory().numTensors;
      freshMethod(r).dispose();
      assert.equal(memory().numTensors, before);
    });

    test('one training step: a finite scalar loss that reaches the encoder', () => {
      const before = memory().numTensors;
      const method = freshMethod(r);
      method.train();
      const raw = method.rawInput;
      const loader = new DataLoader(r.data, {
        batchSize: r.batchSize, seed: r.seed, dropLast: true,
        crop: raw ? 0 : (r.spec.defaults.augment.crop ?? 0), flip: raw ? false : (r.spec.defaults.augment.flip ?? false),
        mean: raw ? undefined : r.norm.mean, std: raw ? undefined : r.norm.std,
      });
      const [b] = loader.batches(0);
      const batch: ViewBatch = Object.assign(b!, { rng: new Rng(r.seed, 0, 0) });
      try {
        tidy(() => {
          const out = method.trainingStep(batch, { epoch: 0, step: 0, stepInEpoch: 0, totalSteps: 10 });
          assert.deepEqual(out.loss.shape, [], 'the loss is a scalar');
          assert.ok(Number.isFinite(out.loss.item()), `loss ${out.loss.item()}`);
          assert.ok(Number.isInteger(out.count) && out.count > 0, `count ${out.count}`);
          for (const [k, v] of Object.entries(out.logs ?? {})) {
            assert.ok(Number.isFinite(v instanceof Tensor ? v.item() : v), `log ${k}`);
          }
          out.loss.backward();
          const grads = method.encoder.parameters().map((p) => p.grad);
          assert.ok(grads.every((g) => g !== null), 'every encoder parameter gets a gradient');
          const norms = grads.map((g) => g!.abs().sum().item());
          assert.ok(norms.every(Number.isFinite), 'finite gradients');
          assert.ok(norms.some((v) => v > 0), 'some encoder gradient is non-zero');
          for (const g of grads) g!.dispose();
        });
      } finally {
        batch.dispose();
        method.dispose();
      }
      assert.equal(memory().numTensors, before, 'a step and its gradients leave nothing behind once the method is disposed');
    });

    test('pretrain: every step\'s loss is finite and fit reports it', () => {
      assert.equal(main.fit.steps, steps);
      assert.equal(main.losses.length, steps);
      assert.ok(main.losses.every(Number.isFinite), `losses ${main.losses.join(', ')}`);
      assert.equal(main.fit.lastLoss, main.losses[steps - 1]);
      const curve = main.fit.curve.filter((p) => p.loss !== undefined);
      assert.ok(curve.length > 0 && curve.every((p) => Number.isFinite(p.loss)), 'curve losses are finite');
    });

    test('live tensors stay flat over many steps', () => {
      const at = Math.min(10, steps);
      assert.equal(main.tensors[steps - 1], main.tensors[at - 1],
        `live tensors after step ${at}: ${main.tensors[at - 1]}, after step ${steps}: ${main.tensors[steps - 1]} (per step: ${main.tensors.join(' ')})`);
    });

    test(`resume: stopping after step ${stopAt} and resuming repeats the next losses`, async () => {
      const path = join(dir, 'resume');
      const first = await runSteps(r, freshMethod(r), steps, { checkpoint: path, stopAt });
      assert.equal(first.fit.steps, stopAt);
      const second = await runSteps(r, freshMethod(r), steps, { checkpoint: path, resume: true, stopAt: resumeTo });
      assert.equal(second.fit.steps, resumeTo);
      const resumed = [...first.losses.slice(0, stopAt), ...second.losses.slice(stopAt, resumeTo)];
      const expected = main.losses.slice(0, resumeTo);
      const bad = expected.map((v, i) => [i + 1, v, resumed[i]!] as const).filter(([, a, b]) => !close(a, b, 1e-5));
      assert.deepEqual(bad, [], `steps whose loss differs after resume (step, uninterrupted, resumed): ${JSON.stringify(bad)}`);
      first.method.dispose();
      second.method.dispose();
    });

    test('pretrain leaves nothing alive that it made (its optimizer state is freed)', () => {
      assert.equal(main.optimizerTensors, 0, 'the optimizer state was freed by pretrain, not by the test');
      assert.equal(main.tensorsAfter, main.tensorsBefore,
        `live tensors before pretrain ${main.tensorsBefore}, after it returned ${main.tensorsAfter}`);
    });

    test('embed and takeEncoder().embed give [N, embedDim]', () => {
      const x = normalisedImages(r, 5);
      const dim = main.method.encoder.embedDim;
      noGrad(() => tidy(() => {
        main.method.eval();
        assert.deepEqual(main.method.embed(x).shape, [5, dim]);
        assert.deepEqual(main.method.encoder.embed(x).shape, [5, dim]);
      }));
      x.dispose();
    });

    test('the checkpoint records method and family, and its encoder.* weights give the same embeddings', () => {
      const ck = loadCheckpoint(join(dir, 'main'));
      const fresh = r.makeEncoder();
      const x = normalisedImages(r, 8);
      try {
        assert.equal(ck.meta.method, name);
        assert.equal(ck.meta.family, r.spec.family);
        assert.deepEqual(ck.meta.blocks, main.method.encoder.blockNames);
        const encoderWeights = new Map([...ck.model].filter(([k]) => k.startsWith('encoder.')).map(([k, t]) => [k.slice('encoder.'.length), t]));
        assert.ok(encoderWeights.size > 0, 'the checkpoint holds encoder.* tensors');
        fresh.loadStateDict(encoderWeights, { strict: true });
        fresh.eval();
        main.method.eval();
        noGrad(() => tidy(() => assertTensorsClose(fresh.embed(x), main.method.encoder.embed(x), 1e-6, 'embeddings of the reloaded encoder')));
      } finally {
        for (const t of ck.model.values()) t.dispose();
        for (const t of ck.optimizer?.state.values() ?? []) t.dispose();
        fresh.dispose();
        x.dispose();
      }
    });

    test('takeEncoder hands over a working encoder and frees the rest', () => {
      const x = normalisedImages(r, 3);
      const encoder = main.method.takeEncoder();
      noGrad(() => tidy(() => {
        encoder.eval();
        assert.deepEqual(encoder.embed(x).shape, [3, encoder.embedDim]);
      }));
      x.dispose();
      encoder.dispose();
      // Nothing of the trained method may stay alive once its encoder is gone.
      assert.equal(memory().numTensors, baseline, 'live tensors after disposing the taken encoder equal those before the method was made');
    });
  });
}
