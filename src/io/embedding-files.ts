// Embedding files: N rows of D floats, each with its index, its file path (for
// folders) and its label where known, written as the rows arrive (a 100k-image
// folder never sits in memory) and atomically (a failed run leaves no partial file).
// Formats, by the file's extension:
//   .safetensors  tensors embeddings [N, D] F32, index [N] I64, labels [N] I64 (-1: none);
//                 metadata: paths and class names (JSON), and what the caller adds
//   .npy          the [N, D] float32 array; rows' index, path and label in FILE.rows.csv beside it
//   .csv          a header line, then index,path,label,e0..e{D-1} per row
import { readFileSync, existsSync } from 'node:fs';
import { extname } from 'node:path';
import { writeFileAtomicAsync, writeFileAtomic } from './atomic.js';
import { parseSafetensors } from './safetensors.js';

export const EMBEDDING_FORMATS = ['safetensors', 'npy', 'csv'] as const;
export type EmbeddingFormat = (typeof EMBEDDING_FORMATS)[number];

export interface EmbeddingRows {
  /** Rows in all. */
  count: number;
  /** Floats per row. */
  dim: number;
  /** Per row: its label, or -1 where unknown (null: no labels at all). */
  labels: Int32Array | null;
  /** Per row: its file (folders), or null for data sets known by index. */
  paths: string[] | null;
  classNames: string[] | null;
  /** Strings recorded with the file (encoder, block, data ...). */
  metadata?: Record<string, string>;
}

export interface EmbeddingFile extends EmbeddingRows {
  /** count * dim floats, row-major. */
  embeddings: Float32Array;
  metadata: Record<string, string>;
}

/** The format a path's extension names; anything else is an error that lists the choices. */
export function embeddingFormat(path: string): EmbeddingFormat {
  const ext = extname(path).slice(1).toLowerCase();
  if ((EMBEDDING_FORMATS as readonly string[]).includes(ext)) return ext as EmbeddingFormat;
  throw new RangeError(`${path}: unknown embedding format '${ext || '(no extension)'}'; end the file name in ${EMBEDDING_FORMATS.map((f) => `.${f}`).join(', ')}`);
}

const csvField = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** Takes the batches of rows in order and checks that they add up to `count` rows of `dim`. */
async function* checkedRows(rows: AsyncIterable<Float32Array>, r: EmbeddingRows): AsyncGenerator<{ start: number; values: Float32Array }> {
  let start = 0;
  for await (const values of rows) {
    if (values.length % r.dim !== 0) throw new RangeError(`embedding rows: a batch of ${values.length} floats is not whole rows of ${r.dim}`);
    yield { start, values };
    start += values.length / r.dim;
    if (start > r.count) throw new RangeError(`embedding rows: more than the ${r.count} rows announced`);
  }
  if (start !== r.count) throw new RangeError(`embedding rows: ${start} rows arrived, ${r.count} were announced`);
}

const bytesOf = (a: Float32Array | BigInt64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

async function* safetensorsChunks(rows: AsyncIterable<Float32Array>, r: EmbeddingRows): AsyncGenerator<Uint8Array> {
  const embBytes = r.count * r.dim * 4;
  const idxBytes = r.count * 8;
  const header: Record<string, unknown> = {
    embeddings: { dtype: 'F32', shape: [r.count, r.dim], data_offsets: [0, embBytes] },
    index: { dtype: 'I64', shape: [r.count], data_offsets: [embBytes, embBytes + idxBytes] },
  };
  if (r.labels) header.labels = { dtype: 'I64', shape: [r.count], data_offsets: [embBytes + idxBytes, embBytes + 2 * idxBytes] };
  const meta: Record<string, string> = { format: 'selfsup.embeddings', ...r.metadata };
  if (r.paths) meta.paths = JSON.stringify(r.paths);
  if (r.classNames) meta.class_names = JSON.stringify(r.classNames);
  header.__metadata__ = meta;
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  // The header is padded with spaces to a multiple of 8 bytes, so the data is aligned.
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  yield len;
  yield json;
  for await (const { values } of checkedRows(rows, r)) yield bytesOf(values);
  yield bytesOf(BigInt64Array.from({ length: r.count }, (_, i) => BigInt(i)));
  if (r.labels) yield bytesOf(BigInt64Array.from(r.labels, (l) => BigInt(l)));
}

async function* npyChunks(rows: AsyncIterable<Float32Array>, r: EmbeddingRows): AsyncGenerator<Uint8Array> {
  // NPY 1.0: magic, version, header length (uint16 LE), a Python dict literal padded so the data starts at a multiple of 64.
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${r.count}, ${r.dim}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  Buffer.from([0x93]).copy(header, 0);
  header.write('NUMPY', 1, 'latin1');
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(total - 10, 8);
  header.write(dict, 10, 'latin1');
  header[total - 1] = 0x0a;
  yield header;
  for await (const { values } of checkedRows(rows, r)) yield bytesOf(values);
}

function rowFields(r: EmbeddingRows, i: number): string {
  const label = r.labels ? r.labels[i]! : -1;
  return `${i},${csvField(r.paths?.[i] ?? '')},${label >= 0 && r.classNames ? csvField(r.classNames[label] ?? String(label)) : label >= 0 ? label : ''}`;
}

async function* csvChunks(rows: AsyncIterable<Float32Array>, r: EmbeddingRows): AsyncGenerator<Uint8Array> {
  yield Buffer.from(`index,path,label,${Array.from({ length: r.dim }, (_, j) => `e${j}`).join(',')}\n`, 'utf8');
  for await (const { start, values } of checkedRows(rows, r)) {
    const lines: string[] = [];
    for (let i = 0; i < values.length / r.dim; i++) {
      // Shortest round-trip decimal of each float32 value, so a reader gets the same bits.
      const row = Array.from(values.subarray(i * r.dim, (i + 1) * r.dim), (v) => String(v));
      lines.push(`${rowFields(r, start + i)},${row.join(',')}`);
    }
    yield Buffer.from(lines.join('\n') + '\n', 'utf8');
  }
}

/** The `.rows.csv` written beside a `.npy` file. */
export const npyRowsPath = (path: string): string => path.replace(/\.npy$/i, '') + '.rows.csv';

/**
 * Writes `rows` (batches of whole rows, in order) to `path` in the format its extension
 * names; returns the bytes written. The file appears only once every row is written.
 */
export async function writeEmbeddings(path: string, rows: AsyncIterable<Float32Array>, r: EmbeddingRows): Promise<number> {
  const format = embeddingFormat(path);
  if (!Number.isInteger(r.count) || r.count < 1 || !Number.isInteger(r.dim) || r.dim < 1) throw new RangeError(`writeEmbeddings: need count and dim >= 1, got ${r.count} x ${r.dim}`);
  if (r.labels && r.labels.length !== r.count) throw new RangeError(`writeEmbeddings: ${r.labels.length} labels for ${r.count} rows`);
  if (r.paths && r.paths.length !== r.count) throw new RangeError(`writeEmbeddings: ${r.paths.length} paths for ${r.count} rows`);
  if (format === 'safetensors') return writeFileAtomicAsync(path, safetensorsChunks(rows, r));
  if (format === 'csv') return writeFileAtomicAsync(path, csvChunks(rows, r));
  const bytes = await writeFileAtomicAsync(path, npyChunks(rows, r));
  const lines = ['index,path,label', ...Array.from({ length: r.count }, (_, i) => rowFields(r, i))];
  writeFileAtomic(npyRowsPath(path), Buffer.from(lines.join('\n') + '\n', 'utf8'));
  return bytes;
}

/** Splits one CSV line into fields (quotes as writeEmbeddings writes them). */
function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quote');
        s += line.slice(i, q);
        if (line[q + 1] === '"') { s += '"'; i = q + 2; } else { i = q + 1; break; }
      }
      out.push(s);
      i++; // the comma
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

function rowsFromCsv(lines: string[], path: string, withValues: boolean): { paths: string[]; labelNames: string[]; values: number[][] } {
  const paths: string[] = [];
  const labelNames: string[] = [];
  const values: number[][] = [];
  lines.forEach((line, n) => {
    let f: string[];
    try { f = parseCsvLine(line); } catch (e) { throw new Error(`${path} line ${n + 2}: ${(e as Error).message}`); }
    if (f.length < 3) throw new Error(`${path} line ${n + 2}: expected index,path,label${withValues ? ',values...' : ''}`);
    paths.push(f[1]!);
    labelNames.push(f[2]!);
    if (withValues) values.push(f.slice(3).map((v) => Number(v)));
  });
  return { paths, labelNames, values };
}

/** Labels from their names in a CSV: class names (in first-seen order when none are known) or integers. */
function labelsFrom(names: string[], classNames: string[] | null): { labels: Int32Array | null; classNames: string[] | null } {
  if (names.every((n) => n === '')) return { labels: null, classNames };
  if (names.every((n) => n === '' || /^-?\d+$/.test(n))) return { labels: Int32Array.from(names, (n) => (n === '' ? -1 : Number(n))), classNames };
  const known = classNames ? [...classNames] : [...new Set(names.filter((n) => n !== ''))].sort();
  return { labels: Int32Array.from(names, (n) => (n === '' ? -1 : known.indexOf(n))), classNames: known };
}

/** Reads a file written by writeEmbeddings (any of its formats). */
export function readEmbeddings(path: string): EmbeddingFile {
  if (!existsSync(path)) throw new Error(`embeddings not found: ${path} does not exist`);
  const format = embeddingFormat(path);
  const bytes = readFileSync(path);
  if (format === 'safetensors') {
    const { tensors, metadata } = parseSafetensors(bytes);
    const emb = tensors.get('embeddings');
    if (!emb || emb.ndim !== 2 || emb.dtype !== 'float32') {
      for (const t of tensors.values()) t.dispose();
      throw new Error(`${path} holds no float32 [N, D] 'embeddings' tensor; write it with 'selfsup embed'`);
    }
    const [count, dim] = emb.shape as [number, number];
    const labelsT = tensors.get('labels');
    const labels = labelsT ? Int32Array.from(labelsT.dataNumbers()) : null;
    const embeddings = emb.data() as Float32Array;
    for (const t of tensors.values()) t.dispose();
    const meta = { ...(metadata ?? {}) };
    const paths = meta.paths ? JSON.parse(meta.paths) as string[] : null;
    const classNames = meta.class_names ? JSON.parse(meta.class_names) as string[] : null;
    delete meta.paths;
    delete meta.class_names;
    return { count, dim, embeddings, labels, paths, classNames, metadata: meta };
  }
  if (format === 'npy') {
    if (bytes.length < 10 || bytes[0] !== 0x93 || bytes.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path} is not an .npy file`);
    const hlen = bytes[6] === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
    const start = bytes[6] === 1 ? 10 : 12;
    const dict = bytes.toString('latin1', start, start + hlen);
    const shape = /'shape':\s*\((\d+),\s*(\d+)\)/.exec(dict);
    if (!/'descr':\s*'<f4'/.test(dict) || /'fortran_order':\s*True/.test(dict) || !shape) throw new Error(`${path}: expected a C-ordered float32 [N, D] array, header ${dict.trim()}`);
    const count = Number(shape[1]);
    const dim = Number(shape[2]);
    const data = bytes.subarray(start + hlen);
    if (data.length !== count * dim * 4) throw new Error(`${path}: ${data.length} data bytes for shape (${count}, ${dim})`);
    const embeddings = new Float32Array(count * dim);
    new Uint8Array(embeddings.buffer).set(data);
    const rowsPath = npyRowsPath(path);
    let paths: string[] | null = null;
    let lab: { labels: Int32Array | null; classNames: string[] | null } = { labels: null, classNames: null };
    if (existsSync(rowsPath)) {
      const lines = readFileSync(rowsPath, 'utf8').split('\n').filter((l) => l !== '').slice(1);
      const r = rowsFromCsv(lines, rowsPath, false);
      if (r.paths.length !== count) throw new Error(`${rowsPath} has ${r.paths.length} rows for the ${count} of ${path}`);
      paths = r.paths.every((p) => p === '') ? null : r.paths;
      lab = labelsFrom(r.labelNames, null);
    }
    return { count, dim, embeddings, ...lab, paths, metadata: {} };
  }
  const lines = bytes.toString('utf8').split('\n').filter((l) => l !== '');
  if (lines.length < 2 || !lines[0]!.startsWith('index,path,label,')) throw new Error(`${path} is not an embeddings CSV (its first line must be index,path,label,e0,...)`);
  const dim = lines[0]!.split(',').length - 3;
  const r = rowsFromCsv(lines.slice(1), path, true);
  const embeddings = new Float32Array(r.values.length * dim);
  r.values.forEach((row, i) => {
    if (row.length !== dim || row.some((v) => !Number.isFinite(v))) throw new Error(`${path} line ${i + 2}: expected ${dim} numbers`);
    embeddings.set(row, i * dim);
  });
  return { count: r.values.length, dim, embeddings, ...labelsFrom(r.labelNames, null), paths: r.paths.every((p) => p === '') ? null : r.paths, metadata: {} };
}
