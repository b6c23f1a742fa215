// Keeps a hand on every optimizer a method makes, so a contract can check (and, if need
// be, free) their state itself and live-tensor counts stay exact.
import type { Optimizer } from '../../src/optim/index.js';

export function trackOptimizers(method: { makeOptimizer(c: never): Optimizer }): Optimizer[] {
  const made: Optimizer[] = [];
  const makeOptimizer = method.makeOptimizer.bind(method);
  method.makeOptimizer = (c: never) => {
    const opt = makeOptimizer(c);
    made.push(opt);
    return opt;
  };
  return made;
}
