// Evaluating representations: accuracy, features, kNN, linear probes, fine-tuning.
export { accuracy, predict, extractFeatures, labelTensor, type Normalization } from './evaluate.js';
// inEvalMode lives in nn/; evaluation keeps exposing it, as it always has.
export { inEvalMode } from '../nn/mode.js';
export { knnClassify, type KnnOptions, type KnnResult } from './knn.js';
export { linearProbe, type ProbeOptions, type ProbeResult } from './probe.js';
export { embed, type EmbedOptions } from './embed.js';
