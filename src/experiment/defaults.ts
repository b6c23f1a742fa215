// Default settings of the image experiment and the demo, found by trying recipes
// on Fashion-MNIST on a 2-core CPU (see the README's results section).
import type { ImageExperimentConfig } from './image.js';

export function defaultImageConfig(): ImageExperimentConfig {
  return {
    backbone: 'small-cnn',
    ks: [10, 100, 1000],
    seeds: [0, 1, 2, 3, 4],
    methods: ['scratch', 'transfer', 'rotation-finetune', 'rotation-probe', 'rotation-knn'],
    pretrain: {
      // 300 steps of 128 images (x4 rotations): under 3 minutes on 2 idle cores (940 images/s measured).
      epochs: 1, maxSteps: 300, batchSize: 128, heldOut: 1000,
      optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, warmupSteps: 20 },
      augment: { crop: 2, flip: true },
    },
    transfer: {
      steps: 400, batchSize: 128, freeze: ['block1'],
      optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }, augment: { crop: 2 },
    },
    finetune: {
      steps: 150, stepsPerK: { 100: 300, 1000: 600 }, batchSize: 128, freeze: ['block1'], head: 'linear', labelSmoothing: 0,
      optimizer: { kind: 'adam', lr: 1e-3, weightDecay: 0 }, augment: { crop: 2, flip: true },
    },
    scratch: {
      steps: 150, stepsPerK: { 100: 300, 1000: 600 }, batchSize: 128, head: 'linear', labelSmoothing: 0,
      optimizer: { kind: 'adam', lr: 1e-3, weightDecay: 0 }, augment: { crop: 2, flip: true },
    },
    probe: { block: 'block3', steps: 300, lr: 0.01, weightDecay: 5e-4 },
    knn: { block: 'block3', k: 20, temperature: 0.07 },
    seed: 0,
    device: 'cpu',
  };
}
