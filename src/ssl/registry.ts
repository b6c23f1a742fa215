// Every method by name, with how to make it: the catalog (catalog.ts: names, papers,
// defaults) plus a constructor each. A new method is one file in methods/, one
// catalog entry and one line below. Image methods are made around a backbone; text
// methods build their encoder from the vocabulary (createTextMethod).
import type { Backbone, Encoder } from '../models/index.js';
import type { MethodContext, SslMethod } from './method.js';
import { METHOD_CATALOG, methodInfo, methodNames, type MethodInfo } from './catalog.js';
import { RotationPrediction } from './methods/rotation.js';
import { JigsawPuzzle, JIGSAW_DEFAULTS } from './methods/jigsaw.js';
import { RelativePatchLocation, RELATIVE_PATCH_DEFAULTS } from './methods/relative-patch.js';
import { SimCLR, SIMCLR_DEFAULTS } from './methods/simclr.js';
import { MoCo, MOCO_DEFAULTS } from './methods/moco.js';
import { BYOL, BYOL_DEFAULTS } from './methods/byol.js';
import { SimSiam, SIMSIAM_DEFAULTS } from './methods/simsiam.js';
import { BarlowTwins, BARLOW_TWINS_DEFAULTS } from './methods/barlow-twins.js';
import { VICReg, VICREG_DEFAULTS } from './methods/vicreg.js';
import { DINO, DINO_DEFAULTS } from './methods/dino.js';
import { MaskedAutoencoder, MAE_DEFAULTS } from './methods/mae.js';
import { SkipGramNegativeSampling, defaultSkipGramConfig } from './methods/skipgram.js';
import { MaskedLanguageModel, defaultMlmConfig } from './methods/masked-lm.js';
import { Electra, defaultElectraConfig } from './methods/electra.js';
import { SimCSE, defaultSimCseConfig } from './methods/simcse.js';
import { WordTable } from '../models/word-table.js';
import { TransformerTextEncoder } from '../models/text-transformer.js';
import { SPECIAL_TOKENS } from '../data/text/bpe.js';

/** An image method's spec. */
export interface MethodSpec extends MethodInfo {
  modality: 'image';
  /** The names `options` may hold; create() refuses others (a typo would silently train with the default). */
  optionNames: readonly string[];
  /** A fresh method around `encoder`; `options` override the method's own defaults (temperature, head sizes ...). */
  create(encoder: Backbone, ctx: MethodContext, options?: Record<string, unknown>): SslMethod;
}

/** What a text method needs of its data to make its encoder and loss. */
export interface TextMethodContext {
  /** Words (skip-gram) or subword tokens (masked LM). */
  vocabSize: number;
  /** How often each token occurs in the training text (specials at 0): the masked LM's sampled-softmax proposal. */
  tokenCounts?: ArrayLike<number>;
  /** Ids below this are special tokens, never sampled as ELECTRA's replacements (default: the BPE tokenizer's specials). */
  firstRegularId?: number;
}

/** A text method: trained by pretrainOn on a batch source of its own (SkipGramSource, MaskedTokenSource, SequenceBatchSource). */
export type TextSslMethod = SslMethod<Disposable, never, Encoder>;

export interface TextMethodSpec extends MethodInfo {
  modality: 'text';
  /** A fresh method with its encoder; `options` override fields of its text config (defaultSkipGramConfig, defaultMlmConfig). */
  create(ctx: TextMethodContext, options?: Record<string, unknown>): TextSslMethod;
}

export type RegisteredMethod = MethodSpec | TextMethodSpec;

const CREATE_TEXT: Record<string, TextMethodSpec['create']> = {
  'skipgram': (ctx, o = {}) => {
    const c = { ...defaultSkipGramConfig(), ...o };
    return new SkipGramNegativeSampling(new WordTable(ctx.vocabSize, c.dim), { optimizer: c.optimizer, batchSize: c.batchSize });
  },
  'masked-lm': (ctx, o = {}) => new MaskedLanguageModel(ctx.vocabSize, { ...defaultMlmConfig(), ...o }, { tokenCounts: ctx.tokenCounts }),
  'electra': (ctx, o = {}) => new Electra(ctx.vocabSize, { ...defaultElectraConfig(), ...o }, ctx.firstRegularId ?? SPECIAL_TOKENS.length),
  'simcse': (ctx, o = {}) => {
    const c = { ...defaultSimCseConfig(), ...o };
    return new SimCSE(new TransformerTextEncoder(ctx.vocabSize, c), c);
  },
};

type Create = MethodSpec['create'];
const CREATE: Record<string, Create> = {
  'rotation': (encoder, _ctx, o = {}) => new RotationPrediction(encoder, o),
  'jigsaw': (encoder, _ctx, o = {}) => new JigsawPuzzle(encoder, o),
  'relative-patch': (encoder, _ctx, o = {}) => new RelativePatchLocation(encoder, o),
  'simclr': (encoder, ctx, o = {}) => new SimCLR(encoder, ctx, o),
  'moco': (encoder, ctx, o = {}) => new MoCo(encoder, ctx, o),
  'byol': (encoder, ctx, o = {}) => new BYOL(encoder, ctx, o),
  'simsiam': (encoder, ctx, o = {}) => new SimSiam(encoder, ctx, o),
  'barlow-twins': (encoder, ctx, o = {}) => new BarlowTwins(encoder, ctx, o),
  'vicreg': (encoder, ctx, o = {}) => new VICReg(encoder, ctx, o),
  'dino': (encoder, ctx, o = {}) => new DINO(encoder, ctx, o),
  'mae': (encoder, ctx, o = {}) => new MaskedAutoencoder(encoder, ctx, o),
};

/** The options each image method takes: its defaults' names (rotation: only its head). */
const OPTION_NAMES: Record<string, readonly string[]> = {
  'rotation': ['head'],
  'jigsaw': Object.keys(JIGSAW_DEFAULTS), 'relative-patch': Object.keys(RELATIVE_PATCH_DEFAULTS),
  'simclr': Object.keys(SIMCLR_DEFAULTS), 'moco': Object.keys(MOCO_DEFAULTS), 'byol': Object.keys(BYOL_DEFAULTS),
  'simsiam': Object.keys(SIMSIAM_DEFAULTS), 'barlow-twins': Object.keys(BARLOW_TWINS_DEFAULTS), 'vicreg': Object.keys(VICREG_DEFAULTS),
  'dino': Object.keys(DINO_DEFAULTS), 'mae': Object.keys(MAE_DEFAULTS),
};

/** A RangeError naming the first option of `options` that the image method `name` does not take, and the ones it does. */
export function checkMethodOptions(name: string, options: Record<string, unknown> | undefined): void {
  const known = getImageMethod(name).optionNames;
  for (const k of Object.keys(options ?? {})) {
    if (!known.includes(k)) throw new RangeError(`${name}: unknown option '${k}'; its options are ${known.join(', ')}`);
  }
}

/** The registered methods of both modalities, in the order help texts list them. */
export const METHODS: readonly RegisteredMethod[] = METHOD_CATALOG.map((info): RegisteredMethod => {
  const create = info.modality === 'image' ? CREATE[info.name] : CREATE_TEXT[info.name];
  if (!create) throw new Error(`ssl registry: no constructor for the catalog's ${info.modality} method '${info.name}'`);
  if (info.modality === 'text') return { ...info, modality: 'text', create: create as TextMethodSpec['create'] };
  const optionNames = OPTION_NAMES[info.name];
  if (!optionNames) throw new Error(`ssl registry: no option names for the catalog's image method '${info.name}'`);
  return {
    ...info, modality: 'image', optionNames,
    create: (encoder, ctx, options) => {
      checkMethodOptions(info.name, options);
      return (create as Create)(encoder, ctx, options);
    },
  };
});

export { methodNames };

/** The method called `name`, or a RangeError that lists the known ones. */
export function getMethod(name: string): RegisteredMethod {
  methodInfo(name);
  return METHODS.find((s) => s.name === name)!;
}

/** The image method called `name`; a RangeError for unknown names and for text methods. */
export function getImageMethod(name: string): MethodSpec {
  const spec = getMethod(name);
  if (spec.modality !== 'image') throw new RangeError(`'${name}' is a ${spec.modality} method; image methods are ${methodNames('image').join(', ')}`);
  return spec;
}

/** The text method called `name`; a RangeError for unknown names and for image methods. */
export function getTextMethod(name: string): TextMethodSpec {
  const spec = getMethod(name);
  if (spec.modality !== 'text') throw new RangeError(`'${name}' is an ${spec.modality} method; text methods are ${methodNames('text').join(', ')}`);
  return spec;
}

/** Makes the image method called `name` around `encoder`. */
export function createMethod(name: string, encoder: Backbone, ctx: MethodContext, options?: Record<string, unknown>): SslMethod {
  return getImageMethod(name).create(encoder, ctx, options);
}

/** Makes the text method called `name` with a fresh encoder for `ctx.vocabSize` tokens. */
export function createTextMethod(name: string, ctx: TextMethodContext, options?: Record<string, unknown>): TextSslMethod {
  return getTextMethod(name).create(ctx, options);
}
