// The Module base class: a tree of layers that owns parameters and buffers,
// named the way PyTorch names them in a state dict ('features.0.weight').
import { Tensor, keep, noGrad, sameDevice, type Device } from '../tensor/index.js';

/** Parameters and persistent buffers by their dotted names. */
export type StateDict = Map<string, Tensor>;

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

function shapeText(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/** Is `name` one of `prefixes`, or inside one of them ('a.b' is inside 'a', 'a.bc' is not)? */
function under(name: string, prefixes: string[] | null): boolean {
  if (prefixes === null) return true;
  return prefixes.some((p) => name === p || name.startsWith(p.endsWith('.') ? p : `${p}.`));
}

function prefixList(prefixes: string | string[] | undefined, fn: string): string[] | null {
  if (prefixes === undefined) return null;
  const list = typeof prefixes === 'string' ? [prefixes] : prefixes;
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new TypeError(`${fn}: prefixes must be a non-empty string or an array of them, got ${JSON.stringify(prefixes)}`);
  }
  return list;
}

/**
 * Base class of every layer and model. Subclasses register what they own in the
 * constructor and implement `forward`:
 *
 * ```ts
 * class Mlp extends Module {
 *   fc1 = this.registerModule('fc1', new Linear(4, 8));
 *   fc2 = this.registerModule('fc2', new Linear(8, 2));
 *   forward(x: Tensor): Tensor {
 *     return tidy(() => this.fc2.forward(this.fc1.forward(x).relu()));
 *   }
 * }
 * ```
 *
 * Conventions: `forward` never frees its input and returns a fresh tensor the
 * caller owns; it frees its own intermediates (autograd keeps what backward needs).
 */
export abstract class Module {
  readonly #parameters = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #nonPersistent = new Set<string>();
  readonly #modules = new Map<string, Module>();
  /** What train()/eval() last asked for. */
  #trainRequested = true;
  /** Frozen modules stay in eval mode whatever train() asks (see freeze()). */
  #frozen = false;

  abstract forward(x: Tensor): Tensor;

  // ------------------------------------------------------------------ registration

  #checkName(name: string, kind: string): void {
    if (typeof name !== 'string' || name.length === 0 || name.includes('.')) {
      throw new TypeError(`${this.constructor.name}.register${kind}: name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    }
    if (this.#parameters.has(name) || this.#buffers.has(name) || this.#modules.has(name)) {
      throw new Error(`${this.constructor.name}.register${kind}: '${name}' is already registered`);
    }
  }

  /**
   * Registers a trainable tensor: it gets requiresGrad, leaves every scope (the
   * module owns it until dispose()), and appears in stateDict() under `name`.
   */
  registerParameter(name: string, t: Tensor): Tensor {
    this.#checkName(name, 'Parameter');
    if (!(t instanceof Tensor)) throw new TypeError(`registerParameter('${name}'): expected a Tensor`);
    if (!t.isLeaf) {
      throw new Error(`registerParameter('${name}'): the tensor is the result of a differentiable computation; pass a leaf (make it under noGrad(), or call detach())`);
    }
    if (!t.isFloatingPoint()) throw new TypeError(`registerParameter('${name}'): parameters must be floating point, got ${t.dtype}`);
    keep(t);
    t.requiresGrad_(true);
    this.#parameters.set(name, t);
    return t;
  }

  /**
   * Registers state that is not trained (running statistics, counters). Persistent
   * buffers appear in stateDict(); others only move with to() and die with dispose().
   */
  registerBuffer(name: string, t: Tensor, persistent = true): Tensor {
    this.#checkName(name, 'Buffer');
    if (!(t instanceof Tensor)) throw new TypeError(`registerBuffer('${name}'): expected a Tensor`);
    keep(t);
    this.#buffers.set(name, t);
    if (!persistent) this.#nonPersistent.add(name);
    return t;
  }

  /** Registers a child module; its parameters are named `name.<their name>`. */
  registerModule<M extends Module>(name: string, m: M): M {
    this.#checkName(name, 'Module');
    if (!(m instanceof Module)) throw new TypeError(`registerModule('${name}'): expected a Module`);
    this.#modules.set(name, m);
    return m;
  }

  // ------------------------------------------------------------------ traversal

  /** Every module in the tree, this one first (named ''), in registration order. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const walk = (m: Module, name: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [child, c] of m.#modules) walk(c, name ? `${name}.${child}` : child);
    };
    walk(this, prefix);
    return out;
  }

  namedChildren(): [string, Module][] {
    return [...this.#modules];
  }

  children(): Module[] {
    return [...this.#modules.values()];
  }

  /** Every parameter of the tree with its dotted name (a shared tensor once, under its first name). */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.#parameters) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([prefix ? `${prefix}.${name}` : name, p]);
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.#buffers) out.push([prefix ? `${prefix}.${name}` : name, b]);
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Calls `fn` on every module, children before their parent (as PyTorch's apply does). */
  apply(fn: (m: Module, name: string) => void): this {
    const visit = (m: Module, name: string): void => {
      for (const [child, c] of m.#modules) visit(c, name ? `${name}.${child}` : child);
      fn(m, name);
    };
    visit(this, '');
    return this;
  }

  // ------------------------------------------------------------------ modes

  /** True when this module behaves as in training (dropout on, batch statistics). */
  get training(): boolean {
    return this.#trainRequested && !this.#frozen;
  }

  /** Training mode for the whole tree; frozen modules stay in eval mode. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.#trainRequested = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** True when freeze() covered this module (and no unfreeze() since). */
  get frozen(): boolean {
    return this.#frozen;
  }

  /**
   * Stops training the parameters whose names start with one of `prefixes`
   * (a dotted-name boundary: 'encoder.1' covers 'encoder.1.weight', not 'encoder.10.weight');
   * no argument freezes everything. Their requiresGrad goes off and their grads are cleared.
   * Modules under a prefix also stay in eval mode from now on, even when train() is called on
   * a parent, so BatchNorm running statistics and dropout of a frozen backbone do not change.
   */
  freeze(prefixes?: string | string[]): this {
    const { params, modules } = this.#match(prefixList(prefixes, 'freeze'), 'freeze');
    for (const [, p] of params) {
      p.requiresGrad_(false);
      p.grad = null;
    }
    for (const [, m] of modules) m.#frozen = true;
    return this;
  }

  /** Undoes freeze() for the parameters and modules under `prefixes` (no argument: everything). */
  unfreeze(prefixes?: string | string[]): this {
    const { params, modules } = this.#match(prefixList(prefixes, 'unfreeze'), 'unfreeze');
    for (const [, p] of params) p.requiresGrad_(true);
    const names = [...params, ...modules].map(([n]) => n);
    // The modules under the prefixes, and those holding them, are no longer entirely frozen.
    const holds = (outer: string): boolean => names.some((n) => outer === '' || n === outer || n.startsWith(`${outer}.`));
    for (const [name, m] of this.namedModules()) if (holds(name)) m.#frozen = false;
    return this;
  }

  /** The parameters and modules under `list` (everything when null); throws if a prefix matches nothing. */
  #match(list: string[] | null, fn: string): { params: [string, Tensor][]; modules: [string, Module][] } {
    const params = this.namedParameters().filter(([n]) => under(n, list));
    const modules = this.namedModules().filter(([n]) => under(n, list));
    const names = [...params, ...modules].map(([n]) => n);
    const unused = (list ?? []).filter((p) => !names.some((n) => under(n, [p])));
    if (unused.length) {
      throw new Error(`${fn}: no parameter or module matches ${unused.map((p) => `'${p}'`).join(', ')}; parameters are named like '${this.namedParameters()[0]?.[0] ?? 'weight'}'`);
    }
    return { params, modules };
  }

  // ------------------------------------------------------------------ parameters

  /** How many numbers the parameters hold (shared tensors once). */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!opts.trainableOnly || p.requiresGrad) n += p.numel;
    return n;
  }

  /** Forgets every parameter's gradient (sets it to null, as PyTorch's zero_grad does). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Parameters and persistent buffers by dotted name: the live tensors, not copies. */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    for (const [prefix, m] of this.namedModules()) {
      const key = (name: string): string => (prefix ? `${prefix}.${name}` : name);
      for (const [name, p] of m.#parameters) out.set(key(name), p);
      for (const [name, b] of m.#buffers) if (!m.#nonPersistent.has(name)) out.set(key(name), b);
    }
    return out;
  }

  /**
   * Copies values into this module's tensors in place (so optimizers holding the
   * parameters keep working). Shapes must match. With `strict` (the default) the keys
   * must match exactly; otherwise missing and unexpected keys are returned.
   */
  loadStateDict(sd: Map<string, Tensor> | Record<string, Tensor>, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const source = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !source.has(k));
    const unexpectedKeys = [...source.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [k, src] of source) {
      const dst = own.get(k);
      if (!dst) continue;
      if (!(src instanceof Tensor)) throw new TypeError(`loadStateDict: value of '${k}' is not a Tensor`);
      if (src.shape.length !== dst.shape.length || src.shape.some((s, i) => s !== dst.shape[i])) {
        mismatched.push(`${k}: checkpoint has shape ${shapeText(src)}, model has ${shapeText(dst)}`);
      }
    }
    if (mismatched.length || (strict && (missingKeys.length || unexpectedKeys.length))) {
      const lines = [`loadStateDict: the state dict does not fit ${this.constructor.name}:`];
      if (missingKeys.length) lines.push(`  missing keys: ${missingKeys.join(', ')}`);
      if (unexpectedKeys.length) lines.push(`  unexpected keys: ${unexpectedKeys.join(', ')}`);
      if (mismatched.length) lines.push(`  shape mismatches:\n    ${mismatched.join('\n    ')}`);
      if (!mismatched.length) lines.push('  (pass { strict: false } to load the matching keys only)');
      throw new Error(lines.join('\n'));
    }
    noGrad(() => {
      for (const [k, dst] of own) {
        const src = source.get(k);
        if (src) dst.copy_(src);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  // ------------------------------------------------------------------ devices and lifetime

  /**
   * Moves every parameter and buffer to `device`. Tensors not already there are replaced
   * (grads dropped), and fields of the modules that held the old tensors are updated;
   * make optimizers after this. Tensors already on `device` stay as they are.
   */
  to(device: Device | string): this {
    if (device !== 'cpu' && device !== 'cuda' && !/^cuda:\d+$/.test(device)) {
      throw new TypeError(`Module.to: expected a device ('cpu', 'cuda' or 'cuda:N'), got ${JSON.stringify(device)}`);
    }
    const moved = new Map<Tensor, Tensor>();
    const move = (t: Tensor, isParam: boolean): Tensor => {
      if (sameDevice(t.device, device)) return t;
      let r = moved.get(t);
      if (!r) {
        r = keep(noGrad(() => t.to(device)));
        if (isParam) r.requiresGrad_(t.requiresGrad);
        moved.set(t, r);
      }
      return r;
    };
    for (const [, m] of this.namedModules()) {
      for (const [name, p] of m.#parameters) m.#parameters.set(name, move(p, true));
      for (const [name, b] of m.#buffers) m.#buffers.set(name, move(b, false));
      // Layers keep their tensors in fields too (`this.weight`): point those at the new ones.
      const fields = m as unknown as Record<string, unknown>;
      for (const key of Object.keys(fields)) {
        const v = fields[key];
        if (v instanceof Tensor && moved.has(v)) fields[key] = moved.get(v);
      }
    }
    for (const [old, r] of moved) if (old !== r) old.dispose();
    return this;
  }

  /** Where the module's tensors are: the device of its first parameter (or buffer); 'cpu' when it has none. */
  get device(): string {
    const first = this.parameters()[0] ?? this.buffers()[0];
    return first?.device ?? 'cpu';
  }

  /** Frees every parameter and buffer of the tree; the module cannot be used afterwards. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const p of m.#parameters.values()) p.dispose();
      for (const b of m.#buffers.values()) b.dispose();
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A short description of this layer's settings, shown by toString(). */
  protected extraRepr(): string {
    return '';
  }

  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (this.#modules.size === 0) return `${head})`;
    const lines = [...this.#modules].map(([name, m]) => `  (${name}): ${m.toString().replace(/\n/g, '\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}
