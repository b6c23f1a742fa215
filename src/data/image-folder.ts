// A folder of PNG/JPEG images decoded with sharp: one sub-folder per class (labelled,
// classes in sorted name order, like torchvision's ImageFolder) or images directly
// in the folder (unlabelled).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { makeDataset, type ImageDataset } from './dataset.js';
import { tensor, tidy } from '../tensor/index.js';

export interface ImageFolderOptions {
  /** Resize every image to size x size. Required when the images differ in size. */
  size?: number;
  /** How a resize treats the aspect ratio: stretch ('fill', default) or scale and centre-crop ('cover'). */
  fit?: 'fill' | 'cover';
  /**
   * 3 for RGB (default), 1 for greyscale, or 'auto': one channel when every pixel of
   * every image is grey (R = G = B, as in a folder of scanned digits), else three. Alpha is dropped.
   */
  channels?: 1 | 3 | 'auto';
  /** Name of the data set; the folder's name by default. */
  name?: string;
  /** How many images are decoded at once (sharp works on libuv's thread pool). */
  concurrency?: number;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
const isImage = (file: string): boolean => IMAGE_EXTENSIONS.has(extname(file).toLowerCase());
// Only regular files are read: a named pipe or device called x.png would block the loader forever.
const isRegularImage = (dir: string, file: string): boolean => isImage(file) && statSync(join(dir, file), { throwIfNoEntry: false })?.isFile() === true;
const visible = (name: string): boolean => !name.startsWith('.');

export interface Entry { path: string; label: number }

/** The image files and labels under `root`, in a fixed (sorted) order. */
export function listImages(root: string): { entries: Entry[]; classNames: string[] | null } {
  if (!existsSync(root)) throw new Error(`image folder not found: ${root}`);
  if (!statSync(root).isDirectory()) throw new Error(`not a folder: ${root}`);
  const names = readdirSync(root).filter(visible).sort();
  if (names.length === 0) throw new Error(`image folder is empty: ${root}`);
  const classDirs = names.filter((n) => statSync(join(root, n)).isDirectory());
  const looseImages = names.filter((n) => !classDirs.includes(n) && isRegularImage(root, n));
  if (classDirs.length === 0) {
    if (looseImages.length === 0) throw new Error(`no PNG or JPEG images in ${root} (looked for ${[...IMAGE_EXTENSIONS].join(', ')})`);
    return { entries: looseImages.map((n) => ({ path: join(root, n), label: -1 })), classNames: null };
  }
  if (looseImages.length > 0) {
    throw new Error(`${root} mixes class folders (${classDirs[0]}, ...) with images directly inside it (${looseImages[0]}); use one sub-folder per class, or a flat folder of images`);
  }
  const entries: Entry[] = [];
  classDirs.forEach((cls, label) => {
    const dir = join(root, cls);
    const files = readdirSync(dir).filter((n) => visible(n) && isRegularImage(dir, n)).sort();
    if (files.length === 0) throw new Error(`class folder ${dir} holds no PNG or JPEG images`);
    for (const f of files) entries.push({ path: join(dir, f), label });
  });
  return { entries, classNames: classDirs };
}

export interface Decoded { pixels: Buffer; width: number; height: number }

/** One image file (or its bytes) as interleaved HWC pixels with `channels` channels, resized if `opts.size`. */
export async function decode(path: string | Buffer, opts: Pick<ImageFolderOptions, 'size' | 'fit'>, channels: 1 | 3): Promise<Decoded> {
  if (typeof path === 'string' && !existsSync(path)) throw new Error(`image not found: ${path} does not exist`);
  let img = sharp(path, { failOn: 'error' }).removeAlpha();
  img = channels === 1 ? img.grayscale() : img.toColourspace('srgb');
  if (opts.size !== undefined) img = img.resize(opts.size, opts.size, { fit: opts.fit ?? 'fill' });
  const out = await img.raw().toBuffer({ resolveWithObject: true }).catch((e: Error) => {
    throw new Error(`cannot decode image ${typeof path === 'string' ? path : `(${path.byteLength} bytes)`}: ${e.message}`);
  });
  if (out.info.channels !== channels) {
    throw new Error(`${typeof path === 'string' ? path : 'image'}: decoded to ${out.info.channels} channels, expected ${channels}`);
  }
  return { pixels: out.data, width: out.info.width, height: out.info.height };
}

/** Whether every pixel of interleaved RGB bytes is grey (R = G = B). */
export function isGrey(rgb: Uint8Array): boolean {
  for (let i = 0; i < rgb.length; i += 3) if (rgb[i] !== rgb[i + 1] || rgb[i] !== rgb[i + 2]) return false;
  return true;
}

/** The first channel of interleaved RGB bytes (of a grey image: all of it). */
function firstChannel(rgb: Buffer): Buffer {
  const out = Buffer.allocUnsafe(rgb.length / 3);
  for (let i = 0, j = 0; j < out.length; i += 3, j++) out[j] = rgb[i]!;
  return out;
}

/** Maps `items` through `fn`, at most `limit` at a time, keeping the order. */
export async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Loads every PNG/JPEG image under `root` into memory.
 *
 * ```ts
 * const ds = await loadImageFolder('photos/', { size: 32 });   // photos/cat/*.jpg, photos/dog/*.jpg
 * ```
 */
export async function loadImageFolder(root: string, opts: ImageFolderOptions = {}): Promise<ImageDataset> {
  const wanted = opts.channels ?? 3;
  if (wanted !== 1 && wanted !== 3 && wanted !== 'auto') throw new TypeError(`loadImageFolder: channels must be 1, 3 or 'auto', got ${String(wanted)}`);
  if (opts.size !== undefined && !(Number.isInteger(opts.size) && opts.size > 0)) {
    throw new TypeError(`loadImageFolder: size must be a positive integer, got ${opts.size}`);
  }
  const { entries, classNames } = listImages(root);
  let decoded = await mapLimited(entries, opts.concurrency ?? 8, (e) => decode(e.path, opts, wanted === 1 ? 1 : 3));
  let channels: 1 | 3 = wanted === 1 ? 1 : 3;
  if (wanted === 'auto' && decoded.every((d) => isGrey(d.pixels))) {
    decoded = decoded.map((d) => ({ ...d, pixels: firstChannel(d.pixels) }));
    channels = 1;
  }

  const first = decoded[0]!;
  const { width, height } = first;
  decoded.forEach((d, i) => {
    if (d.width !== width || d.height !== height) {
      throw new Error(`images differ in size: ${entries[0]!.path} is ${width}x${height} but ${entries[i]!.path} is ${d.width}x${d.height}; resize them all (--image-size N on the command line, { size } in the API)`);
    }
  });

  // sharp gives HWC (interleaved) pixels; the data set stores CHW. Gather the bytes,
  // then let libtorch do the transpose for the whole folder in one op.
  const per = width * height * channels;
  const hwc = new Uint8Array(decoded.length * per);
  decoded.forEach((d, i) => hwc.set(d.pixels, i * per));
  const images = channels === 1 ? hwc : tidy(() =>
    tensor(hwc, { shape: [decoded.length, height, width, channels] }).permute(0, 3, 1, 2).contiguous().data() as Uint8Array);

  return makeDataset({
    name: opts.name ?? basename(root),
    imageShape: [channels, height, width],
    images,
    labels: classNames ? Int32Array.from(entries, (e) => e.label) : null,
    classNames,
  });
}
