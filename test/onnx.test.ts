// ONNX export: every backbone's graph, run by onnxruntime-node on real Fashion-MNIST
// images, gives selfsup's embeddings (normalisation inside the graph, batch norm from
// running statistics that training has moved away from 0 and 1); the batch size is
// dynamic; the metadata says what the model takes; errors are clear and leave no file.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { manualSeed, noGrad, tidy, setNumThreads, type Tensor } from '../src/tensor/index.js';
import { createBackbone, SmallCnn, VisionTransformer, type Backbone, type BackboneName } from '../src/models/index.js';
import { loadFashionMnist, toTensors } from '../src/data/index.js';
import { encoderToOnnx, exportOnnx, readModelInfo, ONNX_INPUT, ONNX_OUTPUT } from '../src/io/index.js';
import { Module, Sequential, ReLU } from '../src/nn/index.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { saveEncoder } from '../src/io/encoder-files.js';

setNumThreads(1);
const NORM = { mean: [0.2860], std: [0.3530] };
const dir = mkdtempSync(join(tmpdir(), 'selfsup-onnx-'));

/** The first `n` Fashion-MNIST test images as [n, 1, 28, 28] floats in [0, 1]. */
function images(n: number): Tensor {
  const ds = loadFashionMnist({ split: 'test' });
  const { x, y } = toTensors(ds, Int32Array.from({ length: n }, (_, i) => i));
  y?.dispose();
  return x;
}

/** A few training-mode passes move every BatchNorm's running statistics off their 0/1 start. */
function warmBatchNorm(enc: Backbone, x: Tensor): void {
  enc.train();
  noGrad(() => { for (let i = 0; i < 3; i++) tidy(() => enc.forward(x.sub(NORM.mean[0]!).div(NORM.std[0]!))).dispose(); });
  enc.eval();
}

function selfsupEmbed(enc: Backbone, x: Tensor, block?: string): Float32Array {
  return noGrad(() => tidy(() => enc.features(x.sub(NORM.mean[0]!).div(NORM.std[0]!), block))).data() as Float32Array;
}

async function ortEmbed(bytes: Uint8Array, x: Tensor): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', x.data() as Float32Array, x.shape) });
  const y = out[ONNX_OUTPUT]!;
  return { data: y.data as Float32Array, dims: y.dims };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const BACKBONES: [BackboneName, number][] = [['small-cnn', 16], ['nin', 32], ['resnet18', 16], ['vit-tiny', 32]];

describe('ONNX export: onnxruntime gives selfsup\'s embeddings', () => {
  let x: Tensor;
  before(() => { x = images(24); });

  for (const [name, width] of BACKBONES) {
    test(`${name}: every block, real images, within 1e-4`, async () => {
      manualSeed(3);
      const enc = createBackbone(name, { inChannels: 1, width, imageSize: [28, 28] });
      warmBatchNorm(enc, x);
      for (const block of [enc.blockNames[0]!, enc.blockNames[1]!, enc.blockNames.at(-1)!]) {
        const bytes = encoderToOnnx(enc, { imageShape: [1, 28, 28], norm: NORM, block });
        const got = await ortEmbed(bytes, x);
        assert.deepEqual([...got.dims], [24, enc.featureDim(block)]);
        const want = selfsupEmbed(enc, x, block);
        const diff = maxAbsDiff(got.data, want);
        assert.ok(diff < 1e-4, `${name} ${block}: max |onnx - selfsup| = ${diff}`);
        assert.ok(want.some((v) => Math.abs(v) > 1e-3), 'embeddings are not all zero');
      }
      enc.dispose();
    });
  }

  test('vit-tiny with class-token pooling', async () => {
    manualSeed(6);
    const enc = new VisionTransformer({ inChannels: 1, imageSize: 28, width: 16, depth: 2, heads: 2, pool: 'cls' });
    enc.eval();
    const got = await ortEmbed(encoderToOnnx(enc, { imageShape: [1, 28, 28], norm: NORM }), x);
    assert.deepEqual([...got.dims], [24, 16]);
    const diff = maxAbsDiff(got.data, selfsupEmbed(enc, x));
    assert.ok(diff < 1e-4, `cls pooling: max diff ${diff}`);
    enc.dispose();
  });

  test('the batch dimension is dynamic: 1 and 5 images through one model', async () => {
    manualSeed(4);
    const enc = new SmallCnn({ widths: [8, 16, 32] });
    warmBatchNorm(enc, x);
    const bytes = encoderToOnnx(enc, { imageShape: [1, 28, 28], norm: NORM });
    for (const n of [1, 5]) {
      const xs = x.narrow(0, 0, n);
      const got = await ortEmbed(bytes, xs);
      assert.deepEqual([...got.dims], [n, 32]);
      assert.ok(maxAbsDiff(got.data, selfsupEmbed(enc, xs)) < 1e-4);
      xs.dispose();
    }
    enc.dispose();
  });
});

describe('ONNX export: the file', () => {
  test('metadata records input shape, normalisation, block, method and version', () => {
    const enc = new SmallCnn({ widths: [4, 8, 16] });
    const path = join(dir, 'meta.onnx');
    const bytes = exportOnnx(enc, path, { imageShape: [1, 28, 28], norm: NORM, block: 'block2', method: 'simclr', version: '9.9.9' });
    const file = readFileSync(path);
    assert.equal(file.byteLength, bytes);
    const info = readModelInfo(file);
    assert.equal(info.opset, 17);
    assert.deepEqual(info.inputs, [ONNX_INPUT]);
    assert.deepEqual(info.outputs, [ONNX_OUTPUT]);
    assert.equal(info.metadata['selfsup.block'], 'block2');
    assert.equal(info.metadata['selfsup.embed_dim'], '8');
    assert.equal(info.metadata['selfsup.method'], 'simclr');
    assert.equal(info.metadata['selfsup.version'], '9.9.9');
    assert.deepEqual(JSON.parse(info.metadata['selfsup.input_shape']!), ['N', 1, 28, 28]);
    assert.deepEqual(JSON.parse(info.metadata['selfsup.norm_mean']!), NORM.mean);
    assert.deepEqual(JSON.parse(info.metadata['selfsup.norm_std']!), NORM.std);
    // Export stops at the chosen block: block3's conv is not in the graph.
    assert.equal(info.nodes.filter((n) => n === 'Conv').length, 4);
    enc.dispose();
  });

  test('a module without an exporter is a clear error naming it', () => {
    class Odd extends Module { forward(t: Tensor): Tensor { return t.relu(); } }
    class OddNet extends SmallCnn {
      constructor() { super({ widths: [4, 8, 16] }); this.addBlock('block4', new Sequential(new ReLU(), new Odd()), 16); }
    }
    const enc = new OddNet();
    assert.throws(() => encoderToOnnx(enc, { imageShape: [1, 28, 28] }), /no ONNX exporter for block4\.1 \(Odd\)/);
    enc.dispose();
  });

  test('bad options are errors, and a failed write leaves no partial file', () => {
    const enc = new SmallCnn({ widths: [4, 8, 16] });
    assert.throws(() => encoderToOnnx(enc, { imageShape: [1, 28, 28], block: 'nope' }), /no block 'nope'/);
    assert.throws(() => encoderToOnnx(enc, { imageShape: [1, 28, 28], norm: { mean: [0, 0, 0], std: [1, 1, 1] } }), /3 means and 3 stds for 1 channels/);
    assert.throws(() => encoderToOnnx(enc, { imageShape: [1, 0, 28] }), /three positive integers/);
    const sub = join(dir, 'missing-folder');
    assert.throws(() => exportOnnx(enc, join(sub, 'x.onnx'), { imageShape: [1, 28, 28] }), /could not write/);
    assert.equal(existsSync(sub), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
    enc.dispose();
  });
});

// PyTorch users: scripts/selfsup_encoder.py rebuilds each backbone in torch.nn with
// selfsup's parameter names, loads encoder.safetensors and must give the same rows.
const SCRIPT = fileURLToPath(new URL('../../scripts/selfsup_encoder.py', import.meta.url));
const noTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0 ? 'python3 with torch is not installed' : false;

describe('PyTorch twin (scripts/selfsup_encoder.py)', { skip: noTorch }, () => {
  for (const [name, width] of BACKBONES) {
    test(`${name}: the same embeddings of real images within 1e-4`, () => {
      manualSeed(5);
      const x = images(12);
      const enc = createBackbone(name, { inChannels: 1, width, imageSize: [28, 28] });
      warmBatchNorm(enc, x);
      const encDir = join(dir, `torch-${name}`);
      mkdirSync(encDir);
      saveEncoder(encDir, enc, { backbone: name, width, inChannels: 1, imageShape: [1, 28, 28], norm: NORM, method: 'rotation', data: 'fashion-mnist', rotationAccuracy: null });
      const r = spawnSync('/usr/bin/python3', [SCRIPT, encDir, '--fashion-mnist-test', '12', '--json-rows'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.equal(r.status, 0, r.stderr);
      const got = Float32Array.from((JSON.parse(r.stdout).embeddings as number[][]).flat());
      const diff = maxAbsDiff(got, selfsupEmbed(enc, x));
      assert.ok(diff < 1e-4, `${name}: max |torch - selfsup| = ${diff}`);
      enc.dispose();
      x.dispose();
    });
  }
});
