// Label spreading and kNN votes: the graph and the spread scores against a dense
// float64 PyTorch reference (test/fixtures/label_spreading.json, from
// scripts/make_label_spreading_fixture.py), then input checks and leaks.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tensor, memory, tidy, randn, manualSeed } from '../src/tensor/index.js';
import { knnGraph, spreadLabels } from '../src/eval/label-spreading.js';
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
