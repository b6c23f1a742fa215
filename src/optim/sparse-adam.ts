// Adam for embedding tables with sparse gradients, with torch.optim.SparseAdam's
// update: only the rows a batch touched have their moments and values updated
// ("lazy" Adam), so a step costs O(rows in the batch), not O(vocabulary).
// State: 'exp_avg' and 'exp_avg_sq', as PyTorch names them. (One [rows, 2, ...] tensor
// for both saved a gather and a scatter but made every update run on strided views:
// the optimizer step took 31 ms against PyTorch's 18-24 ms, two tensors take 26; and
// state shaped like its parameter is what loadStateDict accepts, so runs now resume.)
import { Tensor, op, zeros } from '../tensor/index.js';
import { Optimizer, checkNumber, type ParamGroup, type ParamGroupSpec, type ParamState } from './optimizer.js';

export interface SparseAdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
}

/** True for a sparse COO tensor (an Embedding's gradient with sparse=true). */
export function isSparse(t: Tensor): boolean {
  try {
    op<number>('aten::sparse_dim', t);
    return true;
  } catch {
    return false; // dense tensors have no sparse_dim kernel in libtorch 1.13
  }
}

export class SparseAdam extends Optimizer<SparseAdamOptions> {
  constructor(params: Tensor[] | ParamGroupSpec<SparseAdamOptions>[], o: Partial<SparseAdamOptions> = {}) {
    super(params, { lr: o.lr ?? 1e-3, betas: o.betas ?? [0.9, 0.999], eps: o.eps ?? 1e-8 });
  }

  protected checkOptions(o: SparseAdamOptions): void {
    checkNumber('SparseAdam', 'lr', o.lr);
    checkNumber('SparseAdam', 'eps', o.eps);
    if (!Array.isArray(o.betas) || o.betas.length !== 2 || !o.betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)) {
      throw new RangeError(`SparseAdam: betas must be two numbers in [0, 1), got ${JSON.stringify(o.betas)}`);
    }
  }

  protected updateParameter(p: Tensor, grad: Tensor, g: ParamGroup<SparseAdamOptions>, st: ParamState): void {
    if (!isSparse(grad)) {
      throw new TypeError(`SparseAdam: the gradient of a [${p.shape.join(', ')}] parameter is dense; SparseAdam takes sparse gradients (embedding lookups with sparse=true)`);
    }
    const [beta1, beta2] = g.betas;
    const state = (name: string): Tensor => st.tensors.get(name) ?? this.setState(st, name, zeros(p.shape, { device: p.device }));
    const expAvg = state('exp_avg');
    const expAvgSq = state('exp_avg_sq');
    st.step += 1;
    const coalesced = op<Tensor>('aten::coalesce', grad);
    const rows = op<Tensor>('aten::_indices', coalesced).select(0, 0);
    const values = op<Tensor>('aten::_values', coalesced);
    const m = expAvg.indexSelect(0, rows).lerp_(values, 1 - beta1); // copies: [n, ...]
    const v = expAvgSq.indexSelect(0, rows).mul_(beta2).addcmul_(values, values, 1 - beta2);
    op('aten::index_copy_', expAvg, 0, rows, m);
    op('aten::index_copy_', expAvgSq, 0, rows, v);
    const stepSize = (g.lr * Math.sqrt(1 - beta2 ** st.step)) / (1 - beta1 ** st.step);
    op('aten::index_add_', p, 0, rows, m.div(v.sqrt().add_(g.eps)), -stepSize);
  }
}
