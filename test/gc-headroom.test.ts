// Tensor memory told to V8 (native/selfsup.cc accountHandleBytes): a loop that disposes
// everything it makes runs no full GC for it, while with SELFSUP_GC_HEADROOM_MB=0 (every
// byte reported) the same loop runs many; handles nobody disposes beyond the headroom
// still bring V8's GC (the backstop) and are freed.
import { test, describe } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';

const indexUrl = new URL('../src/index.js', import.meta.url).href;

function inChild(code: string, env: Record<string, string> = {}): { major: number; live?: number } {
  const body = `const m = await import(${JSON.stringify(indexUrl)});
const { PerformanceObserver, constants } = await import('node:perf_hooks');
let major = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++; }).observe({ entryTypes: ['gc'] });
${code}
await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify({ major, live: m.memory().numBytes }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', body], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

// 300 times a 16 MB tensor and four views of it (each view counts its whole storage), all disposed.
const churn = `for (let i = 0; i < 300; i++) m.tidy(() => { const t = m.zeros([4 << 20]); for (let k = 0; k < 4; k++) t.narrow(0, k, 16); });`;

describe('GC headroom for tensor memory', () => {
  test('disposed tensors bring no full GC by default, and many with SELFSUP_GC_HEADROOM_MB=0', () => {
    const quiet = inChild(churn);
    const every = inChild(churn, { SELFSUP_GC_HEADROOM_MB: '0' });
    assert.ok(quiet.major <= 2, `default: ${quiet.major} major GCs`);
    assert.ok(every.major >= 10, `every byte reported: ${every.major} major GCs`);
  });

  test('undisposed tensors beyond the headroom are still collected', () => {
    // 200 x 16 MB never disposed (3.2 GB) with a 64 MB headroom: the GC must free most of them.
    const leak = inChild(`for (let i = 0; i < 200; i++) { m.zeros([4 << 20]); if (i % 20 === 0) await new Promise((r) => setImmediate(r)); }`, { SELFSUP_GC_HEADROOM_MB: '64' });
    assert.ok(leak.major >= 1, `major GCs ${leak.major}`);
    assert.ok(leak.live! < 1.5e9, `live tensor bytes ${leak.live}`);
  });
});
