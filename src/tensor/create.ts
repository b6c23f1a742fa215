// Making tensors: from JavaScript data, and the factory functions.
import { native } from '../native/binding.js';
import { Tensor, op, assertTensor, type NestedArray, type Scalar } from './tensor.js';
import { dtypeCode, dtypeOfTypedArray, type DType, type Device } from './dtype.js';
import type { Generator } from './random.js';

export interface TensorOptions {
  dtype?: DType;
  device?: Device | string;
  requiresGrad?: boolean;
}

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

function checkShape(shape: unknown, fn: string): number[] {
  if (!Array.isArray(shape) || !shape.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new TypeError(`${fn}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return shape;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as NestedArray;
  }
  return shape;
}

function flatten(data: NestedArray, shape: number[], dim: number, out: number[], path: string): void {
  if (dim === shape.length) {
    if (typeof data === 'number') out.push(data);
    else if (typeof data === 'boolean') out.push(data ? 1 : 0);
    else throw new TypeError(`tensor: element at ${path || 'root'} is ${Array.isArray(data) ? 'an array, but the shape ends there (ragged nesting)' : typeof data}`);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new TypeError(`tensor: ragged nested array at ${path || 'root'}: expected ${shape[dim]} elements like its first sibling`);
  }
  for (let i = 0; i < data.length; i++) flatten(data[i]!, shape, dim + 1, out, `${path}[${i}]`);
}

function firstLeaf(data: NestedArray): Scalar | undefined {
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    if (cur.length === 0) return undefined;
    cur = cur[0]!;
  }
  return cur;
}

/**
 * Makes a tensor from a number, nested arrays or a typed array (copied).
 *
 * ```ts
 * const a = tensor([[1, 2], [3, 4]]);                    // float32, shape [2, 2]
 * const y = tensor([0, 2, 1], { dtype: 'int64' });
 * const x = tensor(new Float32Array(784), { shape: [1, 28, 28] });
 * ```
 */
export function tensor(data: NestedArray | ArrayBufferView, opts: TensorOptions & { shape?: number[] } = {}): Tensor {
  let t: Tensor;
  if (ArrayBuffer.isView(data)) {
    const shape = checkShape(opts.shape ?? [(data as unknown as ArrayLike<unknown>).length], 'tensor');
    const srcType = dtypeOfTypedArray(data);
    t = new Tensor(native.fromBuffer(data, shape, dtypeCode(srcType)));
    if (opts.dtype && opts.dtype !== srcType) t = convertAndFree(t, opts.dtype);
  } else {
    const shape = opts.shape ? checkShape(opts.shape, 'tensor') : inferShape(data);
    const flat: number[] = [];
    flatten(data, inferShape(data), 0, flat, '');
    const dtype = opts.dtype ?? (typeof firstLeaf(data) === 'boolean' ? 'bool' : 'float32');
    let buf: ArrayBufferView;
    let bufType: DType;
    if (dtype === 'int64') {
      for (const v of flat) if (!Number.isInteger(v)) throw new TypeError(`tensor: ${v} is not an integer, but dtype is int64`);
      buf = BigInt64Array.from(flat, (v) => BigInt(v));
      bufType = 'int64';
    } else if (dtype === 'float64') {
      buf = Float64Array.from(flat);
      bufType = 'float64';
    } else if (dtype === 'bool') {
      buf = Uint8Array.from(flat, (v) => (v !== 0 ? 1 : 0));
      bufType = 'uint8';
    } else if (dtype === 'uint8') {
      buf = Uint8Array.from(flat);
      bufType = 'uint8';
    } else if (dtype === 'int32' || dtype === 'int16' || dtype === 'int8') {
      buf = Int32Array.from(flat);
      bufType = 'int32';
    } else {
      buf = Float32Array.from(flat);
      bufType = 'float32';
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== flat.length) throw new TypeError(`tensor: ${flat.length} values do not fill shape [${shape.join(', ')}]`);
    t = new Tensor(native.fromBuffer(buf, shape, dtypeCode(bufType)));
    if (bufType !== dtype) t = convertAndFree(t, dtype);
  }
  if (opts.device && opts.device !== 'cpu') t = moveAndFree(t, opts.device);
  return finish(t, opts);
}

/**
 * Makes a tensor from raw little-endian bytes of `dtype` (e.g. float16 bits from a file).
 * The bytes are copied.
 */
export function fromBytes(bytes: Uint8Array, dtype: DType, shape: number[]): Tensor {
  checkShape(shape, 'fromBytes');
  return new Tensor(native.fromBuffer(bytes, shape, dtypeCode(dtype)));
}

function convertAndFree(t: Tensor, dtype: DType): Tensor {
  const r = t.to(dtype);
  t.dispose();
  return r;
}

function moveAndFree(t: Tensor, device: string): Tensor {
  const r = t.to(device);
  t.dispose();
  return r;
}

function dt(opts: TensorOptions, fallback: DType = 'float32'): number {
  return dtypeCode(opts.dtype ?? fallback);
}

export function zeros(shape: number[], opts: TensorOptions = {}): Tensor {
  return finish(op('aten::zeros', checkShape(shape, 'zeros'), dt(opts), null, opts.device ?? null), opts);
}
export function ones(shape: number[], opts: TensorOptions = {}): Tensor {
  return finish(op('aten::ones', checkShape(shape, 'ones'), dt(opts), null, opts.device ?? null), opts);
}
export function empty(shape: number[], opts: TensorOptions = {}): Tensor {
  return finish(op('aten::empty.memory_format', checkShape(shape, 'empty'), dt(opts), null, opts.device ?? null), opts);
}
export function full(shape: number[], value: Scalar, opts: TensorOptions = {}): Tensor {
  return finish(op('aten::full', checkShape(shape, 'full'), value, dt(opts), null, opts.device ?? null), opts);
}
export function eye(n: number, opts: TensorOptions = {}): Tensor {
  return finish(op('aten::eye', n, dt(opts), null, opts.device ?? null), opts);
}
/** Values from `start` to `end` (exclusive) in steps of `step`; int64 when all are integers, like PyTorch. */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  const allInt = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  return finish(op('aten::arange.start_step', start, end, step, dt(opts, allInt ? 'int64' : 'float32'), null, opts.device ?? null), opts);
}
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  return finish(op('aten::linspace', start, end, steps, dt(opts), null, opts.device ?? null), opts);
}
/** Uniform on [0, 1). */
export function rand(shape: number[], opts: RandomOptions = {}): Tensor {
  return finish(op('aten::rand.generator', checkShape(shape, 'rand'), opts.generator?.handle ?? null, dt(opts), null, opts.device ?? null), opts);
}
/** Standard normal. */
export function randn(shape: number[], opts: RandomOptions = {}): Tensor {
  return finish(op('aten::randn.generator', checkShape(shape, 'randn'), opts.generator?.handle ?? null, dt(opts), null, opts.device ?? null), opts);
}
/** Integers uniform on [low, high). */
export function randint(low: number, high: number, shape: number[], opts: RandomOptions = {}): Tensor {
  return finish(op('aten::randint.low_generator', low, high, checkShape(shape, 'randint'), opts.generator?.handle ?? null, dt(opts, 'int64'), null, opts.device ?? null), opts);
}
/** A random permutation of 0..n-1. */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  return finish(op('aten::randperm.generator', n, opts.generator?.handle ?? null, dt(opts, 'int64'), null, opts.device ?? null), opts);
}

export function zerosLike(t: Tensor): Tensor { assertTensor(t, 'zerosLike', 't'); return op('aten::zeros_like', t); }
export function onesLike(t: Tensor): Tensor { assertTensor(t, 'onesLike', 't'); return op('aten::ones_like', t); }
export function fullLike(t: Tensor, value: Scalar): Tensor { assertTensor(t, 'fullLike', 't'); return op('aten::full_like', t, value); }

/** Joins tensors along an existing dim. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  tensors.forEach((t, i) => assertTensor(t, 'cat', `tensors[${i}]`));
  return op('aten::cat', tensors, dim);
}
/** Joins tensors along a new dim. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  tensors.forEach((t, i) => assertTensor(t, 'stack', `tensors[${i}]`));
  return op('aten::stack', tensors, dim);
}
/** Elementwise choice: `condition ? a : b`. */
export function where(condition: Tensor, a: Tensor, b: Tensor | Scalar): Tensor {
  return a.where(condition, b);
}
/** Einstein summation, e.g. `einsum('bij,bjk->bik', a, b)`. */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  return op('aten::einsum', equation, operands);
}
