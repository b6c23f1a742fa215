// The caching CPU allocator (native/cpu-cache.cc): freed large tensors are reused by the
// next tensor of their size, a training step's allocations are served from the cache from
// its second step on, the cap bounds what is kept, and SELFSUP_CPU_CACHE=0 turns it off.
import { test, describe } from 'node:test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { zeros, randn, tidy, cpuCache, emptyCpuCache, F } from '../src/index.js';
import { SmallCnn } from '../src/models/index.js';
import { Linear } from '../src/nn/index.js';
import { SGD } from '../src/optim/index.js';

const MB = 1 << 20;
const indexUrl = new URL('../src/index.js', import.meta.url).href;

/** Runs `code` (an ES module body with `m` = selfsup) in a child with `env`; returns its last stdout line as JSON. */
function inChild(code: string, env: Record<string, string>): unknown {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(indexUrl)});\n${code}`], {
    encoding: 'utf8', env: { ...process.env, ...env }, cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('caching CPU allocator', () => {
  test('is on by default, and a freed large block serves the next tensor of its size', () => {
    assert.equal(cpuCache().enabled, true);
    emptyCpuCache();
    const a = zeros([4 * MB / 4]); // 4 MiB
    const before = cpuCache();
    a.dispose();
    const freed = cpuCache();
    assert.ok(freed.cachedBytes >= before.cachedBytes + 4 * MB, `freed 4 MiB should wait in the cache: ${JSON.stringify(freed)}`);
    const b = zeros([4 * MB / 4]);
    const reused = cpuCache();
    assert.equal(reused.hits, freed.hits + 1);
    assert.equal(reused.misses, freed.misses);
    assert.equal(reused.cachedBytes, before.cachedBytes);
    // A reused block holds what the new tensor wrote, not the old one's values.
    assert.equal(b.sum().item(), 0);
    b.dispose();
    assert.ok(emptyCpuCache() >= 4 * MB);
    assert.equal(cpuCache().cachedBytes, 0);
  });

  test('small tensors bypass it', () => {
    const s0 = cpuCache();
    tidy(() => zeros([1000]).add(1).sum());
    const s1 = cpuCache();
    assert.equal(s1.hits + s1.misses, s0.hits + s0.misses);
  });

  test('from its second step on, a training step allocates nothing new', () => {
    const model = new SmallCnn();
    const head = new Linear(128, 4);
    const params = [...model.parameters(), ...head.parameters()];
    const optimizer = new SGD(params, { lr: 0.01, momentum: 0.9 });
    const x = randn([64, 1, 28, 28]);
    const y = zeros([64], { dtype: 'int64' });
    const step = (): void => tidy(() => {
      const loss = F.crossEntropy(head.forward(model.forward(x)), y);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
    });
    step();
    step();
    const warm = cpuCache();
    for (let i = 0; i < 3; i++) step();
    const after = cpuCache();
    assert.equal(after.misses, warm.misses, `steps 3-5 should be served from the cache: ${JSON.stringify({ warm, after })}`);
    assert.ok(after.hits > warm.hits);
    optimizer.dispose();
    x.dispose();
    y.dispose();
    model.dispose();
    head.dispose();
  });

  test('SELFSUP_CPU_CACHE_MB caps what it keeps', () => {
    const s = inChild(`
      const t = m.zeros([2 * 1048576]); t.dispose(); // 8 MiB, above a 1 MiB cap
      console.log(JSON.stringify(m.cpuCache()));`, { SELFSUP_CPU_CACHE_MB: '1' }) as { capBytes: number; cachedBytes: number; released: number };
    assert.equal(s.capBytes, MB);
    assert.equal(s.cachedBytes, 0);
    assert.ok(s.released >= 1);
  });

  test('SELFSUP_CPU_CACHE=0 leaves libtorch its own allocator', () => {
    const s = inChild(`
      const t = m.randn([1048576]); const sum = t.mul(2).sum().item(); t.dispose();
      console.log(JSON.stringify({ ...m.cpuCache(), finite: Number.isFinite(sum) }));`, { SELFSUP_CPU_CACHE: '0' }) as { enabled: boolean; hits: number; misses: number; finite: boolean };
    assert.equal(s.enabled, false);
    assert.equal(s.hits + s.misses, 0);
    assert.equal(s.finite, true);
  });
});
