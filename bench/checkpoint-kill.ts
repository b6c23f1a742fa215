// The full kill -9 run (the test does 12 trials, fewer if 40 s run out first):
//   npm run stress:checkpoints -- [options], or node dist/bench/checkpoint-kill.js [--trials 300] [--mode api|cli] [--dir DIR]
// Prints progress on stderr and the result as one JSON line; exits 1 if any trial failed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runKillTrials, type KillMode } from '../test/support/checkpoint-kill.js';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '300' }, mode: { type: 'string', default: 'api' }, dir: { type: 'string' } } });
if (values.mode !== 'api' && values.mode !== 'cli') throw new Error(`--mode api|cli, got ${values.mode}`);
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'selfsup-kill-'));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130)); // 'exit' kills the running child
const r = await runKillTrials({ dir, mode: values.mode as KillMode, trials: Number(values.trials), log: (l) => process.stderr.write(`${l}\n`) });
process.stdout.write(`${JSON.stringify({ ...r, dir })}\n`);
if (!values.dir) rmSync(dir, { recursive: true, force: true });
process.exitCode = r.problems.length ? 1 : 0;
