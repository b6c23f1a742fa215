// Weights saved before their description: a process killed between the two writes leaves
// new weights beside the old encoder.json / classifier.json. The weights carry their own
// description, which then wins; a description edited by hand (same save) is still used.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackbone, Classifier, linearHead } from '../src/models/index.js';
import { saveEncoder, loadEncoder, saveClassifier, loadClassifier, type EncoderDescription, type ClassifierDescription } from '../src/io/index.js';

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'selfsup-described-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

const encoderDescription = (data: string, mean: number): EncoderDescription => ({
  backbone: 'small-cnn', width: 4, inChannels: 1, imageShape: [1, 28, 28], norm: { mean: [mean], std: [0.3] }, method: 'rotation', data, rotationAccuracy: null,
});

test('an encoder.json from an earlier save gives way to the description inside the weights', () => {
  const d = join(dir, 'encoder');
  mkdirSync(d);
  const first = createBackbone('small-cnn', { inChannels: 1, width: 4 });
  saveEncoder(d, first, encoderDescription('mnist-digits', 0.13));
  const earlier = join(dir, 'encoder-earlier.json');
  copyFileSync(join(d, 'encoder.json'), earlier);
  saveEncoder(d, first, encoderDescription('fashion-mnist', 0.29));
  first.dispose();

  copyFileSync(earlier, join(d, 'encoder.json')); // as if killed after the weights, before the JSON
  const torn = loadEncoder(d);
  assert.equal(torn.info.data, 'fashion-mnist');
  assert.deepEqual(torn.info.norm.mean, [0.29]);
  torn.encoder.dispose();

  // The JSON of the same save, edited by hand, is what loads.
  const second = createBackbone('small-cnn', { inChannels: 1, width: 4 });
  saveEncoder(d, second, encoderDescription('fashion-mnist', 0.29));
  second.dispose();
  const info = JSON.parse(readFileSync(join(d, 'encoder.json'), 'utf8'));
  writeFileSync(join(d, 'encoder.json'), JSON.stringify({ ...info, data: 'my label' }));
  const edited = loadEncoder(d);
  assert.equal(edited.info.data, 'my label');
  edited.encoder.dispose();
});

test('a classifier.json from an earlier save gives way to the description inside the weights', () => {
  const d = join(dir, 'classifier');
  mkdirSync(d);
  const description = (classNames: string[]): ClassifierDescription => ({
    backbone: 'small-cnn', width: 4, inChannels: 1, imageShape: [1, 28, 28], norm: { mean: [0.29], std: [0.35] }, head: 'linear', block: null, classNames,
    trainedFrom: 'scratch', data: 'fashion-mnist', labelsPerClass: 10, seed: 0, testAccuracy: null,
  });
  const two = new Classifier(createBackbone('small-cnn', { inChannels: 1, width: 4 }), linearHead(16, 2));
  saveClassifier(d, two, description(['cat', 'dog']));
  two.dispose();
  const earlier = join(dir, 'classifier-earlier.json');
  copyFileSync(join(d, 'classifier.json'), earlier);
  const three = new Classifier(createBackbone('small-cnn', { inChannels: 1, width: 4 }), linearHead(16, 3));
  saveClassifier(d, three, description(['a', 'b', 'c']));
  three.dispose();

  copyFileSync(earlier, join(d, 'classifier.json'));
  const loaded = loadClassifier(d);
  assert.deepEqual(loaded.info.classNames, ['a', 'b', 'c']);
  loaded.model.dispose();
});
