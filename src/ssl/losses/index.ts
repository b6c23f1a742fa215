// Self-supervised losses: each takes embeddings or logits and knows nothing of data,
// models or training.
export { ntXentLoss, type NtXentOptions } from './ntxent.js';
export { infoNceLoss, type InfoNceOptions } from './infonce.js';
export { negativeCosineSimilarity } from './negative-cosine.js';
export { barlowTwinsLoss, type BarlowTwinsOptions } from './barlow-twins.js';
export { vicregLoss, vicregLossParts, type VicregOptions, type VicregParts } from './vicreg.js';
export { DinoLoss, type DinoLossOptions } from './dino.js';
export { distillationLoss, softTargetCrossEntropy, type DistillationOptions } from './distillation.js';
export { maeLoss, type MaeLossOptions } from './mae.js';
export { replacedTokenLoss } from './replaced-token.js';
