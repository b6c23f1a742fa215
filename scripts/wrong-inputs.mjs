#!/usr/bin/env node
// Runs every CLI command with wrong inputs and prints each error message, so that a
// person can read them all at once and see which fail to name the file, the field or
// the fix. Usage (after `npx tsc -p tsconfig.json`): node scripts/wrong-inputs.mjs [FILTER]
// Each case runs `node dist/src/cli/main.js ...` in a scratch folder; nothing is trained
// for longer than a step or two.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/src/cli/main.js');
const filter = process.argv[2];
const work = mkdtempSync(join(tmpdir(), 'selfsup-wrong-'));
const at = (...p) => join(work, ...p);

/** An IDX file: magic, dims, then the bytes. */
function idx(path, dims, bytes = new Uint8Array(dims.reduce((a, b) => a * b, 1))) {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE((0x08 << 8) | dims.length, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  writeFileSync(path, Buffer.concat([head, Buffer.from(bytes)]));
}

// Fixtures: an empty IDX set, IDX labels of the wrong count, an empty folder, broken encoder and checkpoint files.
mkdirSync(at('idx-empty'));
idx(at('idx-empty', 'train-images-idx3-ubyte'), [0, 28, 28]);
idx(at('idx-empty', 'train-labels-idx1-ubyte'), [0]);
mkdirSync(at('idx-mismatch'));
idx(at('idx-mismatch', 'train-images-idx3-ubyte'), [10, 28, 28]);
idx(at('idx-mismatch', 'train-labels-idx1-ubyte'), [7]);
mkdirSync(at('idx-none'));
mkdirSync(at('folder-empty'));
mkdirSync(at('not-json'));
writeFileSync(at('not-json', 'encoder.json'), '{ "format": "selfsup.encoder", ');
writeFileSync(at('config-bad.json'), '{ "ks": [10], }');
writeFileSync(at('config-unknown.json'), '{ "kss": [10] }');

const { createBackbone } = await import(join(root, 'dist/src/models/index.js'));
const { saveEncoder } = await import(join(root, 'dist/src/io/encoder-files.js'));
mkdirSync(at('enc'));
const backbone = createBackbone('small-cnn', { inChannels: 1, imageSize: [28, 28] });
saveEncoder(at('enc'), backbone, {
  backbone: 'small-cnn', width: null, inChannels: 1, imageShape: [1, 28, 28], norm: { mean: [0.1], std: [0.3] },
  method: 'rotation', data: 'mnist-digits', rotationAccuracy: null,
});
backbone.dispose();
const encoderJson = JSON.parse(readFileSync(at('enc', 'encoder.json'), 'utf8'));
for (const field of ['blocks', 'norm', 'imageShape', 'backbone']) {
  mkdirSync(at(`enc-no-${field}`));
  copyFileSync(at('enc', 'encoder.safetensors'), at(`enc-no-${field}`, 'encoder.safetensors'));
  const { [field]: _, ...rest } = encoderJson;
  writeFileSync(at(`enc-no-${field}`, 'encoder.json'), JSON.stringify(rest));
}
mkdirSync(at('enc-bad-norm'));
copyFileSync(at('enc', 'encoder.safetensors'), at('enc-bad-norm', 'encoder.safetensors'));
writeFileSync(at('enc-bad-norm', 'encoder.json'), JSON.stringify({ ...encoderJson, norm: { mean: [0.1, 0.2], std: [0] } }));
mkdirSync(at('enc-bad-backbone'));
copyFileSync(at('enc', 'encoder.safetensors'), at('enc-bad-backbone', 'encoder.safetensors'));
writeFileSync(at('enc-bad-backbone', 'encoder.json'), JSON.stringify({ ...encoderJson, backbone: 'resnet-18' }));
const { Classifier, linearHead } = await import(join(root, 'dist/src/models/index.js'));
const { saveClassifier } = await import(join(root, 'dist/src/io/classifier-files.js'));
mkdirSync(at('model'));
const encoderOfModel = createBackbone('small-cnn', { inChannels: 1, imageSize: [28, 28] });
const model = new Classifier(encoderOfModel, linearHead(encoderOfModel.featureDim(), 10));
saveClassifier(at('model'), model, {
  backbone: 'small-cnn', width: null, inChannels: 1, imageShape: [1, 28, 28], norm: { mean: [0.1], std: [0.3] }, head: 'linear', block: null,
  classNames: Array.from({ length: 10 }, (_, i) => String(i)), trainedFrom: 'scratch', data: 'mnist-digits', labelsPerClass: 10, seed: 0, testAccuracy: null,
});
model.dispose();
const classifierJson = JSON.parse(readFileSync(at('model', 'classifier.json'), 'utf8'));
mkdirSync(at('model-no-imageShape'));
copyFileSync(at('model', 'classifier.safetensors'), at('model-no-imageShape', 'classifier.safetensors'));
const { imageShape: _shape, ...withoutShape } = classifierJson;
writeFileSync(at('model-no-imageShape', 'classifier.json'), JSON.stringify(withoutShape));
writeFileSync(at('not-an-image.png'), 'hello');
// A folder of colour images, for a grey encoder.
const { createRequire } = await import('node:module');
const sharp = createRequire(join(root, 'package.json'))('sharp');
for (const cls of ['a', 'b']) {
  mkdirSync(at('colour', cls), { recursive: true });
  for (let i = 0; i < 3; i++) {
    const pixels = Buffer.alloc(28 * 28 * 3, 0);
    for (let p = 0; p < pixels.length; p += 3) pixels[p] = 200; // red: not grey
    await sharp(pixels, { raw: { width: 28, height: 28, channels: 3 } }).png().toFile(at('colour', cls, `${i}.png`));
  }
}
mkdirSync(at('resume-bad'));
writeFileSync(at('resume-bad', 'rotation-pretrain.json'), '{ "meta": { "step": 3, ');
writeFileSync(at('resume-bad', 'rotation-pretrain.safetensors'), '');

const cases = [
  ['empty IDX set', 'pretrain', '--data', `idx:${at('idx-empty')}`, '--out', at('o1')],
  ['IDX labels of another count', 'pretrain', '--data', `idx:${at('idx-mismatch')}`, '--out', at('o2')],
  ['IDX folder without IDX files', 'pretrain', '--data', `idx:${at('idx-none')}`, '--out', at('o3')],
  ['empty image folder', 'pretrain', '--data', `folder:${at('folder-empty')}`, '--out', at('o4')],
  ['--image-size on built-in data', 'pretrain', '--data', 'mnist-digits', '--image-size', '32', '--out', at('o5')],
  ['malformed checkpoint JSON on --resume', 'pretrain', '--resume', '--out', at('resume-bad')],
  ['--resume with nothing to resume', 'pretrain', '--resume', '--out', at('nothing-here')],
  ['--steps not a number', 'pretrain', '--steps', 'many', '--out', at('o6')],
  ['--data typo', 'pretrain', '--data', 'mnist-digit', '--out', at('o7')],
  ['--data a bare path', 'pretrain', '--data', at('folder-empty'), '--out', at('o8')],
  ['--method typo', 'pretrain', '--method', 'simclear', '--out', at('o9')],
  ['--batch-size above the data', 'pretrain', '--data', 'mnist-digits', '--limit', '50', '--batch-size', '500', '--held-out', '0', '--out', at('o10')],
  ['encoder.json without blocks', 'finetune', '--encoder', at('enc-no-blocks'), '--data', 'mnist-digits', '--limit', '100'],
  ['encoder.json without norm', 'probe', '--encoder', at('enc-no-norm'), '--data', 'mnist-digits'],
  ['encoder.json without imageShape', 'knn', '--encoder', at('enc-no-imageShape'), '--data', 'mnist-digits'],
  ['encoder.json without backbone', 'embed', '--encoder', at('enc-no-backbone'), '--out', at('e.npy')],
  ['encoder.json with a bad norm', 'embed', '--encoder', at('enc-bad-norm'), '--data', 'mnist-digits', '--out', at('e2.npy')],
  ['encoder.json with an unknown backbone', 'export', '--encoder', at('enc-bad-backbone'), '--out', at('e.onnx')],
  ['encoder.json not JSON', 'knn', '--encoder', at('not-json'), '--data', 'mnist-digits'],
  ['--encoder a weights file', 'knn', '--encoder', at('enc', 'encoder.safetensors'), '--data', 'mnist-digits'],
  ['--encoder missing', 'probe', '--data', 'mnist-digits'],
  ['encoder on images of other channels', 'knn', '--encoder', at('enc'), '--data', 'cifar10:/nonexistent'],
  ['--k not a number', 'knn', '--encoder', at('enc'), '--data', 'mnist-digits', '--k', 'ten'],
  ['--k more than the class has', 'knn', '--encoder', at('enc'), '--data', 'mnist-digits', '--limit', '100', '--k', '500'],
  ['--block typo', 'probe', '--encoder', at('enc'), '--data', 'mnist-digits', '--block', 'blok2'],
  ['--freeze typo', 'finetune', '--encoder', at('enc'), '--data', 'mnist-digits', '--freeze', 'block9'],
  ['--head typo', 'finetune', '--head', 'mpl'],
  ['--optimizer typo', 'finetune', '--optimizer', 'adamm'],
  ['--seeds not a list', 'finetune', '--seeds', 'a,b'],
  ['--model missing folder', 'predict', '--model', at('nothing-here'), 'x.png'],
  ['--model an encoder folder', 'predict', '--model', at('enc'), 'x.png'],
  ['predict a missing image', 'predict', '--model', at('model'), at('missing.png')],
  ['predict a file that is no image', 'predict', '--model', at('model'), at('not-an-image.png')],
  ['classifier.json without imageShape', 'predict', '--model', at('model-no-imageShape'), at('not-an-image.png')],
  ['predict --split typo', 'predict', '--model', at('model'), '--data', 'mnist-digits', '--split', 'tset'],
  ['grey encoder on a colour folder', 'knn', '--encoder', at('enc'), '--data', `folder:${at('colour')}`],
  ['embed a colour folder with a grey encoder', 'embed', '--encoder', at('enc'), '--data', `folder:${at('colour')}`, '--out', at('c.npy')],
  ['export --block typo', 'export', '--encoder', at('enc'), '--block', 'block7', '--out', at('x.onnx')],
  ['export --format typo', 'export', '--encoder', at('enc'), '--format', 'onxx', '--out', at('x.onnx')],
  ['similar --query-index past the gallery', 'similar', '--encoder', at('enc'), '--data', 'mnist-digits', '--limit', '20', '--query-index', '99'],
  ['embed without --out', 'embed', '--encoder', at('enc')],
  ['embed to an unknown format', 'embed', '--encoder', at('enc'), '--out', at('e.txt')],
  ['similar without a gallery', 'similar', '--query-index', '0'],
  ['--config not JSON', 'experiment', '--config', at('config-bad.json')],
  ['--config unknown key', 'experiment', '--config', at('config-unknown.json')],
  ['--source none with transfer', 'experiment', '--source', 'none', '--methods', 'transfer'],
  ['--head in the text experiment', 'experiment', '--modality', 'text', '--head', 'mlp'],
  ['--modality typo', 'experiment', '--modality', 'txt'],
  ['--preset typo', 'experiment', '--preset', 'bset'],
  ['report of a folder without results', 'report', at('folder-empty')],
  ['neighbors without vectors', 'neighbors', 'king', '--vectors', at('nothing-here')],
  ['unknown command', 'pretrian'],
  ['unknown option', 'pretrain', '--step', '10'],
];

for (const [what, ...argv] of cases) {
  if (filter && !what.includes(filter) && argv[0] !== filter) continue;
  const r = spawnSync(process.execPath, [cli, ...argv], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  const message = (r.stderr || r.stdout).split('\n').filter((l) => /error|selfsup/.test(l) && !/^\s*at /.test(l)).slice(0, 2).join(' | ');
  console.log(`## ${what}\n   selfsup ${argv.map((a) => a.replace(work, '$W')).join(' ')}\n   exit ${r.status}: ${message.replaceAll(work, '$W') || '(no message)'}\n`);
}
rmSync(work, { recursive: true, force: true });
