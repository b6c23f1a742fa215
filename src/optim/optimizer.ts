// The Optimizer base class: parameter groups with their own hyperparameters,
// per-parameter state, and a state dict that lets a run resume exactly.
import { Tensor, tidy, keep, noGrad } from '../tensor/index.js';

/** A group of parameters sharing hyperparameters (`lr` and the optimizer's options). */
export type ParamGroup<H> = H & { params: Tensor[] };
/** What the constructor takes per group: parameters, and options that override the defaults. */
export type ParamGroupSpec<H> = Partial<H> & { params: Tensor[] };

/** Optimizer state of one parameter: a step count and named tensors (momentum buffers, moments). */
export interface ParamState {
  step: number;
  tensors: Map<string, Tensor>;
}

/** JSON-able part of an optimizer's state dict. */
export interface OptimizerMeta {
  /** Each group's hyperparameters, and its parameters as indices counted over all groups in order. */
  paramGroups: (Record<string, unknown> & { params: number[] })[];
  /** Step count of every parameter that has state, by parameter index. */
  steps: Record<string, number>;
}

export interface OptimizerStateDict {
  /** State tensors named `<parameter index>.<name>`, e.g. '3.exp_avg'. */
  state: Map<string, Tensor>;
  meta: OptimizerMeta;
}

export abstract class Optimizer<H extends { lr: number } = { lr: number }> {
  readonly paramGroups: ParamGroup<H>[] = [];
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(params: Tensor[] | ParamGroupSpec<H>[], readonly defaults: H) {
    const name = this.constructor.name;
    if (!Array.isArray(params) || params.length === 0) {
      throw new TypeError(`${name}: expected a non-empty list of parameters or of parameter groups ({ params, lr, ... })`);
    }
    const specs = params.every((p) => p instanceof Tensor) ? [{ params: params as Tensor[] } as ParamGroupSpec<H>] : (params as ParamGroupSpec<H>[]);
    for (const spec of specs) this.addParamGroup(spec);
  }

  /** Adds a group; options it leaves out take the optimizer's defaults. */
  addParamGroup(spec: ParamGroupSpec<H>): void {
    const name = this.constructor.name;
    if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.params)) {
      throw new TypeError(`${name}: a parameter group must be an object with a 'params' array of tensors`);
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    spec.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new TypeError(`${name}: params[${i}] of group ${this.paramGroups.length} is not a Tensor`);
      if (!p.isLeaf) throw new Error(`${name}: params[${i}] of group ${this.paramGroups.length} is not a leaf tensor (it was computed); optimize the tensors the computation started from`);
      if (seen.has(p)) throw new Error(`${name}: params[${i}] of group ${this.paramGroups.length} appears in more than one place; each parameter may be in one group only`);
      seen.add(p);
    });
    const group = { ...this.defaults } as ParamGroup<H>;
    for (const [k, v] of Object.entries(spec)) if (v !== undefined && k !== 'params') (group as Record<string, unknown>)[k] = v;
    group.params = [...spec.params];
    this.checkOptions(group);
    this.paramGroups.push(group);
  }

  /** Throws a clear error for an invalid hyperparameter. */
  protected abstract checkOptions(o: H): void;

  /** Updates one parameter in place; runs under noGrad inside a scope that frees temporaries. */
  protected abstract updateParameter(param: Tensor, grad: Tensor, group: ParamGroup<H>, state: ParamState): void;

  /** One optimisation step over every parameter that has a gradient. */
  step(): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          tidy(() => {
            const grad = p.grad;
            if (grad === null) return;
            let st = this.state.get(p);
            if (!st) this.state.set(p, (st = { step: 0, tensors: new Map() }));
            this.updateParameter(p, grad, group, st);
          });
        }
      }
    });
  }

  /** Makes `t` a state tensor of a parameter: it outlives the step's scope. */
  protected setState(state: ParamState, name: string, t: Tensor): Tensor {
    state.tensors.get(name)?.dispose();
    state.tensors.set(name, keep(t));
    return t;
  }

  /** Forgets every gradient (sets it to null). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /** Learning rate of each group. */
  get lrs(): number[] {
    return this.paramGroups.map((g) => g.lr);
  }

  /** The state of one parameter, or undefined before its first update. */
  stateOf(param: Tensor): ParamState | undefined {
    return this.state.get(param);
  }

  #indexOfParams(): Map<Tensor, number> {
    const index = new Map<Tensor, number>();
    for (const g of this.paramGroups) for (const p of g.params) index.set(p, index.size);
    return index;
  }

  /**
   * Everything needed to resume: state tensors (live, not copies; save or clone them
   * before the next step) and a JSON-able object of hyperparameters and step counts.
   */
  stateDict(): OptimizerStateDict {
    const index = this.#indexOfParams();
    const state = new Map<string, Tensor>();
    const steps: Record<string, number> = {};
    const withState = [...this.state].filter(([p]) => index.has(p)).sort((a, b) => index.get(a[0])! - index.get(b[0])!);
    for (const [p, st] of withState) {
      const i = index.get(p)!;
      steps[String(i)] = st.step;
      for (const [name, t] of st.tensors) state.set(`${i}.${name}`, t);
    }
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...hyper } = g as ParamGroup<H> & Record<string, unknown>;
      return { ...(JSON.parse(JSON.stringify(hyper)) as Record<string, unknown>), params: params.map((p) => index.get(p)!) };
    });
    return { state, meta: { paramGroups, steps } };
  }

  /** Restores a stateDict() (copying its tensors) into an optimizer over parameters of the same shapes. */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = this.constructor.name;
    const groups = sd?.meta?.paramGroups;
    if (!Array.isArray(groups) || !(sd.state instanceof Map)) throw new TypeError(`${name}.loadStateDict: expected { state: Map, meta: { paramGroups, steps } }`);
    if (groups.length !== this.paramGroups.length) {
      throw new Error(`${name}.loadStateDict: the state dict has ${groups.length} parameter groups, this optimizer has ${this.paramGroups.length}`);
    }
    groups.forEach((g, i) => {
      if (g.params.length !== this.paramGroups[i]!.params.length) {
        throw new Error(`${name}.loadStateDict: group ${i} has ${g.params.length} parameters in the state dict, ${this.paramGroups[i]!.params.length} here`);
      }
    });
    const params = this.paramGroups.flatMap((g) => g.params);
    const loaded = new Map<Tensor, ParamState>();
    const stateFor = (i: number): ParamState => {
      const p = params[i];
      if (!p) throw new Error(`${name}.loadStateDict: parameter index ${i} is out of range (${params.length} parameters)`);
      let st = loaded.get(p);
      if (!st) loaded.set(p, (st = { step: 0, tensors: new Map() }));
      return st;
    };
    for (const [key, t] of sd.state) {
      const m = /^(\d+)\.(.+)$/.exec(key);
      if (!m) throw new Error(`${name}.loadStateDict: state key '${key}' is not '<parameter index>.<name>'`);
      const st = stateFor(Number(m[1]));
      const p = params[Number(m[1])]!;
      const sameShape = t.ndim === p.ndim && t.shape.every((s, d) => s === p.shape[d]);
      if (t.ndim !== 0 && !sameShape) {
        throw new Error(`${name}.loadStateDict: state '${key}' has shape [${t.shape}], parameter has [${p.shape}]`);
      }
      st.tensors.set(m[2]!, keep(noGrad(() => tidy(() => t.to(p.device).clone()))));
    }
    for (const [i, step] of Object.entries(sd.meta.steps ?? {})) stateFor(Number(i)).step = step;
    // Nothing failed: replace the old state and hyperparameters.
    this.#disposeState();
    for (const [p, st] of loaded) this.state.set(p, st);
    groups.forEach((g, i) => {
      const { params: _params, ...hyper } = g;
      Object.assign(this.paramGroups[i]!, JSON.parse(JSON.stringify(hyper)));
    });
  }

  #disposeState(): void {
    for (const st of this.state.values()) for (const t of st.tensors.values()) t.dispose();
    this.state.clear();
  }

  /** Frees the state tensors (the parameters belong to their model). */
  dispose(): void {
    this.#disposeState();
  }
}

/** Throws unless `value` is a finite number of at least `min`. */
export function checkNumber(optimizer: string, name: string, value: unknown, min = 0): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new RangeError(`${optimizer}: ${name} must be a number >= ${min}, got ${String(value)}`);
  }
}
