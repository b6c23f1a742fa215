// Every registered text method keeps the text contract (test/support/text-method-contract.ts),
// in a process of its own so that live-tensor counts see no other test's garbage.
import { setNumThreads } from '../src/tensor/index.js';
import { METHODS } from '../src/ssl/registry.js';
import { textMethodContract } from './support/text-method-contract.js';

setNumThreads(1);
for (const spec of METHODS.filter((s) => s.modality === 'text')) textMethodContract(spec.name);
