// selfsup.optim against PyTorch: parameters after several steps, clipped gradients
// and learning-rate sequences from scripts/make_fixtures.py.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor, tensor, randn, zeros, memory, tidy, F } from '../src/tensor/index.js';
import * as nn from '../src/nn/index.js';
import {
  SGD, Adam, AdamW, Optimizer, clipGradNorm_, StepLR, MultiStepLR, WarmupCosineLR, OneCycleLR, LRScheduler,
  warmupCosineLr, type OptimizerStateDict,
} from '../src/optim/index.js';

// ------------------------------------------------------------------ fixture helpers

interface Enc { shape: number[]; data: number[] }
type Json = any;

function fixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8'));
}

function T(e: Enc): Tensor {
  return tensor(Float32Array.from(e.data), { shape: e.shape });
}

function assertClose(actual: Tensor | null, expected: Enc, what: string, rtol = 1e-5, atol = 1e-6): void {
  assert.ok(actual, `${what}: got null`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataNumbers();
  a.forEach((v, i) => {
    const e = Math.fround(expected.data[i]!);
    assert.ok(Math.abs(v - e) <= atol + rtol * Math.abs(e), `${what}: element ${i} is ${v}, PyTorch has ${e}`);
  });
}

function assertNumbersClose(actual: number[], expected: number[], what: string, rtol = 1e-12): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((v, i) => {
    assert.ok(Math.abs(v - expected[i]!) <= rtol * Math.abs(expected[i]!) + 1e-15, `${what}[${i}]: ${v}, PyTorch has ${expected[i]}`);
  });
}

/** The fixture's MLP: fc2(tanh(fc1(x))). */
class Mlp extends nn.Module {
  readonly fc1 = this.registerModule('fc1', new nn.Linear(4, 8));
  readonly fc2 = this.registerModule('fc2', new nn.Linear(8, 3));
  forward(x: Tensor): Tensor {
    return tidy(() => this.fc2.forward(this.fc1.forward(x).tanh()));
  }
}

function mlpFrom(state: Record<string, Enc>): Mlp {
  const m = new Mlp();
  tidy(() => { m.loadStateDict(new Map(Object.entries(state).map(([k, e]) => [k, T(e)]))); });
  return m;
}

/** zeroGrad, MSE loss, backward, step; returns the losses. */
function train(m: Mlp, opt: Optimizer<{ lr: number }>, x: Tensor, y: Tensor, steps: number): number[] {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    tidy(() => {
      opt.zeroGrad();
      const loss = F.mseLoss(m.forward(x), y);
      loss.backward();
      opt.step();
      losses.push(loss.item());
    });
  }
  return losses;
}

function makeOptimizer(kind: 'sgd' | 'adam', name: string, options: Json, m: Mlp): Optimizer<{ lr: number }> {
  if (name === 'groups') {
    return new SGD([{ params: m.fc1.parameters(), lr: 0.1 }, { params: m.fc2.parameters(), momentum: 0.5 }], { lr: 0.05, momentum: 0.9 });
  }
  if (kind === 'sgd') return new SGD(m.parameters(), options);
  return (name.startsWith('adamw') ? new AdamW(m.parameters(), options) : new Adam(m.parameters(), options));
}

// ------------------------------------------------------------------ optimizers vs PyTorch

for (const [file, kind] of [['optim_sgd.json', 'sgd'], ['optim_adam.json', 'adam']] as const) {
  describe(`${kind === 'sgd' ? 'SGD' : 'Adam and AdamW'} match PyTorch after several steps`, () => {
    const c = fixture(file);
    for (const [name, run] of Object.entries<Json>(c.runs)) {
      test(name, () => tidy(() => {
        const m = mlpFrom(c.state);
        const opt = makeOptimizer(kind, name, run.options, m);
        const losses = train(m, opt, T(c.x), T(c.y), c.steps);
        assertNumbersClose(losses, run.losses, 'losses', 1e-5);
        for (const [k, e] of Object.entries<Enc>(run.final)) assertClose(m.stateDict().get(k)!, e, `${name}: ${k}`);
        // The run really moved the parameters.
        assert.ok(Math.abs(losses.at(-1)! - losses[0]!) > 1e-4);
        m.dispose();
        opt.dispose();
      }));
    }
  });
}

describe('optimizer mechanics', () => {
  const c = fixture('optim_adam.json');

  test('a step leaves the number of live tensors unchanged once the state exists', () => tidy(() => {
    const m = mlpFrom(c.state);
    const x = T(c.x);
    const y = T(c.y);
    const optimizers = [
      new SGD(m.parameters(), { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4, maximize: false }),
      new Adam(m.parameters(), { amsgrad: true, weightDecay: 0.1 }),
      new AdamW(m.parameters(), { amsgrad: true }),
    ];
    for (const opt of optimizers) {
      train(m, opt, x, y, 1);
      const before = memory().numTensors;
      train(m, opt, x, y, 4);
      assert.equal(memory().numTensors, before, `${opt.constructor.name} leaks no tensors`);
      opt.dispose();
    }
    m.dispose();
  }));

  test('parameters without a gradient are skipped (no update, no decay, no state)', () => tidy(() => {
    const m = mlpFrom(c.state);
    m.freeze('fc1');
    const opt = new AdamW(m.parameters(), { lr: 0.1, weightDecay: 0.5 });
    const before = m.fc1.weight.dataNumbers();
    train(m, opt, T(c.x), T(c.y), 2);
    assert.deepEqual(m.fc1.weight.dataNumbers(), before);
    assert.equal(opt.stateOf(m.fc1.weight), undefined);
    assert.equal(opt.stateOf(m.fc2.weight)?.step, 2);
    m.dispose();
    opt.dispose();
  }));

  test('each group has its own lr, readable and settable', () => tidy(() => {
    const m = mlpFrom(c.state);
    const opt = new SGD([{ params: m.fc1.parameters() }, { params: m.fc2.parameters(), lr: 0.5 }], { lr: 0.1 });
    assert.deepEqual(opt.lrs, [0.1, 0.5]);
    opt.paramGroups[1]!.lr = 0;
    const fc2 = m.fc2.weight.dataNumbers();
    const fc1 = m.fc1.weight.dataNumbers();
    train(m, opt, T(c.x), T(c.y), 1);
    assert.deepEqual(m.fc2.weight.dataNumbers(), fc2, 'lr 0 leaves the group unchanged');
    assert.notDeepEqual(m.fc1.weight.dataNumbers(), fc1);
    m.dispose();
  }));

  test('plain SGD step is p -= lr * grad', () => tidy(() => {
    const p = tensor([1, 2, 3], { requiresGrad: true });
    p.grad = tensor([0.5, -1, 2]);
    new SGD([p], { lr: 0.1 }).step();
    assertClose(p, { shape: [3], data: [0.95, 2.1, 2.8] }, 'p');
  }));

  test('bad options and parameters are refused with clear errors', () => tidy(() => {
    const p = zeros([2], { requiresGrad: true });
    assert.throws(() => new SGD([p], { lr: 0.1, nesterov: true }), /nesterov momentum requires momentum > 0/);
    assert.throws(() => new SGD([p], { lr: -1 }), /lr must be a number >= 0/);
    assert.throws(() => new Adam([p], { betas: [0.9, 1.0] }), /betas must be two numbers in \[0, 1\)/);
    assert.throws(() => new SGD([], { lr: 0.1 }), /non-empty list/);
    assert.throws(() => new SGD([{ params: [p] }, { params: [p] }], { lr: 0.1 }), /more than one place/);
    assert.throws(() => new SGD([p.mul(2)], { lr: 0.1 }), /not a leaf tensor/);
  }));

  test('AdamW defaults to weight decay 0.01, Adam to 0', () => {
    const p = zeros([2], { requiresGrad: true });
    assert.equal(new AdamW([p]).paramGroups[0]!.weightDecay, 0.01);
    assert.equal(new Adam([p]).paramGroups[0]!.weightDecay, 0);
    p.dispose();
  });
});

describe('optimizer state dict', () => {
  for (const [file, name] of [['optim_adam.json', 'adamAmsgradL2'], ['optim_sgd.json', 'nesterovWeightDecay'], ['optim_sgd.json', 'groups']] as const) {
    test(`${name}: save after 3 steps, load into a fresh optimizer, resume identically`, () => tidy(() => {
      const c = fixture(file);
      const run = c.runs[name];
      const kind = file === 'optim_sgd.json' ? 'sgd' : 'adam';
      const [x, y] = [T(c.x), T(c.y)];
      const a = mlpFrom(c.state);
      const optA = makeOptimizer(kind, name, run.options, a);
      train(a, optA, x, y, 3);

      // What a checkpoint would hold: copies of the tensors, the metadata through JSON.
      const sd = optA.stateDict();
      const saved: OptimizerStateDict = {
        state: new Map([...sd.state].map(([k, t]) => [k, t.clone()])),
        meta: JSON.parse(JSON.stringify(sd.meta)),
      };
      assert.ok(saved.state.size > 0);
      assert.ok([...saved.state.keys()].every((k) => /^\d+\.(momentum_buffer|exp_avg|exp_avg_sq|max_exp_avg_sq)$/.test(k)), [...saved.state.keys()].join());
      const b = new Mlp();
      b.loadStateDict(a.stateDict());
      // Different hyperparameters on purpose: loading must restore the saved ones.
      const optB = kind === 'sgd'
        ? new SGD(name === 'groups' ? [{ params: b.fc1.parameters() }, { params: b.fc2.parameters() }] : b.parameters(), { lr: 3 })
        : new Adam(b.parameters(), { lr: 3 });
      optB.loadStateDict(saved);
      assert.deepEqual(optB.stateDict().meta, sd.meta);

      train(a, optA, x, y, 3);
      train(b, optB, x, y, 3);
      for (const [k, t] of a.stateDict()) assert.deepEqual(b.stateDict().get(k)!.dataNumbers(), t.dataNumbers(), `${k} identical after resuming`);
      for (const [k, e] of Object.entries<Enc>(run.final)) assertClose(b.stateDict().get(k)!, e, `${k} vs PyTorch`);
      for (const m of [a, b]) m.dispose();
      optA.dispose();
      optB.dispose();
    }));
  }

  test('loading refuses a state dict for other groups', () => tidy(() => {
    const p = zeros([2], { requiresGrad: true });
    const q = zeros([2], { requiresGrad: true });
    const sd = new SGD([{ params: [p] }, { params: [q] }], { lr: 0.1 }).stateDict();
    assert.throws(() => new SGD([p, q], { lr: 0.1 }).loadStateDict(sd), /2 parameter groups, this optimizer has 1/);
  }));
});

describe('clipGradNorm_ matches torch.nn.utils.clip_grad_norm_', () => {
  const c = fixture('optim_clip.json');
  for (const k of c.cases as Json[]) {
    test(`maxNorm ${k.maxNorm}, norm ${k.normType}`, () => tidy(() => {
      const params = (c.grads as Enc[]).map((g) => {
        const p = zeros(g.shape, { requiresGrad: true });
        p.grad = T(g);
        return p;
      });
      params.push(zeros([2], { requiresGrad: true })); // no grad: skipped
      const total = clipGradNorm_(params, k.maxNorm, k.normType === 'inf' ? Infinity : k.normType);
      assert.equal(typeof total, 'number');
      assert.ok(Math.abs(total - k.total) <= 1e-6 * k.total, `total norm ${total}, PyTorch ${k.total}`);
      params.slice(0, -1).forEach((p, i) => assertClose(p.grad, k.clipped[i], `clipped grad ${i}`));
      assert.equal(params.at(-1)!.grad, null);
    }));
  }

  test('no gradients: norm 0; non-finite norm can be an error', () => tidy(() => {
    const p = zeros([2], { requiresGrad: true });
    assert.equal(clipGradNorm_([p], 1), 0);
    p.grad = tensor([Infinity, 1]);
    assert.throws(() => clipGradNorm_(p, 1, 2, { errorIfNonfinite: true }), /non|Infinity/);
  }));
});

describe('learning-rate schedules match PyTorch', () => {
  const c = fixture('optim_schedulers.json');

  function optimizerFor(k: Json): Optimizer<{ lr: number }> {
    const groups = (k.baseLrs as number[]).map((lr) => ({ params: [zeros([2], { requiresGrad: true })], lr }));
    return (k.optimizer === 'adam' ? new Adam(groups) : new SGD(groups, { lr: 0.1, momentum: 0.9 }));
  }

  function check(name: string, make: (opt: Optimizer<{ lr: number }>, k: Json) => LRScheduler, momentum?: 'momentum' | 'betas'): void {
    test(name, () => tidy(() => {
      const k = c[name];
      const opt = optimizerFor(k);
      const sched = make(opt, k);
      const steps = (k.lrs as number[][]).length - 1;
      const lrs: number[][] = [opt.lrs];
      const moms: number[][] = [];
      const momentumOf = (): number[] => opt.paramGroups.map((g) => {
        const r = g as unknown as Record<string, unknown>;
        return momentum === 'betas' ? (r.betas as number[])[0]! : (r.momentum as number);
      });
      if (momentum) moms.push(momentumOf());
      for (let i = 0; i < steps; i++) {
        opt.step();
        sched.step();
        lrs.push(opt.lrs);
        if (momentum) moms.push(momentumOf());
      }
      assert.equal(sched.lastEpoch, steps);
      assert.deepEqual(sched.getLastLr(), opt.lrs);
      assert.equal(sched.lr, opt.lrs[0]);
      for (let g = 0; g < opt.paramGroups.length; g++) {
        assertNumbersClose(lrs.map((l) => l[g]!), k.lrs.map((l: number[]) => l[g]), `${name} lr of group ${g}`);
        // The pure helper gives the same sequence.
        assertNumbersClose(lrs.map((_, i) => sched.lrAt(i, g)), k.lrs.map((l: number[]) => l[g]), `${name} lrAt of group ${g}`);
        if (momentum) assertNumbersClose(moms.map((m) => m[g]!), k.momentums.map((m: number[]) => m[g]), `${name} momentum of group ${g}`);
      }
    }));
  }

  check('stepLR', (opt, k) => new StepLR(opt, k.options));
  check('multiStepLR', (opt, k) => new MultiStepLR(opt, k.options));
  check('warmupCosine', (opt, k) => new WarmupCosineLR(opt, k.options));
  check('cosine', (opt, k) => new WarmupCosineLR(opt, k.options));
  check('oneCycle', (opt, k) => new OneCycleLR(opt, k.options), 'momentum');
  check('oneCycleAdamThreePhase', (opt, k) => new OneCycleLR(opt, k.options), 'betas');

  test('warmup cosine holds minLr after totalSteps; the pure function needs no optimizer', () => {
    const o = { warmupSteps: 5, totalSteps: 30, minLr: 1e-3 };
    assert.equal(warmupCosineLr(30, 0.1, o), 1e-3);
    assert.equal(warmupCosineLr(1000, 0.1, o), 1e-3);
    assert.equal(warmupCosineLr(0, 0.1, o), 0.02);
    assert.equal(warmupCosineLr(4, 0.1, o), 0.1);
  });

  test('OneCycleLR refuses steps past totalSteps', () => tidy(() => {
    const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 0.1, momentum: 0.9 });
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 3 });
    for (let i = 0; i < 3; i++) s.step();
    assert.throws(() => s.step(), /past totalSteps/);
  }));

  test('a scheduler resumes from its state dict', () => tidy(() => {
    const make = (): [SGD, WarmupCosineLR] => {
      const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 0.1 });
      return [opt, new WarmupCosineLR(opt, { warmupSteps: 3, totalSteps: 20 })];
    };
    const [optA, a] = make();
    for (let i = 0; i < 7; i++) a.step();
    const [optB, b] = make();
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    assert.deepEqual(optB.lrs, optA.lrs);
    for (let i = 0; i < 5; i++) {
      a.step();
      b.step();
      assert.deepEqual(optB.lrs, optA.lrs);
    }
    assert.equal(b.lastEpoch, 12);
  }));

  test('bad schedule options are refused', () => tidy(() => {
    const opt = new SGD([randn([1], { requiresGrad: true })], { lr: 0.1 });
    assert.throws(() => new StepLR(opt, { stepSize: 0 }), /stepSize must be an integer >= 1/);
    assert.throws(() => new MultiStepLR(opt, { milestones: [5, 2] }), /increasing/);
    assert.throws(() => new WarmupCosineLR(opt, { warmupSteps: 10, totalSteps: 10 }), /totalSteps must be an integer >= 11/);
    assert.throws(() => new OneCycleLR(opt, { maxLr: [1, 2], totalSteps: 10 }), /expected 1 values for maxLr/);
  }));
});
