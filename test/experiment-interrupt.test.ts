// Ctrl-C during the image experiment: the run it interrupts stops (its trainer
// finishes the step and returns), and so does the whole experiment, which returns
// the runs that finished, marked partial; the CLI writes them and exits 130.
// SIGINT is simulated with process.emit('SIGINT') from a training callback or the log.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setNumThreads } from '../src/tensor/index.js';
import { runImageExperiment, type ImageExperimentConfig } from '../src/experiment/image.js';
import { defaultImageConfig } from '../src/experiment/defaults.js';
import { toyImages } from './support/toy-images.js';
import { runCliAndInterrupt } from './support/cli-sigint.js';

setNumThreads(1);

const tmp = mkdtempSync(join(tmpdir(), 'selfsup-exp-interrupt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (): string => join(tmp, `run${dirCount++}`);


const data = toyImages(96, { leftShade: false });

function tinyConfig(over: Partial<ImageExperimentConfig>): ImageExperimentConfig {
  const c = defaultImageConfig();
  Object.assign(c, { width: 4, ks: [2], seeds: [0, 1, 2], testLimit: 32 }, over);
  c.pretrain = { ...c.pretrain, maxSteps: 4, batchSize: 16, heldOut: 16, optimizer: { ...c.pretrain.optimizer, warmupSteps: 1 } };
  c.finetune = { ...c.finetune, steps: 4, stepsPerK: {}, batchSize: 8 };
  c.scratch = { ...c.scratch, steps: 4, stepsPerK: {}, batchSize: 8 };
  c.probe = { ...c.probe, steps: 20 };
  c.knn = { ...c.knn, k: 3 };
  return c;
}

const resultLines = (dir: string): { method: string; seed: number }[] => readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
  .trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.kind === 'result');

describe('runImageExperiment and Ctrl-C', () => {
  test('Ctrl-C during a fine-tuning run: that run stops and is not counted, no later run starts, the results are partial', async () => {
    const dir = freshDir();
    const lines: string[] = [];
    const listeners = process.listenerCount('SIGINT');
    let steps = 0;
    const r = await runImageExperiment({ name: 'toy', train: data, test: data }, tinyConfig({ methods: ['scratch'] }), dir, (l) => lines.push(l), {
      // Four steps per run: step 6 is the second step of seed 1.
      callbacks: { onStepEnd: () => { if (++steps === 6) process.emit('SIGINT'); } },
    });
    assert.equal(steps, 6, 'seed 1 stopped after the step under way, and seed 2 never started');
    assert.equal(r.interrupted, true);
    assert.equal(r.runsDone, 1);
    assert.equal(r.runsPlanned, 3);
    assert.equal(r.results.length, 1);
    assert.deepEqual({ method: r.results[0]!.method, k: r.results[0]!.k, seeds: r.results[0]!.runs.length }, { method: 'scratch', k: 2, seeds: 1 });
    assert.equal(r.report.partial, true);
    assert.match(r.report.title, /\(partial\)$/);
    assert.match(r.report.notes![0]!, /Interrupted by Ctrl-C: 1 of 3 runs finished/);
    assert.deepEqual(resultLines(dir).map((x) => [x.method, x.seed]), [['scratch', 0]]);
    assert.ok(lines.some((l) => /scratch k=2 seed=1: interrupted after 2 steps; not counted/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /experiment: stopped by Ctrl-C after 1 of 3 runs; the results are partial/.test(l)));
    assert.equal(process.listenerCount('SIGINT'), listeners, 'the experiment and its trainers removed their SIGINT listeners');
  });

  test('Ctrl-C between runs (after a linear probe): the experiment stops before the next one', async () => {
    const dir = freshDir();
    const lines: string[] = [];
    const log = (l: string): void => {
      lines.push(l);
      if (/rotation-probe .*seed=0/.test(l)) process.emit('SIGINT'); // no trainer is listening now: the experiment answers
    };
    const r = await runImageExperiment({ name: 'toy', train: data, test: data }, tinyConfig({ methods: ['rotation-probe', 'rotation-knn'] }), dir, log);
    assert.equal(r.interrupted, true);
    assert.deepEqual(resultLines(dir).map((x) => [x.method, x.seed]), [['rotation-probe', 0]], 'kNN of seed 0 never ran');
    assert.deepEqual(r.results.map((x) => [x.method, x.runs.length]), [['rotation-probe', 1]]);
    assert.equal(r.runsPlanned, 6);
    assert.ok(lines.some((l) => /experiment: Ctrl-C: stopping after the current run/.test(l)), lines.join('\n'));
    assert.ok(r.rotationAccuracy !== null, 'pretraining had finished');
  });

  test('Ctrl-C during rotation pretraining: no evaluation runs, the checkpoint is kept, no encoder is written', async () => {
    const dir = freshDir();
    const lines: string[] = [];
    let steps = 0;
    const r = await runImageExperiment({ name: 'toy', train: data, test: data }, tinyConfig({ methods: ['scratch', 'rotation-knn'] }), dir, (l) => lines.push(l), {
      callbacks: { onStepEnd: () => { if (++steps === 2) process.emit('SIGINT'); } },
    });
    assert.equal(steps, 2);
    assert.equal(r.interrupted, true);
    assert.equal(r.runsDone, 0);
    assert.deepEqual(r.results, []);
    assert.equal(r.rotationAccuracy, null);
    assert.equal(r.report.partial, true);
    assert.ok(existsSync(join(dir, 'rotation-pretrain.safetensors')), 'the interrupted pretraining saved its checkpoint');
    assert.equal(existsSync(join(dir, 'rotation-encoder.safetensors')), false);
    assert.ok(lines.some((l) => /rotation pretraining: interrupted after 2 steps/.test(l)), lines.join('\n'));
  });

  test('without Ctrl-C nothing changes: every run, not partial', async () => {
    const r = await runImageExperiment({ name: 'toy', train: data, test: data }, tinyConfig({ methods: ['scratch'], seeds: [0, 1] }), freshDir(), () => {});
    assert.equal(r.interrupted, false);
    assert.equal(r.runsDone, 2);
    assert.equal(r.runsPlanned, 2);
    assert.equal(r.report.partial, undefined);
    assert.doesNotMatch(r.report.title, /partial/);
  });
});

describe('selfsup experiment and Ctrl-C', () => {
  test('SIGINT after the first run: partial results.json and report written, exit 130, JSON says partial', async () => {
    const out = freshDir();
    const { code, stdout, stderr } = await runCliAndInterrupt(['experiment', '--quick', '--data', 'mnist-digits', '--limit', '600', '--test-limit', '100',
      '--methods', 'scratch', '--ks', '3', '--seeds', '0,1,2,3,4,5,6,7', '--width', '4', '--out', out, '--json'], /scratch\s+k=3\s+seed=0/);
    assert.equal(code, 130, `exit ${code}\n${stderr}`);
    assert.match(stderr, /selfsup experiment: interrupted after \d of 8 runs; the partial results are in .*results\.json \(marked "partial": true\)/);
    assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
    const j = JSON.parse(stdout.trim().split('\n').at(-1)!);
    assert.equal(j.ok, false);
    assert.equal(j.exitCode, 130);
    assert.equal(j.partial, true);
    assert.equal(j.runsPlanned, 8);
    assert.ok(j.runsDone >= 1 && j.runsDone < 8, `${j.runsDone} runs done`);
    assert.equal(j.results[0].runs.length, j.runsDone);
    const saved = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(saved.partial, true);
    assert.deepEqual(saved.results, j.results);
    assert.ok(existsSync(join(out, 'report.html')));
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /Interrupted by Ctrl-C/);
    assert.match(stderr, /PARTIAL RESULTS: interrupted after \d of 8 runs/); // the table goes to stderr under --json
  });
});
