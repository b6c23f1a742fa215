// selfsup.nn: layers and models over the tensor engine, with PyTorch's names and defaults.
export { Module, type StateDict, type LoadStateDictResult } from './module.js';
export { inEvalMode } from './mode.js';
export * as init from './init.js';
export { Linear, type LinearOptions } from './linear.js';
export { Conv2d, type Conv2dOptions, type Pair } from './conv.js';
export { BatchNorm1d, BatchNorm2d, recomputeBatchNormStats, type BatchNormOptions } from './batchnorm.js';
export { LayerNorm, type LayerNormOptions } from './layernorm.js';
export { Dropout } from './dropout.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { Sequential } from './sequential.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, type Pool2dOptions } from './pooling.js';
export { ReLU, GELU, SiLU, Sigmoid, Tanh, Softmax, LeakyReLU, Identity } from './activation.js';
export { MultiheadAttention, type MultiheadAttentionOptions, type AttentionMasks, type AttendOptions } from './attention.js';
export { TransformerEncoderLayer, type TransformerEncoderLayerOptions, type EncoderMasks } from './transformer.js';
