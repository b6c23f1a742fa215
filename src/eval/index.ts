// Evaluating representations: accuracy, features, kNN, linear probes, label spreading.
export { accuracy, predict, extractFeatures, labelTensor, type Normalization } from './evaluate.js';
// inEvalMode lives in nn/; evaluation keeps exposing it, as it always has.
export { inEvalMode } from '../nn/mode.js';
export { knnClassify, knnVotes, type KnnOptions, type KnnResult, type KnnPredictions } from './knn.js';
export { knnGraph, spreadLabels, spreadAndVote, type KnnGraph, type SpreadingOptions, type SpreadAndVoteOptions } from './label-spreading.js';
export { linearProbe, type ProbeOptions, type ProbeResult } from './probe.js';
export { embed, embedSource, type EmbedOptions, type EmbedSourceOptions } from './embed.js';
export { nearestNeighbors, type Nearest, type NearestOptions } from './similar.js';
export { classify, type ClassifyOptions, type Prediction } from './classify.js';
