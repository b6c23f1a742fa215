// Tensor lifetime. libtorch memory is freed the moment a tensor is disposed;
// a scope disposes everything created inside it except what it returns or keeps.
// The garbage collector is only a backstop: we measured that leaving
// intermediates to it halves training speed.

/** Anything a scope can track and free. */
export interface Trackable {
  dispose(): void;
  /** The scope now responsible for this object, if any. */
  scope: Scope | null;
}

export class Scope implements Disposable {
  readonly tracked = new Set<Trackable>();
  private closed = false;

  constructor(readonly parent: Scope | null) {}

  track(t: Trackable): void {
    this.tracked.add(t);
    t.scope = this;
  }

  untrack(t: Trackable): void {
    this.tracked.delete(t);
    t.scope = null;
  }

  /** Frees every tracked object except those in `survivors`, which move to the parent scope. */
  close(survivors: Set<Trackable> = new Set()): void {
    if (this.closed) return;
    this.closed = true;
    if (stack[stack.length - 1] === this) stack.pop();
    else {
      const i = stack.lastIndexOf(this);
      if (i >= 0) stack.splice(i, 1);
    }
    for (const t of this.tracked) {
      if (survivors.has(t)) {
        t.scope = null;
        if (this.parent && !this.parent.closed) this.parent.track(t);
      } else {
        t.scope = null;
        t.dispose();
      }
    }
    this.tracked.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

const stack: Scope[] = [];

/** The innermost open scope, or null. */
export function currentScope(): Scope | null {
  return stack.length ? stack[stack.length - 1]! : null;
}

/** Called for every new tensor: the innermost open scope takes charge of it. */
export function trackNew(t: Trackable): void {
  const s = currentScope();
  if (s) s.track(t);
}

/**
 * Opens a scope that lasts until it is disposed, for use with `using`:
 * `{ using _ = openScope(); ... }` frees every tensor made inside the block.
 * Call `keep()` on tensors that must outlive it.
 */
export function openScope(): Scope {
  const s = new Scope(currentScope());
  stack.push(s);
  return s;
}

function collect(value: unknown, into: Set<Trackable>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTrackable(value)) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into, seen);
  else if (value instanceof Map) for (const v of value.values()) collect(v, into, seen);
  else if (value instanceof Set) for (const v of value) collect(v, into, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, into, seen);
}

function isTrackable(v: object): v is Trackable {
  return 'scope' in v && typeof (v as Trackable).dispose === 'function';
}

/**
 * Runs `fn` and frees every tensor created inside it, except the tensors in its
 * result (found in arrays, Maps, Sets and plain objects) and those passed to `keep()`.
 * Returned tensors belong to the enclosing scope, if there is one.
 *
 * ```ts
 * const loss = tidy(() => F.crossEntropy(model.forward(x), y)); // intermediates freed
 * ```
 */
export function tidy<T>(fn: () => T): T {
  const s = openScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    s.close();
    throw e;
  }
  if (result instanceof Promise) {
    s.close();
    throw new TypeError('tidy() cannot take an async function: tensors would be freed while it is still running. Use a synchronous function, or openScope() with `using`.');
  }
  const survivors = new Set<Trackable>();
  collect(result, survivors, new Set());
  s.close(survivors);
  return result;
}

/** Takes a tensor out of every scope: it lives until disposed (or garbage-collected). */
export function keep<T extends Trackable>(t: T): T {
  if (t.scope) t.scope.untrack(t);
  return t;
}
