// Ctrl-C during the text experiment: the whole experiment stops after the run it
// interrupts and returns the runs that finished, marked partial; an interrupted
// pretraining (skip-gram, masked LM) stops it before any classification and keeps
// its checkpoint. The CLI writes the partial results and exits 130.
// Uses Debian's WordNet and fortunes; SIGINT is simulated with process.emit('SIGINT')
// from the log, a pretraining callback, or a poll of the metrics file.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { memory, setNumThreads } from '../src/tensor/index.js';
import { runCliAndInterrupt } from './support/cli-sigint.js';
import { runTextExperiment, quickTextConfig, type TextExperimentConfig, type TextMethod } from '../src/experiment/text.js';

setNumThreads(1);
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const installed = existsSync('/usr/share/wordnet/data.noun') && existsSync('/usr/share/games/fortunes/computers');
const skip = installed ? false : 'needs Debian wordnet-base and fortunes';

const tmp = mkdtempSync(join(tmpdir(), 'selfsup-text-interrupt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (): string => join(tmp, `run${dirCount++}`);

/** quickTextConfig, smaller still: three gloss classes, two fortune files, three seeds, short pretraining. */
function smallConfig(methods: TextMethod[]): TextExperimentConfig {
  const c = quickTextConfig();
  return {
    ...c, methods, seeds: [0, 1, 2], maxPretrainDocs: 1000,
    gloss: { categories: ['noun.animal', 'noun.food', 'noun.plant'], testPerClass: 30 },
    fortunes: { files: ['computers', 'food'], testPerClass: 20 },
    skipgram: { ...c.skipgram, timeBudgetSeconds: 2 },
    mlm: { ...c.mlm, timeBudgetSeconds: 3 },
  };
}

const metricLines = (dir: string): Record<string, unknown>[] => readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
  .trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const resultLines = (dir: string): [unknown, unknown][] => metricLines(dir).filter((r) => r.kind === 'result').map((r) => [r.method, r.seed]);

async function tensorsAfterGc(): Promise<number> {
  gc(); // unreachable handles' finalizers (the experiment itself disposes every tensor it made)
  await new Promise<void>((resolve) => setImmediate(resolve));
  return memory().numTensors;
}

describe('runTextExperiment and Ctrl-C', { skip }, () => {
  test('Ctrl-C during a classification run: that run finishes and counts, nothing after it starts, the results are partial, no leaks', async () => {
    const dir = freshDir();
    const lines: string[] = [];
    const listeners = process.listenerCount('SIGINT');
    const baseline = memory().numTensors;
    const bowSteps = (): number => metricLines(dir).filter((r) => r.kind === 'step' && r.run === 'bow-scratch k=2').length;
    let stepsSeed0 = 0;
    let stepsAtSigint = 0;
    const log = (l: string): void => {
      lines.push(l);
      if (!/skipgram-linear .*seed=0/.test(l)) return;
      // Seed 0 is done; watch the metrics until seed 1's bag-of-words training has begun.
      stepsSeed0 = bowSteps();
      const poll = (): void => {
        const n = bowSteps();
        if (n === stepsSeed0) return void setImmediate(poll);
        stepsAtSigint = n;
        process.emit('SIGINT');
      };
      setImmediate(poll);
    };
    const r = await runTextExperiment(smallConfig(['bow-scratch', 'skipgram-linear']), dir, log);

    assert.ok(stepsSeed0 > 0 && stepsAtSigint > stepsSeed0 && stepsAtSigint < 2 * stepsSeed0, `SIGINT at bow step ${stepsAtSigint} (seed 0 took ${stepsSeed0})`);
    assert.equal(bowSteps(), 2 * stepsSeed0, 'the classification run under way went on to its last step');
    assert.equal(r.interrupted, true);
    assert.equal(r.runsDone, 3);
    assert.equal(r.runsPlanned, 2 * 1 * 3 * 2, 'two tasks, one k, three seeds, two methods');
    assert.deepEqual(resultLines(dir), [['bow-scratch', 0], ['skipgram-linear', 0], ['bow-scratch', 1]]);
    assert.deepEqual(r.results.map((x) => [x.method, x.k, x.runs.length]), [['bow-scratch', 2, 2], ['skipgram-linear', 2, 1]]);
    assert.deepEqual(r.tasks.map((t) => t.task), ['WordNet glosses'], 'the fortune task never started');
    assert.deepEqual(r.report.results, r.results);
    assert.equal(r.report.partial, true);
    assert.match(r.report.title, /\(partial\)$/);
    assert.match(r.report.notes![0]!, /^Interrupted by Ctrl-C: 3 of 12 runs finished/);
    assert.ok(Number.isFinite(r.synonymAuc), 'skip-gram pretraining had finished');
    assert.equal(r.pretrainCheckpoint, null);
    assert.ok(lines.some((l) => /experiment: Ctrl-C: stopping after the current run/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /experiment: stopped by Ctrl-C after 3 of 12 runs; the results are partial/.test(l)));
    assert.equal(process.listenerCount('SIGINT'), listeners, 'the experiment removed its SIGINT listener');
    assert.equal(await tensorsAfterGc(), baseline, 'the early exit freed every tensor');
  });

  test('Ctrl-C between runs: the experiment stops before the next one, no leaks', async () => {
    const dir = freshDir();
    const lines: string[] = [];
    const baseline = memory().numTensors;
    const log = (l: string): void => {
      lines.push(l);
      if (/bow-scratch .*seed=0/.test(l)) process.emit('SIGINT'); // no trainer is listening now: the experiment answers
    };
    const r = await runTextExperiment(smallConfig(['bow-scratch', 'skipgram-linear']), dir, log);
    assert.equal(r.interrupted, true);
    assert.equal(r.runsDone, 1);
    assert.deepEqual(resultLines(dir), [['bow-scratch', 0]], 'the probe of seed 0 never ran');
    assert.deepEqual(r.results.map((x) => [x.method, x.runs.length]), [['bow-scratch', 1]]);
    assert.equal(r.report.partial, true);
    assert.match(r.report.notes![0]!, /Interrupted by Ctrl-C: 1 of 12 runs finished/);
    assert.ok(lines.some((l) => /experiment: Ctrl-C: stopping after the current run/.test(l)), lines.join('\n'));
    assert.equal(await tensorsAfterGc(), baseline);
  });

  test('Ctrl-C during skip-gram pretraining: no classification, its checkpoint is kept and named, no word vectors', async () => {
    const dir = freshDir();
    const lines: string[] = [];
    let steps = 0;
    const r = await runTextExperiment(smallConfig(['bow-scratch']), dir, (l) => lines.push(l), {
      callbacks: { onStepEnd: () => { if (++steps === 2) process.emit('SIGINT'); } },
    });
    assert.equal(steps, 2, 'the trainer stopped after the step under way');
    assert.equal(r.interrupted, true);
    assert.equal(r.runsDone, 0);
    assert.deepEqual(r.results, []);
    assert.deepEqual(r.tasks, []);
    assert.ok(Number.isNaN(r.synonymAuc));
    assert.equal(r.pretrainCheckpoint, join(dir, 'skipgram.safetensors'));
    assert.ok(existsSync(r.pretrainCheckpoint!), 'the interrupted pretraining saved its checkpoint');
    assert.equal(existsSync(join(dir, 'word-vectors.safetensors')), false);
    assert.deepEqual(resultLines(dir), []);
    assert.equal(r.report.partial, true);
    assert.deepEqual(r.report.results, []);
    assert.match(r.report.notes![0]!, /0 of 6 runs finished.*skip-gram pretraining was interrupted after 2 steps, before any classification; its checkpoint is .*skipgram\.safetensors/);
    assert.ok(lines.some((l) => /skip-gram: interrupted after 2 steps; its checkpoint is .*skipgram\.safetensors; no classification runs/.test(l)), lines.join('\n'));
    assert.ok(!lines.some((l) => /^task /.test(l)));
  });

  test('Ctrl-C during masked-LM pretraining: no classification with a half-trained encoder; the skip-gram figures are kept', async () => {
    const dir = freshDir();
    const lines: string[] = [];
    let inMlm = false;
    let mlmSteps = 0;
    const r = await runTextExperiment(smallConfig(['bow-scratch', 'mlm-probe']), dir, (l) => {
      lines.push(l);
      if (l.startsWith('masked LM:')) inMlm = true;
    }, { callbacks: { onStepEnd: () => { if (inMlm && ++mlmSteps === 2) process.emit('SIGINT'); } } });
    assert.equal(mlmSteps, 2);
    assert.equal(r.interrupted, true);
    assert.equal(r.runsDone, 0);
    assert.deepEqual(resultLines(dir), [], 'no run started, bow-scratch included');
    assert.equal(r.pretrainCheckpoint, join(dir, 'mlm.safetensors'));
    assert.ok(existsSync(r.pretrainCheckpoint!));
    assert.equal(r.mlmHeldOutAccuracy, null);
    assert.ok(Number.isFinite(r.synonymAuc));
    assert.equal(typeof r.report.extra!['synonym AUC (skip-gram)'], 'number');
    assert.equal(r.report.wordMaps!.length, 1);
    assert.match(r.report.notes![0]!, /masked LM pretraining was interrupted after 2 steps/);
  });
});

describe('selfsup experiment --modality text and Ctrl-C', { skip }, () => {
  test('SIGINT after the first result: partial results.json and report written, exit 130, JSON says partial', async () => {
    const out = freshDir();
    const config = join(tmp, 'small-text.json');
    writeFileSync(config, JSON.stringify({ methods: ['bow-scratch', 'skipgram-linear'], maxPretrainDocs: 1000, skipgram: { timeBudgetSeconds: 2 } }));
    const { code, stdout, stderr } = await runCliAndInterrupt(['experiment', '--modality', 'text', '--quick', '--config', config, '--seeds', '0,1,2,3', '--out', out, '--json'],
      /bow-scratch\s+k=2\s+seed=0/);
    assert.equal(code, 130, `exit ${code}\n${stderr}`);
    const planned = 2 * 1 * 4 * 2; // gloss and fortune tasks, k=2, four seeds, two methods
    assert.match(stderr, new RegExp(`selfsup experiment: interrupted after \\d+ of ${planned} runs; the partial results are in .*results\\.json \\(marked "partial": true\\)`));
    assert.match(stderr, /experiment: Ctrl-C: stopping after the current run/);
    assert.match(stderr, /PARTIAL RESULTS: interrupted after \d+ of 16 runs/); // the table goes to stderr under --json
    assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
    const j = JSON.parse(stdout.trim().split('\n').at(-1)!);
    assert.equal(j.ok, false);
    assert.equal(j.exitCode, 130);
    assert.equal(j.partial, true);
    assert.equal(j.interrupted, true);
    assert.equal(j.runsPlanned, planned);
    assert.ok(j.runsDone >= 1 && j.runsDone < planned, `${j.runsDone} runs done`);
    assert.equal(j.results.reduce((n: number, x: { runs: number[] }) => n + x.runs.length, 0), j.runsDone, 'the gloss task holds every finished run');
    const saved = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(saved.partial, true);
    assert.match(saved.title, /\(partial\)$/);
    assert.deepEqual(saved.results, j.results);
    assert.ok(existsSync(join(out, 'report-data.json')));
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /Interrupted by Ctrl-C/);
  });
});
