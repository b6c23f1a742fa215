// Adam and AdamW with exactly torch.optim.Adam's / AdamW's update rules
// (bias-corrected moments; AMSGrad optional; AdamW decays weights directly).
import { zerosLike, type Tensor } from '../tensor/index.js';
import { Optimizer, checkNumber, type ParamGroup, type ParamGroupSpec, type ParamState } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay, p -= lr * weightDecay * p. */
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

export class Adam extends Optimizer<AdamOptions> {
  constructor(params: Tensor[] | ParamGroupSpec<AdamOptions>[], o: Partial<AdamOptions> = {}) {
    super(params, {
      lr: o.lr ?? 1e-3, betas: o.betas ?? [0.9, 0.999], eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? (new.target === AdamW ? 1e-2 : 0), amsgrad: o.amsgrad ?? false, maximize: o.maximize ?? false,
    });
  }

  /** True for AdamW: weight decay shrinks the weights directly instead of joining the gradient. */
  protected get decoupledWeightDecay(): boolean {
    return false;
  }

  protected checkOptions(o: AdamOptions): void {
    const name = this.constructor.name;
    checkNumber(name, 'lr', o.lr);
    checkNumber(name, 'eps', o.eps);
    checkNumber(name, 'weightDecay', o.weightDecay);
    if (!Array.isArray(o.betas) || o.betas.length !== 2 || !o.betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)) {
      throw new RangeError(`${name}: betas must be two numbers in [0, 1), got ${JSON.stringify(o.betas)}`);
    }
  }

  protected updateParameter(p: Tensor, grad: Tensor, g: ParamGroup<AdamOptions>, st: ParamState): void {
    const [beta1, beta2] = g.betas;
    const expAvg = st.tensors.get('exp_avg') ?? this.setState(st, 'exp_avg', zerosLike(p));
    const expAvgSq = st.tensors.get('exp_avg_sq') ?? this.setState(st, 'exp_avg_sq', zerosLike(p));
    st.step += 1;
    let d = g.maximize ? grad.neg() : grad;
    if (this.decoupledWeightDecay) p.mul_(1 - g.lr * g.weightDecay);
    else if (g.weightDecay !== 0) d = d.add(p, g.weightDecay);

    expAvg.mul_(beta1).add_(d, 1 - beta1);
    expAvgSq.mul_(beta2).addcmul_(d, d, 1 - beta2);
    const biasCorrection1 = 1 - beta1 ** st.step;
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** st.step);
    const stepSize = g.lr / biasCorrection1;
    let second = expAvgSq;
    if (g.amsgrad) {
      // the running maximum of the second moment
      const maxSq = st.tensors.get('max_exp_avg_sq') ?? this.setState(st, 'max_exp_avg_sq', zerosLike(p));
      maxSq.copy_(maxSq.maximum(expAvgSq));
      second = maxSq;
    }
    const denom = second.sqrt().div_(biasCorrection2Sqrt).add_(g.eps);
    p.addcdiv_(expAvg, denom, -stepSize);
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter); weightDecay defaults to 0.01. */
export class AdamW extends Adam {
  protected override get decoupledWeightDecay(): boolean {
    return true;
  }
}
