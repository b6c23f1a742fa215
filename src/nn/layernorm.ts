// Layer normalisation over the last dims, like torch.nn.LayerNorm.
import { Tensor, F, ones, zeros, type Device } from '../tensor/index.js';
import { Module } from './module.js';
import { checkPositive } from './linear.js';

export interface LayerNormOptions {
  eps?: number;
  /** Learn a scale (weight) and shift (bias) of the normalised shape. */
  elementwiseAffine?: boolean;
  device?: Device;
}

export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Tensor | null = null;
  readonly bias: Tensor | null = null;

  constructor(normalizedShape: number | number[], o: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.normalizedShape.forEach((n, i) => checkPositive('LayerNorm', { [`normalizedShape[${i}]`]: n }));
    this.eps = o.eps ?? 1e-5;
    if (o.elementwiseAffine ?? true) {
      this.weight = this.registerParameter('weight', ones(this.normalizedShape, { device: o.device }));
      this.bias = this.registerParameter('bias', zeros(this.normalizedShape, { device: o.device }));
    }
  }

  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  protected override extraRepr(): string {
    return `[${this.normalizedShape}], eps=${this.eps}, elementwiseAffine=${this.weight !== null}`;
  }
}
