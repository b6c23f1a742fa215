// Sequential: runs its children in order. Children are named "0", "1", ...
// (as in PyTorch, so state dict keys read 'features.0.weight'), or by the names given.
import { Tensor, op } from '../tensor/index.js';
import { Module } from './module.js';

export class Sequential extends Module {
  #layers: Module[] = [];

  /**
   * `new Sequential(conv, bn, relu)` names the layers "0", "1", "2";
   * `new Sequential({ conv, bn })` or `new Sequential([['conv', conv], ['bn', bn]])` uses the given names.
   */
  constructor(...layers: Module[]);
  constructor(named: Record<string, Module> | [string, Module][]);
  constructor(...args: unknown[]) {
    super();
    if (args.length === 1 && !(args[0] instanceof Module)) {
      const entries = Array.isArray(args[0]) ? (args[0] as [string, Module][]) : Object.entries(args[0] as Record<string, Module>);
      for (const [name, m] of entries) this.add(name, m);
    } else {
      for (const m of args) this.append(m as Module);
    }
  }

  /** Adds a layer at the end, named by its position. */
  append(m: Module): this {
    return this.add(String(this.#layers.length), m);
  }

  /** Adds a layer at the end under `name`. */
  add(name: string, m: Module): this {
    if (!(m instanceof Module)) throw new TypeError(`Sequential: layer '${name}' is not a Module`);
    this.#layers.push(this.registerModule(name, m));
    return this;
  }

  get length(): number {
    return this.#layers.length;
  }

  /** The layer at `index` (negative counts from the end). */
  at(index: number): Module {
    const m = this.#layers.at(index);
    if (!m) throw new RangeError(`Sequential: index ${index} out of range for ${this.#layers.length} layers`);
    return m;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.#layers[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    let h = x;
    try {
      for (const m of this.#layers) {
        const out = m.forward(h);
        // each intermediate is freed as soon as the next layer has used it
        if (h !== x && out !== h) h.dispose();
        h = out;
      }
    } catch (e) {
      if (h !== x) h.dispose();
      throw e;
    }
    return h === x ? op('aten::alias', x) : h;
  }
}
