// Input checks shared by the losses. libtorch's own errors for a wrong shape come from
// deep inside an op (`mat1 and mat2 shapes cannot be multiplied`) and name no loss, so
// every loss checks its inputs first and says which loss and which shapes were wrong.
// TypeError: not a tensor, not floating point, mixed dtypes or devices.
// RangeError: wrong number of dims, sizes that do not fit, bad option values.
import { Tensor, sameDevice } from '../../tensor/index.js';

export function shapeText(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/**
 * Throws unless every value is a 2-D floating-point Tensor with at least `minRows` rows,
 * all of one dtype and on one device. Names are the caller's argument names.
 */
export function checkMatrices(loss: string, inputs: Record<string, unknown>, minRows = 1): void {
  let first: [string, Tensor] | null = null;
  for (const [name, t] of Object.entries(inputs)) {
    if (!(t instanceof Tensor)) {
      throw new TypeError(`${loss}: '${name}' must be a Tensor, got ${t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t}`);
    }
    if (t.ndim !== 2) throw new RangeError(`${loss}: '${name}' must be 2-D [rows, dims], got shape ${shapeText(t)}`);
    if (!t.isFloatingPoint()) throw new TypeError(`${loss}: '${name}' must be floating point, got ${t.dtype}`);
    if (t.size(0) < minRows) {
      throw new RangeError(`${loss}: '${name}' needs at least ${minRows} row${minRows === 1 ? '' : 's'}, got shape ${shapeText(t)}`);
    }
    if (first === null) {
      first = [name, t];
      continue;
    }
    const [firstName, f] = first;
    if (!sameDevice(t.device, f.device)) {
      throw new TypeError(`${loss}: '${name}' is on ${t.device} but '${firstName}' is on ${f.device}; move them to one device`);
    }
    if (t.dtype !== f.dtype) throw new TypeError(`${loss}: '${name}' is ${t.dtype} but '${firstName}' is ${f.dtype}`);
  }
}

/** Throws unless all the tensors have the same shape. */
export function checkSameShape(loss: string, inputs: Record<string, Tensor>): void {
  const entries = Object.entries(inputs);
  const [firstName, first] = entries[0]!;
  for (const [name, t] of entries.slice(1)) {
    if (t.shape.length !== first.shape.length || t.shape.some((s, i) => s !== first.shape[i])) {
      throw new RangeError(`${loss}: '${firstName}' and '${name}' must have the same shape, got ${shapeText(first)} and ${shapeText(t)}`);
    }
  }
}

/** Throws unless `value` is a finite number > 0 (temperatures, eps). */
export function checkPositive(loss: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${loss}: ${name} must be a finite number > 0, got ${String(value)}`);
  }
}

/** Throws unless `value` is a finite number >= 0 (loss weights). */
export function checkNonNegative(loss: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${loss}: ${name} must be a finite number >= 0, got ${String(value)}`);
  }
}
