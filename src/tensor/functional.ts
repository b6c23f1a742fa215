// Neural-network operators as functions (PyTorch's torch.nn.functional).
// Modules in src/nn hold parameters and call these.
import { Tensor, op, assertTensor, Reduction, type ReductionName } from './tensor.js';
import { arange } from './create.js';
import { tidy } from './scope.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

function reduction(r: ReductionName | undefined, fn: string): number {
  const code = Reduction[r ?? 'mean'];
  if (code === undefined) throw new TypeError(`${fn}: reduction must be 'none', 'mean' or 'sum', got '${String(r)}'`);
  return code;
}

export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  assertTensor(x, 'linear', 'input');
  return op('aten::linear', x, weight, bias ?? null);
}

export interface ConvOptions { stride?: number; padding?: number; dilation?: number; groups?: number }
export interface Conv2dOptions { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }

export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions = {}): Tensor {
  assertTensor(x, 'conv1d', 'input');
  return op('aten::conv1d', x, weight, bias ?? null, [o.stride ?? 1], [o.padding ?? 0], [o.dilation ?? 1], o.groups ?? 1);
}

export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: Conv2dOptions = {}): Tensor {
  assertTensor(x, 'conv2d', 'input');
  return op('aten::conv2d', x, weight, bias ?? null, pair(o.stride ?? 1), pair(o.padding ?? 0), pair(o.dilation ?? 1), o.groups ?? 1);
}

export interface Pool2dOptions { stride?: Pair; padding?: Pair; ceilMode?: boolean }

export function maxPool2d(x: Tensor, kernelSize: Pair, o: Pool2dOptions = {}): Tensor {
  return op('aten::max_pool2d', x, pair(kernelSize), pair(o.stride ?? kernelSize), pair(o.padding ?? 0), [1, 1], o.ceilMode ?? false);
}
export function avgPool2d(x: Tensor, kernelSize: Pair, o: Pool2dOptions & { countIncludePad?: boolean } = {}): Tensor {
  return op('aten::avg_pool2d', x, pair(kernelSize), pair(o.stride ?? kernelSize), pair(o.padding ?? 0), o.ceilMode ?? false, o.countIncludePad ?? true);
}
export function maxPool1d(x: Tensor, kernelSize: number, stride = kernelSize, padding = 0): Tensor {
  return op('aten::max_pool1d', x, [kernelSize], [stride], [padding]);
}
export function avgPool1d(x: Tensor, kernelSize: number, stride = kernelSize, padding = 0): Tensor {
  return op('aten::avg_pool1d', x, [kernelSize], [stride], [padding]);
}
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  return op('aten::adaptive_avg_pool2d', x, pair(outputSize));
}
export function adaptiveMaxPool2d(x: Tensor, outputSize: Pair): Tensor {
  const [values, indices] = op<[Tensor, Tensor]>('aten::adaptive_max_pool2d', x, pair(outputSize));
  indices.dispose();
  return values;
}

export interface BatchNormOptions {
  weight?: Tensor | null; bias?: Tensor | null;
  runningMean?: Tensor | null; runningVar?: Tensor | null;
  training: boolean; momentum?: number; eps?: number;
}
/** Batch norm; in training it updates `runningMean`/`runningVar` in place, as PyTorch does. */
export function batchNorm(x: Tensor, o: BatchNormOptions): Tensor {
  assertTensor(x, 'batchNorm', 'input');
  return op('aten::batch_norm', x, o.weight ?? null, o.bias ?? null, o.runningMean ?? null, o.runningVar ?? null,
    o.training, o.momentum ?? 0.1, o.eps ?? 1e-5, true);
}
export function layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  assertTensor(x, 'layerNorm', 'input');
  return op('aten::layer_norm', x, normalizedShape, weight ?? null, bias ?? null, eps, true);
}
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  return op('aten::dropout', x, p, training);
}
/** Pads the last dims: `pad` lists (before, after) pairs starting from the last dim, like F.pad. */
export function pad(x: Tensor, padding: number[], mode: 'constant' | 'reflect' | 'replicate' = 'constant', value = 0): Tensor {
  if (mode === 'constant') return op('aten::constant_pad_nd', x, padding, value);
  if (padding.length !== 4 || x.ndim !== 4) throw new TypeError(`pad: mode '${mode}' supports 4-d input with 4 padding values`);
  return op(mode === 'reflect' ? 'aten::reflection_pad2d' : 'aten::replication_pad2d', x, padding);
}
export function embedding(indices: Tensor, weight: Tensor, paddingIdx = -1): Tensor {
  return op('aten::embedding', weight, indices, paddingIdx);
}

/**
 * Reduces rows of `weight` over each row of `ids` [B, L] (sum or mean), skipping
 * `paddingIdx` entries (a row of only padding gives zeros): [B, D]. One
 * aten::embedding_bag call: averaged word vectors and bag-of-words scores per batch.
 */
export function embeddingBag(weight: Tensor, ids: Tensor, mode: 'sum' | 'mean', paddingIdx: number): Tensor {
  return tidy(() => {
    const [b, l] = ids.shape as [number, number];
    const offsets = arange(0, b * l, l, { dtype: 'int64', device: ids.device });
    const [out] = op<Tensor[]>('aten::embedding_bag.padding_idx', weight, ids.reshape(-1), offsets, false, mode === 'sum' ? EMBEDDING_BAG_SUM : EMBEDDING_BAG_MEAN, false, null, false, paddingIdx);
    return out!;
  });
}
/** Bag modes of aten::embedding_bag. */
const EMBEDDING_BAG_SUM = 0;
const EMBEDDING_BAG_MEAN = 1;

// activations
export const relu = (x: Tensor): Tensor => x.relu();
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor => x.gelu(approximate);
export const silu = (x: Tensor): Tensor => x.silu();
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const tanh = (x: Tensor): Tensor => x.tanh();
export const softmax = (x: Tensor, dim: number): Tensor => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => x.logSoftmax(dim);
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => x.leakyRelu(slope);

/** Divides by the p-norm along `dim` (at least eps), like F.normalize. */
export function normalize(x: Tensor, dim = 1, p = 2, eps = 1e-12): Tensor {
  const n = x.norm(p, dim, true);
  const d = n.clamp(eps);
  n.dispose();
  const r = x.div(d);
  d.dispose();
  return r;
}

// losses
export interface CrossEntropyOptions {
  reduction?: ReductionName; labelSmoothing?: number; weight?: Tensor | null; ignoreIndex?: number;
}
/** Cross entropy of logits [N, C] against int64 class indices [N]. */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  assertTensor(logits, 'crossEntropy', 'logits');
  assertTensor(target, 'crossEntropy', 'target');
  return op('aten::cross_entropy_loss', logits, target, o.weight ?? null, reduction(o.reduction, 'crossEntropy'),
    o.ignoreIndex ?? -100, o.labelSmoothing ?? 0);
}
export function nllLoss(logProbs: Tensor, target: Tensor, o: { reduction?: ReductionName; weight?: Tensor | null; ignoreIndex?: number } = {}): Tensor {
  return op('aten::nll_loss', logProbs, target, o.weight ?? null, reduction(o.reduction, 'nllLoss'), o.ignoreIndex ?? -100);
}
export function mseLoss(input: Tensor, target: Tensor, o: { reduction?: ReductionName } = {}): Tensor {
  return op('aten::mse_loss', input, target, reduction(o.reduction, 'mseLoss'));
}
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, o: { reduction?: ReductionName; posWeight?: Tensor | null; weight?: Tensor | null } = {}): Tensor {
  return op('aten::binary_cross_entropy_with_logits', logits, target, o.weight ?? null, o.posWeight ?? null, reduction(o.reduction, 'binaryCrossEntropyWithLogits'));
}
export function cosineSimilarity(a: Tensor, b: Tensor, dim = 1, eps = 1e-8): Tensor {
  return op('aten::cosine_similarity', a, b, dim, eps);
}
