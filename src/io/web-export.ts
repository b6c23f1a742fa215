// `selfsup export --format web`: a static folder that runs the encoder in the browser
// (onnxruntime-web, from npm) and finds the gallery images most similar to a dropped
// image. Works offline from file:// or from any static server. Written into a temp
// folder and renamed into place, so a failed export leaves nothing half-written.
import { mkdirSync, readFileSync, renameSync, rmSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { encoderToOnnx, ONNX_INPUT, ONNX_OUTPUT, type OnnxExportOptions } from './onnx.js';
import { encodePng, pngDataUri } from '../report/images.js';
import { renderWebPage, WEB_SCRIPTS } from '../report/web-page.js';
import type { Backbone } from '../models/index.js';

export interface WebGallery {
  /** CHW uint8 pixels of each gallery image (imageShape of the export). */
  pixels: Uint8Array[];
  captions: string[];
  /** Their embeddings as selfsup computes them, pixels.length * dim floats. */
  embeddings: Float32Array;
}

export interface WebExportOptions extends OnnxExportOptions {
  gallery: WebGallery;
  title?: string;
  about?: string;
  /** Neighbours shown per query (default 8). */
  count?: number;
}

/** Where onnxruntime-web's browser builds are (a clear error when it is not installed). */
function ortWebDist(): string {
  try {
    // The package exports its CommonJS build from dist/; the browser builds sit beside it.
    return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  } catch {
    throw new Error("the web export needs the npm package onnxruntime-web: run 'npm install onnxruntime-web'");
  }
}

const EXPORT_MARK = 'selfsup-web-export.json';

/** Writes the folder; returns its files and total bytes. */
export function exportWeb(encoder: Backbone, dir: string, o: WebExportOptions): { files: string[]; bytes: number } {
  const [c, h, w] = o.imageShape;
  const n = o.gallery.pixels.length;
  if (n < 1) throw new RangeError('exportWeb: the gallery needs at least one image');
  if (o.gallery.captions.length !== n) throw new RangeError(`exportWeb: ${o.gallery.captions.length} captions for ${n} gallery images`);
  const dim = o.gallery.embeddings.length / n;
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`exportWeb: ${o.gallery.embeddings.length} embedding values for ${n} images`);
  for (const [i, p] of o.gallery.pixels.entries()) if (p.length !== c * h * w) throw new RangeError(`exportWeb: gallery image ${i} has ${p.length} bytes, expected ${c}x${h}x${w}`);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || (readdirSync(dir).length > 0 && !existsSync(join(dir, EXPORT_MARK))))) {
    throw new Error(`${dir} exists and is not an earlier web export; choose a new or empty folder`);
  }
  const dist = ortWebDist();
  const model = encoderToOnnx(encoder, o);
  const count = o.count ?? 8;
  const scale = Math.max(h, w) <= 64 ? 3 : 1;
  const embBytes = new Uint8Array(o.gallery.embeddings.buffer, o.gallery.embeddings.byteOffset, o.gallery.embeddings.byteLength);
  const gallery = {
    imageShape: [c, h, w], dim, count, input: ONNX_INPUT, output: ONNX_OUTPUT,
    embeddings: Buffer.from(embBytes).toString('base64'),
    selftestPixels: Buffer.from(o.gallery.pixels[0]!).toString('base64'),
    items: o.gallery.pixels.map((p, i) => ({ thumb: pngDataUri(encodePng({ pixels: p, width: w, height: h, channels: c as 1 | 3 }, scale)), caption: o.gallery.captions[i]! })),
  };
  const files: Record<string, Uint8Array | string> = {
    'encoder.onnx': model,
    'ort-bundle.js': `window.SELFSUP_ORT = ${JSON.stringify(readFileSync(join(dist, 'ort.wasm.bundle.min.mjs'), 'utf8'))};\n`,
    'ort-wasm.js': `window.SELFSUP_WASM = "${readFileSync(join(dist, 'ort-wasm-simd-threaded.wasm')).toString('base64')}";\n`,
    'model.js': `window.SELFSUP_MODEL = "${Buffer.from(model).toString('base64')}";\n`,
    'gallery.js': `window.SELFSUP_GALLERY = ${JSON.stringify(gallery)};\n`,
    'index.html': renderWebPage({ title: o.title ?? 'selfsup: similar images in the browser', about: o.about ?? `${n} gallery images`, count }),
    [EXPORT_MARK]: JSON.stringify({ format: 'selfsup.web-export', files: [...WEB_SCRIPTS, 'index.html', 'encoder.onnx'], galleryImages: n, dim, imageShape: [c, h, w] }, null, 2) + '\n',
  };
  const tmp = join(dirname(dir), `.${basename(dir)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let bytes = 0;
  try {
    mkdirSync(tmp, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      writeFileSync(join(tmp, name), data);
      bytes += data.byteLength;
    }
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`could not write the web export to '${dir}': ${(err as Error).message}`, { cause: err });
  }
  return { files: Object.keys(files).map((f) => join(dir, f)), bytes };
}
