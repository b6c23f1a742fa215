// Engine tests: making tensors, random streams, every op family, printing.
// Known values come from PyTorch through test/fixtures/ops_*.json (scripts/make_op_fixtures.py).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import * as S from '../src/index.js';
import {
  Tensor, F, tensor, zeros, ones, full, empty, eye, arange, linspace, rand, randn, randint, randperm,
  zerosLike, onesLike, fullLike, cat, stack, einsum, tidy, Generator, manualSeed, memory, noGrad,
  type DType,
} from '../src/index.js';

// ------------------------------------------------------------------ helpers

/** The repository root (this file runs from dist/test/ after tsc). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}
const ROOT = repoRoot();
const FIXTURES = join(ROOT, 'test', 'fixtures');

function close(actual: number[], expected: number[], what: string, rtol = 1e-5, atol = 1e-6): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) assert.fail(`${what}: element ${i} is ${a}, expected ${e}\n  actual   ${actual.slice(0, 24).join(', ')}\n  expected ${expected.slice(0, 24).join(', ')}`);
  }
}

/** Values, shape and dtype of `t` against plain expectations. */
function expectTensor(t: Tensor, expected: number[] | number, shape: number[], dtype?: DType, rtol = 1e-6): void {
  assert.deepEqual(t.shape, shape, 'shape');
  if (dtype) assert.equal(t.dtype, dtype, 'dtype');
  close(t.dataNumbers(), typeof expected === 'number' ? [expected] : expected, 'values', rtol, 1e-6);
}

// ------------------------------------------------------------------ fixtures (shared shape with autograd.test.ts)

interface Spec { shape: number[]; dtype: DType; data: (number | boolean)[] }
interface InputSpec extends Spec { requiresGrad: boolean }
interface Call { kind: 'method' | 'F' | 'fn'; name: string; args: unknown[] }
interface Case { name: string; call: Call; inputs: InputSpec[]; outputs: Spec[] }

function loadFixtures(): Map<string, Case[]> {
  const files = readdirSync(FIXTURES).filter((f) => /^ops_.*\.json$/.test(f)).sort();
  return new Map(files.map((f) => [f, JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as Case[]]));
}

function fromSpec(s: Spec, dtype: DType = s.dtype): Tensor {
  return tensor(s.data as number[], { dtype, shape: s.shape });
}

/** Replaces {"$t": i} with input i, recursively through arrays and option objects. */
function resolve(a: unknown, xs: Tensor[]): unknown {
  if (Array.isArray(a)) return a.map((v) => resolve(v, xs));
  if (a !== null && typeof a === 'object') {
    if ('$t' in a) return xs[(a as { $t: number }).$t];
    return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, resolve(v, xs)]));
  }
  return a;
}

type AnyFn = (...args: unknown[]) => unknown;

/** Runs a fixture's selfsup call and lists its tensor results. */
function runCall(call: Call, xs: Tensor[]): Tensor[] {
  const args = resolve(call.args, xs) as unknown[];
  let result: unknown;
  if (call.kind === 'method') {
    const [self, ...rest] = args;
    const fn = (self as unknown as Record<string, AnyFn>)[call.name];
    assert.equal(typeof fn, 'function', `Tensor has no method ${call.name}`);
    result = fn!.apply(self, rest);
  } else {
    const ns = (call.kind === 'F' ? F : S) as unknown as Record<string, AnyFn>;
    assert.equal(typeof ns[call.name], 'function', `${call.kind} has no function ${call.name}`);
    result = ns[call.name]!(...args);
  }
  if (result instanceof Tensor) return [result];
  if (Array.isArray(result)) return result as Tensor[];
  if (result !== null && typeof result === 'object' && 'values' in result) {
    const r = result as { values: Tensor; indices: Tensor };
    return [r.values, r.indices];
  }
  throw new Error(`${call.name} returned ${String(result)}, not tensors`);
}

function compareSpec(t: Tensor, e: Spec, what: string, rtol = 1e-5, atol = 1e-6): void {
  assert.deepEqual(t.shape, e.shape, `${what}: shape`);
  assert.equal(t.dtype, e.dtype, `${what}: dtype`);
  const expected = e.data.map(Number);
  if (e.dtype === 'float32' || e.dtype === 'float64') close(t.dataNumbers(), expected, what, rtol, atol);
  else assert.deepEqual(t.dataNumbers(), expected, `${what}: values`);
}

const fixtures = loadFixtures();

describe('PyTorch fixtures: forward values', () => {
  test('fixture files are present, small, and cover many ops', () => {
    const names = [...fixtures.keys()];
    for (const f of ['ops_elementwise.json', 'ops_reduce.json', 'ops_shape.json', 'ops_linalg.json', 'ops_nn.json', 'ops_loss.json']) {
      assert.ok(names.includes(f), `missing ${f}`);
    }
    const bytes = names.reduce((n, f) => n + statSync(join(FIXTURES, f)).size, 0);
    assert.ok(bytes < 300_000, `fixtures take ${bytes} bytes`);
    const cases = [...fixtures.values()].flat();
    assert.ok(cases.length > 200, `only ${cases.length} cases`);
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique');
  });

  const python = '/usr/bin/python3';
  const hasTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  test('scripts/make_op_fixtures.py regenerates exactly the committed fixtures', { skip: !hasTorch && 'no PyTorch at /usr/bin/python3', timeout: 60_000 }, () => {
    const r = spawnSync(python, [join(ROOT, 'scripts', 'make_op_fixtures.py'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  for (const [file, cases] of fixtures) {
    describe(file, () => {
      for (const c of cases) {
        test(c.name, () => {
          tidy(() => {
            const xs = c.inputs.map((s) => fromSpec(s));
            const outs = runCall(c.call, xs);
            assert.equal(outs.length, c.outputs.length, 'number of outputs');
            outs.forEach((o, i) => compareSpec(o, c.outputs[i]!, `output ${i}`));
          });
        });
      }
    });
  }
});

// ------------------------------------------------------------------ creation

describe('creating tensors', () => {
  test('from nested arrays, default float32 and inferred bool', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    assert.equal(a.dtype, 'float32');
    assert.deepEqual(a.shape, [2, 3]);
    assert.equal(a.ndim, 2);
    assert.equal(a.numel, 6);
    assert.equal(a.size(-1), 3);
    assert.deepEqual(a.toArray(), [[1, 2, 3], [4, 5, 6]]);
    assert.ok(a.data() instanceof Float32Array);
    const b = tensor([[true, false], [false, true]]);
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.toArray(), [[true, false], [false, true]]);
    assert.deepEqual(tensor([0.1]).dataNumbers(), [Math.fround(0.1)]);
  });

  test('from nested arrays with each dtype', () => {
    const cases: [DType, number[], (ArrayLike<unknown>)][] = [
      ['float32', [1.5, -2.25], new Float32Array([1.5, -2.25])],
      ['float64', [0.1, -1e300], new Float64Array([0.1, -1e300])],
      ['int64', [2 ** 40 + 1, -3], new BigInt64Array([2n ** 40n + 1n, -3n])],
      ['int32', [7, -2147483648], new Int32Array([7, -2147483648])],
      ['uint8', [0, 255], new Uint8Array([0, 255])],
      ['bool', [1, 0], new Uint8Array([1, 0])],
    ];
    for (const [dtype, values, expectedData] of cases) {
      const t = tensor([values], { dtype });
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.shape, [1, 2]);
      assert.deepEqual(Array.from(t.data() as ArrayLike<unknown>), Array.from(expectedData), dtype);
    }
    assert.deepEqual(tensor([[2 ** 40 + 1]], { dtype: 'int64' }).toArray(), [[2 ** 40 + 1]]);
    assert.throws(() => tensor([1.5], { dtype: 'int64' }), /1\.5 is not an integer/);
  });

  test('from typed arrays: dtype follows the array, shape option, subarray offsets', () => {
    const cases: [ArrayBufferView, DType][] = [
      [new Float32Array([1, 2, 3, 4]), 'float32'], [new Float64Array([1, 2, 3, 4]), 'float64'],
      [new BigInt64Array([1n, 2n, 3n, 4n]), 'int64'], [new Int32Array([1, 2, 3, 4]), 'int32'],
      [new Uint8Array([1, 2, 3, 4]), 'uint8'],
    ];
    for (const [arr, dtype] of cases) {
      const t = tensor(arr, { shape: [2, 2] });
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.toArray(), [[1, 2], [3, 4]]);
    }
    const src = new Float32Array([9, 1, 2, 3, 9]);
    const sub = tensor(src.subarray(1, 4));
    assert.deepEqual(sub.toArray(), [1, 2, 3]);
    src[1] = 100; // the tensor holds a copy
    assert.deepEqual(sub.toArray(), [1, 2, 3]);
    const out = sub.data();
    out[0] = 42; // and data() hands out a copy
    assert.deepEqual(sub.toArray(), [1, 2, 3]);
    const asBool = tensor(new Uint8Array([0, 1, 2]), { dtype: 'bool' });
    assert.deepEqual(asBool.toArray(), [false, true, true]);
    assert.equal(tensor(new Int32Array([1, 2]), { dtype: 'float64' }).dtype, 'float64');
    assert.throws(() => tensor(new Float32Array(5), { shape: [2, 2] }), /do not fill shape/);
  });

  test('from scalars: 0-d tensors', () => {
    const s = tensor(3.5);
    assert.deepEqual(s.shape, []);
    assert.equal(s.ndim, 0);
    assert.equal(s.item(), 3.5);
    assert.equal(s.toArray(), 3.5);
    assert.equal(tensor(7, { dtype: 'int64' }).item(), 7);
    assert.equal(tensor(7, { dtype: 'int32' }).dtype, 'int32');
    assert.equal(tensor(2, { dtype: 'float64' }).dtype, 'float64');
    assert.equal(tensor(true).dtype, 'bool');
    assert.equal(tensor(true).toArray(), true);
    assert.throws(() => tensor([1, 2]).item(), /2 elements/);
  });

  test('ragged nested arrays are rejected', () => {
    assert.throws(() => tensor([[1, 2], [3]]), TypeError);
    assert.throws(() => tensor([[1, 2], 3] as never), /ragged/);
    assert.throws(() => tensor([1, [2]] as never), /ragged/);
    assert.throws(() => tensor([[[1], [2]], [[3], [4, 5]]]), /ragged nested array at \[1\]\[1\]/);
    assert.throws(() => tensor(['a'] as never), TypeError);
    assert.throws(() => tensor([1, 2, 3], { shape: [2, 2] }), /do not fill shape/);
  });

  test('shape option reshapes nested data; empty arrays', () => {
    assert.deepEqual(tensor([1, 2, 3, 4], { shape: [2, 2] }).toArray(), [[1, 2], [3, 4]]);
    const e = tensor([]);
    assert.deepEqual(e.shape, [0]);
    assert.equal(e.numel, 0);
    assert.deepEqual(e.dataNumbers(), []);
  });

  test('float16 and bfloat16 read back as numbers; fromBytes takes raw bits', () => {
    const h = tensor([1, -2.5], { dtype: 'float16' });
    assert.equal(h.dtype, 'float16');
    assert.deepEqual(h.toArray(), [1, -2.5]);
    assert.deepEqual(Array.from(h.data() as Uint16Array), [0x3c00, 0xc100], 'data() gives the raw bits');
    assert.equal(h.toString(), 'tensor([ 1.0000, -2.5000], dtype=float16)');
    assert.equal(tensor(0.5, { dtype: 'bfloat16' }).item(), 0.5);
    const bits = new Uint8Array(new Uint16Array([0x3c00, 0x4000, 0xbc00]).buffer);
    const f = S.fromBytes(bits, 'float16', [3]);
    assert.deepEqual(f.toArray(), [1, 2, -1]);
    assert.deepEqual(S.fromBytes(new Uint8Array(new Float32Array([1.5, 2]).buffer), 'float32', [2, 1]).toArray(), [[1.5], [2]]);
    assert.throws(() => S.fromBytes(new Uint8Array(3), 'float32', [1]), /do not fill shape/);
  });

  test('requiresGrad option and conversions', () => {
    const t = tensor([1, 2], { requiresGrad: true });
    assert.equal(t.requiresGrad, true);
    assert.equal(t.isLeaf, true);
    const i = tensor([1.7, -1.7, 2.5]).long();
    assert.equal(i.dtype, 'int64');
    assert.deepEqual(i.toArray(), [1, -1, 2]);
    assert.equal(i.double().dtype, 'float64');
    assert.equal(i.float().isFloatingPoint(), true);
    assert.equal(i.isFloatingPoint(), false);
    assert.deepEqual(tensor([0, 3]).bool().toArray(), [false, true]);
    assert.equal(tensor([1]).int().dtype, 'int32');
    assert.equal(tensor([1]).to('float64').dtype, 'float64');
    assert.equal(tensor([1]).cpu().device, 'cpu');
  });
});

describe('factories', () => {
  test('zeros, ones, full, empty, eye and the *Like variants', () => {
    expectTensor(zeros([2, 3]), [0, 0, 0, 0, 0, 0], [2, 3], 'float32');
    expectTensor(ones([2], { dtype: 'int64' }), [1, 1], [2], 'int64');
    expectTensor(full([2, 2], 7.5), [7.5, 7.5, 7.5, 7.5], [2, 2], 'float32');
    expectTensor(full([3], -2, { dtype: 'int32' }), [-2, -2, -2], [3], 'int32');
    assert.deepEqual(full([2], true, { dtype: 'bool' }).toArray(), [true, true]);
    assert.deepEqual(empty([3, 0]).shape, [3, 0]);
    assert.deepEqual(eye(3).toArray(), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    assert.deepEqual(zeros([]).shape, []);
    const base = tensor([[1, 2]], { dtype: 'float64' });
    expectTensor(zerosLike(base), [0, 0], [1, 2], 'float64');
    expectTensor(onesLike(base), [1, 1], [1, 2], 'float64');
    expectTensor(fullLike(base, 4), [4, 4], [1, 2], 'float64');
    assert.equal(ones([2], { requiresGrad: true }).requiresGrad, true);
    assert.throws(() => zeros([2, -1]), /non-negative integers/);
    assert.throws(() => zeros([2.5]), TypeError);
  });

  test('arange and linspace', () => {
    expectTensor(arange(5), [0, 1, 2, 3, 4], [5], 'int64');
    expectTensor(arange(2, 8, 3), [2, 5], [2], 'int64');
    expectTensor(arange(5, 0, -2), [5, 3, 1], [3], 'int64');
    expectTensor(arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75], [4], 'float32');
    expectTensor(arange(1, 4, 1, { dtype: 'float64' }), [1, 2, 3], [3], 'float64');
    expectTensor(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1], [5], 'float32');
    expectTensor(linspace(-1, 1, 3, { dtype: 'float64' }), [-1, 0, 1], [3], 'float64');
  });

  test('rand, randn, randint: ranges, dtypes and rough statistics', () => {
    const u = rand([20000]);
    assert.equal(u.dtype, 'float32');
    const ud = u.dataNumbers();
    assert.ok(ud.every((v) => v >= 0 && v < 1));
    assert.ok(Math.abs(u.mean().item() - 0.5) < 0.02);
    const n = randn([20000], { dtype: 'float64' });
    assert.equal(n.dtype, 'float64');
    assert.ok(Math.abs(n.mean().item()) < 0.05);
    assert.ok(Math.abs(n.std().item() - 1) < 0.05);
    const r = randint(-3, 4, [5000]);
    assert.equal(r.dtype, 'int64');
    const rv = r.dataNumbers();
    assert.ok(rv.every((v) => Number.isInteger(v) && v >= -3 && v < 4));
    assert.equal(new Set(rv).size, 7, 'every value in [-3, 4) appears');
    assert.equal(randint(0, 2, [3], { dtype: 'int32' }).dtype, 'int32');
  });

  test('randperm is a permutation', () => {
    for (const n of [1, 7, 100]) {
      const p = randperm(n);
      assert.equal(p.dtype, 'int64');
      assert.deepEqual([...p.dataNumbers()].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
    }
    const g = new Generator(3);
    assert.deepEqual([...randperm(50, { generator: g }).dataNumbers()].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  });

  test('a seeded Generator repeats its numbers; different seeds differ', () => {
    const draw = (g: Generator): number[][] => [
      rand([8], { generator: g }).dataNumbers(), randn([20], { generator: g }).dataNumbers(),
      randint(0, 1000, [8], { generator: g }).dataNumbers(), randperm(20, { generator: g }).dataNumbers(),
      empty([6]).uniform_(-2, 2, g).dataNumbers(), empty([6]).normal_(3, 0.5, g).dataNumbers(),
    ];
    const a = draw(new Generator(42));
    const b = draw(new Generator(42));
    assert.deepEqual(a, b);
    const c = draw(new Generator(43));
    for (let i = 0; i < a.length; i++) assert.notDeepEqual(a[i], c[i], `draw ${i} differs with another seed`);
    // Re-seeding an existing generator restarts its stream.
    const g = new Generator(7);
    const first = randn([5], { generator: g }).dataNumbers();
    assert.notDeepEqual(randn([5], { generator: g }).dataNumbers(), first);
    g.manualSeed(7);
    assert.deepEqual(randn([5], { generator: g }).dataNumbers(), first);
    // A generator's stream is its own: global draws in between do not disturb it.
    const h1 = new Generator(9);
    const h2 = new Generator(9);
    rand([3], { generator: h1 });
    rand([100]);
    rand([3], { generator: h2 });
    assert.deepEqual(rand([4], { generator: h1 }).dataNumbers(), rand([4], { generator: h2 }).dataNumbers());
    assert.throws(() => new Generator(-1), /non-negative integer/);
    assert.throws(() => new Generator(1.5), /non-negative integer/);
  });

  test('multinomial and bernoulli follow their generator', () => {
    const weights = tensor([[0, 1, 3], [5, 0, 0]]);
    const m1 = weights.multinomial(4, true, new Generator(11)).dataNumbers();
    assert.deepEqual(weights.multinomial(4, true, new Generator(11)).dataNumbers(), m1);
    assert.ok(m1.slice(0, 4).every((i) => i === 1 || i === 2), 'zero-weight classes never drawn');
    assert.deepEqual(m1.slice(4), [0, 0, 0, 0]);
    assert.deepEqual([...tensor([1, 1, 1]).multinomial(3, false, new Generator(2)).dataNumbers()].sort(), [0, 1, 2], 'without replacement');
    const p = full([200], 0.3);
    const b1 = p.bernoulli(new Generator(4)).dataNumbers();
    assert.deepEqual(p.bernoulli(new Generator(4)).dataNumbers(), b1);
    assert.ok(b1.every((v) => v === 0 || v === 1));
    assert.deepEqual(tensor([0, 1]).bernoulli().toArray(), [0, 1]);
  });

  test('manualSeed makes the global stream repeat; different seeds differ', () => {
    const draw = (): number[][] => [rand([6]).dataNumbers(), randn([20]).dataNumbers(), randint(0, 100, [6]).dataNumbers(), randperm(10).dataNumbers()];
    manualSeed(123);
    const a = draw();
    manualSeed(123);
    assert.deepEqual(draw(), a);
    manualSeed(124);
    const c = draw();
    for (let i = 0; i < a.length; i++) assert.notDeepEqual(c[i], a[i]);
    assert.throws(() => manualSeed(-5), TypeError);
  });
});

// ------------------------------------------------------------------ shapes and views

describe('shape ops', () => {
  const a = (): Tensor => arange(24).reshape(2, 3, 4);

  test('reshape, view, permute, transpose, T, squeeze, unsqueeze, flatten', () => {
    assert.deepEqual(a().reshape([4, -1]).shape, [4, 6]);
    assert.deepEqual(a().view(6, 4).shape, [6, 4]);
    assert.deepEqual(a().permute(2, 0, 1).shape, [4, 2, 3]);
    assert.deepEqual(a().permute(2, 0, 1).select(0, 1).toArray(), [[1, 5, 9], [13, 17, 21]]);
    assert.deepEqual(a().transpose(0, 2).shape, [4, 3, 2]);
    assert.deepEqual(arange(6).reshape(2, 3).T.toArray(), [[0, 3], [1, 4], [2, 5]]);
    assert.deepEqual(zeros([1, 3, 1]).squeeze().shape, [3]);
    assert.deepEqual(zeros([1, 3, 1]).squeeze(0).shape, [3, 1]);
    assert.deepEqual(zeros([3]).unsqueeze(0).unsqueeze(-1).shape, [1, 3, 1]);
    assert.deepEqual(a().flatten().shape, [24]);
    assert.deepEqual(a().flatten(1).shape, [2, 12]);
    assert.deepEqual(a().flatten(0, 1).shape, [6, 4]);
  });

  test('views share memory with their base', () => {
    const base = zeros([2, 3]);
    base.view(6).add_(1);
    base.T.select(0, 1).mul_(5); // column 1
    assert.deepEqual(base.toArray(), [[1, 5, 1], [1, 5, 1]]);
    const x = arange(4, undefined, 1, { dtype: 'float32' });
    x.slice(0, 1, 3).fill_(-1);
    assert.deepEqual(x.toArray(), [0, -1, -1, 3]);
  });

  test('expand, expandAs, repeat', () => {
    const col = tensor([[1], [2]]);
    assert.deepEqual(col.expand(2, 3).toArray(), [[1, 1, 1], [2, 2, 2]]);
    assert.deepEqual(col.expand([-1, 2]).toArray(), [[1, 1], [2, 2]]);
    assert.deepEqual(col.expandAs(zeros([2, 2])).shape, [2, 2]);
    assert.deepEqual(tensor([1, 2]).repeat(2, 2).toArray(), [[1, 2, 1, 2], [1, 2, 1, 2]]);
  });

  test('cat and stack', () => {
    const x = tensor([[1, 2]]);
    const y = tensor([[3, 4], [5, 6]]);
    assert.deepEqual(cat([x, y]).toArray(), [[1, 2], [3, 4], [5, 6]]);
    assert.deepEqual(cat([y, y], 1).toArray(), [[3, 4, 3, 4], [5, 6, 5, 6]]);
    assert.deepEqual(stack([tensor([1, 2]), tensor([3, 4])]).toArray(), [[1, 2], [3, 4]]);
    assert.deepEqual(stack([tensor([1, 2]), tensor([3, 4])], 1).toArray(), [[1, 3], [2, 4]]);
  });

  test('split, chunk, unbind', () => {
    const t = arange(7);
    assert.deepEqual(t.split(3).map((p) => p.toArray()), [[0, 1, 2], [3, 4, 5], [6]]);
    assert.deepEqual(t.split([2, 5]).map((p) => p.toArray()), [[0, 1], [2, 3, 4, 5, 6]]);
    assert.deepEqual(t.chunk(2).map((p) => p.toArray()), [[0, 1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(arange(6).reshape(2, 3).chunk(3, 1).map((p) => p.shape), [[2, 1], [2, 1], [2, 1]]);
    assert.deepEqual(arange(6).reshape(2, 3).unbind(1).map((p) => p.toArray()), [[0, 3], [1, 4], [2, 5]]);
  });

  test('slice, narrow, select, indexSelect, index', () => {
    const m = arange(12).reshape(3, 4);
    assert.deepEqual(m.slice(1, 1, null, 2).toArray(), [[1, 3], [5, 7], [9, 11]]);
    assert.deepEqual(m.slice(0, -1).toArray(), [[8, 9, 10, 11]]);
    assert.deepEqual(m.slice(1, null, 2).toArray(), [[0, 1], [4, 5], [8, 9]]);
    assert.deepEqual(m.narrow(0, 1, 2).shape, [2, 4]);
    assert.deepEqual(m.select(1, -1).toArray(), [3, 7, 11]);
    assert.deepEqual(m.select(0, 0).toArray(), [0, 1, 2, 3]);
    assert.deepEqual(m.indexSelect(0, tensor([2, 0], { dtype: 'int64' })).toArray(), [[8, 9, 10, 11], [0, 1, 2, 3]]);
    assert.deepEqual(m.index([tensor([0, 2], { dtype: 'int64' }), tensor([3, 1], { dtype: 'int64' })]).toArray(), [3, 9]);
    assert.deepEqual(m.index([null, tensor([0], { dtype: 'int64' })]).toArray(), [[0], [4], [8]]);
  });

  test('gather, scatter, scatterAdd', () => {
    const m = tensor([[1, 2, 3], [4, 5, 6]]);
    const idx = tensor([[2, 0], [1, 1]], { dtype: 'int64' });
    assert.deepEqual(m.gather(1, idx).toArray(), [[3, 1], [5, 5]]);
    assert.deepEqual(zeros([2, 3]).scatter(1, tensor([[2], [0]], { dtype: 'int64' }), tensor([[7], [8]])).toArray(), [[0, 0, 7], [8, 0, 0]]);
    assert.deepEqual(zeros([2, 3]).scatter(1, tensor([[1], [2]], { dtype: 'int64' }), 4).toArray(), [[0, 4, 0], [0, 0, 4]]);
    assert.deepEqual(zeros([3]).scatterAdd(0, tensor([0, 0, 2], { dtype: 'int64' }), tensor([1, 2, 3])).toArray(), [3, 0, 3]);
  });

  test('maskedFill, maskedSelect, where', () => {
    const m = tensor([[1, -2], [-3, 4]]);
    const neg = m.lt(0);
    assert.equal(neg.dtype, 'bool');
    assert.deepEqual(m.maskedFill(neg, 0).toArray(), [[1, 0], [0, 4]]);
    assert.deepEqual(m.maskedFill(neg, tensor(9)).toArray(), [[1, 9], [9, 4]]);
    assert.deepEqual(m.maskedSelect(neg).toArray(), [-2, -3]);
    assert.deepEqual(S.where(neg, m.neg(), m).toArray(), [[1, 2], [3, 4]]);
    assert.deepEqual(m.where(neg, 100).toArray(), [[100, -2], [-3, 100]]);
    // Broadcast condition.
    assert.deepEqual(m.where(tensor([true, false]), zeros([2, 2])).toArray(), [[1, 0], [-3, 0]]);
  });

  test('rot90 on an image batch [N, C, H, W] with dims [2, 3], every k', () => {
    const img = arange(1, 13, 1, { dtype: 'float32' }).reshape(1, 2, 2, 3); // two channels of [[1,2,3],[4,5,6]] and [[7,8,9],[10,11,12]]
    const identity = [[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]];
    const quarter = [[[[3, 6], [2, 5], [1, 4]], [[9, 12], [8, 11], [7, 10]]]]; // counter-clockwise
    const half = [[[[6, 5, 4], [3, 2, 1]], [[12, 11, 10], [9, 8, 7]]]];
    const threeQuarter = [[[[4, 1], [5, 2], [6, 3]], [[10, 7], [11, 8], [12, 9]]]];
    const expected: Record<number, unknown> = { [-4]: identity, [-3]: quarter, [-2]: half, [-1]: threeQuarter, 0: identity, 1: quarter, 2: half, 3: threeQuarter, 4: identity, 5: quarter };
    for (const [k, want] of Object.entries(expected)) {
      const r = img.rot90(Number(k), [2, 3]);
      assert.deepEqual(r.toArray(), want, `k=${k}`);
    }
    assert.deepEqual(img.rot90(1, [2, 3]).shape, [1, 2, 3, 2]);
    assert.deepEqual(img.rot90(1, [3, 2]).toArray(), threeQuarter, 'swapped dims rotate the other way');
    assert.deepEqual(img.rot90(2, [2, 3]).toArray(), img.flip([2, 3]).toArray(), 'k=2 is a flip of both axes');
    assert.deepEqual(tensor([[1, 2], [3, 4]]).rot90().toArray(), [[2, 4], [1, 3]], 'default k=1, dims [0, 1]');
  });

  test('flip, roll, oneHot', () => {
    const m = tensor([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(m.flip(0).toArray(), [[4, 5, 6], [1, 2, 3]]);
    assert.deepEqual(m.flip(1).toArray(), [[3, 2, 1], [6, 5, 4]]);
    assert.deepEqual(m.flip([0, 1]).toArray(), [[6, 5, 4], [3, 2, 1]]);
    assert.deepEqual(m.flip(-1).toArray(), [[3, 2, 1], [6, 5, 4]]);
    assert.deepEqual(m.roll(1, 1).toArray(), [[3, 1, 2], [6, 4, 5]]);
    assert.deepEqual(tensor([2, 0], { dtype: 'int64' }).oneHot(3).toArray(), [[0, 0, 1], [1, 0, 0]]);
  });
});

// ------------------------------------------------------------------ math

describe('math and comparisons', () => {
  test('broadcasting arithmetic', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    const row = tensor([10, 20, 30]);
    const col = tensor([[1], [2]]);
    assert.deepEqual(a.add(row).toArray(), [[11, 22, 33], [14, 25, 36]]);
    assert.deepEqual(a.sub(col).toArray(), [[0, 1, 2], [2, 3, 4]]);
    assert.deepEqual(a.mul(col).toArray(), [[1, 2, 3], [8, 10, 12]]);
    expectTensor(a.div(row).mul(10), [1, 1, 1, 4, 2.5, 2], [2, 3], 'float32', 1e-6);
    assert.deepEqual(col.add(row).shape, [2, 3]);
    assert.deepEqual(a.add(row, 2).toArray(), [[21, 42, 63], [24, 45, 66]], 'alpha scales other');
    assert.deepEqual(a.pow(2).toArray(), [[1, 4, 9], [16, 25, 36]]);
    assert.deepEqual(tensor([-7, 7]).remainder(3).toArray(), [2, 1], 'Python-style remainder');
    assert.deepEqual(a.maximum(tensor([3])).toArray(), [[3, 3, 3], [4, 5, 6]]);
    assert.deepEqual(tensor([-1.5, 0.5, 2.5]).clamp(-1, 1).toArray(), [-1, 0.5, 1]);
    assert.deepEqual(tensor([-1.5, 0.5]).abs().neg().toArray(), [-1.5, -0.5]);
  });

  test('integer dtypes are kept for integer scalars and promoted for fractions', () => {
    const i = tensor([1, 2, 3], { dtype: 'int64' });
    assert.equal(i.add(1).dtype, 'int64');
    assert.equal(i.mul(2).dtype, 'int64');
    assert.equal(i.mul(0.5).dtype, 'float32');
    assert.deepEqual(i.mul(0.5).toArray(), [0.5, 1, 1.5]);
    assert.equal(i.div(2).dtype, 'float32', 'true division');
    assert.equal(tensor([1], { dtype: 'int32' }).add(tensor([1], { dtype: 'int64' })).dtype, 'int64');
    assert.equal(tensor([1]).add(tensor([1], { dtype: 'float64' })).dtype, 'float64');
  });

  test('comparisons return bool tensors and broadcast', () => {
    const a = tensor([[1, 2], [3, 4]]);
    assert.deepEqual(a.gt(2).toArray(), [[false, false], [true, true]]);
    assert.deepEqual(a.eq(tensor([1, 4])).toArray(), [[true, false], [false, true]]);
    assert.deepEqual(a.le(tensor([[2], [3]])).toArray(), [[true, true], [true, false]]);
    assert.deepEqual(a.ne(2).logicalNot().toArray(), [[false, true], [false, false]]);
    assert.deepEqual(a.ge(2).logicalAnd(a.lt(4)).toArray(), [[false, true], [true, false]]);
    assert.deepEqual(tensor([NaN, 1, Infinity]).isnan().toArray(), [true, false, false]);
    assert.deepEqual(tensor([NaN, 1, Infinity]).isfinite().toArray(), [false, true, false]);
    assert.equal(a.allclose(a.add(1e-7)), true);
    assert.equal(a.allclose(a.add(1e-2)), false);
    assert.equal(a.equal(a.clone()), true);
    assert.equal(a.gt(0).all().item(), 1);
    assert.equal(a.gt(3).any().item(), 1);
  });

  test('reductions with dims and keepdim', () => {
    const a = tensor([[1, 5, 3], [4, 2, 6]]);
    expectTensor(a.sum(), 21, []);
    expectTensor(a.sum(0), [5, 7, 9], [3]);
    expectTensor(a.sum(1, true), [9, 12], [2, 1]);
    expectTensor(a.sum([0, 1], true), 21, [1, 1]);
    expectTensor(a.mean(-1), [3, 4], [2]);
    expectTensor(a.mean(0, true), [2.5, 3.5, 4.5], [1, 3]);
    expectTensor(a.max(), 6, []);
    const mx = a.max(1);
    expectTensor(mx.values, [5, 6], [2]);
    expectTensor(mx.indices, [1, 2], [2], 'int64');
    const mn = a.min(0, true);
    expectTensor(mn.values, [1, 2, 3], [1, 3]);
    expectTensor(mn.indices, [0, 1, 0], [1, 3], 'int64');
    expectTensor(a.argmax(), 5, [], 'int64');
    expectTensor(a.argmax(1, true), [1, 2], [2, 1], 'int64');
    expectTensor(a.argmin(0), [0, 1, 0], [3], 'int64');
    expectTensor(a.prod(1), [15, 48], [2]);
    expectTensor(a.std(1), [2, 2], [2]);
    expectTensor(a.std(1, { unbiased: false }), [Math.sqrt(8 / 3), Math.sqrt(8 / 3)], [2], undefined, 1e-5);
    expectTensor(a.var(0, { keepdim: true }), [4.5, 4.5, 4.5], [1, 3]);
    expectTensor(a.var(), 3.5, []);
    expectTensor(tensor([3, 4]).norm(), 5, []);
    expectTensor(a.norm(1, 1), [9, 12], [2]);
    expectTensor(a.norm(2, 0, true), [Math.sqrt(17), Math.sqrt(29), Math.sqrt(45)], [1, 3], undefined, 1e-5);
    expectTensor(a.cumsum(1), [1, 6, 9, 4, 6, 12], [2, 3]);
    expectTensor(tensor([[0, 0]]).logsumexp(1), Math.log(2), [1], undefined, 1e-5);
  });

  test('matmul, mm, bmm, outer, einsum', () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([[5, 6], [7, 8]]);
    assert.deepEqual(a.matmul(b).toArray(), [[19, 22], [43, 50]]);
    assert.deepEqual(a.mm(b).toArray(), [[19, 22], [43, 50]]);
    assert.deepEqual(a.matmul(tensor([1, 1])).toArray(), [3, 7]);
    assert.deepEqual(stack([a, b]).bmm(stack([b, a])).toArray(), [[[19, 22], [43, 50]], [[23, 34], [31, 46]]]);
    assert.deepEqual(tensor([1, 2]).outer(tensor([3, 4, 5])).toArray(), [[3, 4, 5], [6, 8, 10]]);
    assert.deepEqual(einsum('ij,jk->ik', a, b).toArray(), [[19, 22], [43, 50]]);
    assert.deepEqual(einsum('ii->', a).toArray(), 5);
    assert.deepEqual(einsum('ij->j', a).toArray(), [4, 6]);
    assert.deepEqual(zeros([5, 2, 3]).matmul(zeros([3, 4])).shape, [5, 2, 4]);
  });

  test('topk and sort', () => {
    const t = tensor([3, 1, 4, 1.5, 9, 2.5]);
    const top = t.topk(2);
    assert.deepEqual(top.values.toArray(), [9, 4]);
    assert.deepEqual(top.indices.toArray(), [4, 2]);
    const low = t.topk(2, 0, false);
    assert.deepEqual(low.values.toArray(), [1, 1.5]);
    const s = t.sort();
    assert.deepEqual(s.values.toArray(), [1, 1.5, 2.5, 3, 4, 9]);
    assert.deepEqual(s.indices.toArray(), [1, 3, 5, 0, 2, 4]);
    assert.deepEqual(t.sort(0, true).values.toArray(), [9, 4, 3, 2.5, 1.5, 1]);
    assert.deepEqual(tensor([2, 1, 2, 1]).sort().indices.toArray(), [1, 3, 0, 2], 'stable');
    assert.deepEqual(t.argsort().toArray(), [1, 3, 5, 0, 2, 4]);
    assert.deepEqual(tensor([[3, 1], [2, 5]]).sort(0).values.toArray(), [[2, 1], [3, 5]]);
  });

  test('in-place ops change the tensor and return it', () => {
    const t = tensor([1, 2, 3]);
    const other = tensor([1, 1, 1]);
    assert.equal(t.add_(other), t);
    assert.deepEqual(t.toArray(), [2, 3, 4]);
    t.add_(other, 2);
    assert.deepEqual(t.toArray(), [4, 5, 6]);
    t.sub_(1).mul_(2).div_(tensor([2, 4, 5]));
    assert.deepEqual(t.toArray(), [3, 2, 2]);
    t.sub_(other, 3);
    assert.deepEqual(t.toArray(), [0, -1, -1]);
    t.addcmul_(tensor([1, 2, 3]), tensor([2, 2, 2]), 0.5);
    assert.deepEqual(t.toArray(), [1, 1, 2]);
    t.addcdiv_(tensor([4, 4, 4]), tensor([2, 4, 8]), 2);
    assert.deepEqual(t.toArray(), [5, 3, 3]);
    t.lerp_(tensor([7, 9, 15]), 0.5);
    assert.deepEqual(t.toArray(), [6, 6, 9]);
    t.clamp_(6.5, 9);
    assert.deepEqual(t.toArray(), [6.5, 6.5, 9]);
    t.copy_(tensor([4, 9, 16])).sqrt_();
    assert.deepEqual(t.toArray(), [2, 3, 4]);
    t.maskedFill_(t.gt(2), -1);
    assert.deepEqual(t.toArray(), [2, -1, -1]);
    t.fill_(8);
    assert.deepEqual(t.toArray(), [8, 8, 8]);
    t.zero_();
    assert.deepEqual(t.toArray(), [0, 0, 0]);
    const z = zeros([2, 3]);
    z.copy_(tensor([1, 2, 3]));
    assert.deepEqual(z.toArray(), [[1, 2, 3], [1, 2, 3]], 'copy_ broadcasts');
  });

  test('in-place ops create no handles of their own', () => {
    const t = tensor([1, 2, 3]);
    const o = tensor([1, 1, 1]);
    const before = memory().numTensors;
    t.add_(o).mul_(2).sub_(o).div_(2).addcmul_(o, o).addcdiv_(o, o).lerp_(o, 0.5).copy_(o).zero_().fill_(1).clamp_(0, 1).sqrt_();
    t.uniform_().normal_();
    assert.equal(memory().numTensors, before);
    t.dispose();
    o.dispose();
  });
});

// ------------------------------------------------------------------ neural-network ops

describe('neural-network ops', () => {
  test('conv1d and conv2d output shapes and a hand-computed value', () => {
    const x = ones([1, 1, 4, 4]);
    const w = tensor([[[[1, 0], [0, -1]]]]);
    expectTensor(F.conv2d(x, w), new Array(9).fill(0), [1, 1, 3, 3]);
    const ramp = arange(16, undefined, 1, { dtype: 'float32' }).reshape(1, 1, 4, 4);
    expectTensor(F.conv2d(ramp, w, tensor([0.5])), new Array(9).fill(-4.5), [1, 1, 3, 3]);
    assert.deepEqual(F.conv2d(zeros([2, 3, 8, 8]), zeros([5, 3, 3, 3]), null, { stride: 2, padding: 1 }).shape, [2, 5, 4, 4]);
    expectTensor(F.conv1d(tensor([[[1, 2, 3, 4]]]), tensor([[[1, 1]]])), [3, 5, 7], [1, 1, 3]);
    assert.deepEqual(F.conv1d(zeros([2, 4, 10]), zeros([6, 2, 3]), zeros([6]), { groups: 2, padding: 1 }).shape, [2, 6, 10]);
  });

  test('pooling', () => {
    const x = arange(16, undefined, 1, { dtype: 'float32' }).reshape(1, 1, 4, 4);
    expectTensor(F.maxPool2d(x, 2), [5, 7, 13, 15], [1, 1, 2, 2]);
    expectTensor(F.avgPool2d(x, 2), [2.5, 4.5, 10.5, 12.5], [1, 1, 2, 2]);
    expectTensor(F.adaptiveAvgPool2d(x, 1), 7.5, [1, 1, 1, 1]);
    expectTensor(F.adaptiveMaxPool2d(x, [1, 2]), [13, 15], [1, 1, 1, 2]);
    expectTensor(F.maxPool1d(tensor([[[1, 3, 2, 5]]]), 2), [3, 5], [1, 1, 2]);
    expectTensor(F.avgPool1d(tensor([[[1, 3, 2, 6]]]), 2), [2, 4], [1, 1, 2]);
  });

  test('batch norm: normalises per channel and updates running stats in training', () => {
    const x = tensor([[1, 10], [3, 20], [5, 60]]);
    const runningMean = zeros([2]);
    const runningVar = ones([2]);
    const y = F.batchNorm(x, { runningMean, runningVar, training: true, momentum: 0.1, eps: 0 });
    const cols = [[1, 3, 5], [10, 20, 60]];
    const expected: number[][] = [];
    cols.forEach((c, j) => {
      const m = (c[0]! + c[1]! + c[2]!) / 3;
      const v = c.reduce((s, u) => s + (u - m) ** 2, 0) / 3;
      expected[j] = c.map((u) => (u - m) / Math.sqrt(v));
    });
    close(y.dataNumbers(), [0, 1, 2].flatMap((i) => [expected[0]![i]!, expected[1]![i]!]), 'normalised', 1e-5);
    close(runningMean.dataNumbers(), [0.1 * 3, 0.1 * 30], 'running mean (momentum 0.1)', 1e-6);
    close(runningVar.dataNumbers(), [0.9 + 0.1 * 4, 0.9 + 0.1 * 700], 'running var (unbiased)', 1e-5);
    // Evaluation uses the running stats and leaves them alone.
    const z = F.batchNorm(tensor([[0.3, 3]]), { runningMean, runningVar, training: false, eps: 0 });
    close(z.dataNumbers(), [0, 0], 'eval output', 1e-6, 1e-6);
    close(runningMean.dataNumbers(), [0.3, 3], 'unchanged in eval', 1e-6);
  });

  test('layer norm normalises the last dims', () => {
    const y = F.layerNorm(tensor([[1, 2, 3], [2, 4, 6]]), [3], null, null, 0);
    const s = Math.sqrt(1.5);
    close(y.dataNumbers(), [-s, 0, s, -s, 0, s], 'layerNorm', 1e-5);
    const w = F.layerNorm(tensor([[1, 2, 3]]), [3], tensor([1, 2, 3]), tensor([0, 1, 0]), 0);
    close(w.dataNumbers(), [-s, 1, 3 * s], 'affine', 1e-5);
  });

  test('dropout: identity in eval, random zeros and 1/(1-p) scaling in training', () => {
    const x = ones([4000]);
    assert.deepEqual(F.dropout(x, 0.5, false).dataNumbers(), x.dataNumbers());
    manualSeed(5);
    const y = F.dropout(x, 0.5, true).dataNumbers();
    assert.ok(y.every((v) => v === 0 || v === 2), 'survivors are scaled by 1/(1-p)');
    const zerosFrac = y.filter((v) => v === 0).length / y.length;
    assert.ok(zerosFrac > 0.45 && zerosFrac < 0.55, `dropped fraction ${zerosFrac}`);
    manualSeed(5);
    assert.deepEqual(F.dropout(x, 0.5, true).dataNumbers(), y, 'seeded masks repeat');
    const q = F.dropout(x, 0.25, true).dataNumbers();
    assert.ok(q.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
    assert.ok(F.dropout(x, 1, true).dataNumbers().every((v) => v === 0));
    assert.deepEqual(F.dropout(x, 0, true).dataNumbers(), x.dataNumbers());
    assert.throws(() => F.dropout(x, 1.5, true), RangeError);
  });

  test('embedding looks rows up', () => {
    const w = tensor([[0, 0], [1, 1], [2, 4]]);
    assert.deepEqual(F.embedding(tensor([[2, 0], [1, 1]], { dtype: 'int64' }), w).toArray(), [[[2, 4], [0, 0]], [[1, 1], [1, 1]]]);
  });

  test('activations', () => {
    const x = tensor([-2, 0, 3]);
    assert.deepEqual(F.relu(x).toArray(), [0, 0, 3]);
    close(F.leakyRelu(x, 0.1).dataNumbers(), [-0.2, 0, 3], 'leakyRelu');
    close(F.sigmoid(x).dataNumbers(), [1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-3))], 'sigmoid');
    close(F.tanh(x).dataNumbers(), [Math.tanh(-2), 0, Math.tanh(3)], 'tanh');
    close(F.silu(x).dataNumbers(), [-2 / (1 + Math.exp(2)), 0, 3 / (1 + Math.exp(-3))], 'silu');
    close(F.gelu(tensor([0, 1])).dataNumbers(), [0, 0.8413447], 'gelu');
    const sm = F.softmax(tensor([[1, 2, 3]]), 1).dataNumbers();
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    close(sm, [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z], 'softmax');
    close(F.logSoftmax(tensor([[1, 2, 3]]), 1).dataNumbers(), [1 - Math.log(z), 2 - Math.log(z), 3 - Math.log(z)], 'logSoftmax');
    close(F.normalize(tensor([[3, 4]])).dataNumbers(), [0.6, 0.8], 'normalize');
  });

  test('losses against hand computation', () => {
    const logits = tensor([[1, 2, 3]]);
    const target = tensor([0], { dtype: 'int64' });
    const logZ = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const nll = [logZ - 1, logZ - 2, logZ - 3];
    close(F.crossEntropy(logits, target).dataNumbers(), [nll[0]!], 'crossEntropy', 1e-5);
    const eps = 0.3;
    const smoothed = (1 - eps) * nll[0]! + (eps / 3) * (nll[0]! + nll[1]! + nll[2]!);
    close(F.crossEntropy(logits, target, { labelSmoothing: eps }).dataNumbers(), [smoothed], 'labelSmoothing', 1e-5);
    const two = tensor([[1, 2, 3], [0, 0, 0]]);
    const t2 = tensor([2, 1], { dtype: 'int64' });
    close(F.crossEntropy(two, t2, { reduction: 'none' }).dataNumbers(), [logZ - 3, Math.log(3)], 'none', 1e-5);
    close(F.crossEntropy(two, t2, { reduction: 'sum' }).dataNumbers(), [logZ - 3 + Math.log(3)], 'sum', 1e-5);
    close(F.nllLoss(tensor([[-1, -2], [-3, -4]]), tensor([1, 0], { dtype: 'int64' })).dataNumbers(), [2.5], 'nll');
    close(F.mseLoss(tensor([1, 2, 3]), tensor([1, 0, 0])).dataNumbers(), [13 / 3], 'mse', 1e-5);
    close(F.mseLoss(tensor([1, 2, 3]), tensor([1, 0, 0]), { reduction: 'sum' }).dataNumbers(), [13], 'mse sum');
    const bce = (z: number, y: number): number => -(y * Math.log(1 / (1 + Math.exp(-z))) + (1 - y) * Math.log(1 - 1 / (1 + Math.exp(-z))));
    close(F.binaryCrossEntropyWithLogits(tensor([0.5, -1]), tensor([1, 0])).dataNumbers(), [(bce(0.5, 1) + bce(-1, 0)) / 2], 'bce', 1e-5);
    close(F.cosineSimilarity(tensor([[1, 0], [1, 1]]), tensor([[0, 1], [2, 2]])).dataNumbers(), [0, 1], 'cosine', 1e-6, 1e-6);
    assert.throws(() => F.mseLoss(tensor([1]), tensor([1]), { reduction: 'avg' as never }), /reduction must be/);
  });
});

// ------------------------------------------------------------------ printing

describe('toString', () => {
  test('small tensors print like PyTorch', () => {
    assert.equal(tensor([1, 2.5, -3]).toString(), 'tensor([ 1.0000,  2.5000, -3.0000])');
    assert.equal(tensor([[1, 2], [3, 4]], { dtype: 'int64' }).toString(), 'tensor([[1, 2],\n        [3, 4]])');
    assert.equal(arange(8).reshape(2, 2, 2).toString(), 'tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])');
    assert.equal(tensor([1, 100], { dtype: 'int64' }).toString(), 'tensor([  1, 100])');
    assert.equal(tensor(3.5).toString(), 'tensor(3.5000)');
    assert.equal(tensor(7, { dtype: 'int64' }).toString(), 'tensor(7)');
    assert.equal(tensor([true, false]).toString(), 'tensor([ True, False])');
    assert.equal(tensor([0.5, 1], { dtype: 'float64' }).toString(), 'tensor([0.5000, 1.0000], dtype=float64)');
    assert.equal(tensor([1, 2], { dtype: 'int32' }).toString(), 'tensor([1, 2], dtype=int32)');
    assert.equal(tensor([1, 2], { requiresGrad: true }).toString(), 'tensor([1.0000, 2.0000], requiresGrad=true)');
    assert.equal(tensor([NaN, Infinity, -Infinity, 1]).toString(), 'tensor([   nan,    inf,   -inf, 1.0000])');
    assert.equal(tensor([]).toString(), 'tensor([], size=[0])');
    const t = tensor([1, 2]);
    assert.equal(inspect(t), t.toString());
    assert.equal(`${t}`, t.toString());
    t.dispose();
    assert.equal(t.toString(), 'tensor(<disposed>)');
  });

  test('big tensors are summarised with ...', () => {
    const s = arange(2000).toString();
    assert.equal(s, 'tensor([   0,    1,    2, ..., 1997, 1998, 1999])');
    const m = arange(10000, undefined, 1, { dtype: 'float32' }).reshape(100, 100).toString();
    const lines = m.split('\n');
    assert.equal(lines.length, 7, m);
    assert.match(lines[0]!, /^tensor\(\[\[ +0\.0000, +1\.0000, +2\.0000, \.\.\., +97\.0000, +98\.0000, +99\.0000\],$/);
    assert.equal(lines[3], '        ...,');
    assert.match(lines[6]!, /^ {8}\[9900\.0000, 9901\.0000, 9902\.0000, \.\.\., 9997\.0000, 9998\.0000, 9999\.0000\]\]\)$/);
    assert.ok(m.length < 600);
  });
});

describe('grad mode in ops', () => {
  test('noGrad results do not require grad', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    assert.equal(w.mul(2).requiresGrad, true);
    assert.equal(noGrad(() => w.mul(2)).requiresGrad, false);
  });
});

// ------------------------------------------------------------------ regressions of fixed engine bugs

describe("fixed engine bugs", () => {
  test('add/sub/add_ with a number and alpha scale the number by alpha', () => {
    assert.deepEqual(tensor([1, 2]).add(2, 3).toArray(), [7, 8]);
    assert.deepEqual(tensor([1, 2]).sub(2, 3).toArray(), [-5, -4]);
    assert.deepEqual(tensor([1, 2]).add_(2, 3).toArray(), [7, 8]);
    assert.deepEqual(tensor([1, 2]).sub_(2, 3).toArray(), [-5, -4]);
  });

  test('bool tensors from numbers other than 0 and 1 are true for every non-zero', () => {
    assert.deepEqual(tensor([0.5, 256, -1, 0], { dtype: 'bool' }).toArray(), [true, true, true, false]);
  });

  test('scientific notation prints two-digit exponents like PyTorch', () => {
    assert.equal(tensor([1e-6, 1]).toString(), 'tensor([1.0000e-06, 1.0000e+00])');
  });
});
