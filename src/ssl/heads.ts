// Projection and prediction heads of the joint-embedding methods, with the papers'
// layer layouts. The papers' widths are for ResNet-50 features (2048-d) on ImageNet;
// each factory takes the widths, and the method files pick sizes for small encoders.
import { tidy, F, type Tensor } from '../tensor/index.js';
import { Module, Linear, BatchNorm1d, ReLU, Sequential } from '../nn/index.js';

export interface MlpOptions {
  /** BatchNorm1d after every hidden linear layer (default true). */
  batchNorm?: boolean;
  /** BatchNorm1d (no affine parameters) after the last layer too (SimSiam's projector; default false). */
  lastBatchNorm?: boolean;
}

/** Linear layers through `dims` ([in, hidden..., out]) with BN + ReLU between them. */
export function mlp(dims: number[], o: MlpOptions = {}): Sequential {
  if (dims.length < 2 || dims.some((d) => !(Number.isInteger(d) && d >= 1))) {
    throw new RangeError(`mlp: dims must be at least two positive integers, got [${dims.join(', ')}]`);
  }
  const bn = o.batchNorm ?? true;
  const layers: Module[] = [];
  for (let i = 0; i + 1 < dims.length; i++) {
    const last = i + 2 === dims.length;
    layers.push(new Linear(dims[i]!, dims[i + 1]!, { bias: last ? !o.lastBatchNorm : !bn }));
    if (!last) {
      if (bn) layers.push(new BatchNorm1d(dims[i + 1]!));
      layers.push(new ReLU());
    } else if (o.lastBatchNorm) {
      layers.push(new BatchNorm1d(dims[i + 1]!, { affine: false }));
    }
  }
  return new Sequential(...layers);
}

/** SimCLR (Chen et al. 2020): Linear -> BN -> ReLU -> Linear (v2 adds BN; the paper found 2 layers enough for small models). */
export function simclrProjectionHead(inDim: number, hiddenDim = 2048, outDim = 128): Sequential {
  return mlp([inDim, hiddenDim, outDim]);
}

/** MoCo v2 (Chen, Fan, Girshick & He 2020): a 2-layer MLP without BN, 2048 hidden, 128 out. */
export function mocoProjectionHead(inDim: number, hiddenDim = 2048, outDim = 128): Sequential {
  return mlp([inDim, hiddenDim, outDim], { batchNorm: false });
}

/** BYOL (Grill et al. 2020): projector and predictor are both Linear(4096) -> BN -> ReLU -> Linear(256). */
export function byolHead(inDim: number, hiddenDim = 4096, outDim = 256): Sequential {
  return mlp([inDim, hiddenDim, outDim]);
}

/** SimSiam (Chen & He 2021): 3 layers of 2048 with BN, BN on the output too. */
export function simsiamProjectionHead(inDim: number, hiddenDim = 2048, outDim = 2048): Sequential {
  return mlp([inDim, hiddenDim, hiddenDim, outDim], { lastBatchNorm: true });
}

/** SimSiam's predictor: a bottleneck 2048 -> 512 -> 2048 (BN + ReLU in the middle only). */
export function simsiamPredictionHead(dim = 2048, bottleneck = 512): Sequential {
  return mlp([dim, bottleneck, dim]);
}

/** Barlow Twins (Zbontar et al. 2021) and VICReg (Bardes et al. 2022): 3 layers of 8192 with BN and ReLU. */
export function expanderHead(inDim: number, dim = 8192): Sequential {
  return mlp([inDim, dim, dim, dim]);
}

/**
 * DINO's head (Caron et al. 2021): a 3-layer MLP (GELU in the paper; ReLU here, as the
 * rest of the library) to a bottleneck, l2-normalised, then a weight-normalised linear
 * layer with its norm fixed at 1 onto `outDim` prototypes.
 */
export class DinoHead extends Module {
  readonly mlp: Sequential;
  /** Its weight rows are the prototypes; they are l2-normalised at every forward. */
  readonly last: Linear;
  constructor(inDim: number, readonly outDim = 65536, hiddenDim = 2048, bottleneckDim = 256) {
    super();
    this.mlp = this.registerModule('mlp', mlp([inDim, hiddenDim, hiddenDim, bottleneckDim], { batchNorm: false }));
    this.last = this.registerModule('last', new Linear(bottleneckDim, outDim, { bias: false }));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => F.linear(F.normalize(this.mlp.forward(x), 1), F.normalize(this.last.weight, 1)));
  }
}
