// Linear: y = x W^T + b, initialised like torch.nn.Linear.
import { Tensor, F, empty, type Device } from '../tensor/index.js';
import { Module } from './module.js';
import { fanInAndFanOut, kaimingUniform_, uniform_ } from './init.js';

export interface LinearOptions {
  bias?: boolean;
  device?: Device;
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, o: LinearOptions = {}) {
    super();
    checkPositive('Linear', { inFeatures, outFeatures });
    this.weight = this.registerParameter('weight', empty([outFeatures, inFeatures], { device: o.device }));
    this.bias = (o.bias ?? true) ? this.registerParameter('bias', empty([outFeatures], { device: o.device })) : null;
    this.resetParameters();
  }

  /** PyTorch's default: kaiming_uniform(a=sqrt(5)) for the weight, U(±1/sqrt(fanIn)) for the bias. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const { fanIn } = fanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }

  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/** Throws unless every value is a positive integer. */
export function checkPositive(layer: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${layer}: ${name} must be a positive integer, got ${v}`);
  }
}
