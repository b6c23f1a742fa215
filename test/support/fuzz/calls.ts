// One fuzz call: an ATen operator through op()/callOp(), a Tensor method, or an
// exported tensor function, with random arguments. Call `index` of run `seed` is
// always the same call, so the text printed for a failure replays it (--only).
import { readFileSync } from 'node:fs';
import * as selfsup from '../../../src/index.js';
import { Tensor, F, op, callOp, manualSeed, openScope } from '../../../src/index.js';
import { native } from '../../../src/native/binding.js';
import { Rng } from './rng.js';
import { parseSchema, type Schema } from './schema.js';
import { ValueMaker, show, type Made } from './values.js';

export interface FuzzCall {
  index: number;
  /** JavaScript that makes the same call (arguments shown by how they were made). */
  text: string;
  run(): void;
}

interface Targets {
  ops: Schema[];
  methods: string[];
  functions: [string, (...a: unknown[]) => unknown][];
}

let targets: Targets | null = null;

// Functions that take over the process rather than compute (their refusal of bad
// input is tested elsewhere): threads, seeds and CUDA state are process-wide.
const NOT_FUZZED_FUNCTIONS = new Set(['setNumThreads', 'getNumThreads', 'manualSeed', 'tidy', 'keep', 'openScope', 'noGrad', 'enableGrad']);

export function fuzzTargets(): Targets {
  if (targets) return targets;
  // SELFSUP_FUZZ_SCHEMAS (a JSON list of schema strings) fuzzes an addon built before listOps existed.
  const schemaFile = process.env.SELFSUP_FUZZ_SCHEMAS;
  const schemas: string[] = schemaFile ? JSON.parse(readFileSync(schemaFile, 'utf8')) : native.listOps();
  const ops = schemas.map(parseSchema).filter((s): s is Schema => s !== null);
  ops.sort((a, b) => (a.qualified < b.qualified ? -1 : 1)); // registration order differs run to run
  const methods: string[] = [];
  for (const name of Object.getOwnPropertyNames(Tensor.prototype)) {
    if (name !== 'constructor') methods.push(name);
  }
  const functions: [string, (...a: unknown[]) => unknown][] = [];
  for (const [name, v] of Object.entries(selfsup)) {
    if (typeof v === 'function' && !NOT_FUZZED_FUNCTIONS.has(name) && !/^[A-Z]/.test(name)) functions.push([name, v as (...a: unknown[]) => unknown]);
  }
  for (const [name, v] of Object.entries(F)) {
    if (typeof v === 'function') functions.push([`F.${name}`, v as (...a: unknown[]) => unknown]);
  }
  targets = { ops, methods: methods.sort(), functions: functions.sort((a, b) => (a[0] < b[0] ? -1 : 1)) };
  return targets;
}

/**
 * Call `index` of run `seed`. Of every 10 calls, 7 go to operators, 2 to Tensor
 * methods and 1 to a function, each walking its list in turn from a point the
 * seed picks, so that any ops.length * 10/7 consecutive calls reach every operator.
 */
export function makeCall(seed: number, index: number): FuzzCall {
  const t = fuzzTargets();
  const rng = new Rng(seed, index);
  const torchSeed = rng.seed();
  const round = Math.floor(index / 10);
  const slot = index % 10;
  const start = new Rng(seed).int(0, 1 << 30);
  if (slot < 7) return opCall(rng, index, torchSeed, t.ops[(start + round * 7 + slot) % t.ops.length]!);
  if (slot < 9) return methodCall(rng, index, torchSeed, t.methods[(start + round * 2 + slot - 7) % t.methods.length]!);
  const [name, fn] = t.functions[(start + round) % t.functions.length]!;
  return functionCall(rng, index, torchSeed, name, fn);
}

/** Makes the arguments inside a scope that frees them (and any result) after the call. */
function scoped(index: number, torchSeed: number, text: () => string, build: (v: ValueMaker) => () => unknown, rng: Rng): FuzzCall {
  manualSeed(torchSeed);
  const scope = openScope();
  let call: () => unknown;
  let made: ValueMaker;
  try {
    made = new ValueMaker(rng);
    call = build(made);
  } catch (e) {
    scope.close();
    throw e;
  }
  return {
    index,
    text: text(),
    run() {
      try {
        call();
      } finally {
        scope.close();
        for (const m of made.made) m.dispose();
      }
    },
  };
}

function opCall(rng: Rng, index: number, torchSeed: number, schema: Schema): FuzzCall {
  const raw = rng.chance(0.1);
  let texts: string[] = [];
  return scoped(index, torchSeed, () => `${raw ? 'callOp' : 'op'}('${schema.qualified}', ${raw ? `[${texts.join(', ')}]` : texts.join(', ')})`, (v) => {
    let count = schema.args.length;
    const firstDefault = schema.args.findIndex((a) => a.hasDefault);
    if (firstDefault >= 0 && rng.chance(0.3)) count = rng.int(firstDefault, count);
    if (rng.chance(0.06)) count = rng.int(0, count);
    const made: Made[] = [];
    for (let i = 0; i < count; i++) made.push(v.forType(schema.args[i]!.type, schema.args[i]!.name, raw));
    if (rng.chance(0.05)) for (let k = rng.int(1, 2); k > 0; k--) made.push(v.anything());
    texts = made.map((m) => m.text);
    const args = made.map((m) => m.value);
    return raw ? () => callOp(schema.qualified, args) : () => op(schema.qualified, ...args);
  }, rng);
}

function methodCall(rng: Rng, index: number, torchSeed: number, name: string): FuzzCall {
  let texts: string[] = [];
  let receiver = '';
  return scoped(index, torchSeed, () => `(${receiver}).${name}(${texts.join(', ')})`, (v) => {
    const self = v.tensorArg(false);
    receiver = self.text;
    const made = Array.from({ length: rng.int(0, 4) }, () => v.anything());
    texts = made.map((m) => m.text);
    const args = made.map((m) => m.value);
    const desc = Object.getOwnPropertyDescriptor(Tensor.prototype, name)!;
    return () => {
      const target = self.value as Tensor;
      if (desc.get || desc.set) {
        // a getter reads; with an argument, the setter assigns it
        if (args.length > 0 && desc.set) (target as unknown as Record<string, unknown>)[name] = args[0];
        else void (target as unknown as Record<string, unknown>)[name];
        return;
      }
      if (!(self.value instanceof Tensor)) throw new TypeError(`receiver ${show(self.value)} is not a Tensor`);
      (desc.value as (...a: unknown[]) => unknown).apply(target, args);
    };
  }, rng);
}

function functionCall(rng: Rng, index: number, torchSeed: number, name: string, fn: (...a: unknown[]) => unknown): FuzzCall {
  let texts: string[] = [];
  return scoped(index, torchSeed, () => `${name}(${texts.join(', ')})`, (v) => {
    const made = Array.from({ length: rng.int(0, 4) }, () => v.anything());
    texts = made.map((m) => m.text);
    const args = made.map((m) => m.value);
    return () => fn(...args);
  }, rng);
}
