// Autograd tests: gradients against central finite differences (float64) and against
// PyTorch's own gradients (test/fixtures/ops_*.json), plus the autograd API itself.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as S from '../src/index.js';
import { Tensor, F, tensor, ones, randn, tidy, noGrad, enableGrad, isGradEnabled, Generator, type DType } from '../src/index.js';

// ------------------------------------------------------------------ helpers

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found');
    dir = up;
  }
  return dir;
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol: number, atol: number): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}: element ${i} is ${a}, expected ${e}\n  actual   ${Array.from(actual).slice(0, 16).join(', ')}\n  expected ${Array.from(expected).slice(0, 16).join(', ')}`);
    }
  }
}

const isFloat = (t: Tensor): boolean => t.dtype === 'float32' || t.dtype === 'float64';

/**
 * Checks d(sum(f(xs) * cot))/dx for every x in `wrt` against central differences.
 * Inputs should be float64; f may return several tensors (non-floating ones are ignored).
 */
function gradcheck(f: (xs: Tensor[]) => Tensor[], inputs: Tensor[], wrt: boolean[], opts: { eps?: number; rtol?: number; atol?: number; seed?: number } = {}): void {
  const { eps = 1e-6, rtol = 1e-5, atol = 1e-6, seed = 0 } = opts;
  tidy(() => {
    const gen = new Generator(seed);
    const probe = noGrad(() => f(inputs));
    const cots = probe.map((o) => (isFloat(o) ? randn(o.shape, { dtype: 'float64', generator: gen }).to(o.dtype) : null));
    const objective = (xs: Tensor[]): Tensor => {
      const outs = f(xs);
      let total: Tensor | null = null;
      outs.forEach((o, i) => {
        const c = cots[i];
        if (!c) return;
        const term = o.mul(c).sum().to('float64');
        total = total ? total.add(term) : term;
      });
      assert.ok(total, 'the function has a floating output');
      return total;
    };
    // Analytic.
    const leaves = inputs.map((x, i) => (wrt[i] ? x.detach().requiresGrad_(true) : x));
    objective(leaves).backward();
    // Numeric, one element at a time.
    inputs.forEach((x, i) => {
      if (!wrt[i]) return;
      const base = Float64Array.from(x.dataNumbers());
      const numeric = new Float64Array(base.length);
      for (let j = 0; j < base.length; j++) {
        const at = (delta: number): number => tidy(() => {
          const moved = base.slice();
          moved[j]! += delta;
          const xs = inputs.slice();
          xs[i] = tensor(moved, { shape: x.shape }).to(x.dtype);
          return noGrad(() => objective(xs).item());
        });
        numeric[j] = (at(eps) - at(-eps)) / (2 * eps);
      }
      const g = leaves[i]!.grad;
      assert.ok(g, `input ${i} got no gradient`);
      close(g.dataNumbers(), numeric, `gradient of input ${i}`, rtol, atol);
    });
  });
}

// ------------------------------------------------------------------ fixtures (same format as tensor.test.ts reads)

interface Spec { shape: number[]; dtype: DType; data: (number | boolean)[] }
interface InputSpec extends Spec { requiresGrad: boolean }
interface Call { kind: 'method' | 'F' | 'fn'; name: string; args: unknown[] }
interface Case { name: string; call: Call; inputs: InputSpec[]; outputs: Spec[]; cot?: (Spec | null)[]; grads?: (Spec | null)[]; fd?: boolean }

const FIXTURES = join(repoRoot(), 'test', 'fixtures');
const fixtures = readdirSync(FIXTURES).filter((f) => /^ops_.*\.json$/.test(f)).sort()
  .map((f) => [f, JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as Case[]] as const);

function fromSpec(s: Spec, dtype: DType = s.dtype): Tensor {
  return tensor(s.data as number[], { dtype, shape: s.shape });
}

function resolve(a: unknown, xs: Tensor[]): unknown {
  if (Array.isArray(a)) return a.map((v) => resolve(v, xs));
  if (a !== null && typeof a === 'object') {
    if ('$t' in a) return xs[(a as { $t: number }).$t];
    return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, resolve(v, xs)]));
  }
  return a;
}

type AnyFn = (...args: unknown[]) => unknown;

function runCall(call: Call, xs: Tensor[]): Tensor[] {
  const args = resolve(call.args, xs) as unknown[];
  let result: unknown;
  if (call.kind === 'method') {
    const [self, ...rest] = args;
    result = (self as unknown as Record<string, AnyFn>)[call.name]!.apply(self, rest);
  } else {
    result = ((call.kind === 'F' ? F : S) as unknown as Record<string, AnyFn>)[call.name]!(...args);
  }
  if (result instanceof Tensor) return [result];
  if (Array.isArray(result)) return result as Tensor[];
  const r = result as { values: Tensor; indices: Tensor };
  return [r.values, r.indices];
}

const withGrads = fixtures.flatMap(([, cases]) => cases.filter((c) => c.grads));

describe('gradients against PyTorch (fixtures)', () => {
  test('many fixture ops carry gradients', () => {
    assert.ok(withGrads.length > 150, `only ${withGrads.length} cases with gradients`);
  });
  for (const [file, cases] of fixtures) {
    describe(file, () => {
      for (const c of cases) {
        if (!c.grads) continue;
        test(c.name, () => {
          tidy(() => {
            const xs = c.inputs.map((s) => {
              const t = fromSpec(s);
              return s.requiresGrad ? t.requiresGrad_(true) : t;
            });
            const outs = runCall(c.call, xs);
            let loss: Tensor | null = null;
            outs.forEach((o, i) => {
              const cot = c.cot![i];
              if (!cot) return;
              const term = o.mul(fromSpec(cot)).sum();
              loss = loss ? loss.add(term) : term;
            });
            assert.ok(loss);
            (loss as Tensor).backward();
            c.grads!.forEach((g, i) => {
              const got = xs[i]!.grad;
              if (g === null) {
                assert.ok(got === null || got.abs().sum().item() === 0, `input ${i} should get no gradient`);
                return;
              }
              assert.ok(got, `input ${i} has no gradient`);
              assert.deepEqual(got.shape, g.shape, `gradient ${i} shape`);
              close(got.dataNumbers(), g.data as number[], `gradient of input ${i}`, 1e-5, 1e-5);
            });
          });
        });
      }
    });
  }
});

describe('gradients against finite differences (float64)', () => {
  // Every fixture op again, in float64, checked against central differences.
  for (const [file, cases] of fixtures) {
    describe(file, () => {
      for (const c of cases) {
        if (!c.grads || c.fd === false) continue;
        test(c.name, () => {
          tidy(() => {
            const xs = c.inputs.map((s) => fromSpec(s, s.dtype === 'float32' ? 'float64' : s.dtype));
            gradcheck((ys) => runCall(c.call, ys), xs, c.inputs.map((s) => s.requiresGrad));
          });
        });
      }
    });
  }

  test('composite functions', () => {
    const g = new Generator(1);
    const x = (...shape: number[]): Tensor => randn(shape, { dtype: 'float64', generator: g });
    const cases: [string, (xs: Tensor[]) => Tensor, Tensor[]][] = [
      ['mlp', ([a, w1, w2]) => F.linear(F.gelu(F.linear(a!, w1!)), w2!).tanh(), [x(3, 4), x(5, 4), x(2, 5)]],
      ['attention', ([q, k, v]) => q!.matmul(k!.transpose(-2, -1)).div(2).softmax(-1).matmul(v!), [x(2, 3, 4), x(2, 5, 4), x(2, 5, 3)]],
      ['normalized similarity', ([a, b]) => F.normalize(a!).matmul(F.normalize(b!).T).logSoftmax(1), [x(3, 4), x(3, 4)]],
      ['conv block', ([a, w]) => F.layerNorm(F.avgPool2d(F.conv2d(a!, w!, null, { padding: 1 }).silu(), 2), [2, 2]), [x(1, 2, 4, 4), x(3, 2, 3, 3)]],
      ['cross entropy of a product', ([a, w]) => F.crossEntropy(a!.matmul(w!), tensor([0, 2, 1], { dtype: 'int64' }), { labelSmoothing: 0.1 }), [x(3, 4), x(4, 3)]],
      ['variance and broadcasting', ([a, b]) => a!.sub(b!).pow(2).var(0).add(a!.std(1).sum()), [x(4, 3), x(3)]],
      ['gather and scatter', ([a, b]) => a!.gather(1, tensor([[1, 0], [2, 2]], { dtype: 'int64' })).mul(b!).sum(1).exp(), [x(2, 3), x(2, 2)]],
    ];
    for (const [name, f, inputs] of cases) {
      gradcheck((xs) => [f(xs)], inputs, inputs.map(() => true));
      assert.ok(name);
    }
  });

  test('the gradcheck helper notices a wrong gradient', () => {
    // Detaching one factor makes the analytic gradient of x*x half the true one.
    const x = tensor([0.5, -1.5, 2], { dtype: 'float64' });
    assert.throws(() => gradcheck(([a]) => [a!.mul(a!.detach())], [x], [true]), /gradient of input 0/);
  });
});

// ------------------------------------------------------------------ the autograd API

describe('backward and grad', () => {
  test('backward of a non-scalar takes the gradient of its output', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(x);
    y.backward(tensor([1, 0.5, -2]));
    assert.deepEqual(x.grad!.toArray(), [2, 2, -12]);
  });

  test('a non-scalar without a gradient is an error', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    assert.throws(() => x.mul(2).backward(), /implicitly created only for scalar outputs/);
  });

  test('gradients accumulate over two backwards, also through a retained graph', () => {
    const x = tensor([1, -2], { requiresGrad: true });
    x.mul(3).sum().backward();
    x.mul(3).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [6, 6]);
    const w = tensor([2], { requiresGrad: true });
    const y = w.pow(2).sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    assert.deepEqual(w.grad!.toArray(), [8]);
    assert.throws(() => y.backward(), /backward through the graph a second time/);
  });

  test('setting grad to null clears it; setting a tensor replaces it', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    x.mul(2).sum().backward();
    assert.notEqual(x.grad, null);
    x.grad = null;
    assert.equal(x.grad, null);
    x.mul(5).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [5, 5], 'starts again from zero');
    x.grad = tensor([10, 20]);
    x.sum().backward();
    assert.deepEqual(x.grad!.toArray(), [11, 21], 'accumulates onto the assigned gradient');
  });

  test('the grad getter aliases the stored gradient', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    x.sum().backward();
    x.grad!.zero_();
    assert.deepEqual(x.grad!.toArray(), [0, 0]);
  });

  test('detach stops gradients', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const d = x.detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.mul(2).requiresGrad, false);
    x.mul(x.detach()).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [1, 2, 3], 'd(x*c)/dx = c, not 2x');
    d.add_(1); // shares storage with x
    assert.deepEqual(x.toArray(), [2, 3, 4]);
  });

  test('noGrad records no graph and restores grad mode, even when fn throws', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    assert.equal(isGradEnabled(), true);
    const r = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      return w.mul(3).add(1);
    });
    assert.equal(r.requiresGrad, false);
    assert.equal(r.isLeaf, true);
    assert.equal(isGradEnabled(), true);
    assert.throws(() => noGrad(() => { throw new Error('inside'); }), /inside/);
    assert.equal(isGradEnabled(), true);
    assert.throws(() => noGrad(() => w.matmul(tensor([[1, 2, 3]]))), /matmul/);
    assert.equal(isGradEnabled(), true);
    const inner = noGrad(() => enableGrad(() => w.mul(2)));
    assert.equal(inner.requiresGrad, true, 'enableGrad inside noGrad records again');
    assert.equal(isGradEnabled(), true);
    assert.throws(() => noGrad(async () => 1), /synchronous function/);
    assert.equal(isGradEnabled(), true);
    // Updates under noGrad do not count as graph operations on a leaf.
    noGrad(() => w.sub_(tensor([0.5, 0.5])));
    assert.deepEqual(w.toArray(), [0.5, 1.5]);
    assert.equal(w.isLeaf, true);
  });

  test('in-place on a leaf that requires grad is an error outside noGrad', () => {
    const w = tensor([1], { requiresGrad: true });
    assert.throws(() => w.add_(1), /leaf Variable that requires grad/);
  });

  test('retainGrad keeps the gradient of a non-leaf', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(3);
    assert.equal(y.isLeaf, false);
    y.retainGrad();
    const z = y.mul(y).sum();
    z.backward();
    assert.deepEqual(y.grad!.toArray(), [6, 12]);
    assert.deepEqual(x.grad!.toArray(), [18, 36]);
    const u = x.mul(2);
    u.sum().backward();
    assert.equal(u.grad, null, 'no retainGrad, no gradient');
  });

  test('disposing intermediate handles before backward keeps gradients right', () => {
    const x = tensor([0.5, -1, 2], { requiresGrad: true, dtype: 'float64' });
    const w = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true, dtype: 'float64' });
    const h = w.matmul(x); // [2]
    const a = h.tanh();
    const b = a.mul(a);
    const loss = b.sum();
    for (const t of [h, a, b]) t.dispose();
    loss.backward();
    const hv = [0.5 - 2 + 6, 2 - 5 + 12];
    const dh = hv.map((v) => 2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2));
    close(w.grad!.dataNumbers(), [dh[0]! * 0.5, dh[0]! * -1, dh[0]! * 2, dh[1]! * 0.5, dh[1]! * -1, dh[1]! * 2], 'dw', 1e-10, 1e-12);
    close(x.grad!.dataNumbers(), [dh[0]! + 4 * dh[1]!, 2 * dh[0]! + 5 * dh[1]!, 3 * dh[0]! + 6 * dh[1]!], 'dx', 1e-10, 1e-12);
  });

  test('createGraph gives a differentiable gradient (second derivative)', () => {
    const x = tensor([1, 2], { requiresGrad: true, dtype: 'float64' });
    x.pow(3).sum().backward(undefined, { createGraph: true });
    const g = x.grad!;
    assert.deepEqual(g.toArray(), [3, 12]);
    assert.equal(g.requiresGrad, true);
    x.grad = null;
    g.sum().backward();
    assert.deepEqual(x.grad!.toArray(), [6, 12], 'd/dx 3x^2 = 6x');
  });

  test('requiresGrad flags, leaves and dtypes', () => {
    const x = ones([2]);
    assert.equal(x.requiresGrad, false);
    assert.equal(x.requiresGrad_(), x);
    assert.equal(x.requiresGrad, true);
    x.requiresGrad = false;
    assert.equal(x.requiresGrad, false);
    assert.throws(() => tensor([1], { dtype: 'int64' }).requiresGrad_(), /floating point/);
    assert.throws(() => tensor([1]).sum().backward(), /does not require grad/);
  });

  test('turning requiresGrad off on a non-leaf is refused', () => {
    const y = tensor([1], { requiresGrad: true }).mul(2);
    assert.throws(() => { y.requiresGrad = false; }, /leaf/);
  });

  test('gradients flow through views, in-place ops on non-leaves and indexing', () => {
    const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
    const y = x.mul(1);
    y.select(0, 1).mul_(10); // in place on a view of a non-leaf
    y.T.sum().backward();
    assert.deepEqual(x.grad!.toArray(), [[1, 1], [10, 10]]);
    const z = tensor([1, 2, 3], { requiresGrad: true });
    z.index([tensor([0, 0, 2], { dtype: 'int64' })]).sum().backward();
    assert.deepEqual(z.grad!.toArray(), [2, 0, 1]);
  });
});
