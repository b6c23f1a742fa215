// selfsup.nn against PyTorch: fixtures from scripts/make_fixtures.py hold PyTorch's weights,
// inputs, outputs and gradients; the layers here must reproduce them.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor, tensor, empty, randn, memory, manualSeed, Generator, tidy, noGrad } from '../src/tensor/index.js';
import * as nn from '../src/nn/index.js';
import { SGD } from '../src/optim/index.js';

// ------------------------------------------------------------------ fixture helpers

interface Enc { shape: number[]; dtype?: 'int64' | 'bool'; data: number[] }
type EncState = Record<string, Enc>;
type Json = any;

function fixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8'));
}

/** A tensor from a fixture entry. */
function T(e: Enc): Tensor {
  if (e.dtype === 'int64') return tensor(BigInt64Array.from(e.data, (v) => BigInt(v)), { shape: e.shape });
  if (e.dtype === 'bool') return tensor(Uint8Array.from(e.data), { shape: e.shape, dtype: 'bool' });
  return tensor(Float32Array.from(e.data), { shape: e.shape });
}

function stateOf(s: EncState): Map<string, Tensor> {
  return new Map(Object.entries(s).map(([k, e]) => [k, T(e)]));
}

/** Elementwise |actual - expected| <= atol + rtol * |expected|, with a message naming the worst element. */
function assertClose(actual: Tensor | null, expected: Enc, what: string, rtol = 1e-5, atol = 1e-6): void {
  assert.ok(actual, `${what}: got null`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataNumbers();
  // The fixture keeps float32 values in their shortest decimal form; read them back as float32.
  const exp = actual.dtype === 'float32' ? expected.data.map(Math.fround) : expected.data;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const e = exp[i]!;
    const excess = Math.abs(a[i]! - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  assert.ok(worst < 0, `${what}: element ${worst} is ${a[worst]}, PyTorch has ${expected.data[worst]}`);
}

/** A grad of `t`, compared and freed. */
function assertGrad(t: Tensor, expected: Enc, what: string, rtol = 1e-5, atol = 1e-6): void {
  const g = t.grad;
  assertClose(g, expected, what, rtol, atol);
  g?.dispose();
}

function assertParamGrads(m: nn.Module, expected: Record<string, Enc>, what: string, rtol = 1e-5, atol = 1e-6): void {
  const named = m.namedParameters();
  assert.deepEqual(named.map(([n]) => n).sort(), Object.keys(expected).sort(), `${what}: parameters with grads`);
  for (const [name, p] of named) assertGrad(p, expected[name]!, `${what}: grad of ${name}`, rtol, atol);
}

function assertState(m: nn.Module, expected: EncState, what: string, rtol = 1e-5, atol = 1e-6): void {
  const sd = m.stateDict();
  assert.deepEqual([...sd.keys()], Object.keys(expected), `${what}: state dict keys`);
  for (const [k, e] of Object.entries(expected)) assertClose(sd.get(k)!, e, `${what}: ${k}`, rtol, atol);
}

function load(m: nn.Module, s: EncState): void {
  tidy(() => { m.loadStateDict(stateOf(s)); });
}

/** Backpropagates sum(out * R) like the fixture script. */
function backwardWith(out: Tensor, r: Enc): void {
  tidy(() => out.mul(T(r)).sum().backward());
}

function paramsSnapshot(m: nn.Module): Map<string, number[]> {
  return new Map([...m.stateDict()].map(([k, t]) => [k, t.dataNumbers()]));
}

// ------------------------------------------------------------------ layers vs PyTorch

describe('layers match PyTorch forward and backward', () => {
  test('Linear on a 3-d input', () => tidy(() => {
    const c = fixture('nn_linear.json').linear;
    const m = new nn.Linear(5, 4);
    load(m, c.state);
    const x = T(c.x).requiresGrad_();
    const out = m.forward(x);
    assertClose(out, c.out, 'output');
    backwardWith(out, c.R);
    assertGrad(x, c.inputGrads[0], 'input grad');
    assertParamGrads(m, c.paramGrads, 'Linear');
    m.dispose();
  }));

  for (const name of ['strided', 'dilatedGrouped']) {
    test(`Conv2d ${name}`, () => tidy(() => {
      const c = fixture('nn_conv2d.json')[name];
      const o = c.config;
      const m = new nn.Conv2d(o.in_channels, o.out_channels, o.kernel_size, {
        stride: o.stride, padding: o.padding, dilation: o.dilation, groups: o.groups, bias: o.bias,
      });
      load(m, c.state);
      const x = T(c.x).requiresGrad_();
      const out = m.forward(x);
      assertClose(out, c.out, 'output');
      backwardWith(out, c.R);
      assertGrad(x, c.inputGrads[0], 'input grad');
      assertParamGrads(m, c.paramGrads, 'Conv2d');
      m.dispose();
    }));
  }

  test('BatchNorm2d: training output, grads, running statistics, then eval', () => tidy(() => {
    const c = fixture('nn_batchnorm.json').bn2d;
    const m = new nn.BatchNorm2d(3, c.options);
    load(m, c.state);
    m.train();
    const x1 = T(c.x1).requiresGrad_();
    const out = m.forward(x1);
    assertClose(out, c.train1.out, 'train output');
    backwardWith(out, c.train1.R);
    assertGrad(x1, c.train1.inputGrads[0], 'train input grad');
    assertParamGrads(m, c.train1.paramGrads, 'BatchNorm2d');
    assertState(m, c.stateAfter1, 'after one training batch');
    noGrad(() => m.forward(T(c.x2)));
    assertState(m, c.stateAfter2, 'after two training batches');
    assert.equal(m.numBatchesTracked!.item(), 2);

    m.eval();
    const x3 = T(c.x3).requiresGrad_();
    const evalOut = m.forward(x3);
    assertClose(evalOut, c.evalOut, 'eval output');
    backwardWith(evalOut, c.evalR);
    assertGrad(x3, c.evalInputGrad, 'eval input grad');
    assertState(m, c.stateAfter2, 'eval changes no statistics');
    m.dispose();
  }));

  test('BatchNorm2d with momentum null keeps a cumulative average', () => tidy(() => {
    const c = fixture('nn_batchnorm.json').bn2dCumulative;
    const m = new nn.BatchNorm2d(3, { momentum: null });
    noGrad(() => { for (const x of c.xs) m.forward(T(x)); });
    assertState(m, c.stateAfter, 'cumulative statistics');
    m.dispose();
  }));

  test('BatchNorm2d without running statistics normalises by the batch in eval', () => tidy(() => {
    const c = fixture('nn_batchnorm.json').bn2dNoStats;
    const m = new nn.BatchNorm2d(3, { affine: false, trackRunningStats: false }).eval();
    assert.deepEqual([...m.stateDict().keys()], c.keys);
    assertClose(m.forward(T(c.x)), c.evalOut, 'eval output');
  }));

  for (const name of ['bn1d2d', 'bn1d3d']) {
    test(`BatchNorm1d ${name === 'bn1d2d' ? '[N, C]' : '[N, C, L]'}`, () => tidy(() => {
      const c = fixture('nn_batchnorm.json')[name];
      const m = new nn.BatchNorm1d(3);
      load(m, c.state);
      const x = T(c.x).requiresGrad_();
      const out = m.forward(x);
      assertClose(out, c.out, 'output');
      backwardWith(out, c.R);
      assertGrad(x, c.inputGrads[0], 'input grad');
      assertParamGrads(m, c.paramGrads, 'BatchNorm1d');
      assertState(m, c.stateAfter, 'running statistics');
      m.dispose();
    }));
  }

  test('BatchNorm checks its input', () => {
    const m = new nn.BatchNorm2d(3);
    assert.throws(() => tidy(() => m.forward(randn([2, 3, 4]))), /BatchNorm2d: expected a 4-d input/);
    assert.throws(() => tidy(() => m.forward(randn([2, 4, 3, 3]))), /expected 3 channels/);
    m.dispose();
  });

  test('LayerNorm over two dims', () => tidy(() => {
    const c = fixture('nn_layernorm.json').layernorm;
    const m = new nn.LayerNorm([4, 5], { eps: 1e-4 });
    load(m, c.state);
    const x = T(c.x).requiresGrad_();
    const out = m.forward(x);
    assertClose(out, c.out, 'output');
    backwardWith(out, c.R);
    assertGrad(x, c.inputGrads[0], 'input grad');
    assertParamGrads(m, c.paramGrads, 'LayerNorm');
    m.dispose();
  }));

  test('Embedding with a padding index (no gradient for the padding row)', () => tidy(() => {
    const c = fixture('nn_embedding.json').embedding;
    const m = new nn.Embedding(10, 4, { paddingIdx: 2 });
    load(m, c.state);
    const out = m.forward(T(c.indices));
    assertClose(out, c.out, 'output');
    backwardWith(out, c.R);
    assertParamGrads(m, c.paramGrads, 'Embedding');
    const g = m.weight.grad!;
    assert.deepEqual(g.select(0, 2).dataNumbers(), [0, 0, 0, 0]);
    assert.throws(() => m.forward(tensor([0.5])), /indices must be integers/);
    m.dispose();
  }));

  test('pooling, flatten and activation modules', () => tidy(() => {
    const c = fixture('nn_misc.json');
    const x = T(c.x);
    const modules: Record<string, nn.Module> = {
      maxPool3s2p1: new nn.MaxPool2d(3, { stride: 2, padding: 1 }),
      maxPool2Ceil: new nn.MaxPool2d(2, { stride: 2, ceilMode: true }),
      avgPool2: new nn.AvgPool2d(2),
      avgPool3s2p1NoPad: new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }),
      adaptiveAvg2x3: new nn.AdaptiveAvgPool2d([2, 3]),
      flatten: new nn.Flatten(),
      relu: new nn.ReLU(), gelu: new nn.GELU(), geluTanh: new nn.GELU('tanh'), silu: new nn.SiLU(),
      sigmoid: new nn.Sigmoid(), tanh: new nn.Tanh(), softmax1: new nn.Softmax(1), leakyRelu02: new nn.LeakyReLU(0.2),
    };
    assert.deepEqual(Object.keys(modules).sort(), Object.keys(c.outputs).sort());
    for (const [name, m] of Object.entries(modules)) assertClose(m.forward(x), c.outputs[name], name);
  }));

  test('Dropout: identity in eval, zeroes and rescales in training', () => tidy(() => {
    const d = new nn.Dropout(0.25);
    const x = randn([2000]).abs().add(0.1);
    d.eval();
    assert.deepEqual(d.forward(x).dataNumbers(), x.dataNumbers());
    d.train();
    const y = d.forward(x).dataNumbers();
    const xs = x.dataNumbers();
    const zeros = y.filter((v) => v === 0).length;
    assert.ok(zeros > 400 && zeros < 600, `about a quarter dropped, got ${zeros} of 2000`);
    y.forEach((v, i) => { if (v !== 0) assert.ok(Math.abs(v - xs[i]! / 0.75) < 1e-5); });
  }));

  test('Identity returns a new handle on the same values', () => tidy(() => {
    const x = randn([3]);
    const y = new nn.Identity().forward(x);
    assert.notEqual(y, x);
    y.dispose();
    assert.equal(x.isDisposed, false);
  }));
});

describe('attention matches PyTorch', () => {
  const c = fixture('nn_attention.json');

  test('MultiheadAttention parameter names are PyTorch\'s', () => {
    const m = new nn.MultiheadAttention(8, 2);
    assert.deepEqual([...m.stateDict().keys()], Object.keys(c.state));
    assert.deepEqual(m.namedParameters().map(([n]) => n), ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    m.dispose();
  });

  test('self-attention with a key padding mask, and averaged weights', () => tidy(() => {
    const k = c.selfPadded;
    const m = new nn.MultiheadAttention(8, 2, { batchFirst: true });
    load(m, c.state);
    const x = T(k.x).requiresGrad_();
    const keyPaddingMask = T(k.keyPaddingMask);
    const out = m.forward(x, x, x, { keyPaddingMask });
    assertClose(out, k.out, 'output');
    backwardWith(out, k.R);
    assertGrad(x, k.inputGrads[0], 'input grad');
    // The key third of in_proj_bias has a true gradient of 0 (softmax ignores a shift shared by a row's
    // scores); float32 sums leave noise of about 1e-6 there that depends on the BLAS, hence atol 1e-5.
    assertParamGrads(m, k.paramGrads, 'MultiheadAttention', 1e-5, 1e-5);
    const { output, weights } = noGrad(() => m.attend(x, x, x, { keyPaddingMask }));
    assertClose(output, k.out, 'attend output');
    assertClose(weights, k.weights, 'weights');
    m.dispose();
  }));

  test('self-attention with a causal bool mask', () => tidy(() => {
    const k = c.selfCausal;
    const m = new nn.MultiheadAttention(8, 2);
    load(m, c.state);
    const x = T(k.x).requiresGrad_();
    const out = m.forward(x, x, x, { attnMask: T(k.attnMask) });
    assertClose(out, k.out, 'output');
    backwardWith(out, k.R);
    assertGrad(x, k.inputGrads[0], 'input grad');
    assertParamGrads(m, k.paramGrads, 'MultiheadAttention', 1e-5, 1e-5); // atol: as in the padded case above
    m.dispose();
  }));

  test('cross-attention with a float mask, and per-head weights', () => tidy(() => {
    const k = c.cross;
    const m = new nn.MultiheadAttention(8, 2);
    load(m, c.state);
    const [q, key, v] = [T(k.q).requiresGrad_(), T(k.k).requiresGrad_(), T(k.v).requiresGrad_()];
    const attnMask = T(k.attnMask);
    const out = m.forward(q, key, v, { attnMask });
    assertClose(out, k.out, 'output');
    backwardWith(out, k.R);
    assertGrad(q, k.inputGrads[0], 'query grad');
    assertGrad(key, k.inputGrads[1], 'key grad');
    assertGrad(v, k.inputGrads[2], 'value grad');
    assertParamGrads(m, k.paramGrads, 'MultiheadAttention');
    const { weights } = noGrad(() => m.attend(q, key, v, { attnMask, averageAttnWeights: false }));
    assertClose(weights, k.weights, 'per-head weights');
    m.dispose();
  }));

  test('batchFirst false takes [seq, batch, embed]', () => tidy(() => {
    const m = new nn.MultiheadAttention(8, 2, { batchFirst: false });
    load(m, c.state);
    const x = T(c.seqFirst.x);
    assertClose(m.forward(x), c.seqFirst.out, 'output');
    assert.throws(() => m.forward(randn([5, 2, 6])), /query must be \[seq, batch, 8\]/);
    m.dispose();
  }));

  for (const name of ['postNormRelu', 'preNormGelu']) {
    test(`TransformerEncoderLayer ${name}: PyTorch state dict loads, output and grads match`, () => tidy(() => {
      const k = fixture('nn_transformer.json')[name];
      const m = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, ...k.options });
      assert.deepEqual(m.namedModules().map(([n]) => n), k.moduleNames);
      assert.deepEqual(m.namedParameters().map(([n]) => n), k.parameterNames);
      load(m, k.state);
      m.train();
      const x = T(k.x).requiresGrad_();
      const out = k.keyPaddingMask
        ? m.forward(x, { keyPaddingMask: T(k.keyPaddingMask) })
        : m.forward(x, { mask: T(k.mask) });
      assertClose(out, k.out, 'output', 1e-5, 2e-6);
      backwardWith(out, k.R);
      assertGrad(x, k.inputGrads[0], 'input grad', 1e-4, 1e-5);
      assertParamGrads(m, k.paramGrads, 'TransformerEncoderLayer', 1e-4, 1e-5);
      m.dispose();
    }));
  }
});

describe('Sequential', () => {
  const c = fixture('nn_sequential.json');
  const make = (): nn.Sequential => new nn.Sequential(new nn.Conv2d(3, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(),
    new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(16, 5));

  test('children are named 0, 1, ... with PyTorch\'s state dict keys; forward and backward match', () => tidy(() => {
    const k = c.sequential;
    const m = make();
    assert.deepEqual([...m.stateDict().keys()], Object.keys(k.state));
    load(m, k.state);
    const x = T(k.x).requiresGrad_();
    const out = m.forward(x);
    assertClose(out, k.out, 'output');
    backwardWith(out, k.R);
    assertGrad(x, k.inputGrads[0], 'input grad');
    assertParamGrads(m, k.paramGrads, 'Sequential');
    assertState(m, k.stateAfter, 'state after the training forward');
    assert.equal(m.length, 6);
    assert.ok(m.at(-1) instanceof nn.Linear);
    m.dispose();
  }));

  test('named entries (object or pairs) keep their names, nested', () => {
    const head = new nn.Sequential(new nn.Flatten(), new nn.Linear(4, 2));
    const m = new nn.Sequential({ conv: new nn.Conv2d(3, 4, 3), bn: new nn.BatchNorm2d(4), act: new nn.ReLU(), head });
    assert.deepEqual([...m.stateDict().keys()], c.namedKeys);
    const pairs = new nn.Sequential([['a', new nn.Linear(2, 2)], ['b', new nn.ReLU()]]);
    assert.deepEqual([...pairs.stateDict().keys()], ['a.weight', 'a.bias']);
    assert.throws(() => new nn.Sequential({ 'a.b': new nn.ReLU() }), /without '\.'/);
    m.dispose();
    pairs.dispose();
  });
});

describe('default initialisation', () => {
  const c = fixture('nn_init.json');
  const exact = (m: nn.Module, s: EncState, what: string): void => assertState(m, s, what, 0, 0);

  test('layers built after the same seed hold exactly PyTorch\'s initial weights', () => {
    manualSeed(1);
    const layers: [nn.Module, EncState, string][] = [[new nn.Linear(5, 3), c.linear, 'Linear']];
    manualSeed(2);
    layers.push([new nn.Conv2d(3, 4, 3), c.conv, 'Conv2d']);
    layers.push([new nn.Conv2d(4, 6, [3, 1], { groups: 2, bias: false }), c.convGrouped, 'grouped Conv2d']);
    manualSeed(3);
    layers.push([new nn.Embedding(6, 4, { paddingIdx: 1 }), c.embedding, 'Embedding']);
    manualSeed(4);
    layers.push([new nn.MultiheadAttention(8, 2), c.mha, 'MultiheadAttention']);
    manualSeed(5);
    layers.push([new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 }), c.transformer, 'TransformerEncoderLayer']);
    for (const [m, s, what] of layers) {
      exact(m, s, what);
      m.dispose();
    }
  });

  test('init functions draw what torch.nn.init draws', () => tidy(() => {
    manualSeed(6);
    assertClose(nn.init.kaimingNormal_(empty([4, 6]), { mode: 'fan_out', nonlinearity: 'relu' }), c.kaimingNormalFanOutRelu, 'kaimingNormal_', 0, 0);
    assertClose(nn.init.kaimingUniform_(empty([3, 2, 2, 2]), { a: 0.2 }), c.kaimingUniformLeaky, 'kaimingUniform_', 0, 0);
    assertClose(nn.init.xavierUniform_(empty([5, 3]), nn.init.calculateGain('tanh')), c.xavierUniform, 'xavierUniform_', 0, 0);
    assertClose(nn.init.xavierNormal_(empty([5, 3]), 2.0), c.xavierNormal, 'xavierNormal_', 0, 0);
    assertClose(nn.init.truncNormal_(empty([50]), 0, 0.02, -0.03, 0.03), c.truncNormal, 'truncNormal_', 1e-6, 0);
    assertClose(nn.init.uniform_(empty([3, 4]), -0.5, 0.5, new Generator(11)), c.uniformWithGenerator, 'uniform_ with a Generator', 0, 0);
  }));

  test('Linear and Conv2d weights are U(±1/sqrt(fanIn)) with the matching spread', () => tidy(() => {
    for (const [m, fanIn] of [[new nn.Linear(256, 128), 256], [new nn.Conv2d(16, 32, 3), 144]] as const) {
      const bound = 1 / Math.sqrt(fanIn);
      const w = m.weight.dataNumbers();
      const b = m.bias!.dataNumbers();
      assert.ok(w.every((v) => Math.abs(v) <= bound) && b.every((v) => Math.abs(v) <= bound), 'inside the bound');
      const mean = w.reduce((a, v) => a + v, 0) / w.length;
      const std = Math.sqrt(w.reduce((a, v) => a + (v - mean) ** 2, 0) / w.length);
      assert.ok(Math.abs(mean) < 0.05 * bound, `mean ${mean}`);
      assert.ok(Math.abs(std / (bound / Math.sqrt(3)) - 1) < 0.05, `std ${std} vs ${bound / Math.sqrt(3)}`);
      assert.ok(Math.max(...w) > 0.95 * bound, 'fills the range');
      m.dispose();
    }
  }));

  test('fan computation and gains', () => tidy(() => {
    assert.deepEqual(nn.init.fanInAndFanOut(empty([8, 3, 5, 5])), { fanIn: 75, fanOut: 200 });
    assert.throws(() => nn.init.fanInAndFanOut(empty([4])), /at least 2 dims/);
    assert.equal(nn.init.calculateGain('relu'), Math.sqrt(2));
    assert.equal(nn.init.calculateGain('leaky_relu', 0.2), Math.sqrt(2 / 1.04));
    assert.equal(nn.init.calculateGain('tanh'), 5 / 3);
  }));
});

describe('Module', () => {
  class Net extends nn.Module {
    readonly backbone = this.registerModule('backbone', new nn.Sequential(
      new nn.Conv2d(3, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.AdaptiveAvgPool2d(1), new nn.Flatten()));
    readonly head = this.registerModule('head', new nn.Linear(4, 2));
    forward(x: Tensor): Tensor {
      return tidy(() => this.head.forward(this.backbone.forward(x)));
    }
  }

  test('names of modules, parameters and buffers, and apply order', () => {
    const m = new Net();
    assert.deepEqual(m.namedModules().map(([n]) => n), ['', 'backbone', 'backbone.0', 'backbone.1', 'backbone.2', 'backbone.3', 'backbone.4', 'head']);
    assert.deepEqual(m.namedParameters().map(([n]) => n), ['backbone.0.weight', 'backbone.0.bias', 'backbone.1.weight', 'backbone.1.bias', 'head.weight', 'head.bias']);
    assert.deepEqual(m.namedBuffers().map(([n]) => n), ['backbone.1.running_mean', 'backbone.1.running_var', 'backbone.1.num_batches_tracked']);
    assert.deepEqual(m.children(), [m.backbone, m.head]);
    const visited: string[] = [];
    m.apply((_, name) => visited.push(name));
    assert.deepEqual(visited, ['backbone.0', 'backbone.1', 'backbone.2', 'backbone.3', 'backbone.4', 'backbone', 'head', '']);
    assert.ok(m.parameters().every((p) => p.requiresGrad && p.isLeaf));
    assert.equal(m.numParameters(), 4 * 3 * 9 + 4 + 4 + 4 + 4 * 2 + 2);
    assert.throws(() => m.registerModule('head', new nn.ReLU()), /'head' is already registered/);
    m.dispose();
  });

  test('parameter counts match PyTorch\'s', () => {
    const k = fixture('nn_transformer.json').postNormRelu;
    const expected = (k.parameterNames as string[]).reduce((a, n) => a + k.state[n].data.length, 0);
    const m = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    assert.equal(m.numParameters(), expected);
    assert.equal(expected, 600);
    m.dispose();
    const conv = new nn.Conv2d(4, 6, 3, { groups: 2 });
    assert.equal(conv.numParameters(), 6 * 2 * 9 + 6);
    conv.dispose();
  });

  test('stateDict holds the live tensors; loadStateDict copies in place', () => tidy(() => {
    const m = new Net();
    const sd = m.stateDict();
    assert.equal(sd.get('head.weight'), m.head.weight);
    const other = new Net();
    const weight = other.head.weight;
    other.loadStateDict(m.stateDict());
    assert.equal(other.head.weight, weight, 'same tensor object');
    assert.deepEqual(weight.dataNumbers(), m.head.weight.dataNumbers());
    assert.ok(weight.requiresGrad && weight.isLeaf);
    // A plain object works too.
    other.loadStateDict(Object.fromEntries(new Net().stateDict()));
    m.dispose();
    other.dispose();
  }));

  test('loadStateDict reports missing keys, unexpected keys and shape mismatches', () => tidy(() => {
    const m = new Net();
    const full = (): Map<string, Tensor> => new Map([...new Net().stateDict()]);
    const missing = full();
    missing.delete('head.bias');
    assert.throws(() => m.loadStateDict(missing), /missing keys: head\.bias/);
    const extra = full();
    extra.set('neck.weight', randn([2]));
    assert.throws(() => m.loadStateDict(extra), /unexpected keys: neck\.weight/);
    const wrong = full();
    wrong.set('head.weight', randn([3, 4]));
    assert.throws(() => m.loadStateDict(wrong), /head\.weight: checkpoint has shape \[3, 4\], model has \[2, 4\]/);
    assert.throws(() => m.loadStateDict(wrong, { strict: false }), /shape mismatches/);

    const before = m.head.bias!.dataNumbers();
    const partial = full();
    partial.delete('head.bias');
    partial.set('neck.weight', randn([2]));
    const result = m.loadStateDict(partial, { strict: false });
    assert.deepEqual(result, { missingKeys: ['head.bias'], unexpectedKeys: ['neck.weight'] });
    assert.deepEqual(m.head.bias!.dataNumbers(), before);
    assert.deepEqual(m.head.weight.dataNumbers(), partial.get('head.weight')!.dataNumbers());
    m.dispose();
  }));

  test('freeze: frozen parameters get no grad and do not change; frozen BatchNorm keeps its statistics', () => tidy(() => {
    const m = new Net();
    m.forward(randn([2, 3, 5, 5])).sum().backward();
    m.freeze('backbone');
    assert.ok(m.backbone.parameters().every((p) => p.grad === null && !p.requiresGrad), 'freeze clears grads');
    m.train();
    assert.equal(m.training, true);
    assert.equal(m.head.training, true);
    assert.equal(m.backbone.training, false);
    assert.equal(m.backbone.at(1).training, false, 'frozen BatchNorm stays in eval mode under train()');
    assert.equal(m.numParameters({ trainableOnly: true }), 4 * 2 + 2);
    const before = paramsSnapshot(m);
    const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    for (let i = 0; i < 3; i++) {
      tidy(() => {
        opt.zeroGrad();
        m.forward(randn([4, 3, 5, 5]).mul(3).add(1)).square().mean().backward();
        for (const [name, p] of m.namedParameters()) {
          const g = p.grad;
          assert.equal(g === null, name.startsWith('backbone'), `${name} grad`);
        }
        opt.step();
      });
    }
    const after = paramsSnapshot(m);
    for (const [k, v] of before) {
      if (k.startsWith('backbone')) assert.deepEqual(after.get(k), v, `${k} unchanged`);
      else if (!k.endsWith('num_batches_tracked')) assert.notDeepEqual(after.get(k), v, `${k} trained`);
    }

    m.unfreeze();
    assert.equal(m.backbone.at(1).training, true, 'unfrozen BatchNorm follows train() again');
    assert.ok(m.parameters().every((p) => p.requiresGrad));
    noGrad(() => m.forward(randn([4, 3, 5, 5])));
    assert.notDeepEqual(m.stateDict().get('backbone.1.running_mean')!.dataNumbers(), before.get('backbone.1.running_mean'));
    m.dispose();
    opt.dispose();
  }));

  test('freeze everything, unfreeze a part; prefixes stop at name boundaries', () => {
    const m = new Net();
    m.freeze();
    assert.equal(m.training, false);
    assert.equal(m.numParameters({ trainableOnly: true }), 0);
    m.unfreeze('head');
    assert.equal(m.training, true, 'the root holds something trainable again');
    assert.equal(m.head.training, true);
    assert.equal(m.backbone.training, false);
    assert.deepEqual(m.parameters().filter((p) => p.requiresGrad), [m.head.weight, m.head.bias]);
    m.unfreeze();
    m.freeze(['backbone.0', 'head.bias']);
    assert.deepEqual(m.namedParameters().filter(([, p]) => !p.requiresGrad).map(([n]) => n), ['backbone.0.weight', 'backbone.0.bias', 'head.bias']);
    assert.equal(m.head.training, true, 'freezing a single parameter leaves its module trainable');
    assert.throws(() => m.freeze(['head', 'backbone.9']), /no parameter or module matches 'backbone\.9'/);
    assert.ok(m.head.weight.requiresGrad, 'a refused freeze changes nothing');
    m.dispose();

    const eleven = new nn.Sequential(...Array.from({ length: 11 }, () => new nn.Linear(1, 1)));
    eleven.freeze('1');
    assert.deepEqual(eleven.namedParameters().filter(([, p]) => !p.requiresGrad).map(([n]) => n), ['1.weight', '1.bias']);
    eleven.dispose();
  });

  test('eval and train switch the whole tree', () => {
    const m = new Net();
    m.eval();
    assert.ok(m.namedModules().every(([, s]) => !s.training));
    m.train();
    assert.ok(m.namedModules().every(([, s]) => s.training));
    m.dispose();
  });

  test('zeroGrad sets every grad to null', () => tidy(() => {
    const m = new Net();
    m.forward(randn([2, 3, 4, 4])).sum().backward();
    assert.ok(m.parameters().every((p) => { const g = p.grad; g?.dispose(); return g !== null; }));
    m.zeroGrad();
    assert.ok(m.parameters().every((p) => p.grad === null));
    m.dispose();
  }));

  test('to() replaces tensors and updates the fields that held them', () => tidy(() => {
    const m = new Net();
    const n = memory().numTensors;
    const oldWeight = m.head.weight;
    m.to('cpu');
    assert.equal(memory().numTensors, n, 'old handles freed');
    assert.equal(m.head.weight, m.stateDict().get('head.weight'));
    assert.ok(oldWeight.isDisposed || oldWeight === m.head.weight);
    assert.ok(m.head.weight.requiresGrad);
    m.forward(randn([1, 3, 4, 4]));
    assert.throws(() => m.to('float64'), /expected a device/);
    m.dispose();
  }));

  test('dispose frees every parameter and buffer', () => {
    const before = memory().numTensors;
    const m = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    const bn = new nn.BatchNorm2d(3);
    assert.ok(memory().numTensors > before);
    m.dispose();
    bn.dispose();
    assert.equal(memory().numTensors, before);
  });

  test('registered tensors leave the scope they were made in', () => {
    const m = tidy(() => new nn.Linear(3, 2));
    assert.equal(m.weight.isDisposed, false);
    m.dispose();
    assert.throws(() => new (class extends nn.Module {
      constructor() { super(); const p = randn([2], { requiresGrad: true }); this.registerParameter('w', p.mul(2)); }
      forward(x: Tensor): Tensor { return x; }
    })(), /pass a leaf/);
  });
});

describe('memory', () => {
  test('autograd keeps what it needs after intermediate handles are disposed', () => {
    const before = memory().numTensors;
    const w = tensor([1, -2, 3], { requiresGrad: true });
    const x = tensor([4, 5, 6]);
    const y = x.mul(w);
    const z = y.relu();
    y.dispose();
    const square = z.mul(z);
    const loss = square.sum();
    square.dispose();
    z.dispose();
    loss.backward();
    loss.dispose();
    const g = w.grad!;
    // d/dw sum(relu(x*w)^2) = 2 * relu(x*w) * x * [x*w > 0]
    assert.deepEqual(g.dataNumbers(), [32, 0, 216]);
    for (const t of [g, w, x]) t.dispose();
    assert.equal(memory().numTensors, before);
  });

  test('forward leaves only its output behind (grad mode and noGrad)', () => {
    const layers: [nn.Module, () => Tensor][] = [
      [new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 }), () => randn([2, 5, 8], { requiresGrad: true })],
      [new nn.MultiheadAttention(8, 2), () => randn([2, 5, 8], { requiresGrad: true })],
      [new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.Flatten(), new nn.Linear(16, 2)), () => randn([2, 3, 4, 4], { requiresGrad: true })],
      [new nn.Sequential(), () => randn([2], { requiresGrad: true })],
    ];
    for (const [m, input] of layers) {
      const x = input();
      for (const grad of [true, false]) {
        const before = memory().numTensors;
        const out = grad ? m.forward(x) : noGrad(() => m.forward(x));
        assert.equal(memory().numTensors, before + 1, `${m.constructor.name} leaves one tensor (grad ${grad})`);
        if (grad) tidy(() => out.sum().backward());
        out.dispose();
      }
      const before = memory().numTensors;
      m.zeroGrad();
      assert.ok(memory().numTensors <= before);
      x.dispose();
      m.dispose();
    }
  });
});

describe('recomputeBatchNormStats', () => {
  test('running statistics become the plain average over the batches; momentum, mode and frozen layers are kept', () => {
    manualSeed(5);
    const bn = new nn.BatchNorm2d(3);
    const frozen = new nn.BatchNorm2d(3);
    const model = new nn.Sequential(bn, frozen);
    model.freeze('1');
    noGrad(() => { bn.runningMean!.fill_(7); frozen.runningMean!.fill_(7); });
    const batches = [randn([4, 3, 2, 2]).mul(2).add(1), randn([4, 3, 2, 2]).mul(3).sub(1), randn([4, 3, 2, 2])];
    model.eval();
    const layers = nn.recomputeBatchNormStats(model, () => { for (const x of batches) tidy(() => model.forward(x)).dispose(); });
    assert.equal(layers, 1, 'the frozen layer is left alone');
    const want = tidy(() => batches.map((x) => x.mean([0, 2, 3])).reduce((a, b) => a.add(b)).div(batches.length)).dataNumbers();
    const wantVar = tidy(() => batches.map((x) => x.transpose(0, 1).reshape(3, -1).var(1)).reduce((a, b) => a.add(b)).div(batches.length)).dataNumbers();
    bn.runningMean!.dataNumbers().forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `mean ${i}: ${v} vs ${want[i]}`));
    bn.runningVar!.dataNumbers().forEach((v, i) => assert.ok(Math.abs(v - wantVar[i]!) < 1e-4, `var ${i}: ${v} vs ${wantVar[i]}`));
    assert.deepEqual(frozen.runningMean!.dataNumbers(), [7, 7, 7]);
    assert.equal(bn.momentum, 0.1);
    assert.equal(model.training, false);
  });
});
