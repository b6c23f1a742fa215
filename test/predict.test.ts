// Keeping and using a fine-tuned classifier: saveClassifier/loadClassifier round-trip
// the outputs exactly; `selfsup finetune --out` then `selfsup predict` labels the same
// test images with the same accuracy finetune reported, and labels image files; a
// missing or wrong model directory is a clear error.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualSeed, noGrad, tidy, tensor, setNumThreads } from '../src/tensor/index.js';
import { createBackbone, Classifier, mlpHead } from '../src/models/index.js';
import { loadFashionMnist, datasetSource, subset } from '../src/data/index.js';
import { saveClassifier, loadClassifier } from '../src/io/index.js';
import { classify } from '../src/eval/index.js';
import { encodePng } from '../src/report/images.js';
import { saveEncoder } from '../src/io/encoder-files.js';

setNumThreads(1);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'selfsup-predict-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const NORM = { mean: [0.286], std: [0.353] };
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, SELFSUP_NUM_THREADS: '1' }, maxBuffer: 64 << 20 });

describe('classifier files', () => {
  test('save and load give the same probabilities; classify reports the top classes', async () => {
    manualSeed(7);
    const model = new Classifier(createBackbone('small-cnn', { inChannels: 1, width: 4 }), mlpHead(16, 10));
    model.eval();
    const d = join(dir, 'm');
    mkdirSync(d);
    const classNames = Array.from({ length: 10 }, (_, i) => `class ${i}`);
    saveClassifier(d, model, {
      backbone: 'small-cnn', width: 4, inChannels: 1, imageShape: [1, 28, 28], norm: NORM, head: 'mlp', block: null, classNames,
      trainedFrom: 'scratch', data: 'fashion-mnist', labelsPerClass: 10, seed: 0, testAccuracy: null,
    });
    const loaded = loadClassifier(d);
    assert.deepEqual(loaded.info.classNames, classNames);
    const ds = subset(loadFashionMnist({ split: 'test' }), Int32Array.from({ length: 9 }, (_, i) => i));
    const a = await classify(model, datasetSource(ds), { norm: NORM, top: 10 });
    const b = await classify(loaded.model, datasetSource(ds), { norm: NORM, top: 10 });
    assert.deepEqual(b, a);
    for (const p of a) {
      assert.ok(Math.abs(p.probabilities.reduce((x, y) => x + y, 0) - 1) < 1e-5, 'all ten probabilities sum to 1');
      for (let j = 1; j < 10; j++) assert.ok(p.probabilities[j - 1]! >= p.probabilities[j]!, 'best first');
    }
    const direct = noGrad(() => tidy(() => model.forward(tensor(ds.images.subarray(0, 784), { shape: [1, 1, 28, 28] }).to('float32').div(255).sub(0.286).div(0.353)).argmax(1))).dataNumbers();
    assert.equal(a[0]!.classes[0], direct[0]);
    model.dispose();
    loaded.model.dispose();
  });

  test('a missing directory, or one that holds an encoder, is a clear error', () => {
    assert.throws(() => loadClassifier(join(dir, 'none')), /model not found/);
    const e = join(dir, 'enc');
    mkdirSync(e);
    const enc = createBackbone('small-cnn', { inChannels: 1, width: 4 });
    saveEncoder(e, enc, { backbone: 'small-cnn', width: 4, inChannels: 1, imageShape: [1, 28, 28], norm: NORM, method: 'rotation', data: 'fashion-mnist', rotationAccuracy: null });
    enc.dispose();
    assert.throws(() => loadClassifier(e), /it holds an encoder: fine-tune it first/);
  });
});

describe('selfsup finetune --out, then selfsup predict', () => {
  test('predict reproduces finetune\'s test accuracy and labels image files', () => {
    const model = join(dir, 'model');
    const ft = cli('finetune', '--k', '5', '--seeds', '3', '--steps', '8', '--width', '4', '--limit', '2000', '--test-limit', '200', '--out', model, '--json');
    assert.equal(ft.status, 0, ft.stderr);
    const acc = JSON.parse(ft.stdout.trim().split('\n').at(-1)!).runs[0].accuracy as number;
    const pr = cli('predict', '--model', model, '--data', 'fashion-mnist', '--limit', '200', '--json');
    assert.equal(pr.status, 0, pr.stderr);
    const result = JSON.parse(pr.stdout.trim().split('\n').at(-1)!);
    assert.equal(result.predictions.length, 200);
    assert.ok(Math.abs(result.accuracy - acc) < 1e-9, `predict ${result.accuracy} vs finetune ${acc}`);
    assert.equal(result.classes[9], 'Ankle boot');

    const ds = loadFashionMnist({ split: 'test' });
    const file = join(dir, 'boot.png');
    writeFileSync(file, encodePng({ pixels: ds.images.subarray(0, 784), width: 28, height: 28, channels: 1 }));
    const one = cli('predict', '--model', model, file, '--top', '2', '--json');
    assert.equal(one.status, 0, one.stderr);
    const p = JSON.parse(one.stdout.trim().split('\n').at(-1)!).predictions[0];
    assert.equal(p.image, file);
    assert.equal(p.top.length, 2);
    // The file is test image 0, so its label is the one predict gave for row 0 of --data.
    assert.equal(p.top[0].class, result.predictions[0].top[0].class);
  });

  test('no images is a usage error', () => {
    const r = cli('predict', '--model', join(dir, 'model'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /give image files to label, or --data SPEC/);
  });
});
