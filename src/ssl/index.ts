// The method library: one base (method.ts), one pretraining entry point (pretrain.ts),
// a registry of methods by name, and the building blocks they are made of.
export { SslMethod, type ViewBatch, type MethodContext, type MethodFamily, type PretrainDefaults, type ImageHeldOut } from './method.js';
export { pretrain, pretrainOn, type PretrainOptions, type PretrainResult, type PretrainOnOptions, type BatchSource } from './pretrain.js';
export {
  METHODS, methodNames, getMethod, getImageMethod, getTextMethod, createMethod, createTextMethod, checkMethodOptions,
  type MethodSpec, type TextMethodSpec, type TextMethodContext, type TextSslMethod, type RegisteredMethod,
} from './registry.js';
export {
  METHOD_CATALOG, methodInfo, ROTATION_DEFAULTS, TILE_PRETEXT_DEFAULTS, JOINT_EMBEDDING_DEFAULTS, SKIPGRAM_DEFAULTS, MASKED_LM_DEFAULTS, MAE_PRETRAIN_DEFAULTS,
  ELECTRA_DEFAULTS, SIMCSE_DEFAULTS, type MethodInfo,
} from './catalog.js';
export { embeddingMonitor, embeddingSpread, type MonitorOptions, type EmbeddingMonitor } from './monitors.js';
export * as heads from './heads.js';
export { frozenCopy, emaUpdate_, cosineMomentum } from './momentum.js';
export { ClassificationPretext } from './methods/classification-pretext.js';
export {
  RotationPrediction, pretrainRotation, rotationAccuracy, rotationSamples, DEFAULT_ROTATION_OPTIMIZER,
  type RotationOptions, type RotationPretrainOptions, type RotationPretrainResult,
} from './methods/rotation.js';
export { rotationBatch, ROTATION_DEGREES } from './rotation.js';
export { TilePretext, TileHead, type TilePretextOptions } from './methods/tile-pretext.js';
export { JigsawPuzzle, JIGSAW_DEFAULTS, type JigsawOptions } from './methods/jigsaw.js';
export { RelativePatchLocation, RELATIVE_PATCH_DEFAULTS, CENTRE_CELL, NEIGHBOUR_CELLS, type RelativePatchOptions } from './methods/relative-patch.js';
export { maximalHammingPermutations, allPermutations, hammingDistance, pairwiseDistances, type PermutationSet, type PermutationSetOptions } from './permutations.js';
export { SkipGramNegativeSampling, trainSkipGram, type SkipGramOptions } from './methods/skipgram.js';
export { MaskedLanguageModel, MaskedTokenSource, pretrainMaskedLM } from './methods/masked-lm.js';
export { MaskedAutoencoder, maeSamples, randomMasking, MAE_DEFAULTS, type MaeOptions, type PatchMasking } from './methods/mae.js';
export { Electra, ElectraGenerator, pretrainElectra, electraSource, defaultElectraConfig, type ElectraConfig, type ElectraPretrainOptions, type ElectraPretrainResult } from './methods/electra.js';
export { SimCSE, pretrainSimCse, sentenceData, defaultSimCseConfig, type SimCseConfig, type SimCseValidation, type SimCsePretrainOptions, type SimCsePretrainResult } from './methods/simcse.js';
export { JointEmbeddingBase, JointEmbedding } from './methods/joint-embedding.js';
