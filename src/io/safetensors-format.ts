// The safetensors layout, apart from tensors: dtype names, writing the header, and
// checking a header read from disk. A file is an 8-byte little-endian header length N,
// N bytes of JSON ('{'-first, space-padded to a multiple of 8), then the tensor bytes.
import { endianness } from 'node:os';
import type { DType } from '../tensor/dtype.js';

/** A malformed safetensors file or buffer, or tensors that cannot be written as one. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** The reference reader refuses headers above this size; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

// Ascending in the reference writer's dtype order (its enum, ordered by alignment):
// it writes tensors in descending order of this rank, then by name.
const RANKED: [string, DType][] = [
  ['BOOL', 'bool'], ['U8', 'uint8'], ['I8', 'int8'], ['I16', 'int16'], ['F16', 'float16'], ['BF16', 'bfloat16'],
  ['I32', 'int32'], ['F32', 'float32'], ['F64', 'float64'], ['I64', 'int64'],
];
const FROM_NAME = new Map(RANKED);
const TO_NAME = new Map(RANKED.map(([n, d]) => [d, n]));
const RANK = new Map(RANKED.map(([, d], i) => [d, i]));
const SIZE: Record<string, number> = { BOOL: 1, U8: 1, I8: 1, I16: 2, F16: 2, BF16: 2, I32: 4, F32: 4, F64: 8, I64: 8 };
/** Valid safetensors dtypes that libtorch (or selfsup) cannot hold. */
const UNSUPPORTED = new Set(['U16', 'U32', 'U64', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);

/** One tensor's place in the data buffer: bytes [begin, end). */
export interface TensorEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

export interface Header {
  /** In file order (ascending offsets). */
  entries: TensorEntry[];
  metadata: Record<string, string> | null;
  /** Bytes of tensor data after the header. */
  dataLength: number;
}

export function safetensorsDtypeName(d: DType): string {
  return TO_NAME.get(d)!;
}

export function assertLittleEndian(): void {
  if (endianness() !== 'LE') throw new SafetensorsError('safetensors data is little-endian; this big-endian machine is not supported');
}

function numelOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Orders names by their UTF-8 bytes, as the reference writer (Rust) does. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Places tensors in the reference writer's order and encodes the length prefix and header.
 * The JSON is assembled by hand: JavaScript objects put integer-like keys ("0", "1") first.
 */
export function layoutHeader(
  specs: { name: string; dtype: DType; shape: number[] }[],
  metadata?: Record<string, string>,
): { prefix: Uint8Array; entries: TensorEntry[]; dataLength: number } {
  for (const s of specs) {
    if (s.name === '__metadata__') throw new SafetensorsError(`a tensor cannot be named '__metadata__': the format reserves that key`);
  }
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw new SafetensorsError(`metadata must be an object of strings, got ${describe(metadata)}`);
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`metadata value for ${JSON.stringify(k)} must be a string, got ${describe(v)}`);
    }
  }
  const sorted = [...specs].sort((a, b) => RANK.get(b.dtype)! - RANK.get(a.dtype)! || compareUtf8(a.name, b.name));
  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareUtf8);
    parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const s of sorted) {
    const end = offset + numelOf(s.shape) * SIZE[TO_NAME.get(s.dtype)!]!;
    entries.push({ ...s, begin: offset, end });
    parts.push(`${JSON.stringify(s.name)}:{"dtype":"${TO_NAME.get(s.dtype)}","shape":[${s.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  const prefix = Buffer.alloc(8 + json.length + pad, 0x20);
  prefix.writeBigUInt64LE(BigInt(json.length + pad), 0);
  json.copy(prefix, 8);
  return { prefix, entries, dataLength: offset };
}

/** Reads the header length from the first 8 bytes and checks it fits a file of `fileSize` bytes. */
export function readHeaderLength(first8: Uint8Array, fileSize: number, where: string): number {
  if (fileSize < 8 || first8.byteLength < 8) {
    throw new SafetensorsError(`${where}: too short (${fileSize} bytes) to hold the 8-byte header length; not a safetensors file, or truncated`);
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(`${where}: header length ${n} is over the ${MAX_HEADER_BYTES / 1e6} MB limit; not a safetensors file, or corrupt`);
  }
  if (8n + n > BigInt(fileSize)) {
    throw new SafetensorsError(`${where}: header length ${n} runs past the end of the file (${fileSize} bytes); the file is truncated or corrupt`);
  }
  return Number(n);
}

/** Decodes and checks the JSON header; `dataLength` is the byte count after the header. */
export function decodeHeader(bytes: Uint8Array, dataLength: number, where: string): Header {
  const bad = (problem: string): SafetensorsError => new SafetensorsError(`${where}: ${problem}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw bad('header is not valid UTF-8');
  }
  if (text[0] !== '{') throw bad(`header does not start with '{' (it starts with ${JSON.stringify(text.slice(0, 16))})`);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw bad(`header is not valid JSON (${(err as Error).message})`);
  }
  const dup = firstDuplicateKey(text);
  if (dup) throw bad(dup.depth === 1 ? `tensor name ${JSON.stringify(dup.key)} appears twice in the header` : `key ${JSON.stringify(dup.key)} appears twice in one header entry`);

  let metadata: Record<string, string> | null = null;
  const entries: TensorEntry[] = [];
  for (const [name, info] of Object.entries(parsed)) {
    if (name === '__metadata__') metadata = checkMetadata(info, bad);
    else entries.push(checkEntry(name, info, dataLength, bad));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous: TensorEntry | null = null;
  for (const e of entries) {
    if (e.begin > expected) throw bad(`${expected === 0 ? 'the data starts with' : 'there is'} a hole of ${e.begin - expected} bytes before tensor '${e.name}' (offsets [${e.begin}, ${e.end}])`);
    if (e.begin < expected) throw bad(`tensor '${e.name}' (offsets [${e.begin}, ${e.end}]) overlaps tensor '${previous!.name}' (offsets [${previous!.begin}, ${previous!.end}])`);
    expected = e.end;
    previous = e;
  }
  if (expected !== dataLength) throw bad(`${dataLength - expected} bytes after the last tensor are not described by the header`);
  return { entries, metadata, dataLength };
}

function checkMetadata(info: unknown, bad: (p: string) => SafetensorsError): Record<string, string> | null {
  if (info === null) return null;
  if (typeof info !== 'object' || Array.isArray(info)) throw bad(`__metadata__ must be an object of strings, got ${describe(info)}`);
  for (const [k, v] of Object.entries(info)) {
    if (typeof v !== 'string') throw bad(`__metadata__ value for ${JSON.stringify(k)} must be a string, got ${describe(v)}`);
  }
  return info as Record<string, string>;
}

function checkEntry(name: string, info: unknown, dataLength: number, bad: (p: string) => SafetensorsError): TensorEntry {
  const what = `tensor ${JSON.stringify(name)}`;
  if (info === null || typeof info !== 'object' || Array.isArray(info)) throw bad(`${what}: entry must be an object with dtype, shape and data_offsets, got ${describe(info)}`);
  const { dtype: dtypeName, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtypeName !== 'string') throw bad(`${what}: dtype must be a string, got ${describe(dtypeName)}`);
  const dtype = FROM_NAME.get(dtypeName);
  if (!dtype) {
    if (UNSUPPORTED.has(dtypeName)) throw bad(`${what}: dtype ${dtypeName} is valid safetensors but selfsup has no such dtype (supported: ${RANKED.map(([n]) => n).join(', ')})`);
    throw bad(`${what}: unknown dtype ${JSON.stringify(dtypeName)} (supported: ${RANKED.map(([n]) => n).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) throw bad(`${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw bad(`${what}: data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw bad(`${what}: data_offsets [${begin}, ${end}] end before they begin`);
  const nbytes = numelOf(shape) * SIZE[dtypeName]!;
  if (!Number.isSafeInteger(nbytes)) throw bad(`${what}: shape [${shape.join(', ')}] is too large`);
  if (end - begin !== nbytes) {
    throw bad(`${what}: shape [${shape.join(', ')}] of ${dtypeName} needs ${nbytes} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  if (end > dataLength) {
    throw bad(`${what}: data_offsets [${begin}, ${end}] point past the end of the data (${dataLength} bytes); the file is truncated or corrupt`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array ${JSON.stringify(v).slice(0, 40)}`;
  return `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

/**
 * The first key repeated within one JSON object of valid JSON `text`, and its nesting depth.
 * JSON.parse keeps the last copy silently; a header must not be ambiguous.
 */
function firstDuplicateKey(text: string): { key: string; depth: number } | null {
  const stack: ({ keys: Set<string>; expectKey: boolean } | null)[] = []; // null for arrays
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = true;
    } else if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const top = stack[stack.length - 1];
      if (top?.expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.keys.has(key)) return { key, depth: stack.length };
        top.keys.add(key);
        top.expectKey = false;
      }
    }
  }
  return null;
}
