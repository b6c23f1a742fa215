// Calls ATen operators by schema name through the c10 dispatcher.
// Each operator is looked up once and remembered by its index.
import { native } from '../native/binding.js';
import { guardFor } from './unchecked-ops.js';

const cache = new Map<string, number>();
/** Guards for operators whose inputs libtorch does not check (unchecked-ops.ts), by index. */
const guards = new Map<number, (args: unknown[], op: string) => void>();

function indexOf(qualified: string): number {
  let idx = cache.get(qualified);
  if (idx === undefined) {
    // 'aten::add.Tensor' -> name 'aten::add', overload 'Tensor'
    const dot = qualified.indexOf('.', qualified.indexOf('::') + 2);
    const name = dot < 0 ? qualified : qualified.slice(0, dot);
    const overload = dot < 0 ? '' : qualified.slice(dot + 1);
    idx = native.lookupOp(name, overload);
    const guard = guardFor(qualified);
    if (guard) guards.set(idx, guard);
    cache.set(qualified, idx);
  }
  return idx;
}

/**
 * Calls an ATen operator, e.g. `callOp('aten::add.Tensor', [a, b])`.
 * Arguments follow the operator's schema in order; `undefined` takes the default.
 * Tensor arguments are raw handles; results come back raw (handles, numbers or arrays).
 */
export function callOp(qualified: string, args: unknown[]): unknown {
  const idx = indexOf(qualified);
  if (guards.size > 0) guards.get(idx)?.(args, qualified);
  return native.callOp(idx, args);
}

/** The schema string of an operator, for example to learn its arguments. */
export function opSchema(qualified: string): string {
  return native.opSchema(indexOf(qualified));
}
