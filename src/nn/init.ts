// Weight initialisation, as torch.nn.init does it: same formulas, same order of
// random draws, so with the same seed a layer starts from the same numbers as in PyTorch.
// Every function fills the tensor in place (without recording autograd) and returns it.
import { Tensor, noGrad, tensor, op, type Generator } from '../tensor/index.js';

export type Nonlinearity =
  | 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

export type FanMode = 'fan_in' | 'fan_out';

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d':
    case 'conv_transpose1d': case 'conv_transpose2d': case 'conv_transpose3d': case 'sigmoid':
      return 1;
    case 'tanh': return 5.0 / 3;
    case 'relu': return Math.sqrt(2.0);
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2.0 / (1 + slope ** 2));
    }
    case 'selu': return 3.0 / 4;
    default: throw new TypeError(`calculateGain: unsupported nonlinearity '${String(nonlinearity)}'`);
  }
}

/** Fan-in and fan-out of a weight: [out, in, ...kernel] counts in*kernel and out*kernel. */
export function fanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  const shape = t.shape;
  if (shape.length < 2) {
    throw new RangeError(`fan in and fan out need a tensor with at least 2 dims, got shape [${shape.join(', ')}]`);
  }
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

function fan(t: Tensor, mode: FanMode): number {
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new TypeError(`mode must be 'fan_in' or 'fan_out', got '${String(mode)}'`);
  const { fanIn, fanOut } = fanInAndFanOut(t);
  return mode === 'fan_in' ? fanIn : fanOut;
}

export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (only for 'leaky_relu'). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

/** He initialisation, uniform: U(-b, b) with b = gain * sqrt(3 / fan). */
export function kaimingUniform_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const std = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan(t, o.mode ?? 'fan_in'));
  const bound = Math.sqrt(3.0) * std;
  return uniform_(t, -bound, bound, o.generator);
}

/** He initialisation, normal: N(0, std) with std = gain / sqrt(fan). */
export function kaimingNormal_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const std = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan(t, o.mode ?? 'fan_in'));
  return normal_(t, 0, std, o.generator);
}

/** Glorot initialisation, uniform: U(-a, a) with a = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform_(t: Tensor, gain = 1.0, generator?: Generator): Tensor {
  const { fanIn, fanOut } = fanInAndFanOut(t);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  const a = Math.sqrt(3.0) * std;
  return uniform_(t, -a, a, generator);
}

/** Glorot initialisation, normal: N(0, gain * sqrt(2 / (fanIn + fanOut))). */
export function xavierNormal_(t: Tensor, gain = 1.0, generator?: Generator): Tensor {
  const { fanIn, fanOut } = fanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2.0 / (fanIn + fanOut)), generator);
}

export function uniform_(t: Tensor, a = 0, b = 1, generator?: Generator): Tensor {
  return noGrad(() => t.uniform_(a, b, generator));
}

export function normal_(t: Tensor, mean = 0, std = 1, generator?: Generator): Tensor {
  return noGrad(() => t.normal_(mean, std, generator));
}

export function constant_(t: Tensor, value: number): Tensor {
  return noGrad(() => t.fill_(value));
}

export function zeros_(t: Tensor): Tensor {
  return noGrad(() => t.zero_());
}

export function ones_(t: Tensor): Tensor {
  return noGrad(() => t.fill_(1));
}

/** erf in double precision, through libtorch (JavaScript has no Math.erf). */
function erf(x: number): number {
  const t = tensor([x], { dtype: 'float64' });
  const e = op<Tensor>('aten::erf', t);
  const v = e.item();
  t.dispose();
  e.dispose();
  return v;
}

/**
 * Normal(mean, std) truncated to [a, b], by inverse-CDF sampling exactly as
 * torch.nn.init.trunc_normal_ does (used by vision transformers).
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, generator?: Generator): Tensor {
  const normCdf = (x: number): number => (1 + erf(x / Math.sqrt(2))) / 2;
  const l = normCdf((a - mean) / std);
  const u = normCdf((b - mean) / std);
  return noGrad(() => {
    t.uniform_(2 * l - 1, 2 * u - 1, generator);
    op<Tensor>('aten::erfinv_', t).dispose(); // the same tensor; only the extra handle goes
    t.mul_(std * Math.sqrt(2));
    t.add_(mean);
    return t.clamp_(a, b);
  });
}
