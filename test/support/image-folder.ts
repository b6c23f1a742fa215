// A small folder of PNGs, one sub-folder per class, for tests that run the README's examples.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/** Two classes ('top', 'bottom'): a bright square top-left or bottom-right, with seeded noise; 32x32 RGB. */
export async function writeImageFolder(dir: string, perClass = 12): Promise<void> {
  let st = 7;
  const rnd = (): number => ((st = (st * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (const [c, name] of ['top', 'bottom'].entries()) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const raw = Buffer.alloc(32 * 32 * 3);
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
        const on = c === 0 ? y < 16 && x < 16 : y >= 16 && x >= 16;
        raw.fill(Math.floor((on ? 200 : 30) + 40 * rnd()), (y * 32 + x) * 3, (y * 32 + x) * 3 + 3);
      }
      await sharp(raw, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(dir, name, `${i}.png`));
    }
  }
}
