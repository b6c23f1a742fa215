// Rotation-prediction grid: each test image as an inline PNG with its true and predicted rotation.
import { PNG } from 'pngjs';
import { escapeHtml } from './escape.js';
import { ReportInputError, type RotationSample, type MaeSample } from './types.js';

export const ROTATION_DEGREES = ['0°', '90°', '180°', '270°'] as const;

/** Images this small or smaller (longest side, px) are drawn ×3, nearest neighbour, so they are visible. */
const SMALL_IMAGE = 64;

type Image = Pick<RotationSample, 'pixels' | 'width' | 'height' | 'channels'>;

function checkImage(image: Image, where: string): void {
  const { width, height, channels, pixels } = image;
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new ReportInputError(`${where}: width and height must be positive integers, got ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3) throw new ReportInputError(`${where}: channels must be 1 or 3, got ${channels}`);
  if (pixels.length !== channels * height * width) {
    throw new ReportInputError(`${where}: expected ${channels}×${height}×${width} = ${channels * height * width} pixel values (CHW), got ${pixels.length}`);
  }
}

/** Encodes a CHW 0..255 image as a PNG, upscaled by `scale` with nearest-neighbour sampling. */
export function encodePng(image: Image, scale = 1): Buffer {
  checkImage(image, 'image');
  const { width, height, channels, pixels } = image;
  const plane = width * height;
  const png = new PNG({ width: width * scale, height: height * scale, colorType: channels === 1 ? 0 : 2 });
  const byte = (v: number) => (Number.isFinite(v) ? Math.min(255, Math.max(0, Math.round(v))) : 0);
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const src = Math.floor(y / scale) * width + Math.floor(x / scale);
      const dst = (y * png.width + x) * 4;
      const r = byte(pixels[src]);
      png.data[dst] = r;
      png.data[dst + 1] = channels === 3 ? byte(pixels[plane + src]) : r;
      png.data[dst + 2] = channels === 3 ? byte(pixels[2 * plane + src]) : r;
      png.data[dst + 3] = 255;
    }
  }
  return PNG.sync.write(png, { colorType: channels === 1 ? 0 : 2 });
}

export function pngDataUri(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`;
}

function checkRotation(value: number, what: string, i: number): void {
  if (![0, 1, 2, 3].includes(value)) {
    throw new ReportInputError(`rotationSamples[${i}]: ${what} must be 0, 1, 2 or 3 quarter turns, got ${value}`);
  }
}

/** HTML grid of up to `maxShown` samples; correct predictions framed green, wrong ones red (with ✓/✗ for colour-blind readers). */
export function rotationGrid(samples: readonly RotationSample[], maxShown = 64): string {
  samples.forEach((s, i) => {
    checkImage(s, `rotationSamples[${i}]`);
    checkRotation(s.rotation, 'rotation', i);
    checkRotation(s.predicted, 'predicted', i);
  });
  const correct = samples.filter((s) => s.rotation === s.predicted).length;
  const shown = samples.slice(0, maxShown);
  const cells = shown.map((s, i) => {
    const scale = Math.max(s.width, s.height) <= SMALL_IMAGE ? 3 : 1;
    const ok = s.rotation === s.predicted;
    const truth = ROTATION_DEGREES[s.rotation], guess = ROTATION_DEGREES[s.predicted];
    return `<figure class="rot ${ok ? 'ok' : 'wrong'}">` +
      `<img src="${pngDataUri(encodePng(s, scale))}" width="${s.width * scale}" height="${s.height * scale}" ` +
      `alt="${escapeHtml(`sample ${i + 1}: true ${truth}, predicted ${guess}`)}">` +
      `<figcaption><span class="mark">${ok ? '✓' : '✗'}</span> true ${escapeHtml(truth)}<br>pred ${escapeHtml(guess)}</figcaption>` +
      `</figure>`;
  });
  const pct = samples.length ? ((100 * correct) / samples.length).toFixed(1) : '0';
  const summary = `${correct} of ${samples.length} correct (${pct}%)` +
    (shown.length < samples.length ? `; showing the first ${shown.length}` : '');
  return `<p class="grid-summary">${escapeHtml(summary)}</p><div class="rot-grid">${cells.join('')}</div>`;
}

/** HTML grid of masked-autoencoder samples: per image the masked input, the reconstruction and the original, side by side. */
export function maeGrid(samples: readonly MaeSample[], maxShown = 16): string {
  samples.forEach((s, i) => {
    for (const part of ['masked', 'reconstruction', 'original'] as const) {
      checkImage({ pixels: s[part], width: s.width, height: s.height, channels: s.channels }, `maeSamples[${i}].${part}`);
    }
  });
  const shown = samples.slice(0, maxShown);
  const cells = shown.map((s, i) => {
    const scale = Math.max(s.width, s.height) <= SMALL_IMAGE ? 3 : 1;
    const img = (part: 'masked' | 'reconstruction' | 'original', label: string): string =>
      `<img src="${pngDataUri(encodePng({ pixels: s[part], width: s.width, height: s.height, channels: s.channels }, scale))}" ` +
      `width="${s.width * scale}" height="${s.height * scale}" alt="${escapeHtml(`sample ${i + 1}: ${label}`)}" title="${escapeHtml(label)}">`;
    return `<figure class="mae">${img('masked', 'masked input')}${img('reconstruction', 'reconstruction')}${img('original', 'original')}` +
      `<figcaption>masked · reconstruction · original</figcaption></figure>`;
  });
  const summary = `${samples.length} held-out image${samples.length === 1 ? '' : 's'}` + (shown.length < samples.length ? `; showing the first ${shown.length}` : '');
  return `<p class="grid-summary">${escapeHtml(summary)}</p><div class="mae-grid">${cells.join('')}</div>`;
}
