// The methods by name, as plain data: what the CLI's help, option checks and the
// experiment's defaults read without loading the engine. registry.ts adds how to
// make each one.
import type { MethodFamily, PretrainDefaults } from './method.js';
import type { BackboneName } from '../models/index.js';

export interface MethodInfo {
  name: string;
  /** What it pretrains on: images, or text (token ids). */
  modality: 'image' | 'text';
  family: MethodFamily;
  /** Authors, year and link of the paper the method follows. */
  paper: string;
  /** One line for `--help`. */
  summary: string;
  defaults: PretrainDefaults;
  /** The backbones the method can train (default: every one). */
  backbones?: readonly BackboneName[];
}

/** 300 steps of 128 images (x4 rotations): under 3 minutes on 2 idle cores (940 images/s measured). */
export const ROTATION_DEFAULTS: PretrainDefaults = {
  batchSize: 128,
  optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, warmupSteps: 20 },
  augment: { crop: 2, flip: true },
};

/**
 * Jigsaw and relative patch location: every image becomes 9 (jigsaw) or 2 tiles through
 * the encoder. SGD at rotation's settings (lr 0.1, momentum 0.9, a short warm-up) on
 * batches of 128 images; the loader flips (the whole image, before it is cut) and does
 * not crop (the tiles' own jitter already moves them). Measured 2026-12-02 on 2 cores
 * shared with other jobs (load ~8), back to back with rotation at batch 128: jigsaw 80
 * images/s (9 tiles each), relative-patch 390, rotation 163 (each rotation counted; 940
 * on idle cores). Scaled by rotation's slowdown: about 460 and 2,200 images/s on 2 idle
 * cores, so 300 steps take about 1.5 minutes (jigsaw) and 20 s (relative-patch) before
 * the held-out checks and monitors. A jigsaw image costs half a rotation one (9 tiles of
 * 16x16 against 4 images of 28x28).
 */
export const TILE_PRETEXT_DEFAULTS: PretrainDefaults = {
  batchSize: 128,
  optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, warmupSteps: 20 },
  augment: { crop: 0, flip: true },
};

/**
 * The papers train for hundreds of epochs with LARS or SGD at batch 4096 on GPUs; on a
 * CPU a run is a few thousand steps of 256 images, where Adam with a short warm-up
 * learned fastest in our runs (see the README's method table).
 */
export const JOINT_EMBEDDING_DEFAULTS: PretrainDefaults = {
  batchSize: 256,
  optimizer: { kind: 'adam', lr: 1e-3, weightDecay: 1e-6, warmupSteps: 100 },
  augment: {},
};

/**
 * The text methods in the image-shaped PretrainDefaults, for listings and checks: their
 * real settings are their text configs (defaultSkipGramConfig, defaultMlmConfig in
 * ssl/methods/), which these mirror. Skip-gram's 'adam' stands for SparseAdam (its
 * makeOptimizer); neither uses loader augmentation.
 */
export const SKIPGRAM_DEFAULTS: PretrainDefaults = {
  batchSize: 8192,
  optimizer: { kind: 'adam', lr: 0.05, weightDecay: 0 },
  augment: {},
};

export const MASKED_LM_DEFAULTS: PretrainDefaults = {
  batchSize: 32,
  optimizer: { kind: 'adamw', lr: 1.25e-4, weightDecay: 0.01, warmupSteps: 100 },
  augment: {},
};

/**
 * MAE on the vit-tiny backbone: AdamW as in the paper (its betas and no decay on norms and
 * tokens come from the method's makeOptimizer), at a higher rate than the paper's
 * 1.5e-4 x batch/256 since a run here is a few hundred steps, not 800 epochs; loader crops
 * and flips, as the paper's simple augmentation.
 */
export const MAE_PRETRAIN_DEFAULTS: PretrainDefaults = {
  batchSize: 256,
  optimizer: { kind: 'adamw', lr: 1.5e-3, weightDecay: 0.05, warmupSteps: 30 },
  augment: { crop: 2, flip: true },
};

/** ELECTRA's discriminator trains with the masked LM's settings (defaultElectraConfig). */
export const ELECTRA_DEFAULTS: PretrainDefaults = {
  batchSize: 32,
  optimizer: { kind: 'adamw', lr: 1.25e-4, weightDecay: 0.01, warmupSteps: 100 },
  augment: {},
};

/** SimCSE as the paper's unsupervised runs: batch 64, no warm-up (defaultSimCseConfig). */
export const SIMCSE_DEFAULTS: PretrainDefaults = {
  batchSize: 64,
  optimizer: { kind: 'adamw', lr: 1e-4, weightDecay: 0.01, warmupSteps: 0 },
  augment: {},
};

export const METHOD_CATALOG: readonly MethodInfo[] = [
  { modality: 'image', name: 'rotation', family: 'classification-pretext', paper: 'Gidaris, Singh & Komodakis 2018, https://arxiv.org/abs/1803.07728',
    summary: 'predict which of four rotations an image is in (RotNet)', defaults: ROTATION_DEFAULTS },
  { modality: 'image', name: 'jigsaw', family: 'classification-pretext', paper: 'Noroozi & Favaro 2016, https://arxiv.org/abs/1603.09246',
    summary: 'nine jittered tiles of a 3x3 grid, shuffled by one of 64 far-apart orders: say which (shared encoder per tile)', defaults: TILE_PRETEXT_DEFAULTS,
    // The tiles are smaller than the images, and a ViT's positions are learnt for one input size.
    backbones: ['small-cnn', 'nin', 'resnet18'] },
  { modality: 'image', name: 'relative-patch', family: 'classification-pretext', paper: 'Doersch, Gupta & Efros 2015, https://arxiv.org/abs/1505.05192',
    summary: 'where a jittered patch lies relative to the centre patch, one of 8 neighbours (shared encoder per patch)', defaults: TILE_PRETEXT_DEFAULTS,
    // The tiles are smaller than the images, and a ViT's positions are learnt for one input size.
    backbones: ['small-cnn', 'nin', 'resnet18'] },
  { modality: 'image', name: 'simclr', family: 'joint-embedding', paper: 'Chen, Kornblith, Norouzi & Hinton 2020, https://arxiv.org/abs/2002.05709',
    summary: 'two views of each image attract, the rest of the batch repels (NT-Xent)', defaults: JOINT_EMBEDDING_DEFAULTS },
  { modality: 'image', name: 'moco', family: 'joint-embedding', paper: 'Chen, Fan, Girshick & He 2020 (MoCo v2), https://arxiv.org/abs/2003.04297',
    summary: 'contrast against a queue of keys from a momentum encoder', defaults: JOINT_EMBEDDING_DEFAULTS },
  { modality: 'image', name: 'byol', family: 'joint-embedding', paper: 'Grill et al. 2020, https://arxiv.org/abs/2006.07733',
    summary: 'predict a momentum target\'s projection of the other view; no negatives', defaults: JOINT_EMBEDDING_DEFAULTS },
  { modality: 'image', name: 'simsiam', family: 'joint-embedding', paper: 'Chen & He 2021, https://arxiv.org/abs/2011.10566',
    summary: 'predict the other view\'s projection behind a stop-gradient; no momentum', defaults: JOINT_EMBEDDING_DEFAULTS },
  { modality: 'image', name: 'barlow-twins', family: 'joint-embedding', paper: 'Zbontar, Jing, Misra, LeCun & Deny 2021, https://arxiv.org/abs/2103.03230',
    summary: 'push the cross-correlation of the two views\' embeddings to the identity', defaults: JOINT_EMBEDDING_DEFAULTS },
  { modality: 'image', name: 'vicreg', family: 'joint-embedding', paper: 'Bardes, Ponce & LeCun 2022, https://arxiv.org/abs/2105.04906',
    summary: 'invariance, variance and covariance terms on the two views\' embeddings', defaults: JOINT_EMBEDDING_DEFAULTS },
  { modality: 'image', name: 'dino', family: 'joint-embedding', paper: 'Caron et al. 2021, https://arxiv.org/abs/2104.14294',
    summary: 'a student matches a centred, sharpened momentum teacher (self-distillation)', defaults: JOINT_EMBEDDING_DEFAULTS },
  { modality: 'image', name: 'mae', family: 'masked-modelling', paper: 'He, Chen, Xie, Li, Dollár & Girshick 2021, https://arxiv.org/abs/2111.06377',
    summary: 'a ViT sees a quarter of the patches; a light decoder predicts the hidden ones\' pixels (masked autoencoder; needs --backbone vit-tiny)', defaults: MAE_PRETRAIN_DEFAULTS,
    backbones: ['vit-tiny'] },
  { modality: 'text', name: 'skipgram', family: 'context-prediction', paper: 'Mikolov, Sutskever, Chen, Corrado & Dean 2013, https://arxiv.org/abs/1310.4546',
    summary: 'word vectors that tell a word\'s context words from noise words (skip-gram with negative sampling)', defaults: SKIPGRAM_DEFAULTS },
  { modality: 'text', name: 'masked-lm', family: 'masked-modelling', paper: 'Devlin, Chang, Lee & Toutanova 2019, https://arxiv.org/abs/1810.04805',
    summary: 'a transformer predicts masked tokens from the rest of the text (BERT\'s masked LM)', defaults: MASKED_LM_DEFAULTS },
  { modality: 'text', name: 'electra', family: 'masked-modelling', paper: 'Clark, Luong, Le & Manning 2020, https://arxiv.org/abs/2003.10555',
    summary: 'a transformer tells which tokens a small masked-LM generator replaced (replaced-token detection)', defaults: ELECTRA_DEFAULTS },
  { modality: 'text', name: 'simcse', family: 'joint-embedding', paper: 'Gao, Yao & Chen 2021, https://arxiv.org/abs/2104.08821',
    summary: 'two dropout passes of each sentence attract, the rest of the batch repels (NT-Xent; unsupervised SimCSE)', defaults: SIMCSE_DEFAULTS },
];

/** The registered methods' names, of one modality or of all. */
export function methodNames(modality?: 'image' | 'text'): string[] {
  return METHOD_CATALOG.filter((s) => modality === undefined || s.modality === modality).map((s) => s.name);
}

/** The method called `name`, or a RangeError that lists the known ones. */
export function methodInfo(name: string): MethodInfo {
  const info = METHOD_CATALOG.find((s) => s.name === name);
  if (!info) throw new RangeError(`unknown method '${name}'; choose one of ${methodNames().join(', ')}`);
  return info;
}

/** Throws unless the image method `name` can train the backbone `backbone`. */
export function checkMethodBackbone(name: string, backbone: BackboneName): void {
  const ok = methodInfo(name).backbones;
  if (ok && !ok.includes(backbone)) {
    throw new RangeError(`method '${name}' needs ${ok.length === 1 ? 'the backbone' : 'one of the backbones'} ${ok.join(', ')} (--backbone ${ok[0]}), not ${backbone}`);
  }
}
