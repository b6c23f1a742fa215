import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, mkdirSync, chmodSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tensor, arange, zeros, randn, rand, Generator as RandomGenerator, F, tidy, memory, cuda, type Tensor, type DType } from '../src/index.js';
import {
  serializeSafetensors, saveSafetensors, loadSafetensors, parseSafetensors, readSafetensorsHeader,
  writeFileAtomic, writeFileAtomicAsync, SafetensorsError,
} from '../src/io/index.js';

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'selfsup-safetensors-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

const concat = (chunks: Uint8Array[]): Buffer => Buffer.concat(chunks);
const bytesOf = (t: Tensor): Buffer => {
  const d = t.data();
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
};
/** Same dtype, shape and bit-for-bit contents. */
function assertSameTensor(got: Tensor | undefined, want: Tensor, name: string): void {
  assert.ok(got, `missing tensor ${name}`);
  assert.equal(got.dtype, want.dtype, `${name}: dtype`);
  assert.deepEqual(got.shape, want.shape, `${name}: shape`);
  assert.ok(bytesOf(got).equals(bytesOf(want)), `${name}: contents differ`);
}

// ---------------------------------------------------------------- the known tensors
// The same names, shapes and values as known_tensors() in scripts/safetensors_interop.py.

const KNOWN: [string, DType, number[]][] = [
  ['f32.matrix', 'float32', [2, 3]], ['f64.vec', 'float64', [5]], ['f16.cube', 'float16', [2, 2, 2]],
  ['bf16.row', 'bfloat16', [1, 6]], ['i64.vec', 'int64', [6]], ['i32.mat', 'int32', [3, 2]],
  ['i16.vec', 'int16', [4]], ['i8.vec', 'int8', [7]], ['u8.mat', 'uint8', [2, 4]], ['bool.vec', 'bool', [5]],
  ['scalar.f32', 'float32', []], ['scalar.i64', 'int64', []], ['empty.f32', 'float32', [0, 3]], ['empty.i8', 'int8', [0]],
];
const KNOWN_METADATA = { framework: 'pt', note: 'known tensors' };

function knownTensor(dtype: DType, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const k = Array.from({ length: n }, (_, i) => i);
  switch (dtype) {
    case 'float16': case 'bfloat16': return tensor(Float64Array.from(k, (i) => (((i * 7) % 23) - 11) * 0.125), { shape, dtype });
    case 'float32': return tensor(Float32Array.from(k, (i) => (((i * 7) % 23) - 11) * 0.3), { shape });
    case 'float64': return tensor(Float64Array.from(k, (i) => (((i * 7) % 23) - 11) * 0.3 + i * 1e-10), { shape });
    case 'int64': return tensor(BigInt64Array.from(k, (i) => BigInt(i - 3) * 2n ** 61n + BigInt(i)), { shape });
    case 'int32': return tensor(Int32Array.from(k, (i) => (i - 3) * 700000001), { shape });
    case 'int16': return tensor(Int16Array.from(k, (i) => ((i * 9001) % 65536) - 32768), { shape });
    case 'int8': return tensor(Int8Array.from(k, (i) => ((i * 37) % 256) - 128), { shape });
    case 'uint8': return tensor(Uint8Array.from(k, (i) => (i * 53) % 256), { shape });
    case 'bool': return tensor(Uint8Array.from(k, (i) => (i % 3 === 0 ? 1 : 0)), { shape, dtype: 'bool' });
  }
}
const knownTensors = (): Map<string, Tensor> => new Map(KNOWN.map(([name, dtype, shape]) => [name, knownTensor(dtype, shape)]));

// ---------------------------------------------------------------- round trips

describe('round trips', () => {
  test('every dtype, scalars and empty tensors, through a file and through bytes', () => {
    const want = knownTensors();
    const path = join(dir, 'known.safetensors');
    saveSafetensors(path, want, KNOWN_METADATA);
    for (const got of [loadSafetensors(path), parseSafetensors(readFileSync(path))]) {
      assert.deepEqual([...got.tensors.keys()].sort(), [...want.keys()].sort());
      for (const [name, t] of want) assertSameTensor(got.tensors.get(name), t, name);
      assert.deepEqual(got.metadata, KNOWN_METADATA);
    }
    assert.ok(concat(serializeSafetensors(want, KNOWN_METADATA)).equals(readFileSync(path)), 'serialize and save give the same bytes');
  });

  test('special values survive bit for bit', () => {
    const want = {
      f32: tensor(new Float32Array([NaN, -0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38])),
      f64: tensor(new Float64Array([NaN, -0, 5e-324, Number.MAX_VALUE, Math.PI])),
      i64: tensor(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n])),
      i32: tensor(new Int32Array([-(2 ** 31), 2 ** 31 - 1])),
      u8: tensor(new Uint8Array([0, 255, 128])),
      f16: tensor([65504, -65504, 6e-8, 0.1], { dtype: 'float16' }),
      bf16: tensor([3e38, -1e-38, 0.1], { dtype: 'bfloat16' }),
    };
    const got = parseSafetensors(concat(serializeSafetensors(want))).tensors;
    for (const [name, t] of Object.entries(want)) assertSameTensor(got.get(name), t, name);
  });

  test('non-contiguous and requires-grad tensors are written as their row-major values', () => {
    const transposed = arange(0, 6, 1, { dtype: 'float32' }).reshape(2, 3).T;
    const param = tensor([1, 2, 3], { requiresGrad: true });
    const got = parseSafetensors(concat(serializeSafetensors({ transposed, param }))).tensors;
    assert.deepEqual(got.get('transposed')!.shape, [3, 2]);
    assert.deepEqual(got.get('transposed')!.toArray(), [[0, 3], [1, 4], [2, 5]]);
    assert.deepEqual(got.get('param')!.toArray(), [1, 2, 3]);
    assert.equal(got.get('param')!.requiresGrad, false);
  });

  test('metadata: present, empty, absent', () => {
    const t = { x: tensor([1]) };
    assert.deepEqual(parseSafetensors(concat(serializeSafetensors(t, { a: '1', b: 'two' }))).metadata, { a: '1', b: 'two' });
    assert.deepEqual(parseSafetensors(concat(serializeSafetensors(t, {}))).metadata, {});
    assert.equal(parseSafetensors(concat(serializeSafetensors(t))).metadata, null);
  });

  test('no tensors at all', () => {
    const got = parseSafetensors(concat(serializeSafetensors({})));
    assert.equal(got.tensors.size, 0);
  });

  test('integer-like and unusual names keep the writer order and round trip', () => {
    const names = ['10', '2', '__proto__', 'constructor', 'a "quoted"\nname', 'ü'];
    const want = new Map(names.map((n, i) => [n, tensor([i])]));
    const bytes = concat(serializeSafetensors(want));
    assert.deepEqual(readSafetensorsHeaderOf(bytes).map((e) => e.name), ['10', '2', '__proto__', 'a "quoted"\nname', 'constructor', 'ü']);
    const got = parseSafetensors(bytes).tensors;
    for (const [name, t] of want) assertSameTensor(got.get(name), t, name);
  });

  test('loading onto a device other than the cpu', { skip: cuda.isAvailable() ? false : 'CUDA is not available on this machine' }, () => {
    const want = knownTensors();
    const onGpu = new Map([...want].map(([k, t]) => [k, t.cuda()]));
    const path = join(dir, 'gpu.safetensors');
    saveSafetensors(path, onGpu); // copied to the cpu for writing
    const got = loadSafetensors(path, { device: 'cuda' }).tensors;
    for (const [name, t] of want) {
      assert.match(got.get(name)!.device, /^cuda/);
      assertSameTensor(got.get(name)!.cpu(), t, name);
    }
  });

  test('no tensors leak from saving and loading', () => {
    const want = knownTensors();
    const path = join(dir, 'leak.safetensors');
    const before = memory().numTensors;
    tidy(() => {
      saveSafetensors(path, want);
      loadSafetensors(path);
    });
    assert.equal(memory().numTensors, before);
  });
});

/** The header's tensors, in file order. */
function readSafetensorsHeaderOf(bytes: Uint8Array): { name: string; dtype: string; shape: number[] }[] {
  const path = join(dir, `header-${Math.random().toString(36).slice(2)}.safetensors`);
  writeFileSync(path, bytes);
  return readSafetensorsHeader(path).tensors;
}

// ---------------------------------------------------------------- exact layout

describe('byte layout', () => {
  test('a tiny file, byte by byte against a hand-computed header', () => {
    const bytes = concat(serializeSafetensors(
      { w: tensor([1, 2]), flag: tensor(true), idx: tensor([3], { dtype: 'int64' }) },
      { k: 'v' },
    ));
    // Order: I64 before F32 before BOOL (descending alignment). Offsets are relative to the data.
    const json = '{"__metadata__":{"k":"v"},' // 26 bytes
      + '"idx":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' // 55
      + '"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' // 54
      + '"flag":{"dtype":"BOOL","shape":[],"data_offsets":[16,17]}}'; // 58: 193 in all
    const expected = [
      200, 0, 0, 0, 0, 0, 0, 0, // 193 padded to 200, little-endian u64
      ...Buffer.from(json), 32, 32, 32, 32, 32, 32, 32, // seven spaces of padding
      3, 0, 0, 0, 0, 0, 0, 0, // idx: int64 3
      0, 0, 128, 63, 0, 0, 0, 64, // w: float32 1.0, 2.0
      1, // flag: true
    ];
    assert.equal(json.length, 193);
    assert.equal(bytes.length, 8 + 200 + 17);
    assert.deepEqual([...bytes], expected);
  });

  // Test vectors from the reference implementation's own tests (huggingface/safetensors, tensor.rs).
  test('matches the reference writer on its test vectors', () => {
    const six = tensor([0, 1, 2, 3, 4, 5]);
    assert.deepEqual([...concat(serializeSafetensors({ 'attn.0': six.reshape(1, 2, 3) }))], [
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
      116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
      58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
      101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
      0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
    assert.deepEqual([...concat(serializeSafetensors({ attn0: six.reshape(1, 1, 2, 3) }))], [
      72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
      121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
      91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
      115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
      32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
      160, 64,
    ]);
    assert.deepEqual([...concat(serializeSafetensors({}))], [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    assert.deepEqual([...concat(serializeSafetensors({}, { framework: 'pt' }))], [
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
      95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
      116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
  });

  test('tensors are ordered by descending dtype alignment, then by UTF-8 name', () => {
    const t = (dtype: DType) => zeros([1], { dtype });
    const bytes = concat(serializeSafetensors({
      bool: t('bool'), u8: t('uint8'), i8: t('int8'), i16: t('int16'), f16: t('float16'), bf16: t('bfloat16'),
      i32: t('int32'), f32: t('float32'), f64: t('float64'), i64: t('int64'),
      // U+FFFD sorts before U+1F600 in UTF-8 bytes, after it in UTF-16 code units.
      '\u{1F600}': t('int64'), '\uFFFD': t('int64'), B: t('int64'), a: t('int64'),
    }));
    const entries = readSafetensorsHeaderOf(bytes);
    assert.deepEqual(entries.map((e) => e.name), [
      'B', 'a', 'i64', '\uFFFD', '\u{1F600}', 'f64', 'f32', 'i32', 'bf16', 'f16', 'i16', 'i8', 'u8', 'bool',
    ]);
    assert.deepEqual(entries.map((e) => e.dtype).slice(5), ['F64', 'F32', 'I32', 'BF16', 'F16', 'I16', 'I8', 'U8', 'BOOL']);
    // the data starts 8-aligned and each tensor starts aligned to its element size
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + n) % 8, 0);
  });

  test('refuses what cannot be written', () => {
    assert.throws(() => serializeSafetensors({ __metadata__: tensor([1]) }), /cannot be named '__metadata__'/);
    assert.throws(() => serializeSafetensors({ x: tensor([1]) }, { epoch: 3 as unknown as string }), /metadata value for "epoch" must be a string/);
    assert.throws(() => serializeSafetensors({ x: [1, 2] as unknown as Tensor }), /tensors\["x"\]' must be a Tensor/);
    const gone = tensor([1]);
    gone.dispose();
    assert.throws(() => serializeSafetensors({ gone }), /disposed/);
  });
});

// ---------------------------------------------------------------- corrupt files

/** A file with the given header (object or exact JSON text), padded to 8, then `data`. */
function rawFile(header: object | string | Buffer, data: Uint8Array | number = 0, lengthOverride?: bigint): Buffer {
  let json = Buffer.isBuffer(header) ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 32)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(lengthOverride ?? BigInt(json.length));
  return Buffer.concat([prefix, json, typeof data === 'number' ? Buffer.alloc(data) : data]);
}
const f32 = (shape: number[], offsets: number[]) => ({ dtype: 'F32', shape, data_offsets: offsets });

describe('corrupt or truncated files give a clear error naming the file', () => {
  const valid = (): Buffer => concat(serializeSafetensors({ a: tensor([1, 2, 3]), b: tensor([4], { dtype: 'int64' }) }));
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['an empty file', () => new Uint8Array(0), /too short \(0 bytes\) to hold the 8-byte header length/],
    ['a 5-byte file', () => new Uint8Array(5), /too short \(5 bytes\)/],
    ['header length past the end of the file', () => rawFile('{}', 0, 1000n), /header length 1000 runs past the end of the file \(16 bytes\)/],
    ['header length over 100 MB', () => rawFile('{}', 0, 200_000_000n), /header length 200000000 is over the 100 MB limit/],
    ['header length 2^64-1', () => rawFile('{}', 0, 2n ** 64n - 1n), /header length 18446744073709551615 is over the 100 MB limit/],
    ['header that is not JSON', () => rawFile('{"a": nope}'), /header is not valid JSON/],
    ['header cut short', () => rawFile('{"a":{"dtype":"F32",'), /header is not valid JSON/],
    ['header that is not an object', () => rawFile('[1, 2]'), /header does not start with '\{' \(it starts with "\[1, 2\]/],
    ['header with leading space', () => rawFile(' {}'), /header does not start with '\{'/],
    ['header that is not UTF-8', () => rawFile(Buffer.from([0x7b, 0xff, 0x7d])), /header is not valid UTF-8/],
    ['unknown dtype', () => rawFile({ a: { dtype: 'F17', shape: [1], data_offsets: [0, 4] } }, 4), /tensor "a": unknown dtype "F17"/],
    ['dtype selfsup lacks', () => rawFile({ a: { dtype: 'U16', shape: [2], data_offsets: [0, 4] } }, 4), /tensor "a": dtype U16 is valid safetensors but selfsup has no such dtype/],
    ['dtype not a string', () => rawFile({ a: { dtype: 6, shape: [1], data_offsets: [0, 4] } }, 4), /tensor "a": dtype must be a string/],
    ['byte count not numel*size', () => rawFile({ a: f32([2], [0, 4]) }, 4), /tensor "a": shape \[2\] of F32 needs 8 bytes but data_offsets \[0, 4\] span 4/],
    ['offsets past the data', () => rawFile({ a: f32([2], [0, 8]) }, 4), /tensor "a": data_offsets \[0, 8\] point past the end of the data \(4 bytes\)/],
    ['a truncated file', () => valid().subarray(0, valid().length - 3), /tensor "a": data_offsets \[8, 20\] point past the end of the data \(17 bytes\); the file is truncated/],
    ['overlapping tensors', () => rawFile({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, 12), /tensor 'b' \(offsets \[4, 12\]\) overlaps tensor 'a' \(offsets \[0, 8\]\)/],
    ['a hole between tensors', () => rawFile({ a: f32([1], [0, 4]), b: f32([1], [8, 12]) }, 12), /there is a hole of 4 bytes before tensor 'b'/],
    ['a hole at the start', () => rawFile({ a: f32([1], [4, 8]) }, 8), /the data starts with a hole of 4 bytes before tensor 'a'/],
    ['bytes after the last tensor', () => rawFile({ a: f32([1], [0, 4]) }, 8), /4 bytes after the last tensor are not described by the header/],
    ['duplicate tensor names', () => rawFile(`{"a":${JSON.stringify(f32([1], [0, 4]))},"a":${JSON.stringify(f32([1], [4, 8]))}}`, 8), /tensor name "a" appears twice in the header/],
    ['duplicate keys in an entry', () => rawFile('{"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}', 4), /key "dtype" appears twice in one header entry/],
    ['non-string metadata', () => rawFile({ __metadata__: { epoch: 3 }, a: f32([1], [0, 4]) }, 4), /__metadata__ value for "epoch" must be a string, got number 3/],
    ['metadata not an object', () => rawFile({ __metadata__: 'x' }), /__metadata__ must be an object of strings/],
    ['a negative dimension', () => rawFile({ a: f32([-1], [0, 4]) }, 4), /tensor "a": shape must be an array of non-negative integers, got \[-1\]/],
    ['a fractional dimension', () => rawFile({ a: f32([1.5], [0, 4]) }, 4), /shape must be an array of non-negative integers/],
    ['shape not an array', () => rawFile({ a: f32(2 as unknown as number[], [0, 8]) }, 8), /shape must be an array of non-negative integers, got 2/],
    ['one offset', () => rawFile({ a: f32([1], [4]) }, 4), /tensor "a": data_offsets must be \[begin, end\]/],
    ['reversed offsets', () => rawFile({ a: f32([0], [8, 0]) }, 8), /data_offsets \[8, 0\] end before they begin/],
    ['an entry that is not an object', () => rawFile({ a: 3 }), /tensor "a": entry must be an object/],
    ['an overflowing shape', () => rawFile({ a: f32([2 ** 40, 2 ** 40], [0, 4]) }, 4), /shape \[1099511627776, 1099511627776\] is too large/],
    ['a BOOL byte that is not 0 or 1', () => rawFile({ a: f32([1], [0, 4]), b: { dtype: 'BOOL', shape: [2], data_offsets: [4, 6] } }, Buffer.from([0, 0, 128, 63, 1, 2])), /BOOL tensor 'b' holds byte 2 at element 1/],
  ];
  for (const [what, make, message] of cases) {
    test(what, () => {
      const bytes = make();
      const path = join(dir, `corrupt-${what.replace(/\W+/g, '-')}.safetensors`);
      writeFileSync(path, bytes);
      const live = memory().numTensors;
      assert.throws(() => loadSafetensors(path), (err: Error) => {
        assert.ok(err instanceof SafetensorsError, `expected a SafetensorsError, got ${err}`);
        assert.ok(err.message.startsWith(`safetensors file '${path}': `), err.message);
        assert.match(err.message, message);
        return true;
      });
      assert.throws(() => parseSafetensors(bytes, { source: 'under test' }), (err: Error) => err.message.startsWith('safetensors under test: ') && message.test(err.message));
      assert.equal(memory().numTensors, live, 'tensors made before the error are freed');
    });
  }

  test('the valid file behind those cases does load', () => {
    const got = parseSafetensors(valid()).tensors;
    assert.deepEqual(got.get('a')!.toArray(), [1, 2, 3]);
    assert.deepEqual(got.get('b')!.toArray(), [4]);
  });

  test('a missing file names the file', () => {
    assert.throws(() => loadSafetensors(join(dir, 'nope.safetensors')), /ENOENT.*nope\.safetensors/);
  });
});

// ---------------------------------------------------------------- atomic writes

/** Files in `d` that look like leftovers of an atomic write. */
const tempFiles = (d: string): string[] => readdirSync(d).filter((f) => f.endsWith('.tmp'));

describe('atomic writes', () => {
  test('replaces the file, keeps its permissions, and leaves no temp file', () => {
    const d = mkdtempSync(join(dir, 'atomic-'));
    const path = join(d, 'f.bin');
    writeFileSync(path, 'old');
    chmodSync(path, 0o640);
    assert.equal(writeFileAtomic(path, [Buffer.from('new '), Buffer.from('data')]), 8);
    assert.equal(readFileSync(path, 'utf8'), 'new data');
    assert.equal(statSync(path).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(d), ['f.bin']);
  });

  test('a throw while producing the data leaves the old file intact and no temp file', () => {
    const d = mkdtempSync(join(dir, 'atomic-'));
    const path = join(d, 'f.bin');
    writeFileSync(path, 'old contents');
    function* failing(): Generator<Uint8Array> {
      yield Buffer.alloc(1 << 20, 1); // some bytes are already on disk when it fails
      throw new Error('simulated failure');
    }
    assert.throws(() => writeFileAtomic(path, failing()), (err: Error) => {
      assert.match(err.message, new RegExp(`could not write '${path}': simulated failure`));
      return true;
    });
    assert.equal(readFileSync(path, 'utf8'), 'old contents');
    assert.deepEqual(readdirSync(d), ['f.bin']);
  });

  test('a failing rename (the target is a non-empty directory) cleans up', () => {
    const d = mkdtempSync(join(dir, 'atomic-'));
    const target = join(d, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'keep me');
    assert.throws(() => writeFileAtomic(target, Buffer.from('x')), (err: NodeJS.ErrnoException) => {
      assert.match(err.message, /could not write '.*taken'/);
      assert.ok(err.code === 'EISDIR' || err.code === 'ENOTEMPTY' || err.code === 'EEXIST', err.code);
      return true;
    });
    assert.equal(readFileSync(join(target, 'inside'), 'utf8'), 'keep me');
    assert.deepEqual(tempFiles(d), []);
  });

  test('a missing directory gives an error naming the target', () => {
    assert.throws(() => writeFileAtomic(join(dir, 'no-such-dir', 'f.bin'), Buffer.from('x')), /could not write '.*no-such-dir\/f\.bin': ENOENT/);
  });

  const isRoot = process.getuid?.() === 0;
  test('a directory without write permission leaves the old file intact', { skip: isRoot ? 'running as root, which can write to any directory' : false }, () => {
    const d = mkdtempSync(join(dir, 'atomic-'));
    const path = join(d, 'f.bin');
    writeFileSync(path, 'old');
    chmodSync(d, 0o555);
    try {
      assert.throws(() => writeFileAtomic(path, Buffer.from('new')), /could not write .*EACCES/);
      assert.equal(readFileSync(path, 'utf8'), 'old');
      assert.deepEqual(readdirSync(d), ['f.bin']);
    } finally {
      chmodSync(d, 0o755);
    }
  });

  test('non-byte chunks are refused without touching the old file', () => {
    const d = mkdtempSync(join(dir, 'atomic-'));
    const path = join(d, 'f.bin');
    writeFileSync(path, 'old');
    assert.throws(() => writeFileAtomic(path, ['text' as unknown as Uint8Array]), /expected Uint8Array chunks/);
    assert.equal(readFileSync(path, 'utf8'), 'old');
    assert.deepEqual(readdirSync(d), ['f.bin']);
  });

  test('the async form writes, and cleans up after an async failure', async () => {
    const d = mkdtempSync(join(dir, 'atomic-'));
    const path = join(d, 'f.bin');
    assert.equal(await writeFileAtomicAsync(path, [Buffer.from('ab'), Buffer.from('c')]), 3);
    assert.equal(readFileSync(path, 'utf8'), 'abc');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('partial');
      throw new Error('simulated async failure');
    }
    await assert.rejects(writeFileAtomicAsync(path, failing()), /could not write .*simulated async failure/);
    assert.equal(readFileSync(path, 'utf8'), 'abc');
    assert.deepEqual(readdirSync(d), ['f.bin']);
  });

  test('saveSafetensors leaves the old file intact when a tensor cannot be written', () => {
    const d = mkdtempSync(join(dir, 'atomic-'));
    const path = join(d, 'w.safetensors');
    saveSafetensors(path, { a: tensor([1, 2]) });
    const old = readFileSync(path);
    const gone = tensor([3]);
    gone.dispose();
    assert.throws(() => saveSafetensors(path, { a: tensor([5, 6]), gone }), /disposed/);
    assert.ok(readFileSync(path).equals(old));
    assert.deepEqual(readdirSync(d), ['w.safetensors']);
  });
});

// ---------------------------------------------------------------- PyTorch interop

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../scripts/safetensors_interop.py', import.meta.url));
const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const noTorch = probe.status === 0 ? false
  : `PyTorch interop skipped: '${PYTHON} -c "import torch"' failed (${(probe.error?.message ?? probe.stderr ?? '').trim().split('\n').pop()})`;

function python(mode: string, path: string): string {
  return execFileSync(PYTHON, [SCRIPT, mode, path], { encoding: 'utf8', timeout: 120_000 });
}

/** The small Conv/BN/Linear network of the script (Net), as functions over a state dict. */
function netForward(sd: Map<string, Tensor>): number[][] {
  return tidy(() => {
    const p = (name: string): Tensor => {
      const t = sd.get(name);
      assert.ok(t, `state dict lacks ${name}`);
      return t;
    };
    const x = arange(0, 2 * 3 * 6 * 6, 1, { dtype: 'float32' }).reshape(2, 3, 6, 6).remainder(11).sub(5).div(4);
    const conv = F.conv2d(x, p('conv.weight'), p('conv.bias'), { padding: 1 });
    const bn = F.batchNorm(conv, { weight: p('bn.weight'), bias: p('bn.bias'), runningMean: p('bn.running_mean'), runningVar: p('bn.running_var'), training: false });
    const pooled = F.adaptiveAvgPool2d(bn.relu(), 1).flatten(1);
    return F.linear(pooled, p('fc.weight'), p('fc.bias')).toArray() as number[][];
  });
}

function assertClose(got: number[][], want: number[][], tol = 1e-5): void {
  assert.equal(got.length, want.length);
  got.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - want[i]![j]!) <= tol, `[${i}][${j}]: ${v} vs ${want[i]![j]}`)));
}

describe('PyTorch interop (scripts/safetensors_interop.py)', { skip: noTorch }, () => {
  test('selfsup reads a file PyTorch wrote: every dtype, exact values', () => {
    const path = join(dir, 'from-torch.safetensors');
    python('write', path);
    const got = loadSafetensors(path);
    assert.deepEqual(got.metadata, KNOWN_METADATA);
    assert.deepEqual([...got.tensors.keys()].sort(), KNOWN.map(([n]) => n).sort());
    for (const [name, t] of knownTensors()) assertSameTensor(got.tensors.get(name), t, name);
    // and selfsup writes the very same bytes for the same tensors
    assert.ok(concat(serializeSafetensors(knownTensors(), KNOWN_METADATA)).equals(readFileSync(path)), 'byte-identical to the Python writer');
  });

  test('PyTorch reads a file selfsup wrote: every dtype, exact values', () => {
    const path = join(dir, 'for-torch.safetensors');
    saveSafetensors(path, knownTensors(), KNOWN_METADATA);
    const report = JSON.parse(python('check', path)) as Record<string, { dtype: string; shape: number[]; sum: string | number }>;
    const i64Sum = (n: number) => Array.from({ length: n }, (_, i) => BigInt(i - 3) * 2n ** 61n + BigInt(i)).reduce((a, b) => a + b, 0n);
    assert.deepEqual(report['i64.vec'], { dtype: 'I64', shape: [6], sum: String(i64Sum(6)) });
    assert.deepEqual(report['scalar.i64'], { dtype: 'I64', shape: [], sum: String(-3n * 2n ** 61n) });
    assert.deepEqual(report['bool.vec'], { dtype: 'BOOL', shape: [5], sum: '2' });
    assert.deepEqual(report['empty.f32'], { dtype: 'F32', shape: [0, 3], sum: 0 });
    assert.equal(report['bf16.row']!.sum, -0.875);
    assert.deepEqual(Object.keys(report).sort(), KNOWN.map(([n]) => n).sort());
  });

  test('PyTorch loads a selfsup state dict into a torch.nn module with strict=True', () => {
    const g = new RandomGenerator(7);
    const sd = new Map<string, Tensor>([
      ['conv.weight', randn([4, 3, 3, 3], { generator: g }).mul(0.3)],
      ['conv.bias', randn([4], { generator: g }).mul(0.1)],
      ['bn.weight', rand([4], { generator: g }).add(0.5)],
      ['bn.bias', randn([4], { generator: g }).mul(0.1)],
      ['bn.running_mean', randn([4], { generator: g }).mul(0.1)],
      ['bn.running_var', rand([4], { generator: g }).add(0.5)],
      ['bn.num_batches_tracked', tensor(12, { dtype: 'int64' })],
      ['fc.weight', randn([5, 4], { generator: g }).mul(0.5)],
      ['fc.bias', randn([5], { generator: g }).mul(0.1)],
    ]);
    const path = join(dir, 'net-from-selfsup.safetensors');
    saveSafetensors(path, sd);
    const torchOut = JSON.parse(python('load-model', path)) as number[][];
    assertClose(netForward(sd), torchOut);
  });

  test('a PyTorch state dict loads into selfsup and computes the same outputs', () => {
    const path = join(dir, 'net-from-torch.safetensors');
    const torchOut = JSON.parse(python('save-model', path)) as number[][];
    const sd = loadSafetensors(path).tensors;
    assert.equal(sd.get('bn.num_batches_tracked')!.dtype, 'int64');
    assert.equal(sd.get('bn.num_batches_tracked')!.item(), 7);
    assertClose(netForward(sd), torchOut);
  });
});
