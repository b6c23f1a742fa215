// The README's TypeScript blocks are examples/*.ts, quoted verbatim (with 'selfsup' for
// '../src/index.js'), and its user story is examples/use-what-you-trained.sh; here each runs
// (the SimCLR example and the story on a small folder of PNGs, for a few steps).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeImageFolder } from './support/image-folder.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const writeImages = writeImageFolder;

describe('README examples', () => {
  for (const name of ['simclr-own-images', 'engine-tour', 'engine-training']) {
    test(`the README's ${name} block is examples/${name}.ts, word for word`, () => {
      const example = readFileSync(join(root, 'examples', `${name}.ts`), 'utf8').replace("'../src/index.js'", "'selfsup'");
      const readme = readFileSync(join(root, 'README.md'), 'utf8');
      assert.ok(readme.includes('```ts\n' + example + '```'), `README.md quotes examples/${name}.ts (with 'selfsup' as the import) in a ts block`);
    });
  }

  test('the SimCLR example pretrains, fine-tunes and embeds a folder of images', async () => {
    const work = mkdtempSync(join(tmpdir(), 'selfsup-example-'));
    await writeImages(join(work, 'images'));
    const r = spawnSync(process.execPath, [join(root, 'dist', 'examples', 'simclr-own-images.js'), join(work, 'images')], {
      cwd: work, env: { ...process.env, STEPS: '3' }, encoding: 'utf8', timeout: 120_000,
    });
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr}`);
    assert.match(r.stdout, /accuracy on all images: \d+\.\d%/);
    assert.match(r.stdout, /embeddings: \[24, 128\]/);
  });

  test('the engine tour prints what its comments say', () => {
    const r = spawnSync(process.execPath, [join(root, 'dist', 'examples', 'engine-tour.js')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr}`);
    assert.match(r.stdout, /tensor\(\[\[4\.0000, 4\.0000\],\s+\[6\.0000, 6\.0000\]\]\)/);
    assert.ok(r.stdout.includes('aten::hardtanh(Tensor self, Scalar min_val=-1, Scalar max_val=1) -> Tensor'), r.stdout);
    assert.match(r.stdout, /tensor\(\[\[1\.0000, 2\.0000\],\s+\[2\.0000, 2\.0000\]\]\)/);
  });

  test('the engine training loop trains 4 steps and writes a safetensors file', () => {
    const work = mkdtempSync(join(tmpdir(), 'selfsup-engine-'));
    const r = spawnSync(process.execPath, [join(root, 'dist', 'examples', 'engine-training.js')], { cwd: work, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr}`);
    assert.equal(r.stdout.match(/^loss \d+\.\d{4}$/gm)?.length, 4, r.stdout);
    assert.ok(existsSync(join(work, 'model.safetensors')));
  });

  test('the README\'s user story is examples/use-what-you-trained.sh, word for word', () => {
    const script = readFileSync(join(root, 'examples', 'use-what-you-trained.sh'), 'utf8');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    assert.ok(readme.includes('```sh\n' + script + '```'), 'README.md quotes examples/use-what-you-trained.sh in a sh block');
  });

  test('the user story runs: pretrain, embed, similar, export (ONNX and web), finetune, predict', async () => {
    const work = mkdtempSync(join(tmpdir(), 'selfsup-story-'));
    await writeImages(join(work, 'photos'), 150);
    // `npx selfsup ...` runs this checkout's CLI.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'npx'), `#!/bin/sh\n[ "$1" = selfsup ] && shift\nexec "${process.execPath}" "${join(root, 'dist', 'src', 'cli', 'main.js')}" "$@"\n`);
    chmodSync(join(bin, 'npx'), 0o755);
    const r = spawnSync('bash', [join(root, 'examples', 'use-what-you-trained.sh'), 'photos'], {
      cwd: work, env: { ...process.env, STEPS: '3', PATH: `${bin}:${process.env.PATH}`, SELFSUP_NUM_THREADS: '1' }, encoding: 'utf8', timeout: 300_000,
    });
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    for (const f of ['photos.safetensors', 'similar.html', 'encoder.onnx', 'web/index.html', 'model/classifier.json']) assert.ok(existsSync(join(work, 'runs', 'mine', f)), f);
    assert.match(r.stdout, /photos\/(top|bottom)\/\d+\.png: (top|bottom) \d+\.\d%/);
  });
});
