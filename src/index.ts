// selfsup: self-supervised representation learning on libtorch, from TypeScript.
//
//   import { tensor, tidy, F, nn, optim, ssl, experiment } from 'selfsup';
//
// The engine (tensors, autograd, lifetime) is exported at the top level; each
// other concern is a namespace, one folder each under src/.
export * from './tensor/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as io from './io/index.js';
export * as data from './data/index.js';
export * as models from './models/index.js';
export * as ssl from './ssl/index.js';
export * as evaluation from './eval/index.js';
export * as train from './train/index.js';
export * as report from './report/index.js';
export * as text from './text/index.js';
export * as experiment from './experiment/index.js';
