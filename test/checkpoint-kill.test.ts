// Checkpoints survive kill -9: children killed at random instants (12 of them, or as many
// as fit in 40 s on a slower machine; SELFSUP_KILL_TRIALS and SELFSUP_KILL_SECONDS change
// that) always leave a checkpoint that loads, holds its last reported save, and resumes;
// no temp file of a killed save outlives the next run. The full run of several hundred:
// npm run stress:checkpoints (bench/checkpoint-kill.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKillTrials } from './support/checkpoint-kill.js';

test('kill -9 at random instants never leaves an unresumable checkpoint or a lasting temp file', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'selfsup-kill-'));
  try {
    const r = await runKillTrials({ dir, mode: 'api', trials: Number(process.env.SELFSUP_KILL_TRIALS ?? 12), seconds: Number(process.env.SELFSUP_KILL_SECONDS ?? 40) });
    t.diagnostic(`${r.trials} kills in ${r.seconds.toFixed(0)} s: ${r.loaded} checkpoints loaded, ${r.fallbacks} fallbacks, ` +
      `${r.tempFilesSeen} temp files left by killed saves (largest ${(r.largestTempBytes / 1e6).toFixed(1)} MB), final step ${r.finalStep}`);
    assert.deepEqual(r.problems, []);
    assert.ok(r.trials >= 3, `only ${r.trials} trials ran`);
    assert.ok(r.finalStep >= 2, 'the final run trained');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
