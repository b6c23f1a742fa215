// Tensors to and from safetensors files (https://github.com/huggingface/safetensors),
// the format PyTorch, JAX and Hugging Face use to share weights without pickle.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { Tensor, assertTensor } from '../tensor/tensor.js';
import { fromBytes } from '../tensor/create.js';
import { writeFileAtomic } from './atomic.js';
import {
  SafetensorsError, layoutHeader, readHeaderLength, decodeHeader, assertLittleEndian, safetensorsDtypeName,
  type Header, type TensorEntry,
} from './safetensors-format.js';

export type TensorDict = Map<string, Tensor> | Record<string, Tensor>;

export interface SafetensorsContent {
  /** In file order. The caller owns them (they join the current scope, like any new tensor). */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` map, or null when the file has none. */
  metadata: Record<string, string> | null;
}

export interface LoadOptions {
  /** Where the tensors go; 'cpu' by default. */
  device?: string;
}

/** What a file declares, without reading any tensor data. */
export interface SafetensorsHeader {
  tensors: { name: string; dtype: string; shape: number[] }[];
  metadata: Record<string, string> | null;
}

function entriesOf(tensors: TensorDict): [string, Tensor][] {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [name, t] of list) assertTensor(t, 'safetensors', `tensors[${JSON.stringify(name)}]`);
  return list;
}

/** Lays tensors out, then yields the header and each tensor's bytes in turn (one tensor in memory at a time). */
function encode(tensors: TensorDict, metadata?: Record<string, string>): { chunks: Iterable<Uint8Array>; byteLength: number } {
  assertLittleEndian();
  const byName = new Map(entriesOf(tensors));
  const layout = layoutHeader([...byName].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })), metadata);
  function* chunks(): Generator<Uint8Array> {
    yield layout.prefix;
    for (const e of layout.entries) {
      if (e.end === e.begin) continue;
      const data = byName.get(e.name)!.data(); // copies from any device, contiguous, row-major
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (bytes.byteLength !== e.end - e.begin) {
        throw new SafetensorsError(`tensor '${e.name}' gave ${bytes.byteLength} bytes, expected ${e.end - e.begin} for shape [${e.shape.join(', ')}] ${e.dtype}`);
      }
      yield bytes;
    }
  }
  return { chunks: chunks(), byteLength: layout.prefix.byteLength + layout.dataLength };
}

/** The file contents as chunks (header first, then each tensor's bytes); concatenated, they are the file. */
export function serializeSafetensors(tensors: TensorDict, metadata?: Record<string, string>): Uint8Array[] {
  return [...encode(tensors, metadata).chunks];
}

/** Writes a safetensors file atomically (see writeFileAtomic). Tensors on a GPU are copied to the CPU. Returns the file size. */
export function saveSafetensors(path: string, tensors: TensorDict, metadata?: Record<string, string>): number {
  return writeFileAtomic(path, encode(tensors, metadata).chunks);
}

function toTensor(e: TensorEntry, bytes: Uint8Array, where: string, device: string): Tensor {
  if (e.dtype === 'bool') {
    const i = bytes.findIndex((b) => b > 1);
    if (i >= 0) throw new SafetensorsError(`${where}: BOOL tensor '${e.name}' holds byte ${bytes[i]} at element ${i}; booleans must be 0 or 1`);
  }
  const t = fromBytes(bytes, e.dtype, e.shape);
  if (device === 'cpu') return t;
  const moved = t.to(device);
  t.dispose();
  return moved;
}

/** Builds tensors one by one; if one fails, the ones made so far are freed. */
function makeTensors(h: Header, bytesOf: (e: TensorEntry) => Uint8Array, where: string, device: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  try {
    for (const e of h.entries) out.set(e.name, toTensor(e, bytesOf(e), where, device));
  } catch (err) {
    for (const t of out.values()) t.dispose();
    throw err;
  }
  return out;
}

/** Reads safetensors bytes already in memory. `source` names them in error messages. */
export function parseSafetensors(bytes: Uint8Array, opts: LoadOptions & { source?: string } = {}): SafetensorsContent {
  assertLittleEndian();
  const where = `safetensors ${opts.source ?? 'buffer'}`;
  const n = readHeaderLength(bytes.subarray(0, 8), bytes.byteLength, where);
  const header = decodeHeader(bytes.subarray(8, 8 + n), bytes.byteLength - 8 - n, where);
  const data = bytes.subarray(8 + n);
  return { tensors: makeTensors(header, (e) => data.subarray(e.begin, e.end), where, opts.device ?? 'cpu'), metadata: header.metadata };
}

function readExactly(fd: number, length: number, position: number, where: string): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let got = 0; got < length;) {
    const r = readSync(fd, buf, got, length - got, position + got);
    if (r === 0) throw new SafetensorsError(`${where}: the file ended while reading (it shrank while being read?)`);
    got += r;
  }
  return buf;
}

/** Opens a file and checks its header against its size. */
function withHeader<T>(path: string, use: (fd: number, header: Header, dataStart: number, where: string) => T): T {
  assertLittleEndian();
  const where = `safetensors file '${path}'`;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const n = readHeaderLength(readExactly(fd, Math.min(8, size), 0, where), size, where);
    const header = decodeHeader(readExactly(fd, n, 8, where), size - 8 - n, where);
    return use(fd, header, 8 + n, where);
  } finally {
    closeSync(fd);
  }
}

/** Reads a safetensors file, one tensor at a time (the whole file is never in memory at once). */
export function loadSafetensors(path: string, opts: LoadOptions = {}): SafetensorsContent {
  return withHeader(path, (fd, header, dataStart, where) => ({
    tensors: makeTensors(header, (e) => readExactly(fd, e.end - e.begin, dataStart + e.begin, where), where, opts.device ?? 'cpu'),
    metadata: header.metadata,
  }));
}

/** Reads and checks only the header: names, dtypes (safetensors names), shapes and metadata. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  return withHeader(path, (_fd, header) => ({
    tensors: header.entries.map((e) => ({ name: e.name, dtype: safetensorsDtypeName(e.dtype), shape: e.shape })),
    metadata: header.metadata,
  }));
}
