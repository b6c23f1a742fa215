// View transforms for joint-embedding SSL: determinism from the Rng, identity cases,
// agreement with direct per-image references, multi-view shapes, no leaks, errors.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, op, memory, setNumThreads, cuda, full, tidy } from '../src/tensor/index.js';
import { Rng } from '../src/data/random.js';
import {
  randomResizedCrop, resizedCrop, sampleCropBoxes, randomHorizontalFlip, colorJitter, adjustColors, sampleColorJitter,
  randomGrayscale, lumaOf, ITU_R_601_WEIGHTS, gaussianBlur, blurBatch, gaussianKernel1d, defaultBlurKernelSize,
  randomSolarize, viewPipeline, viewStep, normalizeView, MultiViewTransform, simclrViews, byolViews, dinoViews,
  type ViewTransform,
} from '../src/ssl/transforms/index.js';

setNumThreads(1);

/** A seeded batch of uniform [0, 1) values (from a JS Rng, so it does not touch libtorch's generator). */
function batchOf(shape: [number, number, number, number], seed = 1): Tensor {
  const rng = new Rng(seed, 12345);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, () => rng.next()), { shape });
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return tidy(() => a.sub(b).abs().max().item());
}

function bytesEqual(a: Tensor, b: Tensor): boolean {
  return Buffer.from((a.data() as Float32Array).buffer).equals(Buffer.from((b.data() as Float32Array).buffer));
}

const RGB = { size: 16, channels: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
const GREY = { size: 28, channels: 1, mean: [0.286], std: [0.353] };

/** Every random step with its options, for the shared properties. */
const randomSteps: Record<string, (x: Tensor, rng: Rng, p: number) => Tensor> = {
  randomHorizontalFlip: (x, rng, p) => randomHorizontalFlip(x, rng, { p }),
  colorJitter: (x, rng, p) => colorJitter(x, rng, { p, brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2 }),
  randomGrayscale: (x, rng, p) => randomGrayscale(x, rng, { p }),
  gaussianBlur: (x, rng, p) => gaussianBlur(x, rng, { p }),
  randomSolarize: (x, rng, p) => randomSolarize(x, rng, { p }),
};

describe('determinism', () => {
  test('the same Rng seed gives byte-identical views; other seeds differ', () => {
    const x = batchOf([8, 3, 16, 16]);
    for (const views of [simclrViews(RGB), byolViews(RGB), dinoViews({ ...RGB, localCrops: 2 })]) {
      const a = views.views(x, new Rng(7));
      const b = views.views(x, new Rng(7));
      const c = views.views(x, new Rng(8));
      a.forEach((v, i) => assert.ok(bytesEqual(v, b[i]!), `view ${i} repeats from its seed`));
      assert.ok(a.every((v, i) => !bytesEqual(v, c[i]!)), 'another seed gives other views');
      [...a, ...b, ...c].forEach((t) => t.dispose());
    }
    x.dispose();
  });

  test('each random step repeats from its seed', () => {
    const x = batchOf([6, 3, 12, 12], 2);
    for (const [name, step] of Object.entries({ ...randomSteps, randomResizedCrop: (t: Tensor, r: Rng, _p: number) => randomResizedCrop(t, r) })) {
      const a = step(x, new Rng(3), 0.5);
      const b = step(x, new Rng(3), 0.5);
      assert.ok(bytesEqual(a, b), name);
      a.dispose();
      b.dispose();
    }
    x.dispose();
  });

  test('adding local crops leaves the global views as they were', () => {
    const x = batchOf([4, 1, 28, 28], 3);
    const two = dinoViews(GREY).views(x, new Rng(11));
    const six = dinoViews({ ...GREY, localCrops: 4 }).views(x, new Rng(11));
    assert.ok(bytesEqual(two[0]!, six[0]!) && bytesEqual(two[1]!, six[1]!));
    [...two, ...six, x].forEach((t) => t.dispose());
  });
});

describe('identity cases', () => {
  test('a crop of scale [1, 1] and ratio [1, 1] is the image', () => {
    const x = batchOf([5, 3, 20, 20]);
    const y = randomResizedCrop(x, new Rng(1), { scale: [1, 1], ratio: [1, 1] });
    assert.deepEqual(y.shape, x.shape);
    assert.ok(maxAbsDiff(x, y) < 1e-5);
    [x, y].forEach((t) => t.dispose());
  });

  test('colour jitter of strength 0 is exact identity (grey: brightness and contrast 0)', () => {
    const rgb = batchOf([4, 3, 8, 8]);
    const y = colorJitter(rgb, new Rng(1), { brightness: 0, contrast: 0, saturation: 0, hue: 0, p: 1 });
    assert.ok(rgb.equal(y));
    const grey = batchOf([4, 1, 8, 8]);
    const g = colorJitter(grey, new Rng(1), { brightness: 0, contrast: 0, p: 1 }); // saturation and hue do not apply to grey
    assert.ok(grey.equal(g));
    [rgb, y, grey, g].forEach((t) => t.dispose());
  });

  test('p = 0 is exact identity for every random step, on grey and RGB', () => {
    for (const shape of [[4, 3, 10, 10], [4, 1, 10, 10]] as [number, number, number, number][]) {
      const x = batchOf(shape);
      for (const [name, step] of Object.entries(randomSteps)) {
        const y = step(x, new Rng(5), 0);
        assert.ok(y !== x && x.equal(y), `${name} with p = 0 on ${shape[1]} channel(s)`);
        y.dispose();
      }
      x.dispose();
    }
  });

  test('images not chosen are left bit for bit (p = 0.5)', () => {
    const x = batchOf([16, 3, 10, 10]);
    for (const [name, step] of Object.entries(randomSteps)) {
      const y = step(x, new Rng(9), 0.5);
      let same = 0;
      for (let b = 0; b < 16; b++) if (tidy(() => x.narrow(0, b, 1).equal(y.narrow(0, b, 1)))) same++;
      assert.ok(same > 0 && same < 16, `${name}: ${same} of 16 images untouched`);
      y.dispose();
    }
    x.dispose();
  });

  test('inputs are never modified', () => {
    const x = batchOf([6, 3, 16, 16]);
    const copy = x.clone();
    const outputs = [
      ...Object.values(randomSteps).map((step) => step(x, new Rng(1), 1)),
      randomResizedCrop(x, new Rng(1)),
      ...simclrViews(RGB).views(x, new Rng(1)),
      ...dinoViews({ ...RGB, localCrops: 2 }).views(x, new Rng(1)),
    ];
    assert.ok(x.equal(copy));
    [...outputs, x, copy].forEach((t) => t.dispose());
  });
});

describe('random resized crop', () => {
  test('matches a direct crop + upsample_bilinear2d (align_corners false) per image', () => {
    const x = batchOf([6, 3, 20, 30]);
    for (const size of [[16, 24], [40, 36], [20, 30]] as [number, number][]) {
      const boxes = sampleCropBoxes(6, 20, 30, new Rng(4), { scale: [0.1, 1] });
      const y = resizedCrop(x, boxes, size);
      assert.deepEqual(y.shape, [6, 3, ...size]);
      for (let b = 0; b < 6; b++) {
        const diff = tidy(() => {
          const window = x.narrow(0, b, 1).narrow(2, boxes.top[b]!, boxes.height[b]!).narrow(3, boxes.left[b]!, boxes.width[b]!);
          const reference = op<Tensor>('aten::upsample_bilinear2d', window, size, false, null, null);
          return maxAbsDiff(reference, y.narrow(0, b, 1));
        });
        assert.ok(diff < 1e-4, `image ${b} at ${size.join('x')}: ${diff}`);
      }
      y.dispose();
    }
    // The sampled crop is that crop: randomResizedCrop draws the same boxes from the same seed.
    const direct = resizedCrop(x, sampleCropBoxes(6, 20, 30, new Rng(4)), [10, 10]);
    const sampled = randomResizedCrop(x, new Rng(4), { size: [10, 10] });
    assert.ok(direct.equal(sampled));
    [x, direct, sampled].forEach((t) => t.dispose());
  });

  test('boxes fit, follow scale and ratio, and fall back to the centre crop', () => {
    const boxes = sampleCropBoxes(200, 28, 28, new Rng(1), { scale: [0.2, 0.5], ratio: [0.5, 2] });
    for (let b = 0; b < 200; b++) {
      const [i, j, h, w] = [boxes.top[b]!, boxes.left[b]!, boxes.height[b]!, boxes.width[b]!];
      assert.ok(i >= 0 && j >= 0 && i + h <= 28 && j + w <= 28);
      assert.ok(h * w >= 0.2 * 784 * 0.7 && h * w <= 0.5 * 784 * 1.3, `area ${h * w}`);
    }
    // Windows larger than the image never fit: torchvision's centre fallback, ratio clipped into range.
    const fallback = sampleCropBoxes(2, 20, 30, new Rng(1), { scale: [2, 3], ratio: [1, 1.2] });
    assert.deepEqual([fallback.top[0], fallback.left[0], fallback.height[0], fallback.width[0]], [0, 3, 20, 24]);
  });
});

/** Python's colorsys, in double precision: the reference for the hue rotation. */
function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const maxc = Math.max(r, g, b);
  const minc = Math.min(r, g, b);
  if (maxc === minc) return [0, 0, maxc];
  const range = maxc - minc;
  const [rc, gc, bc] = [(maxc - r) / range, (maxc - g) / range, (maxc - b) / range];
  const h = r === maxc ? bc - gc : g === maxc ? 2 + rc - bc : 4 + gc - rc;
  return [(((h / 6) % 1) + 1) % 1, range / maxc, maxc];
}
function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  if (s === 0) return [v, v, v];
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const [p, q, t] = [v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))];
  return ([[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]] as const)[((i % 6) + 6) % 6]! as [number, number, number];
}

/** torchvision's ColorJitter on one image (channel-major pixels), in the fixed order. */
function jitterReference(img: number[], channels: number, f: { b: number; c: number; s: number; h: number }): number[] {
  const n = img.length / channels;
  const clamp = (v: number): number => Math.min(1, Math.max(0, v));
  const luma = (px: number[]): number[] => channels === 1 ? px.slice() : Array.from({ length: n }, (_, k) => 0.299 * px[k]! + 0.587 * px[n + k]! + 0.114 * px[2 * n + k]!);
  let px = img.map((v) => clamp(v * f.b));
  const mean = luma(px).reduce((a, v) => a + v, 0) / n;
  px = px.map((v) => clamp(f.c * v + (1 - f.c) * mean));
  if (channels === 3) {
    const grey = luma(px);
    px = px.map((v, k) => clamp(f.s * v + (1 - f.s) * grey[k % n]!));
    const out = px.slice();
    for (let k = 0; k < n; k++) {
      const [h, s, v] = rgbToHsv(px[k]!, px[n + k]!, px[2 * n + k]!);
      const [r, g, b] = hsvToRgb((((h + f.h) % 1) + 1) % 1, s, v);
      [out[k], out[n + k], out[2 * n + k]] = [r, g, b];
    }
    px = out;
  }
  return px;
}

describe('colour jitter', () => {
  test('matches torchvision semantics per image (RGB and grey)', () => {
    for (const channels of [3, 1]) {
      const x = batchOf([3, channels, 5, 6], 6);
      const options = { brightness: 0.5, contrast: 0.6, saturation: 0.7, hue: 0.3, p: 1 };
      const params = sampleColorJitter(3, new Rng(21), options);
      const y = colorJitter(x, new Rng(21), options);
      assert.ok(tidy(() => y.equal(adjustColors(x, params))), 'colorJitter = adjustColors of the drawn factors');
      const pixels = Array.from(x.data() as Float32Array);
      const out = Array.from(y.data() as Float32Array);
      const size = channels * 30;
      for (let b = 0; b < 3; b++) {
        const ref = jitterReference(pixels.slice(b * size, (b + 1) * size), channels,
          { b: params.brightness[b]!, c: params.contrast[b]!, s: params.saturation[b]!, h: params.hue[b]! });
        const worst = Math.max(...ref.map((v, k) => Math.abs(v - out[b * size + k]!)));
        assert.ok(worst < 1e-5, `image ${b}, ${channels} channel(s): ${worst}`);
      }
      [x, y].forEach((t) => t.dispose());
    }
  });

  test('a hue shift of a third of a turn takes red to green and green to blue', () => {
    const x = tensor([[[[1]], [[0]], [[0]]], [[[0]], [[1]], [[0]]]]);
    const y = adjustColors(x, { brightness: Float64Array.of(1, 1), contrast: Float64Array.of(1, 1), saturation: Float64Array.of(1, 1), hue: Float64Array.of(1 / 3, 1 / 3), order: ['hue'] });
    const values = (y.data() as Float32Array).map((v) => Math.round(v * 1e5) / 1e5);
    assert.deepEqual(Array.from(values), [0, 1, 0, 0, 0, 1]);
    [x, y].forEach((t) => t.dispose());
  });

  test('factors stay in range; images not chosen get identity factors', () => {
    const params = sampleColorJitter(500, new Rng(2), { brightness: 0.4, contrast: 1.5, saturation: 0.2, hue: 0.1, p: 0.8 });
    const chosen = params.hue.filter((h) => h !== 0).length;
    assert.ok(chosen > 340 && chosen < 460, `${chosen} of 500 jittered`);
    for (let b = 0; b < 500; b++) {
      assert.ok(params.brightness[b]! >= 0.6 && params.brightness[b]! <= 1.4);
      assert.ok(params.contrast[b]! >= 0 && params.contrast[b]! <= 2.5);
      assert.ok(Math.abs(params.hue[b]!) <= 0.1);
      if (params.hue[b] === 0) assert.deepEqual([params.brightness[b], params.contrast[b], params.saturation[b]], [1, 1, 1]);
    }
    assert.deepEqual(sampleColorJitter(1, new Rng(1)).order, ['brightness', 'contrast', 'saturation', 'hue']);
    const shuffled = new Set(Array.from({ length: 20 }, (_, s) => sampleColorJitter(1, new Rng(s), { shuffleOrder: true }).order.join()));
    assert.ok(shuffled.size > 1, 'shuffleOrder permutes per batch');
  });
});

describe('greyscale, blur and solarize', () => {
  test('greyscale: ITU-R 601 weights summing to 1, in all three channels of chosen images', () => {
    assert.ok(Math.abs(ITU_R_601_WEIGHTS.reduce((a, w) => a + w, 0) - 1) < 1e-12);
    const x = batchOf([8, 3, 4, 4]);
    const y = randomGrayscale(x, new Rng(3), { p: 0.5 });
    const chosen = Array.from({ length: 8 }, ((r) => () => r.next() < 0.5)(new Rng(3)));
    const luma = lumaOf(x);
    for (let b = 0; b < 8; b++) {
      const diff = tidy(() => maxAbsDiff(y.narrow(0, b, 1), chosen[b] ? luma.narrow(0, b, 1).expand(1, 3, 4, 4) : x.narrow(0, b, 1)));
      assert.equal(diff, 0, `image ${b}`);
    }
    const px = Array.from(x.data() as Float32Array).slice(0, 48);
    assert.ok(Math.abs((luma.data() as Float32Array)[5]! - (0.299 * px[5]! + 0.587 * px[21]! + 0.114 * px[37]!)) < 1e-6);
    [x, y, luma].forEach((t) => t.dispose());
  });

  test('blur kernels sum to 1; a constant image stays constant; matches a direct separable convolution', () => {
    for (const [sigma, size] of [[0.1, 3], [1, 5], [2, 23], [0.7, 9]] as const) {
      assert.ok(Math.abs(gaussianKernel1d(sigma, size).reduce((a, v) => a + v, 0) - 1) < 1e-12);
    }
    assert.deepEqual([defaultBlurKernelSize(28, 28), defaultBlurKernelSize(32, 32), defaultBlurKernelSize(224, 224), defaultBlurKernelSize(96, 120)], [3, 3, 23, 9]);
    const constant = full([4, 3, 12, 12], 0.375);
    const blurred = gaussianBlur(constant, new Rng(1), { p: 1, sigma: [0.5, 2], kernelSize: 5 });
    assert.ok(maxAbsDiff(blurred, constant) < 1e-6);

    const x = batchOf([2, 2, 7, 9], 8);
    const sigmas = [1.3, 0.6];
    const y = blurBatch(x, sigmas, 5);
    const pixels = x.data() as Float32Array;
    const out = y.data() as Float32Array;
    const reflect = (i: number, n: number): number => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
    let worst = 0;
    for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) {
      const k = gaussianKernel1d(sigmas[b]!, 5);
      const at = (r: number, q: number): number => pixels[((b * 2 + c) * 7 + reflect(r, 7)) * 9 + reflect(q, 9)]!;
      for (let r = 0; r < 7; r++) for (let q = 0; q < 9; q++) {
        let v = 0;
        for (let u = 0; u < 5; u++) for (let w = 0; w < 5; w++) v += k[u]! * k[w]! * at(r + u - 2, q + w - 2);
        worst = Math.max(worst, Math.abs(v - out[((b * 2 + c) * 7 + r) * 9 + q]!));
      }
    }
    assert.ok(worst < 1e-5, `blur differs by ${worst}`);
    [constant, blurred, x, y].forEach((t) => t.dispose());
  });

  test('solarize is exact: 1 - x where x >= threshold in chosen images', () => {
    const x = batchOf([10, 3, 5, 5], 4);
    const y = randomSolarize(x, new Rng(6), { p: 0.5, threshold: 0.3 });
    const rng = new Rng(6);
    const chosen = Array.from({ length: 10 }, () => rng.next() < 0.5);
    const pixels = x.data() as Float32Array;
    const expected = pixels.map((v, k) => (chosen[Math.floor(k / 75)] && v >= 0.3 ? Math.fround(1 - v) : v));
    assert.deepEqual(Array.from(y.data() as Float32Array), Array.from(expected));
    [x, y].forEach((t) => t.dispose());
  });
});

describe('view pipelines and presets', () => {
  test('multi-view shapes: DINO with 2 global and 4 local crops; SimCLR and BYOL pairs', () => {
    const grey = batchOf([4, 1, 28, 28]);
    const dino = dinoViews({ ...GREY, localCrops: 4 }).views(grey, new Rng(1));
    assert.deepEqual(dino.map((v) => v.shape), [[4, 1, 28, 28], [4, 1, 28, 28], ...Array(4).fill([4, 1, 12, 12])]);
    const rgb = batchOf([3, 3, 32, 32]);
    const local = dinoViews({ size: [24, 20], channels: 3, mean: RGB.mean, std: RGB.std, localCrops: 4, localSize: 8 }).views(rgb, new Rng(1));
    assert.deepEqual(local.map((v) => v.shape), [[3, 3, 24, 20], [3, 3, 24, 20], ...Array(4).fill([3, 3, 8, 8])]);
    const pairs = [...simclrViews(GREY).views(grey, new Rng(1)), ...byolViews({ ...RGB, size: 20 }).views(rgb, new Rng(1))];
    assert.deepEqual(pairs.map((v) => v.shape), [[4, 1, 28, 28], [4, 1, 28, 28], [3, 3, 20, 20], [3, 3, 20, 20]]);
    [...dino, ...local, ...pairs, grey, rgb].forEach((t) => t.dispose());
  });

  test('a pipeline chains steps with one Rng and normalises last', () => {
    const x = batchOf([4, 1, 8, 8]);
    const pipeline = viewPipeline([viewStep((t, rng) => randomHorizontalFlip(t, rng, { p: 1 })), normalizeView([0.5], [0.25])]);
    const y = pipeline.apply(x, new Rng(1));
    const expected = tidy(() => x.flip(3).sub(0.5).div(0.25));
    assert.ok(maxAbsDiff(y, expected) < 1e-6);
    const empty = viewPipeline([]).apply(x, new Rng(1));
    assert.ok(empty !== x && empty.equal(x));
    [x, y, expected, empty].forEach((t) => t.dispose());
  });

  test('numTensors stays flat over 50 applications of the full SimCLR pipeline', () => {
    const x = batchOf([8, 3, 16, 16]);
    const views = simclrViews({ ...RGB, jitterStrength: 1 });
    const rng = new Rng(1);
    views.views(x, rng).forEach((v) => v.dispose());
    const before = memory().numTensors;
    for (let i = 0; i < 50; i++) views.views(x, rng).forEach((v) => v.dispose());
    assert.equal(memory().numTensors, before);
    x.dispose();
  });

  test('a failing view frees the views made before it', () => {
    const x = batchOf([2, 1, 8, 8]);
    const failing: ViewTransform = { apply: () => { throw new Error('boom'); } };
    const before = memory().numTensors;
    assert.throws(() => new MultiViewTransform([viewPipeline([]), failing]).views(x, new Rng(1)), /boom/);
    assert.equal(memory().numTensors, before);
    x.dispose();
  });

  test('runs on CUDA without leaving the device, with the CPU results', { skip: !cuda.isAvailable() && 'no CUDA device' }, () => {
    const x = batchOf([8, 3, 16, 16]);
    const onGpu = x.to('cuda');
    const views = dinoViews({ ...RGB, localCrops: 2 });
    const cpu = views.views(x, new Rng(5));
    const gpu = views.views(onGpu, new Rng(5));
    gpu.forEach((v, i) => {
      assert.match(v.device, /^cuda/);
      assert.ok(tidy(() => maxAbsDiff(v.cpu(), cpu[i]!)) < 1e-4, `view ${i}`);
    });
    [...cpu, ...gpu, x, onGpu].forEach((t) => t.dispose());
  });
});

describe('errors', () => {
  const x = batchOf([2, 3, 8, 8]);
  const cases: [string, () => unknown, RegExp][] = [
    ['scale out of order', () => randomResizedCrop(x, new Rng(1), { scale: [0.5, 0.2] }), /scale must satisfy 0 < low <= high/],
    ['scale not positive', () => randomResizedCrop(x, new Rng(1), { scale: [0, 1] }), /scale/],
    ['ratio negative', () => randomResizedCrop(x, new Rng(1), { ratio: [-1, 2] }), /ratio/],
    ['bad size', () => randomResizedCrop(x, new Rng(1), { size: 0 }), /size must be a positive integer/],
    ['p above 1', () => randomSolarize(x, new Rng(1), { p: 1.5 }), /p must be a probability in \[0, 1\]/],
    ['p NaN', () => randomHorizontalFlip(x, new Rng(1), { p: NaN }), /probability/],
    ['negative brightness', () => colorJitter(x, new Rng(1), { brightness: -0.1 }), /brightness must be a finite number >= 0/],
    ['hue above 0.5', () => colorJitter(x, new Rng(1), { hue: 0.6 }), /hue must be in \[0, 0.5\]/],
    ['even kernel', () => gaussianBlur(x, new Rng(1), { kernelSize: 4 }), /kernelSize must be an odd positive integer/],
    ['kernel too large', () => gaussianBlur(x, new Rng(1), { p: 1, kernelSize: 17 }), /reflect padding/],
    ['sigma out of order', () => gaussianBlur(x, new Rng(1), { sigma: [2, 1] }), /sigma/],
    ['two channels', () => tidy(() => colorJitter(batchOf([2, 2, 4, 4]), new Rng(1))), /1 \(grey\) or 3 \(RGB\) channels, got 2/],
    ['two channels grey', () => tidy(() => randomGrayscale(batchOf([2, 2, 4, 4]), new Rng(1))), /channels, got 2/],
    ['3-D input', () => tidy(() => gaussianBlur(x.select(0, 0), new Rng(1))), /expected a batch \[B, C, H, W\]/],
    ['integer input', () => tidy(() => randomSolarize(x.to('uint8'), new Rng(1))), /expected a float batch/],
    ['preset mean per channel', () => simclrViews({ ...RGB, mean: [0.5] }), /mean needs one value per channel \(3\)/],
    ['preset channels', () => byolViews({ ...RGB, channels: 4 }), /channels/],
    ['preset minScale', () => simclrViews({ ...RGB, minScale: 0 }), /scale/],
    ['preset p pair', () => byolViews({ ...RGB, blurP: [1, 2] }), /blurP\[1\] must be a probability/],
    ['preset local crops', () => dinoViews({ ...RGB, localCrops: -1 }), /localCrops must be a non-negative integer/],
    ['normalise std', () => normalizeView([0.5], [0]), /std must be positive/],
    ['no views', () => new MultiViewTransform([]), /non-empty array/],
  ];
  after(() => x.dispose());
  for (const [name, fn, message] of cases) {
    test(name, () => {
      const before = memory().numTensors;
      assert.throws(fn, (e: Error) => (e instanceof RangeError || e instanceof TypeError) && message.test(e.message));
      assert.equal(memory().numTensors, before, 'nothing leaks on the error path');
    });
  }
});
