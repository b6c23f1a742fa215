// DataLoader and the batched augmentation ops.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { memory, tensor, op, getNumThreads, setNumThreads, type Tensor } from '../src/tensor/index.js';
import {
  DataLoader, makeDataset, loadFashionMnist, padBatch, cropBatch, randomCrop, flipBatch, flipBatch_, randomFlip, normalizeBatch, normalizeBatch_, Rng,
  type ImageDataset,
} from '../src/data/index.js';

/** n images of shape [c, h, w]; every pixel of image i is i (so a batch shows which images it holds). */
function indexed(n: number, shape: [number, number, number] = [1, 2, 3]): ImageDataset {
  const per = shape[0] * shape[1] * shape[2];
  return makeDataset({
    name: 'indexed', imageShape: shape,
    images: Uint8Array.from({ length: n * per }, (_, k) => Math.floor(k / per)),
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
  });
}

/** Random bytes [b, c, h, w], seeded, as a nested JS array and a uint8 tensor. */
function randomImages(b: number, c: number, h: number, w: number, seed: number): { js: number[][][][]; t: Tensor } {
  const rng = new Rng(seed);
  const flat = Uint8Array.from({ length: b * c * h * w }, () => 1 + rng.int(255)); // never 0, so padding shows
  const js = Array.from({ length: b }, (_, i) => Array.from({ length: c }, (_, ch) => Array.from({ length: h }, (_, y) =>
    Array.from({ length: w }, (_, x) => flat[((i * c + ch) * h + y) * w + x]!))));
  return { js, t: tensor(flat, { shape: [b, c, h, w] }) };
}

/** All the batches of one epoch: their indices, and x as numbers (batches disposed). */
function runEpoch(loader: DataLoader, epoch?: number): { indices: number[][]; xs: number[][] } {
  const indices: number[][] = [];
  const xs: number[][] = [];
  for (const b of epoch === undefined ? loader : loader.batches(epoch)) {
    using batch = b;
    indices.push(Array.from(batch.indices));
    xs.push(batch.x.dataNumbers());
  }
  return { indices, xs };
}

describe('DataLoader order', () => {
  test('covers every index once per epoch; batch sizes and the last partial batch', () => {
    const loader = new DataLoader(indexed(10), { batchSize: 4, seed: 3 });
    assert.equal(loader.length, 3);
    assert.equal(loader.size, 10);
    const { indices, xs } = runEpoch(loader);
    assert.deepEqual(indices.map((b) => b.length), [4, 4, 2]);
    assert.deepEqual(indices.flat().sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // x holds the images of `indices`, in order: every pixel of image i is i / 255.
    indices.forEach((b, k) => assert.deepEqual(xs[k], b.flatMap((i) => new Array(6).fill(Math.fround(i / 255)))));
  });

  test('shuffle repeats with the seed, changes across epochs and seeds', () => {
    const a = new DataLoader(indexed(50), { batchSize: 8, seed: 1 });
    const b = new DataLoader(indexed(50), { batchSize: 8, seed: 1 });
    const a0 = runEpoch(a).indices, a1 = runEpoch(a).indices;
    assert.deepEqual(runEpoch(b).indices, a0);
    assert.deepEqual(runEpoch(b).indices, a1);
    assert.notDeepEqual(a0, a1);
    assert.equal(a.epoch, 2);
    assert.deepEqual(runEpoch(a, 1).indices, a1, 'batches(epoch) replays an epoch');
    assert.notDeepEqual(runEpoch(new DataLoader(indexed(50), { batchSize: 8, seed: 2 })).indices, a0);
    assert.notDeepEqual(a0.flat(), Array.from({ length: 50 }, (_, i) => i), 'shuffled');
  });

  test('shuffle: false keeps source order; dropLast; indices restricts the pool', () => {
    const inOrder = new DataLoader(indexed(10), { batchSize: 4, shuffle: false, dropLast: true });
    assert.equal(inOrder.length, 2);
    assert.equal(inOrder.size, 8);
    assert.deepEqual(runEpoch(inOrder).indices, [[0, 1, 2, 3], [4, 5, 6, 7]]);
    const some = new DataLoader(indexed(10), { batchSize: 3, seed: 0, indices: [9, 2, 5, 7] });
    const got = runEpoch(some).indices;
    assert.deepEqual(got.map((b) => b.length), [3, 1]);
    assert.deepEqual(got.flat().sort(), [2, 5, 7, 9]);
    assert.throws(() => new DataLoader(indexed(10), { batchSize: 3, indices: [10] }), /indices\[0\] = 10 is outside 0\.\.9/);
    assert.throws(() => new DataLoader(indexed(10), { batchSize: 0 }), /batchSize must be a positive integer/);
  });

  test('labels follow their images as int64; unlabelled data gives y = null', () => {
    const loader = new DataLoader(indexed(10), { batchSize: 5, seed: 9 });
    for (const b of loader) {
      using batch = b;
      assert.equal(batch.y!.dtype, 'int64');
      assert.deepEqual(batch.y!.dataNumbers(), Array.from(batch.indices, (i) => i % 3));
    }
    const ds = indexed(4);
    const unlabelled = makeDataset({ name: 'u', imageShape: ds.imageShape, images: ds.images });
    for (const b of new DataLoader(unlabelled, { batchSize: 4 })) {
      using batch = b;
      assert.equal(batch.y, null);
    }
  });

  test('raw tensors as the source give the same batches as the data set', () => {
    const ds = indexed(12, [3, 4, 4]);
    const x = tensor(ds.images, { shape: [12, 3, 4, 4] });
    const y = tensor(ds.labels!, { dtype: 'int64' });
    const opts = { batchSize: 5, seed: 4, crop: 1, flip: true, mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7] };
    const fromTensors = new DataLoader({ x, y }, opts);
    const fromDataset = new DataLoader(ds, opts);
    for (let e = 0; e < 2; e++) {
      const a = [...fromTensors.batches(e)], b = [...fromDataset.batches(e)];
      assert.equal(a.length, b.length);
      a.forEach((ba, k) => {
        assert.ok(ba.x.equal(b[k]!.x));
        assert.ok(ba.y!.equal(b[k]!.y!));
        ba.dispose(); b[k]!.dispose();
      });
    }
    x.dispose(); y.dispose();
  });
});

describe('normalization', () => {
  test('(v / 255 - mean[c]) / std[c], per channel', () => {
    const images = Uint8Array.from({ length: 2 * 3 * 2 * 2 }, (_, k) => (k * 37) % 256);
    const ds = makeDataset({ name: 'rgb', imageShape: [3, 2, 2], images });
    const mean = [0.4914, 0.4822, 0.4465], std = [0.247, 0.243, 0.261];
    const loader = new DataLoader(ds, { batchSize: 2, shuffle: false, mean, std });
    const [batch] = [...loader];
    assert.equal(batch!.x.dtype, 'float32');
    const got = batch!.x.dataNumbers();
    images.forEach((v, k) => {
      const c = Math.floor(k / 4) % 3;
      const want = (v / 255 - mean[c]!) / std[c]!;
      assert.ok(Math.abs(got[k]! - want) < 1e-6, `element ${k}: ${got[k]} vs ${want}`);
    });
    batch!.dispose();
    // One channel takes scalars.
    const grey = makeDataset({ name: 'g', imageShape: [1, 1, 2], images: Uint8Array.from([0, 255]) });
    const [g] = [...new DataLoader(grey, { batchSize: 1, shuffle: false, mean: [0.5], std: [0.25] })];
    assert.deepEqual(g!.x.dataNumbers(), [-2, 2]);
    g!.dispose();
    assert.throws(() => new DataLoader(ds, { batchSize: 2, mean: [0.5], std: [0.5] }), /one value per channel \(3\)/);
    assert.throws(() => new DataLoader(ds, { batchSize: 2, mean: [0.5, 0.5, 0.5] }), /both mean and std/);
    const x = tensor([[[[1]]], [[[2]]]]);
    assert.throws(() => normalizeBatch(x, [0], [0]), /std must be positive/);
    const normalized = normalizeBatch(x, [1], [2]);
    assert.deepEqual(normalized.dataNumbers(), [0, 0.5]);
    assert.deepEqual(x.dataNumbers(), [1, 2], 'normalizeBatch leaves its input alone');
    normalizeBatch_(x, [1], [2]);
    assert.deepEqual(x.dataNumbers(), [0, 0.5], 'normalizeBatch_ works in place');
    const bytes = tensor(Uint8Array.from([1]), { shape: [1, 1, 1, 1] });
    assert.throws(() => normalizeBatch_(bytes, [0], [1]), /expected a float batch, got uint8/);
    for (const t of [x, normalized, bytes]) t.dispose();
  });
});

describe('batched augmentation', () => {
  test('flip: flipped images equal the originals reversed along W, the rest unchanged', () => {
    const { js, t } = randomImages(4, 2, 3, 5, 1);
    const out = flipBatch(t, [true, false, 1, 0]);
    const got = out.toArray() as number[][][][];
    js.forEach((img, b) => {
      const want = b % 2 === 0 ? img.map((ch) => ch.map((row) => [...row].reverse())) : img;
      assert.deepEqual(got[b], want, `image ${b}`);
    });
    assert.deepEqual(t.toArray(), js, 'flipBatch leaves its input alone');
    const same = flipBatch_(t, [true, false, 1, 0]);
    assert.equal(same, t);
    assert.ok(t.equal(out), 'flipBatch_ flips in place');
    out.dispose(); t.dispose();
  });

  test('crop with padding p equals a shifted window of the zero-padded image', () => {
    const p = 2, [B, C, H, W] = [5, 2, 4, 6];
    const { js, t } = randomImages(B, C, H, W, 2);
    const dy = [0, 4, 1, 2, 3], dx = [4, 0, 2, 3, 1];
    const padded = padBatch(t, p);
    assert.deepEqual(padded.shape, [B, C, H + 2 * p, W + 2 * p]);
    const out = cropBatch(padded, dy, dx, [H, W]);
    assert.deepEqual(out.shape, [B, C, H, W]);
    const got = out.toArray() as number[][][][];
    const zeroPadded = (b: number, c: number, y: number, x: number): number =>
      (y >= 0 && y < H && x >= 0 && x < W ? js[b]![c]![y]![x]! : 0);
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      assert.equal(got[b]![c]![y]![x], zeroPadded(b, c, y + dy[b]! - p, x + dx[b]! - p), `b${b} c${c} y${y} x${x}`);
    }
    assert.throws(() => cropBatch(padded, [5, 0, 0, 0, 0], dx, [H, W]), /window 4x6 at \(5, 4\) of image 0 does not fit in 8x10/);
    out.dispose(); padded.dispose(); t.dispose();
  });

  test('reflection padding mirrors the border', () => {
    const { js, t } = randomImages(2, 1, 4, 4, 3);
    const reflected = padBatch(t, 1, 'reflect');
    const out = cropBatch(reflected, [0, 2], [0, 2], [4, 4]);
    const got = out.toArray() as number[][][][];
    const reflect = (i: number, n: number): number => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
    for (const [b, shift] of [[0, -1], [1, 1]] as const) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) {
      assert.equal(got[b]![0]![y]![x], js[b]![0]![reflect(y + shift, 4)]![reflect(x + shift, 4)]);
    }
    assert.throws(() => padBatch(t, 4, 'reflect'), /reflection padding 4 must be smaller than the image \(4x4\)/);
    const f = t.to('float32');
    const viaTorch = op<Tensor>('aten::reflection_pad2d', f, [2, 2, 2, 2]);
    const ours = padBatch(f, 2, 'reflect');
    assert.ok(ours.equal(viaTorch), 'matches aten::reflection_pad2d on floats');
    for (const x of [out, reflected, t, f, viaTorch, ours]) x.dispose();
  });

  test('randomCrop and randomFlip draw from the Rng: same seed, same output', () => {
    const { t } = randomImages(16, 3, 8, 8, 4);
    const a = randomFlip(randomCrop(t, 2, new Rng(5)), new Rng(6));
    const b = randomFlip(randomCrop(t, 2, new Rng(5)), new Rng(6));
    const c = randomFlip(randomCrop(t, 2, new Rng(7)), new Rng(6));
    assert.ok(a.equal(b));
    assert.ok(!a.equal(c));
    for (const x of [a, b, c, t]) x.dispose();
  });

  test('loader crop + flip: every image is one of its 2 * (2p+1)^2 shifted and mirrored versions, and both happen', () => {
    const p = 1, [C, H, W] = [1, 3, 4];
    const { js, t } = randomImages(40, C, H, W, 8);
    const ds = makeDataset({ name: 'r', imageShape: [C, H, W], images: t.data() as Uint8Array });
    t.dispose();
    const loader = new DataLoader(ds, { batchSize: 16, seed: 2, crop: p, flip: true });
    const seen = { flipped: 0, shifted: 0, plain: 0 };
    const candidates = (img: number[][][]): Map<string, { flip: boolean; dy: number; dx: number }> => {
      const m = new Map<string, { flip: boolean; dy: number; dx: number }>();
      for (const flip of [false, true]) for (let dy = -p; dy <= p; dy++) for (let dx = -p; dx <= p; dx++) {
        const v: number[] = [];
        for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
          const sx = x + dx, sy = y + dy; // the crop at offset (dy, dx) of the padded image
          const inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
          v.push(inside ? img[0]![sy]![sx]! : 0);
        }
        const rows = Array.from({ length: H }, (_, y) => v.slice(y * W, (y + 1) * W));
        const key = (flip ? rows.map((r) => [...r].reverse()) : rows).flat().join();
        if (!m.has(key)) m.set(key, { flip, dy, dx });
      }
      return m;
    };
    for (const b of loader) {
      using batch = b;
      const xs = batch.x.dataNumbers().map((v) => Math.round(v * 255));
      batch.indices.forEach((src, k) => {
        const hit = candidates(js[src]!).get(xs.slice(k * H * W, (k + 1) * H * W).join());
        assert.ok(hit, `image ${src} is not a crop/flip of the source`);
        if (hit.flip) seen.flipped++;
        if (hit.dy !== 0 || hit.dx !== 0) seen.shifted++;
        if (!hit.flip && hit.dy === 0 && hit.dx === 0) seen.plain++;
      });
    }
    assert.ok(seen.flipped > 5 && seen.shifted > 20, JSON.stringify(seen));
    // Augmentation repeats with the seed and changes across epochs.
    const again = new DataLoader(ds, { batchSize: 16, seed: 2, crop: p, flip: true });
    assert.deepEqual(runEpoch(again, 0).xs, runEpoch(loader, 0).xs);
    assert.notDeepEqual(runEpoch(loader, 1).xs, runEpoch(loader, 0).xs);
  });
});

describe('memory and speed', () => {
  const fashion = loadFashionMnist({ split: 'train' });
  const opts = { batchSize: 128, seed: 0, crop: 2, flip: true, mean: [0.286], std: [0.353] };

  test('no tensor leaks across 200 batches', () => {
    const loader = new DataLoader(fashion, opts);
    const before = memory().numTensors;
    let n = 0;
    const counts: number[] = [];
    for (let epoch = 0; n < 200; epoch++) {
      for (const b of loader.batches(epoch)) {
        using batch = b;
        assert.equal(memory().numTensors, before + 2, 'a batch holds exactly x and y');
        if (++n % 50 === 0) counts.push(memory().numTensors);
        if (n === 200) break;
      }
    }
    assert.deepEqual(counts, [before + 2, before + 2, before + 2, before + 2]);
    assert.equal(memory().numTensors, before);
    // dispose() works too, and twice is harmless.
    const [first] = loader.batches(9);
    first!.dispose();
    first!.dispose();
    assert.equal(memory().numTensors, before);
  });

  /** Images per second over (at most) one epoch of Fashion-MNIST train, stopping after `budgetMs`. */
  function rate(budgetMs: number): { rate: number; images: number } {
    const loader = new DataLoader(fashion, opts);
    for (const b of loader.batches(100)) { b.dispose(); break; } // warm up
    const start = performance.now();
    let images = 0;
    for (const b of loader) {
      images += b.x.size(0);
      b.dispose();
      if (performance.now() - start > budgetMs) break;
    }
    return { rate: images / ((performance.now() - start) / 1000), images };
  }

  test('throughput: Fashion-MNIST, batches of 128, crop + flip + normalize', () => {
    // The assertion is on one libtorch thread: with the default (all cores), OpenMP's
    // spin-waiting makes the rate collapse whenever other processes share the cores,
    // which says nothing about the loader. The all-cores rate is printed too.
    const threads = getNumThreads();
    setNumThreads(1);
    let one: { rate: number; images: number };
    try {
      one = rate(10_000);
    } finally {
      setNumThreads(threads);
    }
    const all = rate(3_000);
    console.log(`DataLoader throughput (Fashion-MNIST train, batch 128, crop 2 + flip + normalize): ` +
      `${Math.round(one.rate)} images/s on 1 thread (${one.images} images), ${Math.round(all.rate)} images/s on ${threads} threads (${all.images} images)`);
    const oneThread = one.rate;
    assert.ok(oneThread > 5000, `only ${Math.round(oneThread)} images/s`);
  });
});
