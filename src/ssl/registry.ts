// Every method by name: the CLI, the experiment and the help texts read their lists
// from here. A new method is one file in methods/ and one entry below.
import type { Backbone } from '../models/index.js';
import type { MethodContext, MethodFamily, PretrainDefaults, SslMethod } from './method.js';
import { RotationPrediction, ROTATION_DEFAULTS } from './methods/rotation.js';

export interface MethodSpec {
  name: string;
  family: MethodFamily;
  /** Authors, year and link of the paper the method follows. */
  paper: string;
  /** One line for `--help`. */
  summary: string;
  defaults: PretrainDefaults;
  /** A fresh method around `encoder`; `options` override the method's own defaults (temperature, head sizes ...). */
  create(encoder: Backbone, ctx: MethodContext, options?: Record<string, unknown>): SslMethod;
}

const SPECS: MethodSpec[] = [
  {
    name: 'rotation', family: 'classification-pretext', paper: 'Gidaris, Singh & Komodakis 2018, https://arxiv.org/abs/1803.07728',
    summary: 'predict which of four rotations an image is in (RotNet)', defaults: ROTATION_DEFAULTS,
    create: (encoder, _ctx, o = {}) => new RotationPrediction(encoder, o),
  },
];

/** The registered methods, in the order help texts list them. */
export const METHODS: readonly MethodSpec[] = SPECS;

export function methodNames(): string[] {
  return SPECS.map((s) => s.name);
}

/** The method called `name`, or a RangeError that lists the known ones. */
export function getMethod(name: string): MethodSpec {
  const spec = SPECS.find((s) => s.name === name);
  if (!spec) throw new RangeError(`unknown method '${name}'; choose one of ${methodNames().join(', ')}`);
  return spec;
}

/** Makes the method called `name` around `encoder`. */
export function createMethod(name: string, encoder: Backbone, ctx: MethodContext, options?: Record<string, unknown>): SslMethod {
  return getMethod(name).create(encoder, ctx, options);
}
