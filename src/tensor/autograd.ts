// Grad mode: code inside noGrad() records no autograd graph (evaluation, optimizer updates).
import { native } from '../native/binding.js';

function withGradMode<T>(on: boolean, fn: () => T): T {
  const before = native.gradEnabled();
  native.gradEnabled(on);
  try {
    const r = fn();
    if (r instanceof Promise) {
      throw new TypeError('noGrad()/enableGrad() take a synchronous function: grad mode is global and would leak into other work while awaiting');
    }
    return r;
  } finally {
    native.gradEnabled(before);
  }
}

/** Runs `fn` without recording gradients. */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with gradient recording on (inside a noGrad block, for example). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

export function isGradEnabled(): boolean {
  return native.gradEnabled();
}
