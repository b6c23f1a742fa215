// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay,
// with exactly torch.optim.SGD's update rule.
import type { Tensor } from '../tensor/index.js';
import { Optimizer, checkNumber, type ParamGroup, type ParamGroupSpec, type ParamState } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  /** L2 penalty added to the gradient. */
  weightDecay: number;
  nesterov: boolean;
  /** Ascend instead of descend. */
  maximize: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Tensor[] | ParamGroupSpec<SGDOptions>[], o: Partial<SGDOptions> & { lr: number }) {
    super(params, { lr: o.lr, momentum: o.momentum ?? 0, dampening: o.dampening ?? 0, weightDecay: o.weightDecay ?? 0, nesterov: o.nesterov ?? false, maximize: o.maximize ?? false });
  }

  protected checkOptions(o: SGDOptions): void {
    checkNumber('SGD', 'lr', o.lr);
    checkNumber('SGD', 'momentum', o.momentum);
    checkNumber('SGD', 'weightDecay', o.weightDecay);
    if (typeof o.dampening !== 'number' || !Number.isFinite(o.dampening)) throw new RangeError(`SGD: dampening must be a number, got ${String(o.dampening)}`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new RangeError('SGD: nesterov momentum requires momentum > 0 and dampening = 0');
  }

  protected updateParameter(p: Tensor, grad: Tensor, g: ParamGroup<SGDOptions>, st: ParamState): void {
    st.step += 1;
    let d = g.maximize ? grad.neg() : grad;
    if (g.weightDecay !== 0) d = d.add(p, g.weightDecay);
    if (g.momentum !== 0) {
      let buf = st.tensors.get('momentum_buffer');
      if (!buf) buf = this.setState(st, 'momentum_buffer', d.clone());
      else buf.mul_(g.momentum).add_(d, 1 - g.dampening);
      d = g.nesterov ? d.add(buf, g.momentum) : buf;
    }
    p.add_(d, -g.lr);
  }
}
