// The op profiler (native/op-profiler.cc, src/tensor/profiler.ts): per op name, calls and
// wall time between start() and stop(), self time no larger than total time, autograd
// nodes counted in backward, and nothing recorded while it is off.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randn, tidy, profiler, formatProfile, type OpProfile } from '../src/index.js';

const row = (p: OpProfile, name: string) => p.rows.find((r) => r.name === name);

describe('op profiler', () => {
  test('counts known ops, their self and total time, and backward nodes', () => {
    const a = randn([64, 64], { requiresGrad: true });
    const b = randn([64, 64]);
    profiler.start();
    tidy(() => {
      for (let i = 0; i < 3; i++) a.mm(b).dispose();
      a.matmul(b).sum().backward();
    });
    const p = profiler.stop();
    assert.equal(p.running, false);
    assert.ok(p.wallMs > 0);
    const mm = row(p, 'aten::mm');
    assert.ok(mm, `aten::mm in ${p.rows.map((r) => r.name).join(', ')}`);
    // 3 direct mm, the one under matmul, and MmBackward0's mm for a's gradient.
    assert.ok(mm.calls >= 5, `aten::mm calls ${mm.calls}`);
    const matmul = row(p, 'aten::matmul');
    assert.equal(matmul?.calls, 1);
    assert.equal(matmul?.topCalls, 1);
    // matmul calls mm: its inclusive time covers it, its self time does not.
    assert.ok(matmul!.totalMs >= matmul!.selfMs);
    assert.ok(row(p, 'MmBackward0'), 'the backward node is recorded');
    for (const r of p.rows) {
      assert.ok(r.calls > 0 && r.selfMs >= 0 && r.totalMs >= r.selfMs - 1e-9 && r.topCalls <= r.calls, JSON.stringify(r));
    }
    for (let i = 1; i < p.rows.length; i++) assert.ok(p.rows[i - 1]!.selfMs >= p.rows[i]!.selfMs, 'sorted by self time');
    const selfSum = p.rows.reduce((s, r) => s + r.selfMs, 0);
    assert.ok(selfSum <= p.wallMs + 1, `self time ${selfSum} ms within wall ${p.wallMs} ms`);
    assert.match(formatProfile(p, 3), /aten::/);
    a.dispose();
    b.dispose();
  });

  test('records nothing while stopped, and start() clears the last session', () => {
    const a = randn([16, 16]);
    profiler.start();
    a.mm(a).dispose();
    assert.ok(row(profiler.read(), 'aten::mm'), 'read() while running');
    assert.equal(profiler.read().running, true);
    profiler.stop();
    a.mm(a).dispose();
    a.add(a).dispose();
    const after = profiler.read();
    assert.equal(after.running, false);
    assert.equal(row(after, 'aten::add'), undefined, 'no op recorded after stop');
    assert.equal(row(after, 'aten::mm')?.calls, 1);
    assert.deepEqual(profiler.stop().rows.map((r) => r.name), after.rows.map((r) => r.name), 'a second stop is harmless');
    profiler.start();
    assert.equal(profiler.stop().rows.length, 0, 'start clears');
    a.dispose();
  });

  test('run() stops the profiler when its function throws', () => {
    assert.throws(() => profiler.run(() => { throw new Error('boom'); }), /boom/);
    assert.equal(profiler.read().running, false);
  });
});
