// Running code with a module in eval mode (dropout off, batch-norm running
// statistics), whatever mode it was in, and putting that mode back afterwards.
import type { Module } from './module.js';

/** Runs `fn` with `model` in eval mode and restores its previous mode afterwards. */
export function inEvalMode<T>(model: Module, fn: () => T): T {
  const wasTraining = model.training;
  model.eval();
  try {
    return fn();
  } finally {
    if (wasTraining) model.train();
  }
}
