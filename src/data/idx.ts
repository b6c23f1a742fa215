// Reader for IDX files, the format of MNIST and Fashion-MNIST: a big-endian header
// (magic 0x00000803 for images, 0x00000801 for labels), one u32 per dim, then unsigned bytes.
// Files may be gzipped; we look at the first two bytes rather than the file name.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { makeDataset, type ImageDataset } from './dataset.js';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export interface IdxArray {
  /** Sizes from the header, e.g. [10000, 28, 28]. */
  dims: number[];
  /** The unsigned bytes after the header, row-major. */
  data: Uint8Array;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/**
 * Gunzips an IDX file no further than its own header says it can be: the header is
 * decompressed first, and the whole is then capped at header + data bytes (a gzip
 * bomb fails at once instead of filling memory).
 */
function gunzipBounded(gz: Uint8Array, expectedMagic: number, source: string): Uint8Array {
  const headerBytes = 4 + 4 * (expectedMagic & 0xff);
  let head: Buffer;
  try {
    // A sync flush lets a prefix of the stream decompress without its end.
    head = gunzipSync(gz.subarray(0, Math.min(gz.length, 4096)), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 1 << 20 });
  } catch (e) {
    if (!(e instanceof RangeError)) throw new Error(`${source}: looks gzipped but does not decompress: ${(e as Error).message}`);
    head = Buffer.alloc(0);
  }
  let limit = 2 ** 31 - 1;
  if (head.length >= headerBytes) {
    let n = 1;
    for (let d = 0; d < (expectedMagic & 0xff); d++) n *= head.readUInt32BE(4 + 4 * d);
    limit = Math.min(limit, headerBytes + n);
  }
  try {
    return gunzipSync(gz, { maxOutputLength: limit + 1 });
  } catch (e) {
    if (e instanceof RangeError || /maxOutputLength|Cannot create a Buffer larger/.test((e as Error).message)) {
      throw new Error(`${source}: decompresses to more than the ${limit} bytes its IDX header allows; the file is corrupt`);
    }
    throw new Error(`${source}: looks gzipped but does not decompress: ${(e as Error).message}`);
  }
}

/** Parses IDX bytes (gzipped or not); `source` names the file in errors. */
export function parseIdx(bytes: Uint8Array, expectedMagic: number, source: string): IdxArray {
  let buf = bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipBounded(buf, expectedMagic, source);
  // The magic number's last byte is the number of dims, so the header size follows from it.
  const ndims = expectedMagic & 0xff;
  const headerBytes = 4 + 4 * ndims;
  if (buf.length < 4) throw new Error(`${source}: truncated IDX header: expected ${headerBytes} bytes, the file has ${buf.length}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    const what = expectedMagic === IDX_IMAGES_MAGIC ? 'IDX images (ubyte, 3 dims)' : expectedMagic === IDX_LABELS_MAGIC ? 'IDX labels (ubyte, 1 dim)' : 'IDX';
    throw new Error(`${source}: wrong magic number ${hex(magic)}, expected ${hex(expectedMagic)} for ${what}`);
  }
  if (buf.length < headerBytes) {
    throw new Error(`${source}: truncated IDX header: expected ${headerBytes} bytes, the file has ${buf.length}`);
  }
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = buf.length - headerBytes;
  if (actual !== expected) {
    const kind = actual < expected ? 'truncated data' : 'unexpected trailing data';
    throw new Error(`${source}: ${kind}: header says ${dims.join('x')} = ${expected} bytes, the file has ${actual} after the header`);
  }
  // A plain Uint8Array view (not a Buffer) over the decoded bytes.
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + headerBytes, expected) };
}

function readFile(path: string, hint?: string): Uint8Array {
  if (!existsSync(path)) throw new Error(`IDX file not found: ${path}${hint ? `. ${hint}` : ''}`);
  return readFileSync(path);
}

/** Reads an IDX image file: `count` images of rows x cols bytes. */
export function readIdxImages(path: string, hint?: string): { count: number; rows: number; cols: number; data: Uint8Array } {
  const { dims, data } = parseIdx(readFile(path, hint), IDX_IMAGES_MAGIC, path);
  return { count: dims[0]!, rows: dims[1]!, cols: dims[2]!, data };
}

/** Reads an IDX label file: one byte per example. */
export function readIdxLabels(path: string, hint?: string): Uint8Array {
  return parseIdx(readFile(path, hint), IDX_LABELS_MAGIC, path).data;
}

/** Reads a pair of IDX files (images, labels) into a single-channel data set. */
export function loadIdxPair(
  imagesPath: string,
  labelsPath: string,
  opts: { name: string; classNames?: string[] | null; hint?: string },
): ImageDataset {
  const images = readIdxImages(imagesPath, opts.hint);
  if (images.count === 0) throw new Error(`${imagesPath} holds no images (its header counts 0); give IDX files with at least one image`);
  const labels = readIdxLabels(labelsPath, opts.hint);
  if (labels.length !== images.count) {
    throw new Error(`${opts.name}: image/label count mismatch: ${imagesPath} has ${images.count} images but ${labelsPath} has ${labels.length} labels`);
  }
  return makeDataset({
    name: opts.name,
    imageShape: [1, images.rows, images.cols],
    images: images.data,
    labels: Int32Array.from(labels),
    classNames: opts.classNames ?? null,
  });
}

/**
 * The path of an IDX file in `dir` named `base`, gzipped (`base.gz`) or not.
 * Throws naming both candidates when neither exists.
 */
export function findIdxFile(dir: string, base: string, hint?: string): string {
  const gz = join(dir, `${base}.gz`);
  const plain = join(dir, base);
  const found = [gz, plain].find((p) => existsSync(p));
  if (!found) throw new Error(`IDX file not found: neither ${gz} nor ${plain} exists${hint ? `. ${hint}` : ''}`);
  return found;
}
