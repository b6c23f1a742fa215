// A bounded sample of the fuzzer (scripts/fuzz.ts runs the full corpus): random
// calls to every operator, Tensor method and tensor function, each batch in a child
// process. No call may kill the process: every bad argument must come back as a
// JavaScript error. SELFSUP_FUZZ_SEED picks other seeds; a failure prints the call
// and `node dist/scripts/fuzz.js --seed S --only I` replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz, type FuzzReport } from './support/fuzz/runner.js';

const seed = Number(process.env.SELFSUP_FUZZ_SEED ?? 20261202);

function describeFailures(r: FuzzReport): string {
  return r.failures.map((f) => `${f.kind} seed ${f.seed} call ${f.index} (${f.how}): ${f.call}` +
    (f.after ? ` -- dies only after call ${f.after.index}: ${f.after.call}` : '')).join('\n');
}

test('2000 random calls on one thread: no aborts, no hangs', { timeout: 600_000 }, async () => {
  const r = await runFuzz({ seed, calls: 2000, batch: 500, batchTimeoutMs: 60_000 });
  assert.equal(r.callsRun, 2000);
  assert.ok(r.ok > 200 && r.errors > 200, `both outcomes occur: ${r.ok} ok, ${r.errors} errors`);
  assert.equal(r.failures.length, 0, describeFailures(r));
});

test('600 random calls on 3 worker threads at once: no aborts, no hangs', { timeout: 600_000 }, async () => {
  const r = await runFuzz({ seed: seed + 1, calls: 600, batch: 300, workers: 3, batchTimeoutMs: 60_000 });
  assert.equal(r.callsRun, 600);
  assert.equal(r.failures.length, 0, describeFailures(r));
});
