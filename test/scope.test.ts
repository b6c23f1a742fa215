// Tensor lifetime: tidy, keep, openScope/using, dispose, memory() and a long-run leak check.
import { test, describe } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { Tensor, F, tensor, zeros, ones, randn, tidy, keep, openScope, noGrad, memory } from '../src/index.js';

const live = (): number => memory().numTensors;

describe('tidy', () => {
  test('frees intermediates and keeps the returned tensor', () => {
    const before = live();
    let a: Tensor | undefined;
    let b: Tensor | undefined;
    const c = tidy(() => {
      a = ones([3]);
      b = a.mul(2);
      return b.add(1);
    });
    assert.equal(a!.isDisposed, true);
    assert.equal(b!.isDisposed, true);
    assert.equal(c.isDisposed, false);
    assert.deepEqual(c.toArray(), [3, 3, 3]);
    assert.equal(live(), before + 1);
    assert.equal(c.scope, null, 'outside any scope the result belongs to no scope');
    c.dispose();
    assert.equal(live(), before);
  });

  test('keeps tensors returned in arrays, plain objects, Maps and nestings of them', () => {
    const before = live();
    let scratch: Tensor | undefined;
    const r = tidy(() => {
      scratch = zeros([1]);
      const m = new Map<string, Tensor>([['m', ones([1])]]);
      return { list: [ones([2]), [ones([3])]], obj: { deep: { t: ones([4]) } }, m, n: 5, s: 'text' };
    });
    assert.equal(scratch!.isDisposed, true);
    const kept = [r.list[0] as Tensor, (r.list[1] as Tensor[])[0]!, r.obj.deep.t, r.m.get('m')!];
    assert.deepEqual(kept.map((t) => t.isDisposed), [false, false, false, false]);
    assert.deepEqual(kept.map((t) => t.numel), [2, 3, 4, 1]);
    assert.equal(live(), before + 4);
    kept.forEach((t) => t.dispose());
    assert.equal(live(), before);
  });

  test('returning a tensor made outside leaves it alone', () => {
    const outer = ones([2]);
    const r = tidy(() => {
      outer.mul(2);
      return outer;
    });
    assert.equal(r, outer);
    assert.equal(outer.isDisposed, false);
    outer.dispose();
  });

  test('nested tidy moves its result to the parent scope', () => {
    const before = live();
    let inner: Tensor | undefined;
    let innerScopeWhileOuterRuns: unknown;
    const outerResult = tidy(() => {
      const s = openScope(); // to learn which scope the outer tidy uses, open and drop a child
      const outerScope = s.parent;
      s.close();
      inner = tidy(() => ones([2]).mul(3));
      innerScopeWhileOuterRuns = inner.scope;
      assert.equal(innerScopeWhileOuterRuns, outerScope, 'owned by the enclosing tidy');
      assert.equal(inner.isDisposed, false);
      return inner.add(1);
    });
    assert.equal(inner!.isDisposed, true, 'freed with the outer scope, which did not return it');
    assert.deepEqual(outerResult.toArray(), [4, 4]);
    outerResult.dispose();
    assert.equal(live(), before);
  });

  test('keep() takes a tensor out of every scope', () => {
    const before = live();
    let kept: Tensor | undefined;
    tidy(() => {
      tidy(() => {
        kept = keep(ones([5]));
        assert.equal(kept.scope, null);
        zeros([5]);
      });
    });
    assert.equal(kept!.isDisposed, false);
    assert.equal(kept!.sum().item(), 5);
    assert.equal(live(), before + 2); // kept and the sum just made
  });

  test('when fn throws, intermediates are freed and the error passes through', () => {
    const before = live();
    let t: Tensor | undefined;
    assert.throws(() => tidy(() => {
      t = ones([2]);
      throw new RangeError('boom');
    }), RangeError);
    assert.equal(t!.isDisposed, true);
    assert.equal(live(), before);
    const after = ones([1]);
    assert.equal(after.scope, null, 'the failed scope was closed');
    after.dispose();
  });

  test('rejects an async function', async () => {
    const before = live();
    let made: Tensor | undefined;
    let pending: Promise<unknown> | undefined;
    assert.throws(() => tidy(() => {
      made = ones([2]);
      pending = (async () => 1)();
      return pending;
    }), /cannot take an async function/);
    assert.throws(() => tidy(async () => ones([1]).dispose()), TypeError);
    await pending;
    assert.equal(made!.isDisposed, true);
    assert.equal(live(), before);
    const probe = ones([1]);
    assert.equal(probe.scope, null, 'no scope left open');
    probe.dispose();
  });
});

describe('openScope and dispose', () => {
  test('`using` frees the scope at block end; keep() survives', () => {
    const before = live();
    let inside: Tensor | undefined;
    let kept: Tensor | undefined;
    {
      using _scope = openScope();
      inside = ones([3]).mul(2);
      kept = keep(inside.add(1));
      assert.equal(inside.isDisposed, false);
    }
    assert.equal(inside.isDisposed, true);
    assert.equal(kept.isDisposed, false);
    assert.deepEqual(kept.toArray(), [3, 3, 3]);
    kept.dispose();
    assert.equal(live(), before);
  });

  test('a `using` scope inside tidy, and scopes closed out of order', () => {
    const before = live();
    const r = tidy(() => {
      {
        using _s = openScope();
        ones([2]);
      }
      return ones([2]);
    });
    assert.equal(live(), before + 1);
    r.dispose();
    const a = openScope();
    const b = openScope();
    const t = ones([1]);
    a.close(); // closing the outer one first
    assert.equal(t.scope, b);
    b.close();
    assert.equal(t.isDisposed, true);
    const probe = ones([1]);
    assert.equal(probe.scope, null, 'both scopes are off the stack');
    probe.dispose();
    assert.equal(live(), before);
  });

  test('a tensor can be a `using` variable itself', () => {
    const before = live();
    let t: Tensor | undefined;
    {
      using x = ones([4]);
      t = x;
    }
    assert.equal(t.isDisposed, true);
    assert.equal(live(), before);
  });

  test('dispose twice is safe', () => {
    const before = live();
    const t = ones([2]);
    t.dispose();
    t.dispose();
    assert.equal(t.isDisposed, true);
    assert.equal(live(), before);
    tidy(() => {
      const u = ones([2]);
      u.dispose(); // disposed inside; the scope must not free it again
    });
    assert.equal(live(), before);
  });

  test('using a disposed tensor throws a clear error', () => {
    const t = ones([2]);
    const other = ones([2]);
    t.dispose();
    const disposed = /disposed and can no longer be used/;
    assert.throws(() => t.add(1), disposed);
    assert.throws(() => other.add(t), disposed);
    assert.throws(() => t.data(), disposed);
    assert.throws(() => t.toArray(), disposed);
    assert.throws(() => t.backward(), disposed);
    assert.throws(() => F.relu(t), disposed);
    assert.equal(t.toString(), 'tensor(<disposed>)');
    assert.deepEqual(other.add(1).toArray(), [2, 2], 'the rest keeps working');
  });

  test('the shape of a disposed tensor is an error too', () => {
    const t = ones([2]);
    assert.deepEqual(t.shape, [2]);
    t.dispose();
    assert.throws(() => t.shape, /disposed/);
  });

  test('grad handles are freed by tidy but the gradient itself stays', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const before = live();
    tidy(() => {
      w.mul(w).sum().backward();
      assert.deepEqual(w.grad!.toArray(), [2, 4]);
    });
    assert.equal(live(), before);
    assert.deepEqual(w.grad!.toArray(), [2, 4]);
  });

  test('memory() returns to its baseline after a mixed workload', () => {
    const before = live();
    const bytesBefore = memory().numBytes;
    tidy(() => {
      const x = randn([16, 8]);
      const w = randn([8, 4], { requiresGrad: true });
      const y = F.softmax(x.matmul(w), 1);
      y.sum().backward();
      const parts = y.split(4);
      const { values } = y.max(1);
      const [a, b] = y.chunk(2, 1);
      noGrad(() => w.sub_(w.grad!.mul(0.1)));
      void [parts, values, a, b];
      assert.ok(live() > before + 10);
    });
    assert.equal(live(), before);
    assert.equal(memory().numBytes, bytesBefore);
  });
});

// The leak check runs in a fresh child process: RSS then reflects this workload alone, not
// the allocator state left by the tests above.
const LEAK_SCRIPT = `
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
const { F, tidy, noGrad, randn, zeros, tensor, memory, Generator, setNumThreads } = await import(process.env.SELFSUP_INDEX);
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
// Tiny tensors: several OpenMP threads on a shared 2-core machine spend milliseconds per step handing off work.
setNumThreads(1);
const g = new Generator(0);
const [x, y, w1, b1, w2] = tidy(() => [
  randn([32, 16], { generator: g }),
  tensor(Array.from({ length: 32 }, (_, i) => i % 4), { dtype: 'int64' }),
  randn([24, 16], { generator: g }).mul(0.2).requiresGrad_(),
  zeros([24], { requiresGrad: true }),
  randn([4, 24], { generator: g }).mul(0.2).requiresGrad_(),
]);
const params = [w1, b1, w2];
// One training step written with F ops inside tidy.
const step = () => tidy(() => {
  const h = F.relu(F.linear(x, w1, b1));
  const loss = F.crossEntropy(F.dropout(F.linear(h, w2), 0.1, true), y, { labelSmoothing: 0.1 });
  loss.backward();
  noGrad(() => {
    for (const p of params) {
      p.sub_(p.grad.mul(0.05));
      p.grad = null;
    }
  });
  return loss.item();
});
const turn = () => new Promise((resolve) => setImmediate(resolve));
const turnEvery = Number(process.env.TURN_EVERY);
const first = step();
// Warm-up: malloc and V8 reach their working size over the first few thousand steps.
for (let i = 0; i < 5000; i++) { step(); if (i % 100 === 0) await turn(); }
await turn();
gc();
const tensors = memory().numTensors, bytes = memory().numBytes;
// RSS moves in jumps of a few MB for reasons of its own (allocator, pages), so take up to
// three windows of 5000 steps: a leak grows every window, noise does not.
const windows = [];
let last = first;
for (let w = 0; w < 3; w++) {
  const rss = process.memoryUsage().rss;
  for (let i = 0; i < 5000; i++) { last = step(); if (turnEvery && i % turnEvery === 0) await turn(); }
  if (turnEvery) await turn(); // a synchronous loop gets no turn: what it left pending still counts
  gc();
  windows.push((process.memoryUsage().rss - rss) / 2 ** 20);
  if (windows[w] < Number(process.env.RSS_LIMIT_MB)) break;
}
console.log(JSON.stringify({ first, last, tensors: memory().numTensors - tensors, bytes: memory().numBytes - bytes, rssMB: Math.min(...windows), windows }));
`;

interface LeakResult { first: number; last: number; tensors: number; bytes: number; rssMB: number; windows: number[] }
const RSS_LIMIT_MB = 4;

function runLeakScript(turnEvery: number): LeakResult {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', LEAK_SCRIPT], {
    encoding: 'utf8',
    timeout: 100_000,
    env: { ...process.env, SELFSUP_INDEX: new URL('../src/index.js', import.meta.url).href, TURN_EVERY: String(turnEvery), RSS_LIMIT_MB: String(RSS_LIMIT_MB) },
  });
  assert.equal(r.status, 0, `leak script failed (signal ${r.signal}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as LeakResult;
}

describe('leak check', () => {
  test('5000 training steps in tidy keep tensor count and RSS flat', { timeout: 120_000 }, () => {
    const r = runLeakScript(100);
    assert.equal(r.tensors, 0, 'tensor count is flat');
    assert.equal(r.bytes, 0, 'tensor bytes are flat');
    assert.ok(r.rssMB < RSS_LIMIT_MB, `RSS grew by ${r.windows.map((w) => w.toFixed(2)).join(', ')} MB in windows of 5000 steps`);
    assert.ok(r.last < r.first, `training made progress (${r.first} -> ${r.last})`);
  });

  test('RSS stays flat in a loop that never yields to the event loop', {
    timeout: 120_000,
    todo: 'engine bug: each tensor handle keeps ~200 bytes (napi External + TensorBox) until its Node-API finalizer runs, and Node 20 runs those from setImmediate, so a synchronous loop grows by several KB per step',
  }, () => {
    const r = runLeakScript(0);
    assert.equal(r.tensors, 0, 'tensor count is flat');
    assert.ok(r.rssMB < RSS_LIMIT_MB, `RSS grew by ${r.windows.map((w) => w.toFixed(2)).join(', ')} MB in windows of 5000 steps without an event-loop turn`);
  });
});
