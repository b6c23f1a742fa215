// Self-supervised methods: pretext tasks and their pretraining loops.
export { rotationBatch, ROTATION_DEGREES } from './rotation.js';
export { pretrainRotation, rotationAccuracy, rotationSamples, DEFAULT_ROTATION_OPTIMIZER, type RotationPretrainOptions, type RotationPretrainResult } from './rotnet.js';
