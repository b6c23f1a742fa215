// selfsup embed: every image of a data set or folder through an encoder, written as
// the rows arrive (safetensors, .npy or CSV by the file's extension) with each row's
// index, file and label; a folder is decoded a batch at a time, so its size does not
// matter. The file appears only when every row is written.
import { resolve } from 'node:path';
import { statSync, readFileSync } from 'node:fs';
import { loadTextEncoder, isTextEncoder } from '../../io/text-encoder-files.js';
import { encodeTexts } from '../../text/features.js';
import type { TransformerTextEncoder } from '../../models/text-transformer.js';
import type { BpeTokenizer } from '../../data/text/bpe.js';
import { datasetSource, folderSource, type ImageSource } from '../../data/index.js';
import { embedSource } from '../../eval/embed.js';
import { writeEmbeddings, embeddingFormat, npyRowsPath } from '../../io/index.js';
import { loadEncoder } from '../../io/encoder-files.js';
import { loadData, parseDataSpec } from '../data.js';
import { UsageError } from '../errors.js';
import { closest, type Args } from '../options.js';
import type { Output } from '../output.js';
import { featureBlock } from '../settings.js';
import { deviceOption } from '../device.js';
import { selfsupVersion } from '../../version.js';
import { CountProgress } from '../progress.js';

/** The images to embed: a folder streams from disk; built-in sets are in memory already. */
export async function openSource(args: Args, channels: 1 | 3, o: { data?: string; split?: string; imageSize?: number } = {}): Promise<ImageSource> {
  const text = o.data ?? args.string('data')!;
  const spec = parseDataSpec(text);
  const size = o.imageSize ?? args.int('image-size', { min: 1 });
  const limit = args.int('limit', { min: 1 });
  const split = o.split ?? args.string('split')!;
  if (split !== 'train' && split !== 'test') throw new UsageError(`--split: choose train or test, not '${split}'${closest(split, ['train', 'test']) ? ` (did you mean ${closest(split, ['train', 'test'])}?)` : ''}`);
  let source: ImageSource;
  if (spec.kind === 'folder') {
    if (!statSync(spec.path!, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--data ${text}: ${spec.path} is not a directory`);
    source = await folderSource(spec.path!, { size, channels });
  } else {
    if (size !== undefined) throw new UsageError(`--image-size applies to folder: data only, not ${spec.kind}`);
    const d = await loadData(text, { needTest: split === 'test' });
    source = datasetSource(split === 'test' ? d.test! : d.train);
  }
  return limit === undefined || limit >= source.length ? source : limitSource(source, limit);
}

/** The first `n` images of a source. */
export function limitSource(s: ImageSource, limit: number): ImageSource {
  if (limit >= s.length) return s;
  const n = limit;
  return {
    ...s, length: n, labels: s.labels?.subarray(0, n) ?? null, paths: s.paths?.slice(0, n) ?? null,
    async *batches(batchSize: number) {
      for await (const b of s.batches(batchSize)) {
        if (b.start >= n) return;
        const count = Math.min(b.count, n - b.start);
        yield { start: b.start, count, images: b.images.subarray(0, (b.images.length / b.count) * count) };
      }
    },
  };
}

/** The non-empty lines of a text file: one document each. */
export function readDocuments(file: string): string[] {
  if (!statSync(file, { throwIfNoEntry: false })?.isFile()) throw new Error(`--text ${file}: no such file`);
  const docs = readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (docs.length === 0) throw new Error(`--text ${file} holds no text (one document a line)`);
  return docs;
}

/** Rows of a text encoder's mean-pooled embeddings, `batch` documents at a time. */
export async function* embedDocuments(encoder: TransformerTextEncoder, tokenizer: BpeTokenizer, docs: string[], batch: number, onBatch?: (done: number) => void): AsyncGenerator<Float32Array> {
  for (let start = 0; start < docs.length; start += batch) {
    const rows = encodeTexts(encoder, tokenizer, docs.slice(start, start + batch));
    const values = rows.data() as Float32Array;
    rows.dispose();
    onBatch?.(Math.min(docs.length, start + batch));
    yield values;
  }
}

async function runText(args: Args, out: Output, path: string, encoderPath: string): Promise<void> {
  const file = args.required('text', '(a text file, one document a line, for a text encoder)');
  const { encoder, tokenizer, info, dir } = loadTextEncoder(encoderPath);
  try {
    const limit = args.int('limit', { min: 1 });
    const docs = readDocuments(file).slice(0, limit);
    const dim = encoder.embedDim;
    out.note(`embedding ${docs.length} documents of ${file} with the ${info.method} text encoder from ${dir} (${dim} dims)`);
    const progress = new CountProgress('embed', docs.length, 'doc');
    const started = performance.now();
    const bytes = await writeEmbeddings(path, embedDocuments(encoder, tokenizer, docs, args.int('batch-size', { min: 1 })!, (done) => progress.update(done)), {
      count: docs.length, dim, labels: null, paths: docs, classNames: null,
      metadata: { encoder: resolve(dir), modality: 'text', method: info.method, data: resolve(file), selfsup_version: selfsupVersion() },
    });
    progress.finish();
    const seconds = (performance.now() - started) / 1000;
    out.say(`wrote ${path}: ${docs.length} x ${dim} embeddings of documents (each row's text in its path column) in ${seconds.toFixed(1)} s`);
    out.result({ command: 'embed', path, rows: docs.length, dim, bytes, seconds, modality: 'text' });
  } finally {
    encoder.dispose();
  }
}

export async function run(args: Args, out: Output): Promise<void> {
  const path = resolve(args.required('out', '(the file to write: .safetensors, .npy or .csv)'));
  try {
    embeddingFormat(path);
  } catch (err) {
    throw new UsageError(`--out: ${(err as Error).message}`);
  }
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--out ${path} is a directory; give the file to write`);
  const encoderPath = args.required('encoder', "(a directory written by 'selfsup pretrain --out DIR')");
  if (isTextEncoder(encoderPath)) return runText(args, out, path, encoderPath);
  if (args.string('text') !== undefined) throw new UsageError(`--text needs a text encoder (a folder with text-encoder.json); ${encoderPath} is not one`);
  const batchSize = args.int('batch-size', { min: 1 })!;
  const device = deviceOption(args);
  const { encoder, info, dir } = loadEncoder(encoderPath);
  try {
    const block = featureBlock(args, info.blocks, undefined);
    const source = await openSource(args, info.inChannels === 1 ? 1 : 3);
    const [c, h, w] = source.imageShape;
    const [, eh, ew] = info.imageShape;
    if (c !== info.inChannels) throw new Error(`the encoder takes ${info.inChannels}-channel images but ${args.string('data')} has ${c}`);
    if (h !== eh || w !== ew) {
      throw new Error(`the images are ${w}x${h} but the encoder was trained on ${ew}x${eh}; resize them with --image-size ${ew}${ew === eh ? '' : ' (square only)'}`);
    }
    const enc = device === 'cpu' ? encoder : encoder.to(device);
    const dim = enc.featureDim(block);
    out.note(`embedding ${source.length} images of ${source.name} (${c}x${h}x${w}) with ${block} of ${info.backbone} from ${dir} (${dim} dims)${device === 'cpu' ? '' : ` on ${device}`}`);
    const progress = new CountProgress('embed', source.length, 'img');
    const started = performance.now();
    const rows = embedSource(enc, source, { norm: info.norm, block, batchSize, onBatch: (done) => progress.update(done) });
    const bytes = await writeEmbeddings(path, rows, {
      count: source.length, dim, labels: source.labels, paths: source.paths, classNames: source.classNames,
      metadata: { encoder: resolve(dir), block, backbone: info.backbone, method: info.method, data: args.string('data')!, split: args.string('split')!, image_size: String(args.int('image-size', { min: 1 }) ?? ''), selfsup_version: selfsupVersion() },
    });
    const seconds = (performance.now() - started) / 1000;
    progress.finish();
    const rate = source.length / Math.max(seconds, 1e-9);
    out.say(`wrote ${path}: ${source.length} x ${dim} embeddings (${(bytes / 2 ** 20).toFixed(1)} MiB${path.toLowerCase().endsWith('.npy') ? `; rows in ${npyRowsPath(path)}` : ''}) in ${seconds.toFixed(1)} s, ${rate.toFixed(0)} images/s`);
    out.result({ command: 'embed', path, rows: source.length, dim, block, bytes, seconds, imagesPerSecond: rate, labelled: source.labels !== null, paths: source.paths !== null });
  } finally {
    encoder.dispose();
  }
}
