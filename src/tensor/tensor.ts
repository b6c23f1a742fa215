// The Tensor class: a TypeScript face on one libtorch tensor.
// Every method is a call to an ATen operator through the dispatcher (ops.ts);
// kernels, autograd and memory are libtorch's own.
import { native, type TensorHandle } from '../native/binding.js';
import { callOp } from './ops.js';
import { trackNew, type Scope, type Trackable } from './scope.js';
import { dtypeCode, dtypeFromCode, typedArrayFor, isFloating, isDType, type DType, type Device, type TypedArray } from './dtype.js';
import { formatTensor } from './format.js';

export type Scalar = number | boolean;
/** A nested array of numbers (or booleans), such as `[[1, 2], [3, 4]]`. */
export type NestedArray = Scalar | NestedArray[];

/** Reduction modes of the loss operators, as libtorch numbers them. */
export const Reduction = { none: 0, mean: 1, sum: 2 } as const;
export type ReductionName = keyof typeof Reduction;

function toArg(a: unknown): unknown {
  if (a instanceof Tensor) return a.handle;
  if (Array.isArray(a)) return a.map(toArg);
  return a;
}

function fromResult(r: unknown): unknown {
  if (Array.isArray(r)) return r.map(fromResult);
  if (r !== null && typeof r === 'object') return new Tensor(r as TensorHandle);
  return r;
}

/** Calls an ATen operator with Tensors (or arrays of them) and wraps what comes back. */
export function op<R = Tensor>(qualified: string, ...args: unknown[]): R {
  return fromResult(callOp(qualified, args.map(toArg))) as R;
}

function checkTensor(x: unknown, opName: string, argName: string): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    throw new TypeError(`${opName}: '${argName}' must be a Tensor, got ${describe(x)}`);
  }
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'an object';
  return `${typeof x} ${String(x)}`;
}

function checkDims(dims: unknown, opName: string): number[] {
  const list = typeof dims === 'number' ? [dims] : dims;
  if (!Array.isArray(list) || !list.every((d) => Number.isInteger(d))) {
    throw new TypeError(`${opName}: expected an integer or an array of integers, got ${describe(dims)}`);
  }
  return list as number[];
}

function checkScalar(x: unknown, opName: string): void {
  if (typeof x !== 'number' && typeof x !== 'boolean') throw new TypeError(`${opName}: 'other' must be a Tensor or a number, got ${describe(x)}`);
}

/** Elementwise binary op with a Tensor or Scalar second argument. */
function binary(name: string, a: Tensor, b: Tensor | Scalar): Tensor {
  if (b instanceof Tensor) return op(`aten::${name}.Tensor`, a, b);
  if (typeof b === 'number' || typeof b === 'boolean') return op(`aten::${name}.Scalar`, a, b);
  throw new TypeError(`${name}: 'other' must be a Tensor or a number, got ${describe(b)}`);
}

export class Tensor implements Trackable, Disposable {
  /** The scope that will free this tensor, if any (see tidy/keep). */
  scope: Scope | null = null;
  #h: TensorHandle | null;
  #meta: [number, string, boolean, ...number[]] | null = null;

  /** Wraps a native handle. Users make tensors with `tensor()`, `zeros()` and friends. */
  constructor(handle: TensorHandle) {
    this.#h = handle;
    trackNew(this);
  }

  /** The native handle; throws if the tensor was disposed. */
  get handle(): TensorHandle {
    if (this.#h === null) throw new Error('this tensor was disposed and can no longer be used');
    return this.#h;
  }

  get isDisposed(): boolean {
    return this.#h === null;
  }

  /** Frees the libtorch memory now. Safe to call twice. */
  dispose(): void {
    if (this.#h !== null) {
      native.dispose(this.#h);
      this.#h = null;
    }
    if (this.scope) this.scope.untrack(this);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private get meta(): [number, string, boolean, ...number[]] {
    if (this.#h === null) throw new Error('this tensor was disposed and can no longer be used');
    return (this.#meta ??= native.meta(this.#h));
  }

  get shape(): number[] {
    return this.meta.slice(3) as number[];
  }
  get dtype(): DType {
    return dtypeFromCode(this.meta[0]);
  }
  get device(): string {
    return this.meta[1];
  }
  get ndim(): number {
    return this.meta.length - 3;
  }
  get numel(): number {
    let n = 1;
    for (const s of this.shape) n *= s;
    return n;
  }
  /** Size along one dimension (negative counts from the end). */
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? s.length + dim : dim;
    if (d < 0 || d >= s.length) throw new RangeError(`size: dim ${dim} out of range for shape [${s.join(', ')}]`);
    return s[d]!;
  }

  // ------------------------------------------------------------------ data out

  /** The elements, row-major, in a typed array of the tensor's dtype (a copy). */
  data(): TypedArray {
    return typedArrayFor(this.dtype, native.toBuffer(this.handle));
  }
  /** The elements as plain numbers, row-major (int64 converted to number). */
  dataNumbers(): number[] {
    if (this.dtype === 'float16' || this.dtype === 'bfloat16') {
      // data() gives their raw bits; widen on the libtorch side to read values.
      const f = this.float();
      try { return Array.from(f.data() as Float32Array); } finally { f.dispose(); }
    }
    const d = this.data();
    return d instanceof BigInt64Array ? Array.from(d, Number) : Array.from(d as ArrayLike<number>);
  }
  /** Nested arrays mirroring the shape; a 0-d tensor gives a number. */
  toArray(): NestedArray {
    const flat = this.dataNumbers();
    const asBool = this.dtype === 'bool';
    const shape = this.shape;
    let pos = 0;
    const build = (d: number): NestedArray => {
      if (d === shape.length) {
        const v = flat[pos++]!;
        return asBool ? v !== 0 : v;
      }
      const out: NestedArray[] = [];
      for (let i = 0; i < shape[d]!; i++) out.push(build(d + 1));
      return out;
    };
    return build(0);
  }
  /** The single value of a one-element tensor. */
  item(): number {
    if (this.numel !== 1) throw new RangeError(`item: tensor has ${this.numel} elements, expected 1 (shape [${this.shape.join(', ')}])`);
    return this.dataNumbers()[0]!;
  }
  toString(): string {
    if (this.isDisposed) return 'tensor(<disposed>)';
    return formatTensor(this.shape, this.dtype, this.device, this.dataNumbers(), this.requiresGrad);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ------------------------------------------------------------------ conversion

  /** A copy converted to a dtype ('float64') or moved to a device ('cuda', 'cuda:1', 'cpu'). */
  to(target: DType | Device | string): Tensor {
    if (isDType(target)) return op('aten::to.dtype', this, dtypeCode(target));
    if (typeof target === 'string' && /^(cpu|cuda|meta|mps)(:\d+)?$/.test(target)) {
      return op('aten::to.device', this, target, dtypeCode(this.dtype));
    }
    throw new TypeError(`to: '${String(target)}' is neither a dtype (float32, float64, int64, ...) nor a device ('cpu', 'cuda', 'cuda:N')`);
  }
  float(): Tensor { return this.to('float32'); }
  double(): Tensor { return this.to('float64'); }
  long(): Tensor { return this.to('int64'); }
  int(): Tensor { return this.to('int32'); }
  bool(): Tensor { return this.to('bool'); }
  cpu(): Tensor { return this.to('cpu'); }
  cuda(index = 0): Tensor { return this.to(`cuda:${index}`); }
  contiguous(): Tensor { return op('aten::contiguous', this); }
  clone(): Tensor { return op('aten::clone', this); }
  isFloatingPoint(): boolean { return isFloating(this.dtype); }

  // ------------------------------------------------------------------ autograd

  get requiresGrad(): boolean {
    return native.meta(this.handle)[2];
  }
  set requiresGrad(on: boolean) {
    native.setRequiresGrad(this.handle, on);
  }
  /** Sets requiresGrad and returns this tensor, like PyTorch's requires_grad_(). */
  requiresGrad_(on = true): this {
    native.setRequiresGrad(this.handle, on);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  /** The accumulated gradient (a new handle on the same memory), or null. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g === null ? null : g.handle);
  }
  /** Keeps the gradient of a non-leaf tensor after backward(). */
  retainGrad(): this {
    native.retainGrad(this.handle);
    return this;
  }
  /**
   * Computes gradients of this tensor with respect to every leaf that requires them.
   * A non-scalar tensor needs `gradient`, the gradient of some scalar with respect to it.
   */
  backward(gradient?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    if (gradient !== undefined) checkTensor(gradient, 'backward', 'gradient');
    native.backward(this.handle, gradient ? gradient.handle : null, opts.retainGraph ?? false, opts.createGraph ?? false);
  }
  detach(): Tensor { return op('aten::detach', this); }

  // ------------------------------------------------------------------ elementwise math

  /** this + alpha * other */
  add(other: Tensor | Scalar, alpha?: number): Tensor {
    if (other instanceof Tensor) return op('aten::add.Tensor', this, other, alpha);
    checkScalar(other, 'add');
    return op('aten::add.Scalar', this, other, alpha);
  }
  /** this - alpha * other */
  sub(other: Tensor | Scalar, alpha?: number): Tensor {
    if (other instanceof Tensor) return op('aten::sub.Tensor', this, other, alpha);
    checkScalar(other, 'sub');
    return op('aten::sub.Scalar', this, other, alpha);
  }
  mul(other: Tensor | Scalar): Tensor { return binary('mul', this, other); }
  div(other: Tensor | Scalar): Tensor { return binary('div', this, other); }
  pow(exponent: Tensor | number): Tensor {
    return exponent instanceof Tensor ? op('aten::pow.Tensor_Tensor', this, exponent) : op('aten::pow.Tensor_Scalar', this, exponent);
  }
  remainder(other: Tensor | Scalar): Tensor { return binary('remainder', this, other); }
  maximum(other: Tensor): Tensor { checkTensor(other, 'maximum', 'other'); return op('aten::maximum', this, other); }
  minimum(other: Tensor): Tensor { checkTensor(other, 'minimum', 'other'); return op('aten::minimum', this, other); }
  neg(): Tensor { return op('aten::neg', this); }
  abs(): Tensor { return op('aten::abs', this); }
  exp(): Tensor { return op('aten::exp', this); }
  log(): Tensor { return op('aten::log', this); }
  log1p(): Tensor { return op('aten::log1p', this); }
  sqrt(): Tensor { return op('aten::sqrt', this); }
  rsqrt(): Tensor { return op('aten::rsqrt', this); }
  reciprocal(): Tensor { return op('aten::reciprocal', this); }
  square(): Tensor { return op('aten::square', this); }
  sin(): Tensor { return op('aten::sin', this); }
  cos(): Tensor { return op('aten::cos', this); }
  sign(): Tensor { return op('aten::sign', this); }
  floor(): Tensor { return op('aten::floor', this); }
  ceil(): Tensor { return op('aten::ceil', this); }
  round(): Tensor { return op('aten::round', this); }
  clamp(min?: number | null, max?: number | null): Tensor { return op('aten::clamp', this, min ?? null, max ?? null); }
  /** Linear interpolation towards `end` by `weight`. */
  lerp(end: Tensor, weight: number): Tensor { return op('aten::lerp.Scalar', this, end, weight); }

  // activations
  relu(): Tensor { return op('aten::relu', this); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return op('aten::gelu', this, approximate); }
  silu(): Tensor { return op('aten::silu', this); }
  sigmoid(): Tensor { return op('aten::sigmoid', this); }
  tanh(): Tensor { return op('aten::tanh', this); }
  leakyRelu(slope = 0.01): Tensor { return op('aten::leaky_relu', this, slope); }
  softmax(dim: number): Tensor { return op('aten::softmax.int', this, dim); }
  logSoftmax(dim: number): Tensor { return op('aten::log_softmax.int', this, dim); }

  // comparisons and logic (results are bool tensors)
  eq(other: Tensor | Scalar): Tensor { return binary('eq', this, other); }
  ne(other: Tensor | Scalar): Tensor { return binary('ne', this, other); }
  lt(other: Tensor | Scalar): Tensor { return binary('lt', this, other); }
  le(other: Tensor | Scalar): Tensor { return binary('le', this, other); }
  gt(other: Tensor | Scalar): Tensor { return binary('gt', this, other); }
  ge(other: Tensor | Scalar): Tensor { return binary('ge', this, other); }
  logicalAnd(other: Tensor): Tensor { return op('aten::logical_and', this, other); }
  logicalOr(other: Tensor): Tensor { return op('aten::logical_or', this, other); }
  logicalNot(): Tensor { return op('aten::logical_not', this); }
  isnan(): Tensor { return op('aten::isnan', this); }
  isfinite(): Tensor { return op('aten::isfinite', this); }
  /** Elementwise choice: where `condition` holds take this, else `other`. */
  where(condition: Tensor, other: Tensor | Scalar): Tensor {
    return other instanceof Tensor ? op('aten::where.self', condition, this, other) : op('aten::where.ScalarOther', condition, this, other);
  }
  allclose(other: Tensor, rtol = 1e-5, atol = 1e-8): boolean { return op<boolean>('aten::allclose', this, other, rtol, atol); }
  equal(other: Tensor): boolean { return op<boolean>('aten::equal', this, other); }

  // ------------------------------------------------------------------ reductions

  sum(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? op('aten::sum', this) : op('aten::sum.dim_IntList', this, checkDims(dim, 'sum'), keepdim);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? op('aten::mean', this) : op('aten::mean.dim', this, checkDims(dim, 'mean'), keepdim);
  }
  prod(dim?: number, keepdim = false): Tensor {
    return dim === undefined ? op('aten::prod', this) : op('aten::prod.dim_int', this, dim, keepdim);
  }
  /** Maximum over all elements. */
  max(): Tensor;
  /** Maximum along `dim`: values and indices. */
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return op('aten::max', this);
    const [values, indices] = op<[Tensor, Tensor]>('aten::max.dim', this, dim, keepdim);
    return { values, indices };
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return op('aten::min', this);
    const [values, indices] = op<[Tensor, Tensor]>('aten::min.dim', this, dim, keepdim);
    return { values, indices };
  }
  argmax(dim?: number, keepdim = false): Tensor { return op('aten::argmax', this, dim ?? null, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return op('aten::argmin', this, dim ?? null, keepdim); }
  /** Standard deviation; `unbiased` divides by N-1 as PyTorch does by default. */
  std(dim?: number | number[], opts: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    return op('aten::std.dim', this, dim === undefined ? null : checkDims(dim, 'std'), opts.unbiased ?? true, opts.keepdim ?? false);
  }
  var(dim?: number | number[], opts: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    return op('aten::var.dim', this, dim === undefined ? null : checkDims(dim, 'var'), opts.unbiased ?? true, opts.keepdim ?? false);
  }
  /** Vector p-norm over all elements or over `dim`. */
  norm(p = 2, dim?: number | number[], keepdim = false): Tensor {
    return op('aten::linalg_vector_norm', this, p, dim === undefined ? null : checkDims(dim, 'norm'), keepdim);
  }
  any(): Tensor { return op('aten::any', this); }
  all(): Tensor { return op('aten::all', this); }
  cumsum(dim: number): Tensor { return op('aten::cumsum', this, dim); }
  logsumexp(dim: number | number[], keepdim = false): Tensor { return op('aten::logsumexp', this, checkDims(dim, 'logsumexp'), keepdim); }

  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    const [values, indices] = op<[Tensor, Tensor]>('aten::topk', this, k, dim, largest, sorted);
    return { values, indices };
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = op<[Tensor, Tensor]>('aten::sort.stable', this, true, dim, descending);
    return { values, indices };
  }
  argsort(dim = -1, descending = false): Tensor {
    const { values, indices } = this.sort(dim, descending);
    values.dispose();
    return indices;
  }

  // ------------------------------------------------------------------ linear algebra

  matmul(other: Tensor): Tensor { checkTensor(other, 'matmul', 'other'); return op('aten::matmul', this, other); }
  mm(other: Tensor): Tensor { checkTensor(other, 'mm', 'other'); return op('aten::mm', this, other); }
  bmm(other: Tensor): Tensor { checkTensor(other, 'bmm', 'other'); return op('aten::bmm', this, other); }
  outer(other: Tensor): Tensor { return op('aten::outer', this, other); }
  /** Swaps the last two dims (a matrix transpose for 2-d tensors). */
  get T(): Tensor { return this.transpose(-2, -1); }

  // ------------------------------------------------------------------ shape

  reshape(...shape: number[] | [number[]]): Tensor { return op('aten::reshape', this, flatArgs(shape, 'reshape')); }
  view(...shape: number[] | [number[]]): Tensor { return op('aten::view', this, flatArgs(shape, 'view')); }
  permute(...dims: number[] | [number[]]): Tensor { return op('aten::permute', this, flatArgs(dims, 'permute')); }
  transpose(dim0: number, dim1: number): Tensor { return op('aten::transpose.int', this, dim0, dim1); }
  squeeze(dim?: number): Tensor { return dim === undefined ? op('aten::squeeze', this) : op('aten::squeeze.dim', this, dim); }
  unsqueeze(dim: number): Tensor { return op('aten::unsqueeze', this, dim); }
  flatten(startDim = 0, endDim = -1): Tensor { return op('aten::flatten.using_ints', this, startDim, endDim); }
  /** Broadcasts to `shape` without copying (-1 keeps a dim). */
  expand(...shape: number[] | [number[]]): Tensor { return op('aten::expand', this, flatArgs(shape, 'expand')); }
  expandAs(other: Tensor): Tensor { return this.expand(other.shape); }
  repeat(...times: number[] | [number[]]): Tensor { return op('aten::repeat', this, flatArgs(times, 'repeat')); }
  /** Elements `start` (inclusive) to `end` (exclusive) of `dim`, every `step`-th; negatives count from the end. */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    return op('aten::slice.Tensor', this, dim, start ?? null, end ?? null, step);
  }
  narrow(dim: number, start: number, length: number): Tensor { return op('aten::narrow', this, dim, start, length); }
  /** The `index`-th entry along `dim`, with that dim removed. */
  select(dim: number, index: number): Tensor { return op('aten::select.int', this, dim, index); }
  indexSelect(dim: number, index: Tensor): Tensor { checkTensor(index, 'indexSelect', 'index'); return op('aten::index_select', this, dim, index); }
  /** Advanced indexing, `t[idx0, idx1, ...]` with index tensors (null skips a dim). */
  index(indices: (Tensor | null)[]): Tensor { return op('aten::index.Tensor', this, indices); }
  gather(dim: number, index: Tensor): Tensor { checkTensor(index, 'gather', 'index'); return op('aten::gather', this, dim, index); }
  scatter(dim: number, index: Tensor, src: Tensor | Scalar): Tensor {
    return src instanceof Tensor ? op('aten::scatter.src', this, dim, index, src) : op('aten::scatter.value', this, dim, index, src);
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return op('aten::scatter_add', this, dim, index, src); }
  maskedFill(mask: Tensor, value: Scalar | Tensor): Tensor {
    checkTensor(mask, 'maskedFill', 'mask');
    return value instanceof Tensor ? op('aten::masked_fill.Tensor', this, mask, value) : op('aten::masked_fill.Scalar', this, mask, value);
  }
  maskedSelect(mask: Tensor): Tensor { checkTensor(mask, 'maskedSelect', 'mask'); return op('aten::masked_select', this, mask); }
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] {
    return typeof sizeOrSizes === 'number' ? op('aten::split.Tensor', this, sizeOrSizes, dim) : op('aten::split_with_sizes', this, sizeOrSizes, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] { return op('aten::chunk', this, chunks, dim); }
  unbind(dim = 0): Tensor[] { return op('aten::unbind.int', this, dim); }
  /** Rotates by 90 degrees `k` times in the plane of `dims` (from the first towards the second). */
  rot90(k = 1, dims: [number, number] = [0, 1]): Tensor { return op('aten::rot90', this, k, dims); }
  flip(dims: number | number[]): Tensor { return op('aten::flip', this, checkDims(dims, 'flip')); }
  roll(shifts: number | number[], dims: number | number[]): Tensor { return op('aten::roll', this, checkDims(shifts, 'roll'), checkDims(dims, 'roll')); }
  oneHot(numClasses = -1): Tensor { return op('aten::one_hot', this, numClasses); }
  /** Repeats each element `repeats` times along `dim` (flattened when dim is omitted). */
  repeatInterleave(repeats: number, dim?: number): Tensor { return op('aten::repeat_interleave.self_int', this, repeats, dim ?? null); }
  /** Sliding windows of `size` with `step` along `dim`, as a new last dim. */
  unfold(dim: number, size: number, step: number): Tensor { return op('aten::unfold', this, dim, size, step); }
  tril(diagonal = 0): Tensor { return op('aten::tril', this, diagonal); }
  triu(diagonal = 0): Tensor { return op('aten::triu', this, diagonal); }
  /** Indices of non-zero elements, [n, ndim] int64. */
  nonzero(): Tensor { return op('aten::nonzero', this); }
  /** Counts of each non-negative integer value (int64 input). */
  bincount(minlength = 0): Tensor { return op('aten::bincount', this, null, minlength); }
  /** Samples indices from the rows of this (non-negative weights), like torch.multinomial. */
  multinomial(numSamples: number, replacement = false, generator?: import('./random.js').Generator): Tensor {
    return op('aten::multinomial', this, numSamples, replacement, generator?.handle ?? null);
  }
  /** 0/1 samples with the probabilities in this tensor. */
  bernoulli(generator?: import('./random.js').Generator): Tensor { return op('aten::bernoulli', this, generator?.handle ?? null); }

  // ------------------------------------------------------------------ in place (return this)

  private inplace(qualified: string, ...args: unknown[]): this {
    const r = op<Tensor>(qualified, this, ...args);
    r.dispose(); // the same tensor as `this`; only the extra handle goes
    this.#meta = null;
    return this;
  }
  add_(other: Tensor | Scalar, alpha?: number): this {
    return other instanceof Tensor ? this.inplace('aten::add_.Tensor', other, alpha) : this.inplace('aten::add_.Scalar', other, alpha);
  }
  sub_(other: Tensor | Scalar, alpha?: number): this {
    return other instanceof Tensor ? this.inplace('aten::sub_.Tensor', other, alpha) : this.inplace('aten::sub_.Scalar', other, alpha);
  }
  mul_(other: Tensor | Scalar): this {
    return other instanceof Tensor ? this.inplace('aten::mul_.Tensor', other) : this.inplace('aten::mul_.Scalar', other);
  }
  div_(other: Tensor | Scalar): this {
    return other instanceof Tensor ? this.inplace('aten::div_.Tensor', other) : this.inplace('aten::div_.Scalar', other);
  }
  /** this += value * t1 * t2 */
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this { return this.inplace('aten::addcmul_', t1, t2, value); }
  /** this += value * t1 / t2 */
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this { return this.inplace('aten::addcdiv_', t1, t2, value); }
  lerp_(end: Tensor, weight: number): this { return this.inplace('aten::lerp_.Scalar', end, weight); }
  copy_(src: Tensor): this { checkTensor(src, 'copy_', 'src'); return this.inplace('aten::copy_', src); }
  zero_(): this { return this.inplace('aten::zero_'); }
  fill_(value: Scalar): this { return this.inplace('aten::fill_.Scalar', value); }
  clamp_(min?: number | null, max?: number | null): this { return this.inplace('aten::clamp_', min ?? null, max ?? null); }
  sqrt_(): this { return this.inplace('aten::sqrt_'); }
  uniform_(from = 0, to = 1, generator?: import('./random.js').Generator): this {
    return this.inplace('aten::uniform_', from, to, generator?.handle ?? null);
  }
  normal_(mean = 0, std = 1, generator?: import('./random.js').Generator): this {
    return this.inplace('aten::normal_', mean, std, generator?.handle ?? null);
  }
  maskedFill_(mask: Tensor, value: Scalar): this { return this.inplace('aten::masked_fill_.Scalar', mask, value); }
}

function flatArgs(args: number[] | [number[]], opName: string): number[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? args[0] : (args as number[]);
  return checkDims(list, opName);
}

/** Throws a clear error when `x` is not a Tensor (for public functions taking tensors). */
export function assertTensor(x: unknown, opName: string, argName: string): asserts x is Tensor {
  checkTensor(x, opName, argName);
}
