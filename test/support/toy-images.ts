// Tiny labelled images for tests: class c is a bright bar in row band c, with seeded
// noise (easy to classify, but not trivial for rotation prediction).
import { makeDataset, type ImageDataset } from '../../src/data/index.js';

export interface ToyImageOptions {
  classes?: number;
  size?: number;
  seed?: number;
  /** Brighten the left third of every image, so rotations differ beyond the bar (default true). */
  leftShade?: boolean;
}

export function toyImages(n: number, o: ToyImageOptions = {}): ImageDataset {
  const classes = o.classes ?? 4;
  const size = o.size ?? 12;
  const leftShade = o.leftShade ?? true;
  let st = o.seed ?? 1;
  const rnd = (): number => ((st = (st * 1103515245 + 12345) % 2147483648) / 2147483648);
  const images = new Uint8Array(n * size * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const band = Math.floor((y * classes) / size) === c;
      images[i * size * size + y * size + x] = Math.min(255, Math.floor((band ? 200 : 20) + 40 * rnd() + (leftShade && x < size / 3 ? 30 : 0)));
    }
  }
  return makeDataset({ name: 'toy', imageShape: [1, size, size], images, labels, classNames: ['a', 'b', 'c', 'd'].slice(0, classes) });
}

/**
 * Tiny images of one centred, upright bright ellipse (random size and a pixel of random
 * shift) with seeded noise and a brighter top third: every part of the image looks
 * different, so the tile pretexts (which tile is where) can be learnt, as on
 * Fashion-MNIST's centred objects. One class.
 */
export function blobImages(n: number, o: { size?: number; seed?: number } = {}): ImageDataset {
  const size = o.size ?? 16;
  let st = o.seed ?? 1;
  const rnd = (): number => ((st = (st * 1103515245 + 12345) % 2147483648) / 2147483648);
  const images = new Uint8Array(n * size * size);
  for (let i = 0; i < n; i++) {
    const cx = size / 2 - 0.5 + (rnd() - 0.5) * 2;
    const cy = size / 2 - 0.5 + (rnd() - 0.5) * 2;
    const r = size * (0.25 + 0.15 * rnd());
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const inside = Math.hypot(x - cx, (y - cy) * 1.4) < r;
      images[i * size * size + y * size + x] = Math.min(255, Math.floor((inside ? 180 : 20) + 50 * rnd() + (y < size / 3 ? 30 : 0)));
    }
  }
  return makeDataset({ name: 'blobs', imageShape: [1, size, size], images, labels: new Int32Array(n), classNames: ['blob'] });
}
