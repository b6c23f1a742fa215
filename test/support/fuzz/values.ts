// Random argument values for the fuzzer: mostly well-formed (so calls get past
// the first check into kernels), often hostile (huge, negative, NaN, wrong type,
// disposed). Each value comes with the text that reproduces it in the report.
import { Tensor, Generator, randn, randint, zeros, rand, tensor, type DType } from '../../../src/index.js';
import type { Rng } from './rng.js';
import type { ArgType } from './schema.js';

export interface Made {
  value: unknown;
  text: string;
}

const DTYPES: DType[] = ['float32', 'float32', 'float32', 'float32', 'float64', 'int64', 'int64', 'int32', 'bool', 'uint8', 'float16', 'bfloat16', 'int8', 'int16'];
const HOSTILE_INTS: unknown[] = [-1, -2, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, 2 ** 63, -(2 ** 63), 2 ** 64, 1e300, NaN, Infinity, -Infinity, 1.5, -0, 2n ** 64n, -1n, 2n ** 63n - 1n, true, 'x', null, [], {}];
const HOSTILE_FLOATS: unknown[] = [NaN, Infinity, -Infinity, 1e308, -1e308, -0, 5e-324, 2 ** 63, 'x', null, true];
const SCALAR_TYPES = [0, 1, 2, 3, 4, 5, 6, 6, 6, 7, 11, 15];
const EXOTIC_SCALAR_TYPES = [8, 9, 10, 12, 13, 14, 16, 17, -1, 18, 19, 255, 256, 2 ** 31, 2 ** 40];
const DEVICES = ['cpu', 'cpu', 'cpu', 'meta'];
const HOSTILE_DEVICES: unknown[] = ['cuda', 'cuda:7', 'xla', 'mps', 'hpu', 'bogus', '', 'cpu:-1', 'cpu:99999999999', 5, null];
const STRINGS: Record<string, string[]> = {
  reduce: ['mean', 'sum', 'none', 'amax', 'amin', 'prod', 'add', 'multiply'],
  reduction: ['mean', 'sum', 'none'],
  approximate: ['none', 'tanh'],
  padding: ['same', 'valid'],
  mode: ['bilinear', 'nearest', 'bicubic', 'reflect', 'constant', 'replicate', 'circular', 'linear', 'reduced', 'complete', 'r'],
  padding_mode: ['zeros', 'border', 'reflection'],
  equation: ['ij,jk->ik', 'ii->i', 'i->', '...ij->...ji', 'bij,bjk->bik', 'ij', '->', 'i,i'],
  rounding_mode: ['trunc', 'floor'],
  side: ['left', 'right'],
  interpolation: ['linear', 'lower', 'higher', 'midpoint', 'nearest'],
  indexing: ['ij', 'xy'],
  norm: ['backward', 'forward', 'ortho'],
  driver: ['gelsy', 'gelsd', 'gelss', 'gels'],
  UPLO: ['L', 'U'],
  ord: ['fro', 'nuc'],
};
const ANY_STRINGS = ['', 'x', 'none', 'mean', 'sum', '\u0000', 'ij->j', 'cpu', 'float32', 'a'.repeat(300)];

export class ValueMaker {
  /** Tensors made for this call, freed after it. */
  readonly made: Tensor[] = [];
  /** A shape shared by most tensor arguments, so calls reach the kernels. */
  readonly baseShape: number[];
  readonly baseDtype: DType;
  readonly baseDevice: string;

  constructor(readonly rng: Rng) {
    this.baseShape = this.shape();
    this.baseDtype = rng.chance(0.7) ? 'float32' : rng.pick(DTYPES);
    this.baseDevice = rng.chance(0.85) ? 'cpu' : 'meta';
  }

  shape(): number[] {
    const r = this.rng;
    const n = r.pick([0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5]);
    return Array.from({ length: n }, () => (r.chance(0.06) ? 0 : r.int(1, 5)));
  }

  #keep<T extends Tensor>(t: T): T {
    this.made.push(t);
    return t;
  }

  /** A real tensor: random dtype, device (cpu or meta), shape, content, layout in memory. */
  tensor(): Made {
    const r = this.rng;
    if (r.chance(0.02)) {
      // a huge tensor on the meta device: no memory, 2^60 nominal elements
      const shape = r.pick([[2 ** 40, 2 ** 20], [2 ** 31, 2 ** 31], [2 ** 20, 2 ** 20, 2 ** 20], [2 ** 62]]);
      return { value: this.#keep(zeros(shape, { device: 'meta' })), text: `zeros(${JSON.stringify(shape)}, { device: 'meta' })` };
    }
    const shape = r.chance(0.6) ? [...this.baseShape] : this.shape();
    const dtype = r.chance(0.6) ? this.baseDtype : r.pick(DTYPES);
    const device = r.chance(0.9) ? this.baseDevice : r.pick(DEVICES);
    let t: Tensor;
    let text: string;
    const floating = dtype.startsWith('float') || dtype === 'bfloat16';
    if (floating && r.chance(0.12)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const special = [NaN, Infinity, -Infinity, -0, 3.4e38, 1e-45, 0, 1];
      const values = Array.from({ length: n }, () => r.pick(special));
      t = tensor(values, { shape, dtype });
      text = `tensor([${values.join(', ')}], { shape: ${JSON.stringify(shape)}, dtype: '${dtype}' })`;
    } else if (floating) {
      t = randn(shape, { dtype });
      text = `randn(${JSON.stringify(shape)}, { dtype: '${dtype}' })`;
    } else if (dtype === 'bool') {
      const u = rand(shape);
      t = u.gt(0.5);
      u.dispose();
      text = `rand(${JSON.stringify(shape)}).gt(0.5)`;
    } else {
      const lo = dtype === 'uint8' ? 0 : r.pick([-3, 0, 0]);
      const hi = r.pick([2, 4, 6, 100]);
      t = randint(lo, hi, shape, { dtype });
      text = `randint(${lo}, ${hi}, ${JSON.stringify(shape)}, { dtype: '${dtype}' })`;
    }
    if (device !== 'cpu') {
      const moved = t.to(device);
      t.dispose();
      t = moved;
      text += `.to('${device}')`;
    }
    if (shape.length >= 2 && r.chance(0.12)) {
      const tr = t.transpose(0, -1);
      t.dispose();
      t = tr;
      text += '.transpose(0, -1)';
    }
    if (floating && device === 'cpu' && r.chance(0.06)) {
      t.requiresGrad_(true);
      text += '.requiresGrad_(true)';
    }
    return { value: this.#keep(t), text };
  }

  /** A tensor most of the time; sometimes a disposed one or not a tensor at all. */
  tensorArg(raw: boolean): Made {
    const r = this.rng;
    if (r.chance(0.03)) {
      const m = this.tensor();
      const t = m.value as Tensor;
      const handle = t.handle;
      t.dispose();
      return { value: raw ? handle : t, text: `${m.text} (disposed)` };
    }
    if (r.chance(0.03)) return this.junk();
    const m = this.tensor();
    return raw ? { value: (m.value as Tensor).handle, text: m.text } : m;
  }

  junk(): Made {
    const r = this.rng;
    const choice = r.int(0, 7);
    switch (choice) {
      case 0: return { value: null, text: 'null' };
      case 1: return { value: 3, text: '3' };
      case 2: return { value: 'x', text: "'x'" };
      case 3: return { value: [], text: '[]' };
      case 4: return { value: {}, text: '{}' };
      case 5: return { value: new Generator(1), text: 'new Generator(1)' };
      case 6: return { value: new Generator(2).handle, text: 'new Generator(2).handle' };
      default: return { value: Symbol('s'), text: "Symbol('s')" };
    }
  }

  int(name: string): Made {
    const r = this.rng;
    if (r.chance(0.2)) return literal(r.pick(HOSTILE_INTS));
    if (/dim/.test(name) && r.chance(0.7)) return literal(r.int(-Math.max(1, this.baseShape.length), Math.max(0, this.baseShape.length - 1)));
    return literal(r.int(-2, 5));
  }

  float(): Made {
    const r = this.rng;
    if (r.chance(0.15)) return literal(r.pick(HOSTILE_FLOATS));
    return literal(r.pick([0, 1, 0.5, -1, 2, 1e-5, 0.1, Math.round(r.next() * 100) / 10]));
  }

  intList(name: string, fixed: number | null): Made {
    const r = this.rng;
    if (r.chance(0.1)) return this.int(name); // a single int where a list goes
    let n = fixed ?? r.int(0, 4);
    if (r.chance(0.12)) n = r.int(0, 6);
    if (/size|shape/.test(name) && r.chance(0.5)) {
      const s = [...this.baseShape];
      if (r.chance(0.2) && s.length > 0) s[r.int(0, s.length - 1)] = r.pick([-1, -2, 2 ** 31, 2 ** 40, 2 ** 62, 0]);
      return literal(s);
    }
    return literal(Array.from({ length: n }, () => this.int(name).value));
  }

  scalar(): Made {
    const r = this.rng;
    if (r.chance(0.2)) return literal(r.pick([NaN, Infinity, -Infinity, 2 ** 63, -(2 ** 63), 1e308, true, false, 2 ** 53 + 2, 'x', null]));
    return literal(r.pick([0, 1, 2, -1, 0.5, 3, 1e-3]));
  }

  string(name: string): Made {
    const r = this.rng;
    const choices = STRINGS[name];
    if (choices && r.chance(0.85)) return literal(r.pick(choices));
    return literal(r.pick(ANY_STRINGS));
  }

  generator(raw: boolean): Made {
    const r = this.rng;
    if (r.chance(0.7)) return literal(null);
    const g = new Generator(r.int(0, 1000));
    return { value: raw || r.chance(0.5) ? g.handle : g, text: `new Generator(...)${raw ? '.handle' : ''}` };
  }

  /** A value for one schema type. `raw`: tensors as native handles (callOp) rather than Tensors (op). */
  forType(t: ArgType, name: string, raw: boolean): Made {
    const r = this.rng;
    if (t.optional && r.chance(0.25)) return literal(r.chance(0.5) ? null : undefined);
    if (t.lists.length > 0) {
      const [fixed, ...rest] = t.lists;
      const inner: ArgType = { ...t, optional: t.elemOptional, lists: rest, elemOptional: false };
      if (rest.length === 0 && (t.base === 'int' || t.base === 'SymInt')) return this.intList(name, fixed ?? null);
      if (r.chance(0.05)) return this.forType(inner, name, raw);
      let n = fixed ?? (t.base === 'Tensor' ? r.int(0, 3) : r.int(0, 4));
      if (r.chance(0.08)) n = r.int(0, 5);
      const items = Array.from({ length: n }, () => this.forType(inner, name, raw));
      return { value: items.map((m) => m.value), text: `[${items.map((m) => m.text).join(', ')}]` };
    }
    switch (t.base) {
      case 'Tensor': return this.tensorArg(raw);
      case 'int': case 'SymInt': return this.int(name);
      case 'float': return this.float();
      case 'bool': return r.chance(0.05) ? literal(r.pick([0, 1, 'x', null])) : literal(r.chance(0.5));
      case 'Scalar': return this.scalar();
      case 'str': return this.string(name);
      case 'ScalarType': return literal(r.chance(0.2) ? r.pick(EXOTIC_SCALAR_TYPES) : r.pick(SCALAR_TYPES));
      case 'Layout': return literal(r.chance(0.2) ? r.pick([7, 8, -1, 100]) : r.pick([0, 0, 0, 1, 2, 3, 4, 5, 6]));
      case 'MemoryFormat': return literal(r.chance(0.2) ? r.pick([4, 5, -1, 100]) : r.int(0, 3));
      case 'Device': return literal(r.chance(0.15) ? r.pick(HOSTILE_DEVICES) : r.pick(DEVICES));
      case 'Generator': return this.generator(raw);
      default: return r.chance(0.5) ? literal(null) : this.junk();
    }
  }

  /** Any value at all, for methods and functions whose arguments have no schema. */
  anything(): Made {
    const r = this.rng;
    const k = r.int(0, 11);
    if (k <= 3) return this.tensorArg(false);
    if (k === 4) return this.int('x');
    if (k === 5) return this.int('dim');
    if (k === 6) return this.intList('size', null);
    if (k === 7) return this.float();
    if (k === 8) return literal(r.pick(['float32', 'int64', 'bool', 'float16', 'cpu', 'meta', 'cuda', 'mean', 'sum', 'none', 'tanh', 'x']));
    if (k === 9) return literal(r.pick([undefined, null, true, false]));
    if (k === 10) return literal(r.pick([{}, { dtype: 'int64' }, { device: 'meta' }, { dtype: 'float64', device: 'meta' }, { training: true }, { stride: 2, padding: -1 }, { keepdim: true }]));
    return this.junk();
  }
}

export function literal(v: unknown): Made {
  return { value: v, text: show(v) };
}

export function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 10)}...(${v.length} chars)` : v);
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'symbol') return v.toString();
  if (v instanceof Tensor) return v.isDisposed ? '<disposed tensor>' : `<${v.dtype} ${JSON.stringify(v.shape)} ${v.device}>`;
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}
