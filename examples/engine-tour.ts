import { tensor, rand, op, opSchema } from '../src/index.js';

const a = tensor([[1, 2], [3, 4]]);              // float32 [2, 2]
const w = rand([2, 2], { requiresGrad: true });  // uniform in [0, 1)
const y = a.matmul(w).relu().sum();
y.backward();
console.log(w.grad?.toString());                 // every a·w > 0, so the gradient is a's column sums: [[4, 4], [6, 6]]

// Any ATen op by name, with its schema's defaults:
console.log(opSchema('aten::hardtanh'));         // aten::hardtanh(Tensor self, Scalar min_val=-1, Scalar max_val=1) -> Tensor
const h = op('aten::hardtanh', a, -2, 2);
console.log(h.toString());                       // [[1, 2], [2, 2]]
