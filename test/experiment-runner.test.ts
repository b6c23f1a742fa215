// The grid runner both experiments stand on: the order it walks k, seeds and
// methods in (seedsPerK included), what it records for each finished run, the
// summary, and how Ctrl-C or an interrupted run stops it with partial results.
// No tensors: the "evaluations" are made-up accuracies.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GridRunner, gridSeeds, plannedRuns, type Grid, type RunnerOptions } from '../src/experiment/runner.js';
import { InterruptWatch } from '../src/experiment/interrupt.js';
import { MetricsLog } from '../src/train/metrics-log.js';
import { summarize } from '../src/experiment/summary.js';

const tmp = mkdtempSync(join(tmpdir(), 'selfsup-runner-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let files = 0;

/** A runner over `grid` with a metrics file, a log and a watch that does not listen for SIGINT. */
function setup<M extends string>(grid: Grid<M>, over: Partial<RunnerOptions<M>> = {}) {
  const path = join(tmp, `metrics${files++}.jsonl`);
  const lines: string[] = [];
  const stop = new InterruptWatch('experiment', (l) => lines.push(l), false);
  const runner = new GridRunner(grid, {
    stop, metrics: new MetricsLog(path), log: (l) => lines.push(l), line: (r) => `${r.method} k=${r.k} seed=${r.seed} ${r.accuracy}`, ...over,
  });
  const results = (): Record<string, unknown>[] => readFileSync(path, 'utf8').trim().split('\n').filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.kind === 'result');
  return { runner, stop, lines, results };
}

/** A made-up accuracy that names its run: method index, k and seed. */
const acc = (methods: readonly string[], method: string, k: number, seed: number): number => (methods.indexOf(method) + 1) / 10 + k / 1000 + seed / 100000;

describe('GridRunner', () => {
  test('walks k outermost, then its seeds (seedsPerK), then the methods in order; one subset per (k, seed); records each run', async () => {
    const grid: Grid = { ks: [10, 1], seeds: [0, 1, 2], seedsPerK: { 1: [7] }, methods: ['b', 'a'] };
    assert.deepEqual(gridSeeds(grid, 10), [0, 1, 2]);
    assert.deepEqual(gridSeeds(grid, 1), [7]);
    assert.equal(plannedRuns(grid), 2 * (3 + 1));
    const { runner, lines, results } = setup(grid);
    const subsets: string[] = [];
    const released: string[] = [];
    const evaluated: string[] = [];
    const out = await runner.run({
      subset: (k, seed) => {
        subsets.push(`${k}/${seed}`);
        return `subset ${k}/${seed}`;
      },
      release: (s) => released.push(s),
      evaluateMethod: async (method, cell) => {
        assert.equal(cell.subset, `subset ${cell.k}/${cell.seed}`, 'each method gets its own cell\'s subset');
        evaluated.push(`${method} ${cell.k}/${cell.seed}`);
        return acc(grid.methods, method, cell.k, cell.seed);
      },
    });
    assert.deepEqual(out, { stopped: false });
    assert.deepEqual(subsets, ['10/0', '10/1', '10/2', '1/7']);
    assert.deepEqual(released, subsets.map((s) => `subset ${s}`), 'every subset released once, in order');
    assert.deepEqual(evaluated, ['b 10/0', 'a 10/0', 'b 10/1', 'a 10/1', 'b 10/2', 'a 10/2', 'b 1/7', 'a 1/7']);
    assert.deepEqual(results().map((r) => [r.method, r.k, r.seed, r.accuracy]), evaluated.map((e) => {
      const [m, ks] = e.split(' ');
      const [k, seed] = ks!.split('/').map(Number);
      return [m, k, seed, acc(grid.methods, m!, k!, seed!)];
    }));
    assert.deepEqual(Object.keys(results()[0]!), ['time', 'kind', 'method', 'k', 'seed', 'accuracy'], 'no context, not timed: the image experiment\'s result line');
    assert.equal(lines[0], `b k=10 seed=0 ${acc(grid.methods, 'b', 10, 0)}`);
    assert.equal(lines.length, 8);
    assert.equal(runner.runsDone, 8);
    assert.equal(runner.runsPlanned, 8);
    assert.equal(runner.interrupted, false);
    assert.deepEqual(runner.accuracies('a', 10), [0, 1, 2].map((s) => acc(grid.methods, 'a', 10, s)));
  });

  test('results: mean and std per method (grid order) and k (grid order), as summarize makes them; parts name pretext and protocol', async () => {
    const grid: Grid = { ks: [5, 2], seeds: [0, 1], methods: ['z-knn', 'scratch'] };
    const { runner } = setup(grid);
    await runner.run({ subset: () => null, evaluateMethod: async (m, { k, seed }) => acc(grid.methods, m, k, seed) });
    const at = (m: string, k: number): number[] => [0, 1].map((s) => acc(grid.methods, m, k, s));
    assert.deepEqual(runner.results(), [
      summarize('z-knn', 5, at('z-knn', 5)), summarize('z-knn', 2, at('z-knn', 2)),
      summarize('scratch', 5, at('scratch', 5)), summarize('scratch', 2, at('scratch', 2)),
    ]);
    const parts = (m: string): { pretext: string | null; protocol: string } => (m === 'scratch' ? { pretext: null, protocol: 'scratch' } : { pretext: 'z', protocol: 'knn' });
    const withParts = runner.results(parts);
    assert.deepEqual(Object.keys(withParts[0]!), ['method', 'pretext', 'protocol', 'k', 'mean', 'std', 'runs'], 'the results JSON shape of the image experiment');
    assert.deepEqual(Object.keys(runner.results()[0]!), ['method', 'k', 'mean', 'std', 'runs'], 'and of the text experiment');
    const r = withParts[2]!;
    assert.equal(r.mean, (at('scratch', 5)[0]! + at('scratch', 5)[1]!) / 2);
    assert.ok(r.std > 0);
  });

  test('Ctrl-C during a run: that run is recorded, nothing after it starts, the results are partial', async () => {
    const grid: Grid = { ks: [1, 2], seeds: [0, 1], methods: ['a', 'b', 'c'] };
    const { runner, stop, results } = setup(grid);
    const evaluated: string[] = [];
    const released: unknown[] = [];
    const out = await runner.run({
      subset: (k, seed) => ({ k, seed }),
      release: (s) => released.push(s),
      evaluateMethod: async (m, { k, seed }) => {
        evaluated.push(`${m} ${k}/${seed}`);
        if (m === 'b' && seed === 1) stop.markInterrupted(); // as the watch does on SIGINT
        return 0.5;
      },
    });
    assert.deepEqual(out, { stopped: true });
    assert.deepEqual(evaluated, ['a 1/0', 'b 1/0', 'c 1/0', 'a 1/1', 'b 1/1']);
    assert.deepEqual(results().map((r) => `${r.method} ${r.k}/${r.seed}`), evaluated, 'the run under way finished and counts');
    assert.deepEqual(released, [{ k: 1, seed: 0 }, { k: 1, seed: 1 }], 'the stopped cell\'s subset is released too');
    assert.equal(runner.runsDone, 5);
    assert.equal(runner.runsPlanned, 12);
    assert.equal(runner.interrupted, true);
    assert.deepEqual(runner.results().map((r) => [r.method, r.k, r.runs.length]), [['a', 1, 2], ['b', 1, 2], ['c', 1, 1]]);
  });

  test('a real SIGINT between runs stops the grid after the run that finished', async () => {
    const grid: Grid = { ks: [3], seeds: [0, 1, 2], methods: ['a'] };
    const lines: string[] = [];
    const listeners = process.listenerCount('SIGINT');
    let evaluated = 0;
    {
      using stop = new InterruptWatch('experiment', (l) => lines.push(l), true);
      const runner = new GridRunner(grid, { stop, metrics: new MetricsLog(null), log: (l) => lines.push(l), line: (r) => `${r.method} seed=${r.seed}` });
      const out = await runner.run({
        subset: () => null,
        evaluateMethod: async () => {
          if (++evaluated === 2) process.emit('SIGINT');
          return 0.25;
        },
      });
      assert.deepEqual(out, { stopped: true });
      assert.equal(runner.runsDone, 2);
      assert.equal(runner.interrupted, true);
    }
    assert.equal(evaluated, 2);
    assert.ok(lines.some((l) => /experiment: Ctrl-C: stopping after the current run/.test(l)), lines.join('\n'));
    assert.deepEqual(lines.filter((l) => l.startsWith('a ')), ['a seed=0', 'a seed=1']);
    assert.equal(process.listenerCount('SIGINT'), listeners);
  });

  test('an interrupted run (null) is not counted and stops the grid; undefined skips a method and goes on', async () => {
    const grid: Grid = { ks: [1], seeds: [0, 1], methods: ['a', 'skipped', 'b'] };
    const { runner, results } = setup(grid);
    const out = await runner.run({
      subset: () => null,
      evaluateMethod: async (m, { seed }) => (m === 'skipped' ? undefined : m === 'b' && seed === 1 ? null : 0.5),
    });
    assert.deepEqual(out, { stopped: true });
    assert.deepEqual(results().map((r) => `${r.method}/${r.seed}`), ['a/0', 'b/0', 'a/1']);
    assert.equal(runner.runsDone, 3);
    assert.equal(runner.runsPlanned, 6, 'a skipped method still counts as planned');
  });

  test('Ctrl-C before the grid: no subset is drawn, no run starts', async () => {
    const { runner, stop } = setup({ ks: [1], seeds: [0], methods: ['a'] });
    stop.markInterrupted();
    let subsets = 0;
    const out = await runner.run({ subset: () => subsets++, evaluateMethod: async () => 1 });
    assert.deepEqual(out, { stopped: true });
    assert.equal(subsets, 0);
    assert.equal(runner.runsDone, 0);
    assert.equal(runner.interrupted, true);
    assert.deepEqual(runner.results(), []);
  });

  test('a cell evaluator runs its methods in its own order through record; false stops; records outside the cell under way throw', async () => {
    const grid: Grid = { ks: [4], seeds: [0, 1], methods: ['a', 'b'] };
    const { runner, results } = setup(grid, { context: { task: 'T' }, timed: true });
    await assert.rejects(runner.record('a', 4, 0, 0.1), /not the cell under way \(none\)/);
    const out = await runner.run({
      subset: () => null,
      evaluate: async ({ k, seed }) => {
        await assert.rejects(runner.record('a', k, seed + 1, 0.1), /a k=4 seed=\d is not the cell under way \(k=4 seed=\d\)/);
        await assert.rejects(runner.record('nope' as string, k, seed, 0.1), /'nope' is not one of the grid's methods/);
        if (!(await runner.record('b', k, seed, 0.2))) return false;
        if (!(await runner.record('a', k, seed, 0.1))) return false;
        return seed < 0; // stop after the first cell
      },
    });
    assert.deepEqual(out, { stopped: true });
    const lines = results();
    assert.deepEqual(lines.map((r) => r.method), ['b', 'a']);
    assert.deepEqual(Object.keys(lines[0]!), ['time', 'kind', 'task', 'method', 'k', 'seed', 'accuracy', 'seconds'], 'the text experiment\'s result line');
    assert.equal(lines[0]!.task, 'T');
    assert.ok(typeof lines[0]!.seconds === 'number' && lines[0]!.seconds >= 0);
    assert.deepEqual(Object.keys(runner.seconds), ['b', 'a']);
    assert.equal(runner.interrupted, false, 'stopped by its evaluator, not by Ctrl-C');
    await assert.rejects(runner.run({ subset: () => null, evaluate: async () => true }), /walks its grid once/);
  });
});
