// Operators whose inputs libtorch 1.13 does not check, and which crash the process
// (or read outside a tensor) when given bad ones. This is the one list of them:
// each entry says why it is here and either checks the arguments first or refuses
// the operator outright. callOp consults it once per operator name (ops.ts).
// Sizes and strides of as_strided-like views, enum codes and fixed-length int[N]
// lists are checked in the addon for every operator (native/selfsup.cc).
import { native, type TensorHandle } from '../native/binding.js';

type Check = (args: unknown[], op: string) => void;

interface UncheckedOp {
  /** What goes wrong without the guard. */
  reason: string;
  /** Throws a clear error for arguments the kernel would crash on; absent: the operator is refused. */
  check?: Check;
}

/** Keyed by operator name without overload ('aten::ctc_loss' covers .IntList and .Tensor). */
const UNCHECKED_OPS: Record<string, UncheckedOp> = {
  'aten::_local_scalar_dense': {
    reason: 'reads one element without checking there is one: SIGSEGV on an empty tensor',
    check: (a, op) => requireNumel(a[0], 'self', op, 1),
  },
  'aten::ctc_loss': {
    reason: 'out-of-range targets or lengths (negative, or past the tensors) read outside log_probs: SIGSEGV, or silent garbage when small',
    check: checkCtcLoss,
  },
  // An empty output_size read past the list (SIGSEGV); the addon's int[N] length
  // check catches that. A zero output_size is taken without complaint, although
  // the indices then point outside the 0-element output.
  'aten::max_unpool3d': {
    reason: 'a zero output_size makes a 0-element output that the indices point outside of',
    check: (a, op) => checkUnpool(a, op, 3),
  },
  'aten::max_unpool2d': {
    reason: 'a zero output_size makes a 0-element output that the indices point outside of',
    check: (a, op) => checkUnpool(a, op, 2),
  },
  'aten::native_channel_shuffle': {
    reason: 'groups <= 0, or more groups than channels, divides by zero (SIGFPE)',
    check: checkChannelShuffle,
  },
  'aten::_sparse_coo_tensor_unsafe': {
    reason: 'skips the check that indices fit the size: to_dense() then indexes outside the dense tensor (index 2^40 into a size of 3 ran without an error); use aten::sparse_coo_tensor.indices, which checks',
  },
  'aten::matrix_exp_backward': {
    reason: 'a 0-d self is read as a matrix (SIGSEGV); autograd calls it with shapes it has checked',
  },
  'aten::binomial': {
    reason: 'a NaN count never ends sampling (an infinite or negative one, or a NaN probability, gives NaN or 0 at once)',
    check: checkBinomial,
  },
  'aten::native_batch_norm': {
    reason: 'an empty input divides by zero (SIGFPE); weight, bias or running stats of the wrong size are read per channel unchecked (a 1-element weight for 300 channels ran without an error)',
    check: (a, op) => checkBatchNorm(argNames(op), a, op),
  },
  'aten::choose_qparams_optimized': {
    reason: 'crashed (SIGSEGV: numel -2, n_bins 0) and never ended (n_bins -1, bit_width -2) under the fuzzer; quantization calibration, which selfsup does not support',
  },
  'aten::align_tensors': {
    reason: 'an empty list dereferences a missing first tensor (SIGSEGV); named tensors are not supported by selfsup anyway',
  },
};

// Orthogonal polynomials of a huge degree: shifted_chebyshev_polynomial_w with
// n = 2^53 never ended (the fuzzer's batch timed out).
const MAX_POLYNOMIAL_DEGREE = 1 << 20;
for (const name of ['chebyshev_polynomial_t', 'chebyshev_polynomial_u', 'chebyshev_polynomial_v', 'chebyshev_polynomial_w',
  'shifted_chebyshev_polynomial_t', 'shifted_chebyshev_polynomial_u', 'shifted_chebyshev_polynomial_v', 'shifted_chebyshev_polynomial_w',
  'hermite_polynomial_h', 'hermite_polynomial_he', 'laguerre_polynomial_l', 'legendre_polynomial_p']) {
  UNCHECKED_OPS[`aten::special_${name}`] = {
    reason: `a degree n of 2^53 never ended; degrees above ${MAX_POLYNOMIAL_DEGREE} are refused`,
    check: (a, op) => requireAtMost(a[1], 'n', op, MAX_POLYNOMIAL_DEGREE),
  };
}

/** Whole families, matched by name after the entries above; refused unless they have a check. */
const UNCHECKED_FAMILIES: { test: (base: string) => boolean; reason: string; check?: (qualified: string) => Check }[] = [
  {
    // batch_norm_update_stats, batch_norm_elemt, ...: the pieces of (sync) batch norm
    test: (b) => b.startsWith('aten::batch_norm_'),
    reason: 'an empty input divides by zero (batch_norm_update_stats: SIGFPE), as in native_batch_norm',
    check: (qualified) => {
      const names = argNames(qualified);
      return (a, op) => checkBatchNorm(names, a, op);
    },
  },
  {
    // the convolution backends behind aten::convolution, which checks these first
    test: (b) => /^aten::(slow_conv|thnn_conv|conv_depthwise)/.test(b),
    reason: 'a negative stride crashed slow_conv3d_forward (SIGFPE); strides, dilations and kernel sizes must be positive, paddings not negative',
    check: (qualified) => checkConvGeometry(argNames(qualified)),
  },
  {
    // ATen's private operators are implementation details that its public
    // operators call after checking the inputs; many check nothing themselves.
    // Seen crashing (SIGSEGV): _stack([]), _stack.out, _fft_r2c with bad dims.
    test: (b) => b.startsWith('aten::_') && !PRIVATE_ALLOWED.has(b),
    reason: 'is a private ATen operator that does not check its inputs; use the public operator it implements',
  },
  {
    test: (b) => b.startsWith('aten::') && b.endsWith('_backward'),
    reason: 'is a gradient kernel that autograd calls with shapes it has already checked; many check nothing (matrix_exp_backward of a 0-d tensor: SIGSEGV)',
  },
  {
    test: (b) => /^aten::(quantized_|fbgemm_)/.test(b),
    reason: 'is a quantized-inference kernel, which selfsup does not support (quantized_lstm_cell with an empty hx: SIGSEGV)',
  },
  {
    test: (b) => !b.startsWith('aten::'),
    reason: 'is outside the aten namespace (quantized::, prepacked::, static_runtime::, ...): backend kernels for TorchScript and mobile that selfsup does not support (quantized::embedding_bag_2bit_prepack of an empty tensor: SIGSEGV)',
  },
];

// Private operators selfsup uses, or guards above (_reshape_alias: in the addon).
const PRIVATE_ALLOWED = new Set(['aten::_indices', 'aten::_values', 'aten::_local_scalar_dense', 'aten::_reshape_alias']);

/** The guard for an operator ('aten::ctc_loss.IntList'), or null when it needs none. */
export function guardFor(qualified: string): Check | null {
  const dot = qualified.indexOf('.', qualified.indexOf('::') + 2);
  const base = dot < 0 ? qualified : qualified.slice(0, dot);
  const entry = UNCHECKED_OPS[base];
  if (entry) {
    if (entry.check) return entry.check;
    return () => {
      throw new Error(`${qualified} is refused by selfsup: ${entry.reason}`);
    };
  }
  const family = UNCHECKED_FAMILIES.find((f) => f.test(base));
  if (family?.check) return family.check(qualified);
  if (family) {
    return () => {
      throw new Error(`${qualified} is refused by selfsup: it ${family.reason}`);
    };
  }
  return null;
}

// ------------------------------------------------------------------ helpers
// Arguments arrive as callOp gets them: raw tensor handles, numbers, arrays.

function isHandle(x: unknown): x is TensorHandle {
  return x !== null && typeof x === 'object' && !Array.isArray(x) && native.isLive(x as TensorHandle);
}

function shapeOf(h: TensorHandle): number[] {
  return native.meta(h).slice(3) as number[];
}

/** The values of an integer tensor on the CPU, or null for a tensor without data (meta). */
function intValues(h: TensorHandle): number[] | null {
  const [, device] = native.meta(h);
  if (device === 'meta') return null;
  const idx = lookup('aten::to.dtype');
  const asLong = native.callOp(idx, [h, 4]) as TensorHandle; // int64
  try {
    return Array.from(new BigInt64Array(native.toBuffer(asLong)), Number);
  } finally {
    native.dispose(asLong);
  }
}

const indices = new Map<string, number>();
function lookup(qualified: string): number {
  let i = indices.get(qualified);
  if (i === undefined) {
    const dot = qualified.indexOf('.', qualified.indexOf('::') + 2);
    i = native.lookupOp(dot < 0 ? qualified : qualified.slice(0, dot), dot < 0 ? '' : qualified.slice(dot + 1));
    indices.set(qualified, i);
  }
  return i;
}

function requireNumel(x: unknown, arg: string, op: string, n: number): void {
  if (!isHandle(x)) return; // the addon reports a wrong type
  const numel = shapeOf(x).reduce((a, b) => a * b, 1);
  if (numel !== n) throw new RangeError(`${op}: argument '${arg}' has ${numel} elements, expected ${n}`);
}

function requirePositiveInt(x: unknown, arg: string, op: string): void {
  if (typeof x === 'number' && x <= 0) throw new RangeError(`${op}: argument '${arg}' must be positive, got ${x}`);
  if (typeof x === 'bigint' && x <= 0n) throw new RangeError(`${op}: argument '${arg}' must be positive, got ${x}`);
}

/** All values of a tensor as numbers, or null for a tensor without data (meta). */
function numberValues(h: TensorHandle): number[] | null {
  const [, device] = native.meta(h);
  if (device === 'meta') return null;
  const asDouble = native.callOp(lookup('aten::to.dtype'), [h, 7]) as TensorHandle; // float64
  try {
    return Array.from(new Float64Array(native.toBuffer(asDouble)));
  } finally {
    native.dispose(asDouble);
  }
}

const argNamesCache = new Map<string, string[]>();

/** The argument names of an operator's schema, in order. */
function argNames(qualified: string): string[] {
  const known = argNamesCache.get(qualified);
  if (known) return known;
  const schema = native.opSchema(lookup(qualified));
  const inner = schema.slice(schema.indexOf('(') + 1, schema.lastIndexOf(') ->'));
  const names: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of inner + ',') {
    if (ch === '[' || ch === '(') depth++;
    if (ch === ']' || ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      const decl = cur.split('=')[0]!.trim();
      if (decl !== '*') names.push(decl.slice(decl.lastIndexOf(' ') + 1));
      cur = '';
    } else cur += ch;
  }
  argNamesCache.set(qualified, names);
  return names;
}

function checkConvGeometry(names: string[]): Check {
  return (a, op) => {
    names.forEach((name, k) => {
      const list = intList(a[k]);
      if (!list) return;
      if ((name === 'stride' || name === 'dilation' || name === 'kernel_size') && list.some((v) => v <= 0)) {
        throw new RangeError(`${op}: argument '${name}' = [${list.join(', ')}] must be positive`);
      }
      if ((name === 'padding' || name === 'output_padding') && list.some((v) => v < 0)) {
        throw new RangeError(`${op}: argument '${name}' = [${list.join(', ')}] must not be negative`);
      }
    });
  };
}

function requireAtMost(x: unknown, arg: string, op: string, limit: number): void {
  const values = typeof x === 'number' ? [x] : isHandle(x) ? numberValues(x) ?? [] : [];
  for (const v of values) {
    if (!(Math.abs(v) <= limit) && !Number.isNaN(v)) throw new RangeError(`${op}: argument '${arg}' = ${v} is more than ${limit}`);
  }
}

function checkChannelShuffle(a: unknown[], op: string): void {
  const [self, groups] = a;
  requirePositiveInt(groups, 'groups', op);
  if (!isHandle(self) || typeof groups !== 'number') return;
  const s = shapeOf(self);
  if (s.length < 2) throw new RangeError(`${op}: argument 'self' must have a channel dim (at least 2 dims), got [${s.join(', ')}]`);
  const channels = s[1]!;
  if (channels === 0 || channels % groups !== 0) throw new RangeError(`${op}: argument 'groups' = ${groups} does not divide the ${channels} channels of 'self'`);
}

const PER_CHANNEL = new Set(['weight', 'bias', 'running_mean', 'running_var']);

// native_batch_norm(input, weight?, bias?, running_mean?, running_var?, ...) and
// the batch_norm_* pieces: a non-empty input, and one value per channel.
function checkBatchNorm(names: string[], a: unknown[], op: string): void {
  const input = a[names.indexOf('input')];
  if (!isHandle(input)) return;
  const s = shapeOf(input);
  if (s.length < 2) throw new RangeError(`${op}: argument 'input' must have a channel dim (at least 2 dims), got [${s.join(', ')}]`);
  if (s.reduce((x, y) => x * y, 1) === 0) throw new RangeError(`${op}: argument 'input' is empty ([${s.join(', ')}]); aten::batch_norm handles empty inputs`);
  const channels = s[1]!;
  names.forEach((arg, k) => {
    const t = a[k];
    if (!PER_CHANNEL.has(arg) || !isHandle(t)) return;
    const ts = shapeOf(t);
    if (ts.length !== 1 || ts[0] !== channels) throw new RangeError(`${op}: argument '${arg}' has shape [${ts.join(', ')}], expected [${channels}] (one per channel of 'input')`);
  });
}

function checkBinomial(a: unknown[], op: string): void {
  const [count] = a;
  if (!isHandle(count)) return;
  const values = numberValues(count) ?? [];
  const at = values.findIndex(Number.isNaN);
  if (at >= 0) throw new RangeError(`${op}: argument 'count' holds NaN at flat index ${at}`);
}

function intList(x: unknown): number[] | null {
  if (typeof x === 'number') return [x];
  if (Array.isArray(x) && x.every((v) => typeof v === 'number')) return x as number[];
  return null;
}

// ctc_loss(log_probs [T, N, C] or [T, C], targets [N, S] or [sum(target_lengths)],
//          input_lengths, target_lengths, blank, reduction, zero_infinity)
function checkCtcLoss(a: unknown[], op: string): void {
  const [logProbs, targets, inputLengths, targetLengths, blank] = a;
  if (!isHandle(logProbs) || !isHandle(targets)) return;
  const lp = shapeOf(logProbs);
  if (lp.length !== 3 && lp.length !== 2) throw new RangeError(`${op}: argument 'log_probs' must be [T, N, C] or [T, C], got [${lp.join(', ')}]`);
  const T = lp[0]!;
  const C = lp[lp.length - 1]!;
  const batch = lp.length === 3 ? lp[1]! : 1;
  const blankIndex = typeof blank === 'number' ? blank : 0;
  if (blankIndex < 0 || blankIndex >= C) throw new RangeError(`${op}: argument 'blank' = ${blankIndex} is outside [0, ${C})`);
  const lengths = (x: unknown, arg: string): number[] | null => {
    const list = isHandle(x) ? intValues(x) : intList(x);
    if (list === null) return null;
    if (list.length !== batch) throw new RangeError(`${op}: argument '${arg}' has ${list.length} entries for a batch of ${batch}`);
    return list;
  };
  const inLen = lengths(inputLengths, 'input_lengths');
  const tgLen = lengths(targetLengths, 'target_lengths');
  inLen?.forEach((l, i) => {
    if (l < 0 || l > T) throw new RangeError(`${op}: argument 'input_lengths'[${i}] = ${l} is outside [0, ${T}]`);
  });
  const ts = shapeOf(targets);
  const tv = intValues(targets);
  if (tgLen) {
    const room = ts.length === 2 ? ts[1]! : ts.reduce((x, y) => x * y, 1);
    let total = 0;
    tgLen.forEach((l, i) => {
      if (l < 0 || l > room) throw new RangeError(`${op}: argument 'target_lengths'[${i}] = ${l} is outside [0, ${room}]`);
      total += l;
    });
    if (ts.length !== 2 && total > room) throw new RangeError(`${op}: argument 'target_lengths' sums to ${total}, more than the ${room} targets`);
    if (ts.length === 2 && ts[0] !== batch) throw new RangeError(`${op}: argument 'targets' has ${ts[0]} rows for a batch of ${batch}`);
  }
  tv?.forEach((v, i) => {
    if (v < 0 || v >= C) throw new RangeError(`${op}: argument 'targets' holds ${v} at flat index ${i}, outside the ${C} classes [0, ${C})`);
  });
}

// max_unpool2d(self, indices, output_size[2]); max_unpool3d(self, indices, output_size[3], stride[3], padding[3])
function checkUnpool(a: unknown[], op: string, dims: 2 | 3): void {
  const [self, idx, outputSize, stride] = a;
  if (isHandle(self) && isHandle(idx)) {
    const s = shapeOf(self);
    const i = shapeOf(idx);
    if (s.length !== i.length || s.some((d, k) => d !== i[k])) {
      throw new RangeError(`${op}: argument 'indices' has shape [${i.join(', ')}], but 'self' has [${s.join(', ')}]`);
    }
    if (s.length !== dims + 1 && s.length !== dims + 2) {
      throw new RangeError(`${op}: argument 'self' must have ${dims + 1} or ${dims + 2} dims, got [${s.join(', ')}]`);
    }
  }
  for (const [value, arg] of [[outputSize, 'output_size'], [stride, 'stride']] as const) {
    const list = intList(value);
    if (list && list.some((v) => v <= 0)) throw new RangeError(`${op}: argument '${arg}' = [${list.join(', ')}] must be positive`);
  }
}
