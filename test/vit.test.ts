// The vit-tiny backbone (models/vit.ts) and the masked autoencoder on it
// (ssl/methods/mae.ts): shapes, block names, exact clones, the visible-patch encoder,
// every registered image method on a tiny ViT, MAE's masks, validation and samples.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setNumThreads, manualSeed, randn, tidy, noGrad, tensor, arange, memory, type Tensor } from '../src/tensor/index.js';
import { createBackbone, SmallCnn, VisionTransformer, patchify, unpatchify, BACKBONES } from '../src/models/index.js';
import { Rng, channelStats, makeDataset } from '../src/data/index.js';
import { METHODS, createMethod } from '../src/ssl/registry.js';
import { checkMethodBackbone } from '../src/ssl/catalog.js';
import { MaskedAutoencoder, maeSamples, randomMasking } from '../src/ssl/methods/mae.js';
import { saveEncoder, loadEncoder } from '../src/io/encoder-files.js';
import { runImageExperiment } from '../src/experiment/image.js';
import { defaultImageConfig, maePretrain } from '../src/experiment/defaults.js';
import { renderReport } from '../src/report/index.js';
import { smallHeads, toyRun, freshMethod, runSteps, makeTinyVit } from './support/method-contract.js';
import { toyImages } from './support/toy-images.js';

setNumThreads(1);

const maxDiff = (a: Tensor, b: Tensor): number => tidy(() => a.sub(b).abs().max().item());

describe('vit-tiny backbone', () => {
  test('createBackbone makes it by name, with the defaults, for 28x28 grey and 32x32 colour images', () => {
    assert.ok(BACKBONES.includes('vit-tiny'));
    manualSeed(0);
    const grey = createBackbone('vit-tiny', { inChannels: 1, imageSize: [28, 28] });
    const colour = createBackbone('vit-tiny', { inChannels: 3 });
    try {
      assert.ok(grey instanceof VisionTransformer && colour instanceof VisionTransformer);
      assert.deepEqual(grey.blockNames, ['stem', 'block1', 'block2', 'block3', 'block4', 'block5', 'block6']);
      assert.deepEqual(grey.blockChannels, [128, 128, 128, 128, 128, 128, 128]);
      assert.equal(grey.numPatches, 49);
      assert.equal(colour.numPatches, 64);
      assert.equal(grey.embedDim, 128);
      noGrad(() => tidy(() => {
        grey.eval();
        colour.eval();
        assert.deepEqual(grey.embed(randn([3, 1, 28, 28])).shape, [3, 128]);
        assert.deepEqual(colour.embed(randn([2, 3, 32, 32])).shape, [2, 128]);
      }));
      // --width and --blocks set the token width and the depth.
      using small = createBackbone('vit-tiny', { inChannels: 1, imageSize: [28, 28], width: 64, blocks: 2 });
      assert.deepEqual(small.blockNames, ['stem', 'block1', 'block2']);
      assert.equal(small.embedDim, 64);
    } finally {
      grey.dispose();
      colour.dispose();
    }
  });

  test('features after every block are [N, width]; featureMap is the patch grid [N, width, H/p, W/p]', () => noGrad(() => tidy(() => {
    using vit = new VisionTransformer({ inChannels: 1, imageSize: 28, width: 32, depth: 3, heads: 4 });
    vit.eval();
    const x = randn([2, 1, 28, 28]);
    for (const b of vit.blockNames) {
      assert.deepEqual(vit.features(x, b).shape, [2, 32], b);
      assert.deepEqual(vit.featureMap(x, b).shape, [2, 32, 7, 7], b);
      assert.equal(vit.featureDim(b), 32);
    }
    // Mean pooling is the mean of the feature map; the last block's goes through the final LayerNorm.
    assert.ok(maxDiff(vit.features(x), vit.featureMap(x).mean([2, 3])) < 1e-5);
    assert.ok(maxDiff(vit.embed(x), vit.features(x, 'block3')) === 0);
    assert.deepEqual(vit.tokens(x).shape, [2, 50, 32]);
    assert.throws(() => vit.features(x, 'block4'), /no block 'block4'; blocks are stem, block1, block2, block3/);
    assert.throws(() => vit.embed(randn([2, 1, 32, 32])), { name: 'RangeError', message: /built for \[N, 1, 28, 28\] images \(imageSize\), got \[2, 1, 32, 32\]/ });
    // The class token as the pooled vector, on request.
    using cls = new VisionTransformer({ inChannels: 1, imageSize: 28, width: 32, depth: 1, heads: 4, pool: 'cls' });
    cls.eval();
    assert.ok(maxDiff(cls.features(x), cls.tokens(x).select(1, 0)) === 0);
  })));

  test('bad options are clear errors', () => {
    assert.throws(() => new VisionTransformer({ imageSize: 30, patchSize: 4 }), /the image size 30x30 is not a multiple of the patch size 4/);
    assert.throws(() => new VisionTransformer({ width: 30, heads: 4 }), /width \(30\) must be divisible by heads \(4\)/);
    assert.throws(() => new VisionTransformer({ depth: 0 }), /depth must be a positive integer/);
  });

  test('cloneArchitecture makes the same network; with the weights loaded it embeds exactly alike', () => noGrad(() => tidy(() => {
    manualSeed(3);
    using vit = new VisionTransformer({ inChannels: 1, imageSize: [16, 16], width: 16, depth: 2, heads: 2 });
    vit.embedBlock = 'block1';
    using twin = vit.cloneArchitecture();
    assert.ok(twin instanceof VisionTransformer);
    assert.deepEqual(twin.blockNames, vit.blockNames);
    assert.equal(twin.embedBlock, 'block1');
    assert.deepEqual([...twin.stateDict()].map(([k, t]) => [k, t.shape]), [...vit.stateDict()].map(([k, t]) => [k, t.shape]));
    twin.loadStateDict(vit.stateDict());
    vit.eval();
    twin.eval();
    const x = randn([4, 1, 16, 16]);
    assert.equal(maxDiff(twin.embed(x), vit.embed(x)), 0);
  })));

  test('encodeVisible: all patches in order gives the full encoder; a permutation permutes the tokens', () => noGrad(() => tidy(() => {
    manualSeed(5);
    using vit = new VisionTransformer({ inChannels: 1, imageSize: 16, width: 16, depth: 2, heads: 2 });
    vit.eval();
    const x = randn([2, 1, 16, 16]);
    const all = arange(0, 16, 1, { dtype: 'int64' }).unsqueeze(0).expand(2, 16).contiguous();
    assert.ok(maxDiff(vit.encodeVisible(x, all), vit.tokens(x)) < 1e-5);
    const order = [3, 0, 15, 7, 9];
    const keep = tensor(Int32Array.from([...order, ...order]), { shape: [2, 5], dtype: 'int64' });
    const visible = vit.encodeVisible(x, keep);
    assert.deepEqual(visible.shape, [2, 6, 16]);
    // Attention does not care about order: the subset in another order gives the same tokens, reordered.
    const sorted = [...order].sort((a, b) => a - b);
    const keepSorted = tensor(Int32Array.from([...sorted, ...sorted]), { shape: [2, 5], dtype: 'int64' });
    const v2 = vit.encodeVisible(x, keepSorted);
    order.forEach((patch, j) => {
      assert.ok(maxDiff(visible.select(1, 1 + j), v2.select(1, 1 + sorted.indexOf(patch))) < 1e-5);
    });
    assert.throws(() => vit.encodeVisible(x, keep.to('float32')), /keep must be int64 \[2, K\]/);
  })));

  test('patchify and unpatchify are inverses; patch i holds its grid cell', () => tidy(() => {
    const x = randn([2, 3, 8, 12]);
    const p = patchify(x, 4);
    assert.deepEqual(p.shape, [2, 6, 48]);
    assert.equal(maxDiff(unpatchify(p, 4, [3, 8, 12]), x), 0);
    // Patch 4 is row 1, column 1 of the 2x3 grid; its first value is pixel (4, 4) of channel 0.
    assert.equal(p.select(0, 0).select(0, 4).select(0, 0).item(), x.select(0, 0).select(0, 0).select(0, 4).select(0, 4).item());
  }));

  test('freezing blocks by name, and the encoder file saves and loads it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-vit-'));
    manualSeed(1);
    const vit = createBackbone('vit-tiny', { inChannels: 1, imageSize: [28, 28], width: 32, blocks: 2 });
    try {
      vit.freeze(['stem', 'block1']);
      assert.ok((vit as VisionTransformer).stem.parameters().every((p) => !p.requiresGrad));
      assert.ok((vit as VisionTransformer).layers[1]!.parameters().every((p) => p.requiresGrad));
      vit.unfreeze();
      const norm = { mean: [0.3], std: [0.3] };
      saveEncoder(dir, vit, { backbone: 'vit-tiny', width: 32, inChannels: 1, imageShape: [1, 28, 28], norm, method: 'mae', data: 'toy', rotationAccuracy: null });
      // The depth is not in encoder.json (as nin's blocks are not): a 2-layer file does not fit the default depth of 6.
      assert.throws(() => loadEncoder(dir), /does not fit a vit-tiny backbone/);
      using six = createBackbone('vit-tiny', { inChannels: 1, imageSize: [28, 28], width: 32 });
      saveEncoder(dir, six, { backbone: 'vit-tiny', width: 32, inChannels: 1, imageShape: [1, 28, 28], norm, method: 'mae', data: 'toy', rotationAccuracy: null });
      const { encoder, info } = loadEncoder(dir);
      assert.equal(info.backbone, 'vit-tiny');
      assert.ok(encoder instanceof VisionTransformer && encoder.numPatches === 49);
      noGrad(() => tidy(() => {
        const x = randn([2, 1, 28, 28]);
        six.eval();
        encoder.eval();
        assert.equal(maxDiff(encoder.embed(x), six.embed(x)), 0);
      }));
      encoder.dispose();
    } finally {
      vit.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('every registered image method trains a tiny ViT', () => {
  // Every method that can take a ViT (the tile pretexts cannot: checkMethodBackbone says so).
  for (const spec of METHODS.filter((s) => s.modality === 'image' && (!s.backbones || s.backbones.includes('vit-tiny')))) {
    test(spec.name, async () => {
      const r = toyRun(spec.name, { options: smallHeads(spec.name), encoder: makeTinyVit });
      const run = await runSteps(r, freshMethod(r), 2);
      assert.equal(run.fit.steps, 2);
      assert.ok(run.losses.every(Number.isFinite), `losses ${run.losses.join(', ')}`);
      assert.ok(run.method.encoder instanceof VisionTransformer);
      run.method.dispose();
    });
  }
});

describe('MAE', () => {
  const data = toyImages(32, { size: 16, seed: 3 });
  const norm = channelStats(data);
  const ctx = { imageShape: data.imageShape, norm };

  test('needs a ViT for the data\'s image size: other encoders are a clear error', () => {
    assert.throws(() => createMethod('mae', new SmallCnn({ widths: [4, 8, 8] }), ctx), {
      name: 'TypeError', message: /mae: the encoder must be a vision transformer \(--backbone vit-tiny\), got SmallCnn/,
    });
    assert.throws(() => createMethod('mae', new VisionTransformer({ inChannels: 1, imageSize: 28, width: 16, depth: 1, heads: 2 }), ctx), /the data has 1x16x16 images but the encoder was built for 1x28x28/);
    assert.throws(() => checkMethodBackbone('mae', 'small-cnn'), /method 'mae' needs the backbone vit-tiny \(--backbone vit-tiny\), not small-cnn/);
    checkMethodBackbone('mae', 'vit-tiny');
    checkMethodBackbone('simclr', 'small-cnn');
  });

  test('randomMasking: 75% hidden per image, seeded by the Rng, restore inverts the shuffle', () => {
    const m = randomMasking(3, 49, 0.75, new Rng(1, 2, 3));
    assert.equal(m.keepCount, 12);
    for (let i = 0; i < 3; i++) {
      const mask = m.mask.subarray(i * 49, (i + 1) * 49);
      const keep = [...m.keep.subarray(i * 12, (i + 1) * 12)];
      assert.equal(mask.reduce((a, b) => a + b, 0), 37);
      assert.equal(new Set(keep).size, 12);
      for (const k of keep) assert.equal(mask[k], 0, 'kept patches are not masked');
      // The kept patches are the first keepCount of the shuffled order.
      keep.forEach((k, j) => assert.equal(m.restore[i * 49 + k], j));
      assert.deepEqual([...m.restore.subarray(i * 49, (i + 1) * 49)].sort((a, b) => a - b), Array.from({ length: 49 }, (_, j) => j));
    }
    assert.deepEqual(randomMasking(3, 49, 0.75, new Rng(1, 2, 3)), m, 'the same Rng draws the same masks');
    assert.notDeepEqual(randomMasking(3, 49, 0.75, new Rng(1, 2, 4)).keep, m.keep);
    // Images of one batch get different masks.
    assert.notDeepEqual([...m.keep.subarray(0, 12)], [...m.keep.subarray(12, 24)]);
  });

  test('validate gives the same held-out reconstruction loss twice; samples are masked, reconstructed and original images', () => {
    const before = memory().numTensors;
    manualSeed(2);
    const mae = createMethod('mae', makeTinyVit(), ctx, { decoderWidth: 16, decoderHeads: 2 }) as MaskedAutoencoder;
    try {
      const h = { data, indices: Int32Array.from({ length: 20 }, (_, i) => i), norm };
      const a = mae.validate(h);
      assert.ok(Number.isFinite(a.recon_loss) && a.recon_loss! > 0, `recon_loss ${a.recon_loss}`);
      assert.deepEqual(mae.validate(h), a);
      const samples = maeSamples(mae, data, 5, { norm });
      assert.equal(samples.length, 5);
      for (const s of samples) {
        assert.deepEqual([s.width, s.height, s.channels], [16, 16, 1]);
        for (const part of [s.masked, s.reconstruction, s.original]) assert.equal(part.length, 256);
        // The visible patches are pasted in: the reconstruction equals the original wherever the masked input is not grey.
        let visible = 0;
        for (let i = 0; i < 256; i++) {
          if (s.masked[i] === s.original[i]) {
            visible++;
            assert.equal(s.reconstruction[i], s.original[i]);
          }
        }
        assert.ok(visible >= 4 * 16, `at least the 4 visible patches (${visible} pixels)`);
      }
      // The original is the image itself (round trip through the loader's normalisation).
      assert.deepEqual([...samples[0]!.original].slice(0, 16), [...data.images.subarray(0, 16)].map(Number));
    } finally {
      mae.dispose();
    }
    assert.equal(memory().numTensors, before);
  });

  /** Linear ramps in a random direction per image: a hidden patch is predictable from the visible ones. */
  function ramps(n: number, seed: number): ReturnType<typeof toyImages> {
    let st = seed;
    const rnd = (): number => ((st = (st * 1103515245 + 12345) % 2147483648) / 2147483648);
    const images = new Uint8Array(n * 256);
    for (let i = 0; i < n; i++) {
      const angle = 2 * Math.PI * rnd();
      for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
        images[i * 256 + y * 16 + x] = Math.round(127.5 + 120 * ((Math.cos(angle) * (x - 7.5) + Math.sin(angle) * (y - 7.5)) / 11));
      }
    }
    return makeDataset({ name: 'ramps', imageShape: [1, 16, 16], images, labels: new Int32Array(n), classNames: ['ramp'] });
  }

  test('it learns: 60 steps on ramp images bring the held-out loss well below predicting each patch\'s mean', async () => {
    const r = toyRun('mae', { options: smallHeads('mae'), data: ramps(64, 5) });
    const method = freshMethod(r) as MaskedAutoencoder;
    const h = { data: ramps(32, 99), norm: r.norm };
    const start = method.validate(h).recon_loss!;
    const run = await runSteps(r, method, 60);
    const end = method.validate(h).recon_loss!;
    method.dispose();
    // Predicting 0 (each hidden patch's own mean) scores (D - 1) / D = 15/16 on per-patch normalised targets.
    const trivial = 15 / 16;
    const curve = run.losses.map((v) => v.toFixed(3)).join(' ');
    assert.ok(end < 0.8 * trivial && end < 0.6 * start, `held-out reconstruction loss ${start.toFixed(4)} -> ${end.toFixed(4)}, trivial ${trivial.toFixed(4)} (training losses ${curve})`);
  });
});

describe('experiment: mae on vit-tiny', () => {
  const data = toyImages(120, { size: 16, leftShade: false });

  function config(backbone: 'vit-tiny' | 'small-cnn') {
    const c = defaultImageConfig();
    Object.assign(c, { backbone, width: 16, ks: [2], seeds: [0], testLimit: 24, methods: ['scratch', 'mae-finetune', 'mae-probe', 'mae-knn'] });
    c.pretrain = { ...c.pretrain, heldOut: 24, monitorPoints: 2 };
    c.methodPretrain = { mae: { ...maePretrain(4), batchSize: 16, options: { decoderWidth: 16, decoderHeads: 2 } } };
    c.finetune = { ...c.finetune, steps: 3, stepsPerK: {}, batchSize: 8 };
    c.scratch = { ...c.scratch, steps: 3, stepsPerK: {}, batchSize: 8 };
    c.probe = { ...c.probe, steps: 10 };
    c.knn = { ...c.knn, k: 3 };
    return c;
  }

  test('pretrains, runs the protocols, and the report shows the reconstructions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-vit-exp-'));
    try {
      const r = await runImageExperiment({ name: 'toy', train: data, test: data }, config('vit-tiny'), dir, () => {});
      assert.equal(r.runsDone, 4);
      assert.ok(r.pretrainRates.mae! > 0);
      assert.equal(r.report.maeSamples?.length, 12);
      const curve = r.report.curves.find((c) => c.run === 'mae-pretrain')!;
      assert.ok(curve.points.some((p) => p.val_recon_loss !== undefined), 'the held-out reconstruction loss is in the pretraining curve');
      const html = await renderReport(r.report);
      assert.match(html, /<h2>Masked-autoencoder reconstructions<\/h2>/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mae with a CNN backbone stops before any run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-vit-exp-'));
    try {
      await assert.rejects(runImageExperiment({ name: 'toy', train: data, test: data }, config('small-cnn'), dir, () => {}), /method 'mae' needs the backbone vit-tiny/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
