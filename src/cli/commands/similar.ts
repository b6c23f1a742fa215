// selfsup similar: the gallery images most cosine-similar to each query, where the
// gallery is a file written by `selfsup embed` (or a data set embedded on the spot)
// and the queries are image files (embedded with the encoder) or gallery rows. Prints
// them, writes them as JSON, and draws them as an HTML page of pictures.
import { resolve } from 'node:path';

import sharp from 'sharp';
import { tensor, type Tensor } from '../../tensor/index.js';
import { readImage, type ImageSource } from '../../data/index.js';
import { embedSource } from '../../eval/embed.js';
import { nearestNeighbors } from '../../eval/similar.js';
import { readEmbeddings, writeFileAtomic } from '../../io/index.js';
import { loadTextEncoder } from '../../io/text-encoder-files.js';
import { encodeTexts } from '../../text/features.js';
import { encodePng, pngDataUri } from '../../report/images.js';
import { renderSimilarPage, type Picture, type SimilarRow } from '../../report/similar-page.js';
import { loadEncoder, type EncoderInfo } from '../../io/encoder-files.js';
import type { Backbone } from '../../models/index.js';
import { UsageError } from '../errors.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';
import { featureBlock } from '../settings.js';
import { openSource } from './embed.js';

interface Gallery {
  rows: Float32Array;
  count: number;
  dim: number;
  labels: Int32Array | null;
  classNames: string[] | null;
  paths: string[] | null;
  /** Where the pictures come from, when the rows have no files: the data set itself. */
  source: ImageSource | null;
  block: string;
  what: string;
}

async function collect(rows: AsyncIterable<Float32Array>, count: number, dim: number): Promise<Float32Array> {
  const out = new Float32Array(count * dim);
  let o = 0;
  for await (const r of rows) { out.set(r, o); o += r.length; }
  return out;
}

/** A picture of gallery row i (or of a query's pixels) as a data URI. */
async function fileThumbnail(path: string): Promise<string> {
  const png = await sharp(path).resize(112, 112, { fit: 'inside', withoutEnlargement: false, kernel: 'nearest' }).png().toBuffer();
  return pngDataUri(png);
}

function pixelsThumbnail(pixels: Uint8Array, [c, h, w]: [number, number, number]): string {
  return pngDataUri(encodePng({ pixels, width: w, height: h, channels: c as 1 | 3 }, Math.max(h, w) <= 64 ? 3 : 1));
}

/** The pixels of the chosen rows of an in-memory source (built-in sets are in memory anyway). */
async function rowsPixels(source: ImageSource, wanted: Set<number>): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  const [c, h, w] = source.imageShape;
  const per = c * h * w;
  for await (const b of source.batches(4096)) {
    for (let i = 0; i < b.count; i++) if (wanted.has(b.start + i)) out.set(b.start + i, b.images.slice(i * per, (i + 1) * per));
    if (out.size === wanted.size) break;
  }
  return out;
}

/** Sentence neighbours: a gallery of documents embedded by a text encoder; queries are rows or new text. */
async function runText(args: Args, out: Output, file: ReturnType<typeof readEmbeddings>, count: number): Promise<void> {
  if (args.string('html')) throw new UsageError('--html draws pictures; a text gallery is printed (or --json)');
  if (args.positionals.length) throw new UsageError(`a text gallery takes --query-text TEXT or --query-index LIST, not files (${args.positionals[0]})`);
  const docs = file.paths ?? [];
  const queryIndex = args.intList('query-index') ?? [];
  const queryText = args.string('query-text');
  if (!queryIndex.length && queryText === undefined) throw new UsageError('give --query-text TEXT or --query-index LIST (rows of the gallery)');
  for (const i of queryIndex) if (i >= file.count) throw new UsageError(`--query-index ${i}: the gallery has rows 0..${file.count - 1}`);
  const queries: { label: string; row: Float32Array; self: number }[] = queryIndex.map((i) => ({ label: docs[i] ?? `#${i}`, row: file.embeddings.subarray(i * file.dim, (i + 1) * file.dim), self: i }));
  if (queryText !== undefined) {
    const { encoder, tokenizer } = loadTextEncoder(args.string('encoder') ?? file.metadata.encoder ?? '');
    try {
      const t = encodeTexts(encoder, tokenizer, [queryText]);
      queries.push({ label: queryText, row: t.data() as Float32Array, self: -1 });
      t.dispose();
    } finally {
      encoder.dispose();
    }
  }
  const q = tensor(Float32Array.from(queries.flatMap((x) => [...x.row])), { shape: [queries.length, file.dim] });
  const g = tensor(file.embeddings, { shape: [file.count, file.dim] });
  const near = nearestNeighbors(q, g, count, { exclude: queries.some((x) => x.self >= 0) ? queries.map((x) => x.self) : undefined });
  q.dispose();
  g.dispose();
  const results = queries.map((x, i) => ({
    query: x.label,
    neighbors: Array.from({ length: near.k }, (_, j) => ({ row: near.indices[i * near.k + j]!, text: docs[near.indices[i * near.k + j]!] ?? null, score: near.scores[i * near.k + j]! })),
  }));
  for (const r of results) {
    out.say(`${r.query}:`);
    for (const n of r.neighbors) out.say(`  ${n.score.toFixed(4)}  ${n.text ?? `#${n.row}`}`);
  }
  out.result({ command: 'similar', modality: 'text', galleryRows: file.count, k: near.k, results });
}

export async function run(args: Args, out: Output): Promise<void> {
  const count = args.int('count', { min: 1 })!;
  const embeddingsPath = args.string('embeddings');
  // The gallery file is read once: its metadata says whether it holds documents or images.
  const file = embeddingsPath ? readEmbeddings(embeddingsPath) : null;
  if (file?.metadata.modality === 'text') return runText(args, out, file, count);
  const queryFiles = args.positionals;
  const queryIndex = args.intList('query-index');
  if (queryFiles.length === 0 && !queryIndex) throw new UsageError('give query images (files) or --query-index LIST (rows of the gallery)');
  const html = args.string('html');

  // The encoder: from --encoder, or the one an embeddings file was written with (needed for query files).
  let encoderPath = args.string('encoder');
  if (file) {
    encoderPath ??= queryFiles.length ? file.metadata.encoder : undefined;
  } else if (!encoderPath) {
    throw new UsageError('give --embeddings FILE (written by selfsup embed) or --encoder DIR with --data SPEC');
  }
  let enc: { encoder: Backbone; info: EncoderInfo; dir: string } | null = null;
  try {
    if (encoderPath) enc = loadEncoder(encoderPath);
    const channels = (enc?.info.inChannels ?? 3) === 1 ? 1 : 3;
    let gallery: Gallery;
    if (file) {
      const meta = file.metadata;
      const block = meta.block ?? 'unknown';
      // Pictures of built-in data come from the data set the file was made from.
      const source = file.paths ? null : await openSource(args, channels, { data: args.string('data') ?? meta.data, split: meta.split ?? 'train' }).catch(() => null);
      gallery = { rows: file.embeddings, count: file.count, dim: file.dim, labels: file.labels, classNames: file.classNames, paths: file.paths, source, block, what: `${embeddingsPath} (${block}${meta.method ? ` of a ${meta.method} encoder` : ''})` };
    } else {
      const block = featureBlock(args, enc!.info.blocks, undefined);
      const source = await openSource(args, channels, { data: args.string('data') ?? 'fashion-mnist' });
      out.note(`embedding the gallery: ${source.length} images of ${source.name} with ${block} of ${enc!.dir}`);
      const dim = enc!.encoder.featureDim(block);
      const rows = await collect(embedSource(enc!.encoder, source, { norm: enc!.info.norm, block }), source.length, dim);
      gallery = { rows, count: source.length, dim, labels: source.labels, classNames: source.classNames, paths: source.paths, source, block, what: `${source.name} (${block} of ${enc!.dir})` };
    }
    if (queryFiles.length && !enc) throw new UsageError('query image files need the encoder: give --encoder DIR');
    if (enc && enc.encoder.featureDim(gallery.block === 'unknown' ? undefined : gallery.block) !== gallery.dim) {
      throw new Error(`the encoder's ${gallery.block} gives ${enc.encoder.featureDim(gallery.block === 'unknown' ? undefined : gallery.block)} dims but the gallery rows have ${gallery.dim}`);
    }
    for (const i of queryIndex ?? []) if (i >= gallery.count) throw new UsageError(`--query-index ${i}: the gallery has rows 0..${gallery.count - 1}`);

    // Queries: gallery rows (left out of their own results), then files embedded with the encoder.
    const queries: { label: string; row: Float32Array; self: number; picture: () => Promise<string> }[] = [];
    const galleryLabel = (i: number): string => {
      const l = gallery.labels?.[i];
      const name = l !== undefined && l >= 0 ? (gallery.classNames?.[l] ?? String(l)) : '';
      return `${gallery.paths ? gallery.paths[i] : `#${i}`}${name ? ` (${name})` : ''}`;
    };
    for (const i of queryIndex ?? []) {
      queries.push({ label: galleryLabel(i), row: gallery.rows.subarray(i * gallery.dim, (i + 1) * gallery.dim), self: i, picture: async () => '' });
    }
    if (queryFiles.length) {
      const [c, h, w] = enc!.info.imageShape;
      for (const f of queryFiles) {
        const img = await readImage(f, { size: h === w ? h : undefined, channels: c === 1 ? 1 : 3 });
        if (img.imageShape[1] !== h || img.imageShape[2] !== w) throw new Error(`${f}: ${img.imageShape[2]}x${img.imageShape[1]} after decoding, the encoder takes ${w}x${h}`);
        const single: ImageSource = { name: f, length: 1, imageShape: img.imageShape, classNames: null, labels: null, paths: [f], async *batches() { yield { start: 0, count: 1, images: img.pixels }; } };
        const row = await collect(embedSource(enc!.encoder, single, { norm: enc!.info.norm, block: gallery.block === 'unknown' ? undefined : gallery.block }), 1, gallery.dim);
        queries.push({ label: f, row, self: -1, picture: () => fileThumbnail(f) });
      }
    }
    const q = new Float32Array(queries.length * gallery.dim);
    queries.forEach((x, i) => q.set(x.row, i * gallery.dim));
    let qt: Tensor | null = null;
    let gt: Tensor | null = null;
    let nearest: ReturnType<typeof nearestNeighbors>;
    try {
      qt = tensor(q, { shape: [queries.length, gallery.dim] });
      gt = tensor(gallery.rows, { shape: [gallery.count, gallery.dim] });
      nearest = nearestNeighbors(qt, gt, count, { exclude: queries.some((x) => x.self >= 0) ? queries.map((x) => x.self) : undefined });
    } finally {
      qt?.dispose();
      gt?.dispose();
    }
    const k = nearest.k;
    const results = queries.map((x, i) => ({
      query: x.label,
      neighbors: Array.from({ length: k }, (_, j) => {
        const row = nearest.indices[i * k + j]!;
        const l = gallery.labels?.[row];
        return { row, path: gallery.paths?.[row] ?? null, label: l !== undefined && l >= 0 ? (gallery.classNames?.[l] ?? l) : null, score: nearest.scores[i * k + j]! };
      }),
    }));
    for (const r of results) {
      out.say(`${r.query}:`);
      for (const n of r.neighbors) out.say(`  ${n.score.toFixed(4)}  ${n.path ?? `#${n.row}`}${n.label !== null ? `  ${n.label}` : ''}`);
    }

    let htmlPath: string | null = null;
    if (html) {
      const wanted = new Set<number>([...results.flatMap((r) => r.neighbors.map((n) => n.row)), ...(queryIndex ?? [])]);
      const pixels = gallery.paths || !gallery.source ? null : await rowsPixels(gallery.source, wanted);
      const picture = async (row: number): Promise<string> => {
        if (gallery.paths) return fileThumbnail(gallery.paths[row]!);
        const p = pixels?.get(row);
        if (!p) throw new Error(`--html: no pictures for the gallery rows: the embeddings have no file paths and the data set ${file?.metadata.data ?? ''} could not be loaded (give it with --data)`);
        return pixelsThumbnail(p, gallery.source!.imageShape);
      };
      const rows: SimilarRow[] = [];
      for (const [i, r] of results.entries()) {
        const x = queries[i]!;
        const query: Picture = { src: x.self >= 0 ? await picture(x.self) : await x.picture(), caption: r.query };
        const neighbors = [];
        for (const n of r.neighbors) neighbors.push({ src: await picture(n.row), caption: galleryLabel(n.row), score: n.score });
        rows.push({ query, neighbors });
      }
      htmlPath = resolve(html);
      writeFileAtomic(htmlPath, Buffer.from(renderSimilarPage('Similar images', `${queries.length} queries against ${gallery.count} images of ${gallery.what}; cosine similarity`, rows), 'utf8'));
      out.say(`wrote ${htmlPath}`);
    }
    out.result({ command: 'similar', gallery: gallery.what, galleryRows: gallery.count, block: gallery.block, k, results, html: htmlPath });
  } finally {
    enc?.encoder.dispose();
  }
}
