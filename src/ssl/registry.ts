// Every method by name: the CLI, the experiment and the help texts read their lists
// from here. A new method is one file in methods/ and one entry below.
import type { Backbone } from '../models/index.js';
import type { MethodContext, MethodFamily, PretrainDefaults, SslMethod } from './method.js';
import { RotationPrediction, ROTATION_DEFAULTS } from './methods/rotation.js';
import { SimCLR } from './methods/simclr.js';
import { MoCo } from './methods/moco.js';
import { BYOL } from './methods/byol.js';
import { SimSiam } from './methods/simsiam.js';
import { BarlowTwins } from './methods/barlow-twins.js';
import { VICReg } from './methods/vicreg.js';
import { DINO } from './methods/dino.js';

/**
 * The papers train for hundreds of epochs with LARS or SGD at batch 4096 on GPUs; on a
 * CPU a run is a few thousand steps of 256 images, where Adam with a short warm-up
 * learned fastest in our runs (see the README's method table).
 */
const JOINT_EMBEDDING_DEFAULTS: PretrainDefaults = {
  batchSize: 256,
  optimizer: { kind: 'adam', lr: 1e-3, weightDecay: 1e-6, warmupSteps: 100 },
  augment: {},
};

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
  {
    name: 'simclr', family: 'joint-embedding', paper: 'Chen, Kornblith, Norouzi & Hinton 2020, https://arxiv.org/abs/2002.05709',
    summary: 'two views of each image attract, the rest of the batch repels (NT-Xent)', defaults: JOINT_EMBEDDING_DEFAULTS,
    create: (encoder, ctx, o = {}) => new SimCLR(encoder, ctx, o),
  },
  {
    name: 'moco', family: 'joint-embedding', paper: 'Chen, Fan, Girshick & He 2020 (MoCo v2), https://arxiv.org/abs/2003.04297',
    summary: 'contrast against a queue of keys from a momentum encoder', defaults: JOINT_EMBEDDING_DEFAULTS,
    create: (encoder, ctx, o = {}) => new MoCo(encoder, ctx, o),
  },
  {
    name: 'byol', family: 'joint-embedding', paper: 'Grill et al. 2020, https://arxiv.org/abs/2006.07733',
    summary: 'predict a momentum target\'s projection of the other view; no negatives', defaults: JOINT_EMBEDDING_DEFAULTS,
    create: (encoder, ctx, o = {}) => new BYOL(encoder, ctx, o),
  },
  {
    name: 'simsiam', family: 'joint-embedding', paper: 'Chen & He 2021, https://arxiv.org/abs/2011.10566',
    summary: 'predict the other view\'s projection behind a stop-gradient; no momentum', defaults: JOINT_EMBEDDING_DEFAULTS,
    create: (encoder, ctx, o = {}) => new SimSiam(encoder, ctx, o),
  },
  {
    name: 'barlow-twins', family: 'joint-embedding', paper: 'Zbontar, Jing, Misra, LeCun & Deny 2021, https://arxiv.org/abs/2103.03230',
    summary: 'push the cross-correlation of the two views\' embeddings to the identity', defaults: JOINT_EMBEDDING_DEFAULTS,
    create: (encoder, ctx, o = {}) => new BarlowTwins(encoder, ctx, o),
  },
  {
    name: 'vicreg', family: 'joint-embedding', paper: 'Bardes, Ponce & LeCun 2022, https://arxiv.org/abs/2105.04906',
    summary: 'invariance, variance and covariance terms on the two views\' embeddings', defaults: JOINT_EMBEDDING_DEFAULTS,
    create: (encoder, ctx, o = {}) => new VICReg(encoder, ctx, o),
  },
  {
    name: 'dino', family: 'joint-embedding', paper: 'Caron et al. 2021, https://arxiv.org/abs/2104.14294',
    summary: 'a student matches a centred, sharpened momentum teacher (self-distillation)', defaults: JOINT_EMBEDDING_DEFAULTS,
    create: (encoder, ctx, o = {}) => new DINO(encoder, ctx, o),
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
