// selfsup: self-supervised representation learning on libtorch, from TypeScript.
export * from './tensor/index.js';
