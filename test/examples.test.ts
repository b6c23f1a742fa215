// The README's API example is examples/simclr-own-images.ts, quoted verbatim (with
// 'selfsup' for '../src/index.js'); here it runs on a small folder of PNGs for a few steps.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function writeImages(dir: string): Promise<void> {
  // Two classes: a bright square top-left or bottom-right, with seeded noise.
  let st = 7;
  const rnd = (): number => ((st = (st * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (const [c, name] of ['top', 'bottom'].entries()) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < 12; i++) {
      const raw = Buffer.alloc(32 * 32 * 3);
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
        const on = c === 0 ? y < 16 && x < 16 : y >= 16 && x >= 16;
        raw.fill(Math.floor((on ? 200 : 30) + 40 * rnd()), (y * 32 + x) * 3, (y * 32 + x) * 3 + 3);
      }
      await sharp(raw, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(dir, name, `${i}.png`));
    }
  }
}

describe('README examples', () => {
  test('the SimCLR example in the README is examples/simclr-own-images.ts, word for word', () => {
    const example = readFileSync(join(root, 'examples', 'simclr-own-images.ts'), 'utf8').replace("'../src/index.js'", "'selfsup'");
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    assert.ok(readme.includes('```ts\n' + example + '```'), 'README.md quotes examples/simclr-own-images.ts (with \'selfsup\' as the import) in a ts block');
  });

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
});
