// The tile pretexts: the jittered grid cutter (transforms/grid-tiles.ts), the jigsaw's
// maximal-Hamming permutation set (ssl/permutations.ts), and the two methods built on
// them (jigsaw, relative-patch): labels against what was actually cut, learning on toy
// data, repeatable validation, and the permutation set surviving checkpoints and resume.
// The shared method contract covers both too (test/method-contract.test.ts).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, tensor, memory, setNumThreads, manualSeed, tidy } from '../src/tensor/index.js';
import { Rng } from '../src/data/random.js';
import { tileGrid, sampleTilePositions, cutTiles, gridTiles, standardizeTiles, resizeBatch, assembleTiles } from '../src/ssl/transforms/index.js';
import { allPermutations, maximalHammingPermutations, hammingDistance, pairwiseDistances } from '../src/ssl/permutations.js';
import { JigsawPuzzle } from '../src/ssl/methods/jigsaw.js';
import { RelativePatchLocation, NEIGHBOUR_CELLS, CENTRE_CELL } from '../src/ssl/methods/relative-patch.js';
import { loadCheckpoint } from '../src/io/index.js';
import { smallHeads, toyRun, freshMethod, runSteps, makeEncoder } from './support/method-contract.js';
import { blobImages } from './support/toy-images.js';

setNumThreads(1);

/** A seeded batch of uniform [0, 1) values (from a JS Rng, not libtorch's generator). */
function batchOf(shape: [number, number, number, number], seed = 1): Tensor {
  const rng = new Rng(seed, 999);
  return tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next()), { shape });
}

/** Images [B, 1, size, size] whose grid x grid cells are constant: cell k (row-major) holds k + 1, leftover pixels 0. */
function cellImages(batch: number, size: number, grid = 3): Tensor {
  const cell = Math.floor(size / grid);
  const off = Math.floor((size - grid * cell) / 2);
  const v = new Float32Array(batch * size * size);
  for (let b = 0; b < batch; b++) for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const [r, c] = [Math.floor((y - off) / cell), Math.floor((x - off) / cell)];
    const inside = y >= off && x >= off && r < grid && c < grid;
    v[b * size * size + y * size + x] = inside ? r * grid + c + 1 : 0;
  }
  return tensor(v, { shape: [batch, 1, size, size] });
}

/** The value of each tile of [B, S, C, t, t] when it is constant (else NaN), as [B][S]. */
function tileValues(tiles: Tensor): number[][] {
  const [b, s, c, t] = tiles.shape as [number, number, number, number];
  const v = tiles.dataNumbers();
  const per = c * t * t;
  return Array.from({ length: b }, (_, i) => Array.from({ length: s }, (_, j) => {
    const chunk = v.slice((i * s + j) * per, (i * s + j + 1) * per);
    return chunk.every((e) => e === chunk[0]) ? chunk[0]! : NaN;
  }));
}

describe('grid tiles', () => {
  test('geometry: cells, jitter and a RangeError when tile + gap do not fit', () => {
    const g = tileGrid(64, 64, { tile: 16, gap: 2 });
    assert.deepEqual([g.grid, g.cellHeight, g.cellWidth, g.top, g.left, g.jitterY, g.jitterX], [3, 21, 21, 0, 0, 3, 3]);
    const odd = tileGrid(30, 65, { grid: 3, tile: 8, gap: 1 });
    assert.deepEqual([odd.cellHeight, odd.cellWidth, odd.top, odd.left], [10, 21, 0, 1]);
    assert.throws(() => tileGrid(64, 64, { tile: 20, gap: 2 }), /must fit/);
    assert.throws(() => tileGrid(64, 64, { tile: 0 }), RangeError);
    assert.throws(() => tileGrid(64, 64, { tile: 8, gap: -1 }), RangeError);
  });

  test('positions repeat from the seed, stay in their cells and keep at least the gap between neighbours', () => {
    const g = tileGrid(64, 64, { tile: 16, gap: 2 });
    const a = sampleTilePositions(50, g, new Rng(4));
    const b = sampleTilePositions(50, g, new Rng(4));
    const c = sampleTilePositions(50, g, new Rng(5));
    assert.deepEqual([a.top, a.left], [b.top, b.left], 'the same seed, the same positions');
    assert.notDeepEqual([a.top, a.left], [c.top, c.left], 'another seed, other positions');
    const offsets = new Set<number>();
    let minGap = Infinity;
    let maxGap = -Infinity;
    for (let i = 0; i < 50; i++) {
      for (let k = 0; k < 9; k++) {
        const [r, col] = [Math.floor(k / 3), k % 3];
        const [top, left] = [a.top[i * 9 + k]!, a.left[i * 9 + k]!];
        assert.ok(top >= r * 21 && top + 16 <= (r + 1) * 21 && left >= col * 21 && left + 16 <= (col + 1) * 21, `image ${i} cell ${k} at (${top}, ${left})`);
        offsets.add(top - r * 21);
        if (col < 2) {
          const gap = a.left[i * 9 + k + 1]! - (left + 16);
          minGap = Math.min(minGap, gap);
          maxGap = Math.max(maxGap, gap);
        }
        if (r < 2) minGap = Math.min(minGap, a.top[i * 9 + k + 3]! - (top + 16));
      }
    }
    assert.deepEqual([...offsets].sort(), [1, 2, 3, 4], 'offsets cover gap/2 .. gap/2 + jitter');
    assert.ok(minGap >= 2, `least gap ${minGap}`);
    assert.equal(maxGap, 8, 'neighbours are up to 2 + 2 x 3 pixels apart');
  });

  test('cutTiles cuts exactly the pixels of each slot\'s cell, [B, S, C, t, t], for any channel count', () => {
    const x = batchOf([3, 2, 20, 23], 2);
    const g = tileGrid(20, 23, { tile: 4, gap: 1 });
    const pos = sampleTilePositions(3, g, new Rng(9));
    const cells = Int32Array.from([8, 0, 4, 3, 3, 7, 1, 2, 5, 6, 0, 4]);
    const tiles = cutTiles(x, pos, cells, 4);
    assert.deepEqual(tiles.shape, [3, 4, 2, 4, 4]);
    const got = tiles.dataNumbers();
    const src = x.dataNumbers();
    for (let b = 0; b < 3; b++) for (let s = 0; s < 4; s++) for (let ch = 0; ch < 2; ch++) for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
      const at = b * 9 + cells[b * 4 + s]!;
      const want = src[((b * 2 + ch) * 20 + pos.top[at]! + i) * 23 + pos.left[at]! + j]!;
      assert.equal(got[((((b * 4 + s) * 2 + ch) * 4 + i) * 4) + j], want, `image ${b} slot ${s} channel ${ch} pixel (${i}, ${j})`);
    }
    x.dispose();
    tiles.dispose();
  });

  test('a cell\'s tile lies wholly in that cell: constant cells give constant tiles of the cell\'s value', () => {
    const x = cellImages(2, 64);
    const cells = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const { tiles } = gridTiles(x, new Rng(1), cells, 9, { tile: 16, gap: 2 });
    assert.deepEqual(tileValues(tiles), [[1, 2, 3, 4, 5, 6, 7, 8, 9], [9, 8, 7, 6, 5, 4, 3, 2, 1]]);
    x.dispose();
    tiles.dispose();
  });

  test('resizeBatch and standardizeTiles: sizes, a flat tile stays flat, the others get mean 0 and std 1; nothing leaks', () => {
    const before = memory().numTensors;
    tidy(() => {
      const x = batchOf([2, 1, 28, 28], 3);
      assert.deepEqual(resizeBatch(x, 64).shape, [2, 1, 64, 64]);
      const same = resizeBatch(x, 28);
      assert.notEqual(same, x);
      assert.equal(same.sub(x).abs().max().item(), 0);
      const { tiles } = gridTiles(resizeBatch(x, 64), new Rng(2), Int32Array.from({ length: 18 }, (_, i) => i % 9), 9, { tile: 16, gap: 2 });
      const z = standardizeTiles(tiles);
      assert.ok(z.mean([3, 4]).abs().max().item() < 1e-5);
      assert.ok(z.std([3, 4], { unbiased: false }).sub(1).abs().max().item() < 1e-4);
      const flat = standardizeTiles(cutTiles(cellImages(1, 64), sampleTilePositions(1, tileGrid(64, 64, { tile: 16 }), new Rng(0)), [0, 4], 2));
      assert.equal(flat.abs().max().item(), 0);
    });
    assert.equal(memory().numTensors, before);
  });

  test('errors: wrong cell counts, cells outside the grid, positions of another batch', () => {
    const x = batchOf([2, 1, 12, 12]);
    const pos = sampleTilePositions(2, tileGrid(12, 12, { tile: 3 }), new Rng(0));
    assert.throws(() => cutTiles(x, pos, [0, 1, 2], 2), /cell numbers/);
    assert.throws(() => cutTiles(x, pos, [0, 9], 1), /not in 0..8/);
    assert.throws(() => cutTiles(batchOf([3, 1, 12, 12]), pos, [0, 1, 2], 1), /positions are for 2 images/);
    x.dispose();
  });
});

/** The paper's greedy algorithm, written out plainly: argmax of the summed distance, ties to the larger nearest distance, then the first. */
function referenceGreedy(n: number, count: number, first: number): number[][] {
  const all = allPermutations(n);
  const total = all.length / n;
  const chosen = [first];
  while (chosen.length < count) {
    let best = -1;
    let key = [-1, -1];
    for (let c = 0; c < total; c++) {
      if (chosen.includes(c)) continue;
      const ds = chosen.map((p) => hammingDistance(all, c, all, p, n));
      const k = [ds.reduce((a, b) => a + b, 0), Math.min(...ds)];
      if (k[0]! > key[0]! || (k[0] === key[0] && k[1]! > key[1]!)) [best, key] = [c, k];
    }
    chosen.push(best);
  }
  return chosen.map((c) => Array.from(all.subarray(c * n, (c + 1) * n)));
}

describe('maximal-Hamming permutation set', () => {
  test('allPermutations: n! distinct orders in lexicographic order', () => {
    const p = allPermutations(4);
    const rows = Array.from({ length: 24 }, (_, i) => Array.from(p.subarray(i * 4, i * 4 + 4)).join(''));
    assert.equal(new Set(rows).size, 24);
    assert.deepEqual(rows, [...rows].sort());
    assert.equal(rows[0], '0123');
    assert.equal(rows[23], '3210');
  });

  test('9 tiles, N = 64: distinct orders, deterministic per seed, minimum distance 4 (mean 8.125)', () => {
    const a = maximalHammingPermutations(9, 64);
    const b = maximalHammingPermutations(9, 64, { seed: 0 });
    const c = maximalHammingPermutations(9, 64, { seed: 1 });
    assert.deepEqual(a.perms, b.perms);
    assert.notDeepEqual(a.perms, c.perms);
    const rows = Array.from({ length: 64 }, (_, i) => Array.from(a.perms.subarray(i * 9, i * 9 + 9)));
    assert.equal(new Set(rows.map((r) => r.join())).size, 64, 'no order twice');
    for (const r of rows) assert.deepEqual([...r].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8], `each row is an order of the 9 tiles: ${r}`);
    const d = pairwiseDistances(a.perms, 64, 9);
    assert.equal(a.minDistance, d.min);
    assert.equal(a.minDistance, 4);
    assert.equal(a.meanDistance.toFixed(3), '8.125');
    // Random sets of 64 orders have pairs at distance 2 or 3; the greedy set's are all at least 4.
    assert.ok(hammingDistance(a.perms, 0, a.perms, 1, 9) === 9, 'the second order is as far from the first as can be');
  });

  test('N = 100 is settable and keeps every pair at least 4 apart', () => {
    const s = maximalHammingPermutations(9, 100);
    assert.equal(s.count, 100);
    assert.equal(s.perms.length, 900);
    assert.ok(s.minDistance >= 4, `minimum distance ${s.minDistance}`);
  });

  test('the greedy steps match a plain re-implementation of the paper\'s algorithm (5 tiles, 12 orders)', () => {
    const set = maximalHammingPermutations(5, 12, { seed: 3 });
    const all = allPermutations(5);
    const rows = Array.from({ length: 12 }, (_, i) => Array.from(set.perms.subarray(i * 5, i * 5 + 5)));
    const first = Array.from({ length: 120 }, (_, c) => Array.from(all.subarray(c * 5, c * 5 + 5)).join()).indexOf(rows[0]!.join());
    assert.deepEqual(rows, referenceGreedy(5, 12, first));
  });

  test('bad arguments are RangeErrors', () => {
    assert.throws(() => maximalHammingPermutations(10, 5), RangeError);
    assert.throws(() => maximalHammingPermutations(3, 7), RangeError);
    assert.throws(() => maximalHammingPermutations(9, 1), RangeError);
  });
});

describe('jigsaw and relative patch: labels are what was cut', () => {
  test('jigsaw: slot i shows the tile of cell perms[label][i]', () => {
    const m = new JigsawPuzzle(makeEncoder(), { imageSize: 64, tile: 16, gap: 2, tileDim: 8, hiddenDim: 16 });
    const x = cellImages(40, 64);
    const { x: tiles, y } = m.puzzles(x, new Rng(6));
    assert.deepEqual(tiles.shape, [40, 9, 1, 16, 16]);
    assert.equal(y.dtype, 'int64');
    const labels = y.dataNumbers();
    const set = m.permutationSet();
    const values = tileValues(tiles);
    for (let b = 0; b < 40; b++) {
      const order = Array.from(set.perms.subarray(labels[b]! * 9, labels[b]! * 9 + 9));
      assert.deepEqual(values[b], order.map((c) => c + 1), `puzzle ${b} (label ${labels[b]})`);
    }
    assert.ok(new Set(labels).size > 20, 'labels spread over the set');
    const again = m.puzzles(x, new Rng(6));
    assert.deepEqual(again.y.dataNumbers(), labels, 'the same Rng, the same puzzles');
    assert.equal(again.x.sub(tiles).abs().max().item(), 0);
    for (const t of [x, tiles, y, again.x, again.y]) t.dispose();
    m.dispose();
  });

  test('jigsaw on a 2x2 grid: four tiles, all 24 orders by default, slot i shows cell perms[label][i]', () => {
    const m = new JigsawPuzzle(makeEncoder(), { grid: 2, imageSize: 32, tile: 12, gap: 2, tileDim: 8, hiddenDim: 16 });
    assert.equal(m.classes, 24);
    assert.deepEqual(m.permutations.shape, [24, 4]);
    const set = m.permutationSet();
    assert.equal(set.tiles, 4);
    assert.equal(new Set(Array.from({ length: 24 }, (_, p) => Array.from(set.perms.subarray(p * 4, p * 4 + 4)).join())).size, 24, 'every order of 4 tiles once');
    assert.deepEqual((m.describe().tiles as { grid: number; slots: number }).grid, 2);
    const x = cellImages(40, 32, 2);
    const { x: tiles, y } = m.puzzles(x, new Rng(5));
    assert.deepEqual(tiles.shape, [40, 4, 1, 12, 12]);
    const labels = y.dataNumbers();
    const values = tileValues(tiles);
    for (let b = 0; b < 40; b++) {
      const order = Array.from(set.perms.subarray(labels[b]! * 4, labels[b]! * 4 + 4));
      assert.deepEqual(values[b], order.map((c) => c + 1), `puzzle ${b} (label ${labels[b]})`);
    }
    const scores = m.forward(tiles);
    assert.deepEqual(scores.shape, [40, 24]);
    for (const t of [x, tiles, y, scores]) t.dispose();
    m.dispose();
    const e = makeEncoder();
    assert.throws(() => new JigsawPuzzle(e, { grid: 4 }), /grid must be 2 or 3/);
    assert.throws(() => new JigsawPuzzle(e, { grid: 2, imageSize: 32, tile: 12, permutations: 30 }), RangeError);
    const ten = new JigsawPuzzle(makeEncoder(), { grid: 2, imageSize: 32, tile: 12, permutations: 10, tileDim: 8, hiddenDim: 16 });
    assert.equal(ten.classes, 10);
    ten.dispose();
    e.dispose();
  });

  test('jigsaw with input assembled: the shown tiles edge to edge as one image, slot s at row s / 2, column s % 2', () => {
    const opts = { grid: 2, imageSize: 32, tile: 12, gap: 2, tileDim: 8, hiddenDim: 16 };
    const m = new JigsawPuzzle(makeEncoder(), { ...opts, input: 'assembled' });
    const tilesToo = new JigsawPuzzle(makeEncoder(), opts);
    assert.equal((m.describe().tiles as { input: string }).input, 'assembled');
    const x = batchOf([6, 1, 32, 32], 4);
    const { x: image, y } = m.puzzles(x, new Rng(8));
    const { x: tiles, y: sameY } = tilesToo.puzzles(x, new Rng(8));
    assert.deepEqual(image.shape, [6, 1, 24, 24]);
    assert.deepEqual(y.dataNumbers(), sameY.dataNumbers(), 'the same draws give the same orders');
    const px = image.dataNumbers();
    const tv = tiles.dataNumbers();
    for (let b = 0; b < 6; b++) for (let s = 0; s < 4; s++) for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) {
      const want = tv[((b * 4 + s) * 12 + i) * 12 + j]!;
      const got = px[(b * 24 + Math.floor(s / 2) * 12 + i) * 24 + (s % 2) * 12 + j]!;
      assert.equal(got, want, `image ${b} slot ${s} pixel ${i},${j}`);
    }
    const scores = m.forward(image);
    assert.deepEqual(scores.shape, [6, 24]);
    assert.throws(() => m.forward(tiles), /assembled puzzles \[B, C, H, W\]/);
    assert.throws(() => assembleTiles(tiles, 3), /expected square tiles \[B, 9, C, t, t\]/);
    assert.throws(() => new JigsawPuzzle(makeEncoder(), { ...opts, input: 'whole' as 'tiles' }), /input must be 'tiles' or 'assembled'/);
    for (const t of [x, image, y, tiles, sameY, scores]) t.dispose();
    m.dispose();
    tilesToo.dispose();
  });

  test('relative-patch: slot 0 is the centre, slot 1 the neighbour the label names', () => {
    const m = new RelativePatchLocation(makeEncoder(), { tileDim: 8, hiddenDim: 16 });
    const x = cellImages(40, 64);
    const { x: tiles, y } = m.puzzles(x, new Rng(2));
    assert.deepEqual(tiles.shape, [40, 2, 1, 14, 14]);
    const labels = y.dataNumbers();
    const values = tileValues(tiles);
    for (let b = 0; b < 40; b++) assert.deepEqual(values[b], [CENTRE_CELL + 1, NEIGHBOUR_CELLS[labels[b]!]! + 1], `pair ${b} (label ${labels[b]})`);
    assert.deepEqual([...new Set(labels)].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
    for (const t of [x, tiles, y]) t.dispose();
    m.dispose();
  });

  test('bad geometry and options are RangeErrors', () => {
    const e = makeEncoder();
    assert.throws(() => new RelativePatchLocation(e, { tile: 20, gap: 4 }), /must fit/);
    assert.throws(() => new JigsawPuzzle(e, { tileNorm: 'x' as never }), /tileNorm/);
    assert.throws(() => new JigsawPuzzle(e, { head: 'x' as never }), /head/);
    e.dispose();
  });
});

/** Trains `name` for `steps` steps on 64 toy ellipses (the contract's bars give a tile no clue to its place); the method is returned for validation. */
async function toyTraining(name: string, steps: number) {
  const r = toyRun(name, { data: blobImages(64, { seed: 7 }), options: smallHeads(name) });
  const run = await runSteps(r, freshMethod(r), steps);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { r, run, first: mean(run.losses.slice(0, 5)), last: mean(run.losses.slice(-5)) };
}

// Seeded, so the numbers repeat: after 40 steps (measured) jigsaw solves 53.5% of the
// held-out puzzles (chance 1.6%), relative-patch places 37.5% of the pairs (chance 12.5%).
describe('a short run learns the pretext on toy data', () => {
  const heldOut = blobImages(200, { seed: 99 });
  for (const [name, key, bar] of [['jigsaw', 'jigsaw_acc', 0.25], ['relative-patch', 'relative_patch_acc', 0.25]] as const) {
    test(`${name}: in 40 steps the loss falls and held-out ${key} passes ${bar}`, async () => {
      const { r, run, first, last } = await toyTraining(name, 40);
      try {
        assert.ok(last < 0.8 * first, `mean of the last 5 losses ${last.toFixed(3)} is not well below the first 5 ${first.toFixed(3)} (${run.losses.map((v) => v.toFixed(2)).join(' ')})`);
        const h = { data: heldOut, norm: r.norm };
        const acc = run.method.validate(h);
        assert.ok(acc[key]! > bar, `${key} ${acc[key]}`);
        assert.deepEqual(run.method.validate(h), acc, 'validation repeats: the same held-out puzzles');
      } finally {
        run.method.dispose();
      }
    });
  }
});

describe('jigsaw: the permutation set belongs to the checkpoint', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'selfsup-jigsaw-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('saved in the weights and the JSON, restored by loadStateDict and by resume, whatever seed the new method had', async () => {
    const opts = { ...smallHeads('jigsaw'), permutations: 16, permutationSeed: 3 };
    const r = toyRun('jigsaw', { options: opts });
    const path = join(dir, 'ck');
    const first = await runSteps(r, freshMethod(r), 8, { checkpoint: path, stopAt: 4 });
    const saved = (first.method as JigsawPuzzle).permutationSet();
    first.method.dispose();

    const ck = loadCheckpoint(path);
    try {
      const meta = ck.meta as { permutationSet?: { orders: number[][]; count: number; seed: number; minDistance: number }; tiles?: { imageSize: number } };
      assert.equal(meta.permutationSet?.count, 16);
      assert.equal(meta.permutationSet?.seed, 3);
      assert.deepEqual(meta.permutationSet?.orders.flat(), Array.from(saved.perms));
      assert.equal(meta.permutationSet?.minDistance, saved.minDistance);
      assert.equal(meta.tiles?.imageSize, 64);
      assert.deepEqual(ck.model.get('permutations')?.dataNumbers(), Array.from(saved.perms));

      manualSeed(1);
      const other = new JigsawPuzzle(makeEncoder(), { ...opts, permutationSeed: 8 });
      assert.notDeepEqual(other.permutationSet().perms, saved.perms, 'another seed, another set');
      other.loadStateDict(ck.model);
      assert.deepEqual(other.permutationSet().perms, saved.perms, 'loading the checkpoint brings its set');
      const { cells, labels } = other.drawCells(5, new Rng(0));
      for (let b = 0; b < 5; b++) assert.deepEqual(Array.from(cells.subarray(b * 9, b * 9 + 9)), Array.from(saved.perms.subarray(labels[b]! * 9, labels[b]! * 9 + 9)));
      other.dispose();

      const wider = new JigsawPuzzle(makeEncoder(), { ...opts, permutations: 20 });
      assert.throws(() => wider.loadStateDict(ck.model), /permutations/, 'a checkpoint of another N does not load');
      wider.dispose();
    } finally {
      for (const t of ck.model.values()) t.dispose();
      for (const t of ck.optimizer?.state.values() ?? []) t.dispose();
    }

    const resumedRun = toyRun('jigsaw', { options: { ...opts, permutationSeed: 8 } });
    const second = await runSteps(resumedRun, freshMethod(resumedRun), 8, { checkpoint: path, resume: true });
    assert.equal(second.fit.steps, 8);
    assert.deepEqual((second.method as JigsawPuzzle).permutationSet().perms, saved.perms, 'a resumed run keeps the checkpoint\'s set');
    second.method.dispose();
  });
});
