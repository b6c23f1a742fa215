// Images a batch at a time, for work that must not hold a whole data set in memory
// (embedding a folder of 100k photos): an ImageSource knows its size, shape, labels
// and file paths up front and decodes its images only as each batch is asked for.
// In-memory data sets (Fashion-MNIST, CIFAR ...) are sources too. readImage decodes one.
import { imageSize, type ImageDataset } from './dataset.js';
import { listImages, decode, mapLimited, type ImageFolderOptions } from './image-folder.js';
import { tensor, tidy } from '../tensor/index.js';

export interface ImageSource {
  name: string;
  length: number;
  /** [C, H, W] of every image. */
  imageShape: [number, number, number];
  classNames: string[] | null;
  /** One label per image, or null (unlabelled). */
  labels: Int32Array | null;
  /** Each image's file, for folders; null for built-in sets (rows are then known by index). */
  paths: string[] | null;
  /** The images in order, `batchSize` at a time: CHW uint8 bytes, `count` images from `start`. */
  batches(batchSize: number): AsyncGenerator<{ start: number; count: number; images: Uint8Array }>;
}

/** An in-memory data set as a source (its bytes are already there: batches are views). */
export function datasetSource(ds: ImageDataset): ImageSource {
  const per = imageSize(ds);
  return {
    name: ds.name, length: ds.length, imageShape: ds.imageShape, classNames: ds.classNames, labels: ds.labels, paths: null,
    async *batches(batchSize: number) {
      for (let start = 0; start < ds.length; start += batchSize) {
        const count = Math.min(batchSize, ds.length - start);
        yield { start, count, images: ds.images.subarray(start * per, (start + count) * per) };
      }
    },
  };
}

/** HWC interleaved bytes of `n` images to CHW (one libtorch permute for the batch). */
function toChw(hwc: Uint8Array, n: number, h: number, w: number, c: number): Uint8Array {
  if (c === 1) return hwc;
  return tidy(() => tensor(hwc, { shape: [n, h, w, c] }).permute(0, 3, 1, 2).contiguous().data() as Uint8Array);
}

/**
 * A folder of PNG/JPEG images (class sub-folders, or images directly inside) decoded a
 * batch at a time. Without `size` every image must have the first one's size. The
 * channels are given (1 or 3), not detected: a stream cannot look at every image first.
 */
export async function folderSource(root: string, opts: Omit<ImageFolderOptions, 'channels'> & { channels?: 1 | 3 } = {}): Promise<ImageSource> {
  const channels = opts.channels ?? 3;
  const { entries, classNames } = listImages(root);
  const first = await decode(entries[0]!.path, opts, channels);
  const { width, height } = first;
  return {
    name: opts.name ?? root,
    length: entries.length,
    imageShape: [channels, height, width],
    classNames,
    labels: classNames ? Int32Array.from(entries, (e) => e.label) : null,
    paths: entries.map((e) => e.path),
    async *batches(batchSize: number) {
      const per = width * height * channels;
      for (let start = 0; start < entries.length; start += batchSize) {
        const part = entries.slice(start, start + batchSize);
        const decoded = await mapLimited(part, opts.concurrency ?? 8, (e) => decode(e.path, opts, channels));
        const hwc = new Uint8Array(part.length * per);
        decoded.forEach((d, i) => {
          if (d.width !== width || d.height !== height) {
            throw new Error(`images differ in size: ${entries[0]!.path} is ${width}x${height} but ${part[i]!.path} is ${d.width}x${d.height}; pass a size (--image-size N) to resize them all`);
          }
          hwc.set(d.pixels, i * per);
        });
        yield { start, count: part.length, images: toChw(hwc, part.length, height, width, channels) };
      }
    },
  };
}

export interface ReadImageOptions {
  /** Resize to size x size (stretching, or 'cover': scale and centre-crop). */
  size?: number;
  fit?: 'fill' | 'cover';
  /** 1 (grey) or 3 (RGB, default). */
  channels?: 1 | 3;
}

/**
 * One image file or encoded buffer (PNG, JPEG ...; sharp decodes it) as CHW uint8 bytes.
 *
 * ```ts
 * const { pixels, imageShape } = await data.readImage('shoe.png', { size: 28, channels: 1 });
 * ```
 */
export async function readImage(pathOrBuffer: string | Buffer | Uint8Array, o: ReadImageOptions = {}): Promise<{ pixels: Uint8Array; imageShape: [number, number, number] }> {
  const channels = o.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new TypeError(`readImage: channels must be 1 or 3, got ${String(channels)}`);
  if (o.size !== undefined && !(Number.isInteger(o.size) && o.size > 0)) throw new TypeError(`readImage: size must be a positive integer, got ${o.size}`);
  const input = typeof pathOrBuffer === 'string' || Buffer.isBuffer(pathOrBuffer) ? pathOrBuffer : Buffer.from(pathOrBuffer.buffer, pathOrBuffer.byteOffset, pathOrBuffer.byteLength);
  const d = await decode(input, { size: o.size, fit: o.fit }, channels);
  return { pixels: toChw(d.pixels, 1, d.height, d.width, channels), imageShape: [channels, d.height, d.width] };
}
