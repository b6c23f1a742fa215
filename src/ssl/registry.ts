// Every method by name, with how to make it: the catalog (catalog.ts: names, papers,
// defaults) plus a constructor each. A new method is one file in methods/, one
// catalog entry and one line below.
import type { Backbone } from '../models/index.js';
import type { MethodContext, SslMethod } from './method.js';
import { METHOD_CATALOG, methodInfo, methodNames, type MethodInfo } from './catalog.js';
import { RotationPrediction } from './methods/rotation.js';
import { SimCLR } from './methods/simclr.js';
import { MoCo } from './methods/moco.js';
import { BYOL } from './methods/byol.js';
import { SimSiam } from './methods/simsiam.js';
import { BarlowTwins } from './methods/barlow-twins.js';
import { VICReg } from './methods/vicreg.js';
import { DINO } from './methods/dino.js';

export interface MethodSpec extends MethodInfo {
  /** A fresh method around `encoder`; `options` override the method's own defaults (temperature, head sizes ...). */
  create(encoder: Backbone, ctx: MethodContext, options?: Record<string, unknown>): SslMethod;
}

type Create = MethodSpec['create'];
const CREATE: Record<string, Create> = {
  'rotation': (encoder, _ctx, o = {}) => new RotationPrediction(encoder, o),
  'simclr': (encoder, ctx, o = {}) => new SimCLR(encoder, ctx, o),
  'moco': (encoder, ctx, o = {}) => new MoCo(encoder, ctx, o),
  'byol': (encoder, ctx, o = {}) => new BYOL(encoder, ctx, o),
  'simsiam': (encoder, ctx, o = {}) => new SimSiam(encoder, ctx, o),
  'barlow-twins': (encoder, ctx, o = {}) => new BarlowTwins(encoder, ctx, o),
  'vicreg': (encoder, ctx, o = {}) => new VICReg(encoder, ctx, o),
  'dino': (encoder, ctx, o = {}) => new DINO(encoder, ctx, o),
};

/** The registered methods, in the order help texts list them. */
export const METHODS: readonly MethodSpec[] = METHOD_CATALOG.map((info) => {
  const create = CREATE[info.name];
  if (!create) throw new Error(`ssl registry: no constructor for the catalog's method '${info.name}'`);
  return { ...info, create };
});

export { methodNames };

/** The method called `name`, or a RangeError that lists the known ones. */
export function getMethod(name: string): MethodSpec {
  methodInfo(name);
  return METHODS.find((s) => s.name === name)!;
}

/** Makes the method called `name` around `encoder`. */
export function createMethod(name: string, encoder: Backbone, ctx: MethodContext, options?: Record<string, unknown>): SslMethod {
  return getMethod(name).create(encoder, ctx, options);
}
