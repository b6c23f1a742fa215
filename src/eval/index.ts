// Evaluating representations: accuracy, features, kNN, linear probes, fine-tuning.
export { accuracy, predict, extractFeatures, labelTensor, inEvalMode, type Normalization } from './evaluate.js';
export { knnClassify, type KnnOptions, type KnnResult } from './knn.js';
export { linearProbe, type ProbeOptions, type ProbeResult } from './probe.js';
export { embed, type EmbedOptions } from './embed.js';
