// Label spreading and kNN votes: the graph and the spread scores against a dense
// float64 PyTorch reference (test/fixtures/label_spreading.json, from
// scripts/make_label_spreading_fixture.py), then input checks and leaks.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tensor, memory, tidy, randn, manualSeed } from '../src/tensor/index.js';
import { knnGraph, spreadLabels, spreadAndVote } from '../src/eval/label-spreading.js';
import { knnVotes, knnClassify } from '../src/eval/knn.js';

interface Enc { shape: number[]; data: number[] }
interface Case { k: number; alpha: number; iterations: number; features: Enc; seeds: Enc; neighbors: number[][]; spread: number[] }
const cases: Case[] = JSON.parse(readFileSync(new URL('../../test/fixtures/label_spreading.json', import.meta.url), 'utf8'));
const t = (e: Enc) => tensor(Float32Array.from(e.data), { shape: e.shape });

describe('label spreading against PyTorch', () => {
  for (const [i, c] of cases.entries()) {
    test(`case ${i}: ${c.features.shape[0]} points, k=${c.k}, alpha ${c.alpha}, ${c.iterations} iterations`, () => {
      const before = memory().numTensors;
      const features = t(c.features);
      const seeds = t(c.seeds);
      const graph = knnGraph(features, c.k, { chunk: 16 }); // several chunks, so the self-masking per chunk is tested
      const neighbors = graph.indices.toArray() as number[][];
      // Ties aside, the same neighbours in the same order.
      assert.deepEqual(neighbors, c.neighbors);
      const spread = spreadLabels(graph, seeds, { alpha: c.alpha, iterations: c.iterations });
      const got = spread.dataNumbers();
      const worst = Math.max(...got.map((v, j) => Math.abs(v - c.spread[j]!)));
      assert.ok(worst < 1e-5, `largest difference from the reference: ${worst}`);
      for (const x of [features, seeds, spread]) x.dispose();
      graph.dispose();
      assert.equal(memory().numTensors, before, 'nothing left alive');
    });
  }
});

describe('label spreading: checks', () => {
  test('bad k, alpha and seed shapes are clear errors', () => {
    manualSeed(0);
    const f = randn([10, 3]);
    assert.throws(() => knnGraph(f, 10), /knnGraph: k must be an integer in 1\.\.9, got 10/);
    const g = knnGraph(f, 3);
    const seeds = randn([9, 2]);
    assert.throws(() => spreadLabels(g, seeds), /spreadLabels: seeds must be \[10, classes\], got \[9, 2\]/);
    assert.throws(() => spreadLabels(g, randn([10, 2]).softmax(1), { alpha: 1 }), /alpha must be in \[0, 1\)/);
    for (const x of [f, seeds]) x.dispose();
    g.dispose();
  });

  test('alpha 0 returns the seeds; knnVotes rows sum to 1 and agree with knnClassify', () => {
    manualSeed(1);
    tidy(() => {
      const f = randn([30, 4]);
      const g = knnGraph(f, 5);
      const seeds = randn([30, 3]).softmax(1);
      assert.deepEqual(spreadLabels(g, seeds, { alpha: 0 }).dataNumbers().map((v) => v.toFixed(6)), seeds.dataNumbers().map((v) => v.toFixed(6)));
      g.dispose();
      const labels = tensor(BigInt64Array.from({ length: 30 }, (_, i) => BigInt(i % 3)));
      const test = randn([12, 4]);
      const votes = knnVotes(f, labels, test, 3, { k: 7, temperature: 0.1 });
      for (const s of votes.sum(1).dataNumbers()) assert.ok(Math.abs(s - 1) < 1e-5);
      const knn = knnClassify(f, labels, test, labels.slice(0, 0, 12), 3, { k: 7, temperature: 0.1 });
      assert.deepEqual(Array.from(votes.argmax(1).dataNumbers()), Array.from(knn.predictions));
    });
  });
});

describe('spreadAndVote: the propagate protocol', () => {
  // Two tight clusters along different axes, one labelled point in each; test points near each cluster.
  const cluster = (axis: number, n: number, jitter: number[]): number[][] => Array.from({ length: n }, (_, i) => {
    const v = [0.05 * jitter[i % jitter.length]!, 0.05 * jitter[(i + 1) % jitter.length]!, 0.05 * jitter[(i + 2) % jitter.length]!];
    v[axis] = 1;
    return v;
  });
  const jitter = [0.3, -0.7, 0.1, 0.9, -0.2, 0.5, -0.4];
  const pool = tensor(Float32Array.from([...cluster(0, 8, jitter), ...cluster(1, 8, jitter.slice().reverse())].flat()), { shape: [16, 3] });
  const testPoints = tensor(Float32Array.from([[1, 0.1, 0], [0.1, 1, 0.05], [0.9, 0, 0.1]].flat()), { shape: [3, 3] });

  test('one label per cluster reaches the whole cluster and the test points near it', () => {
    const before = memory().numTensors;
    const graph = knnGraph(pool, 3);
    const labels = tensor(Int32Array.from([0, 1]), { dtype: 'int64' });
    const r = spreadAndVote(graph, pool, testPoints, { labelledRows: Int32Array.from([2, 11]), labels, numClasses: 2, teacher: null, alpha: 0.9, iterations: 30, neighbors: 3, classBalance: true });
    assert.deepEqual(Array.from(r.poolLabels.dataNumbers()), [...Array(8).fill(0), ...Array(8).fill(1)]);
    tidy(() => assert.deepEqual(Array.from(r.scores.argmax(1).dataNumbers()), [0, 1, 0]));
    for (const x of [r.scores, r.poolLabels, labels]) x.dispose();
    graph.dispose();
    assert.equal(memory().numTensors, before, 'nothing left alive');
  });

  test('labelled rows override a wrong teacher there, and withTeacher adds its test probabilities', () => {
    const graph = knnGraph(pool, 3);
    const labels = tensor(Int32Array.from([0, 1]), { dtype: 'int64' });
    // A teacher that says class 1 everywhere, weakly: the labels must win on the pool.
    const wrong = tensor(Float32Array.from(Array.from({ length: 16 }, () => [0.45, 0.55]).flat()), { shape: [16, 2] });
    const sure = tensor(Float32Array.from(Array.from({ length: 3 }, () => [0, 5]).flat()), { shape: [3, 2] });
    const o = { labelledRows: Int32Array.from([2, 11]), labels, numClasses: 2, teacher: { pool: wrong, test: sure }, alpha: 0.99, iterations: 50, neighbors: 3, classBalance: true };
    const alone = spreadAndVote(graph, pool, testPoints, o);
    assert.deepEqual(Array.from(alone.scores.argmax(1).dataNumbers()), [0, 1, 0], 'the vote of the spread labels');
    const withTeacher = spreadAndVote(graph, pool, testPoints, { ...o, withTeacher: true });
    assert.deepEqual(Array.from(withTeacher.scores.argmax(1).dataNumbers()), [1, 1, 1], 'a sure teacher outvotes the neighbours');
    const diff = withTeacher.scores.sub(alone.scores).sub(sure).abs().max().item();
    assert.ok(diff < 1e-6, `scores are the vote plus the teacher's test probabilities (off by ${diff})`);
    for (const x of [alone.scores, alone.poolLabels, withTeacher.scores, withTeacher.poolLabels, labels, wrong, sure]) x.dispose();
    graph.dispose();
  });
});
