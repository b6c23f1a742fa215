// A worker thread for native-checks.test.ts: calls every Tensor method once, in an
// order of its own, so each thread looks up operators for the first time while the
// others do (the addon's operator table is shared by all threads), then runs ops.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Tensor, randn } from '../../src/index.js';

// `node --test dist/test/` also loads this file on the main thread: nothing to do there.
const { offset, rounds } = isMainThread ? { offset: 0, rounds: 0 } : (workerData as { offset: number; rounds: number });
const methods = Object.getOwnPropertyNames(Tensor.prototype).filter((m) => {
  const d = Object.getOwnPropertyDescriptor(Tensor.prototype, m)!;
  return m !== 'constructor' && m !== 'dispose' && typeof d.value === 'function';
});
let calls = 0;
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < methods.length; k++) {
    const name = methods[(offset + k * 7 + r) % methods.length]!;
    const x = randn([4, 4]);
    try {
      const out = (x as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(1);
      if (out instanceof Tensor && out !== x) out.dispose();
      calls++;
    } catch {
      calls++; // a method that wants other arguments still looked its operator up
    }
    x.dispose();
  }
}
parentPort?.postMessage(calls);
