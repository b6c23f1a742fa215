// Default settings of the image experiment and the demo, found by trying recipes
// on Fashion-MNIST on a 2-core CPU (see the README's results section).
import type { ImageExperimentConfig, PretrainSettings } from './image.js';
import { METHOD_CATALOG, TILE_PRETEXT_DEFAULTS, methodInfo } from '../ssl/catalog.js';

/** Pretraining of the joint-embedding methods: their registry defaults, for a fixed number of steps. */
export function jointEmbeddingPretrain(maxSteps: number): Record<string, Partial<PretrainSettings>> {
  return Object.fromEntries(METHOD_CATALOG.filter((m) => m.family === 'joint-embedding').map((m) => [m.name, {
    maxSteps, epochs: 100, batchSize: m.defaults.batchSize, optimizer: m.defaults.optimizer, monitorPoints: 10,
  }]));
}

/**
 * Pretraining of the tile pretexts (jigsaw, relative-patch): their registry defaults for a
 * fixed number of steps. Only the crop is set (none: the tiles' jitter moves them), so the
 * experiment's flip setting (off for digits) stands.
 */
export function tilePretextPretrain(maxSteps: number): Record<string, Partial<PretrainSettings>> {
  return Object.fromEntries(METHOD_CATALOG.filter((m) => m.defaults === TILE_PRETEXT_DEFAULTS).map((m) => [m.name, {
    maxSteps, epochs: 100, batchSize: m.defaults.batchSize, optimizer: m.defaults.optimizer, augment: { crop: m.defaults.augment.crop }, monitorPoints: 10,
  }]));
}

/**
 * MAE's pretraining (it needs --backbone vit-tiny): its registry defaults for `maxSteps`
 * steps of 256 images. The loader's augmentation is the experiment's (crop 2, flips unless
 * the data are digits), as the paper's crops and flips.
 */
export function maePretrain(maxSteps: number): Partial<PretrainSettings> {
  const d = methodInfo('mae').defaults;
  return { maxSteps, epochs: 100, batchSize: d.batchSize, optimizer: d.optimizer, monitorPoints: 10 };
}

export function defaultImageConfig(): ImageExperimentConfig {
  return {
    backbone: 'small-cnn',
    ks: [10, 100, 1000],
    seeds: [0, 1, 2, 3, 4],
    methods: ['scratch', 'transfer', 'rotation-finetune', 'rotation-probe', 'rotation-knn'],
    pretrain: {
      // 300 steps of 128 images (x4 rotations): under 3 minutes on 2 idle cores (940 images/s measured).
      epochs: 1, maxSteps: 300, batchSize: 128, heldOut: 1000, monitorPoints: 10, recalibrateBatchNorm: 0,
      optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, warmupSteps: 20 },
      augment: { crop: 2, flip: true },
    },
    transfer: {
      steps: 400, batchSize: 128, freeze: ['block1'],
      optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }, augment: { crop: 2 },
    },
    finetune: {
      steps: 150, stepsPerK: { 100: 300, 1000: 600 }, batchSize: 128, freeze: ['block1'], head: 'linear', headInit: 'random', labelSmoothing: 0,
      optimizer: { kind: 'adam', lr: 1e-3, weightDecay: 0 }, augment: { crop: 2, flip: true },
    },
    scratch: {
      steps: 150, stepsPerK: { 100: 300, 1000: 600 }, batchSize: 128, head: 'linear', headInit: 'random', labelSmoothing: 0,
      optimizer: { kind: 'adam', lr: 1e-3, weightDecay: 0 }, augment: { crop: 2, flip: true },
    },
    // Jigsaw and relative-patch: 300 steps of 128 images, like rotation (about 1.5 minutes and 20 s on 2 idle cores; see TILE_PRETEXT_DEFAULTS).
    methodPretrain: { ...jointEmbeddingPretrain(1000), ...tilePretextPretrain(300), mae: maePretrain(300) },
    probe: { block: 'block3', steps: 300, lr: 0.01, weightDecay: 5e-4 },
    // Two linear probes' averaged predictions spread over a 10-NN graph of pixels beside the embedding
    // (the best of the settings we tried at k = 10 and 100; see the README's results).
    propagate: {
      graphNeighbors: 10, alpha: 0.9, iterations: 20, neighbors: 20, temperature: 0.07, withTeacher: true,
      teacher: 'probe', graphProbe: true, graphFeatures: 'pixels+embedding', classBalance: true,
    },
    distill: {
      steps: 500, batchSize: 256, temperature: 1, labelledWeight: 1, labelledBatchSize: 128,
      optimizer: { kind: 'adam', lr: 1e-3, weightDecay: 0 }, augment: { crop: 2, flip: true },
    },
    knn: { block: 'block3', k: 20, temperature: 0.07 },
    seed: 0,
    device: 'cpu',
  };
}
