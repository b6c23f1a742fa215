// ONNX export of an image encoder, written from selfsup's own module tree: each
// module class has an exporter below that appends the ONNX nodes computing what its
// forward computes (in eval mode: batch norm uses its running statistics). The graph
// takes float32 [N, C, H, W] images in [0, 1] (N dynamic), normalises them inside (so
// a web page needs to know nothing), runs the blocks up to the chosen one and
// average-pools to the [N, D] embedding that `encoder.embed` returns.
import { writeFileAtomic } from './atomic.js';
import { tidy } from '../tensor/index.js';
import { OnnxGraph, serializeModel, int, ints, float, type AttributeValue } from './onnx-graph.js';
import type { Module } from '../nn/index.js';
import {
  Sequential, Conv2d, BatchNorm2d, BatchNorm1d, ReLU, GELU, Sigmoid, Tanh, SiLU, LeakyReLU, Identity, Dropout,
  MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Linear, LayerNorm,
} from '../nn/index.js';
import { BasicBlock } from '../models/resnet.js';
import { VisionTransformer } from '../models/vit.js';
import { TransformerEncoderLayer } from '../nn/index.js';
import type { Backbone } from '../models/index.js';
import type { Normalization } from '../eval/evaluate.js';

/** ONNX operator set the exporter writes (17: the first with LayerNormalization). */
export const ONNX_OPSET = 17;
export const ONNX_INPUT = 'images';
export const ONNX_OUTPUT = 'embedding';

export interface OnnxExportOptions {
  /** [C, H, W] of the images the encoder takes (H and W are fixed in the graph; N is dynamic). */
  imageShape: [number, number, number];
  /** Per-channel normalisation applied inside the graph to inputs in [0, 1]; none when omitted. */
  norm?: Normalization;
  /** The block whose pooled features are the output (default: the encoder's embedBlock, else its last). */
  block?: string;
  /** Recorded in the metadata: how the encoder was trained. */
  method?: string;
  /** The selfsup version recorded in the model (producer_version and metadata). */
  version?: string;
  /** More metadata entries (strings). */
  metadata?: Record<string, string>;
}

/** What an exporter gets: the graph, the module's path (for names and errors). */
interface Ctx { g: OnnxGraph; path: string }
type Exporter<M extends Module = Module> = (m: M, x: string, c: Ctx) => string;

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);
const pads = (p: [number, number]): number[] => [p[0], p[1], p[0], p[1]];

function conv(m: Conv2d, x: string, { g, path }: Ctx): string {
  const inputs = [x, g.tensor(`${path}.weight`, m.weight)];
  if (m.bias) inputs.push(g.tensor(`${path}.bias`, m.bias));
  return g.node('Conv', inputs, {
    kernel_shape: ints(m.kernelSize), strides: ints(m.stride), pads: ints(pads(m.padding)), dilations: ints(m.dilation), group: int(m.groups),
  }, path);
}

function batchNorm(m: BatchNorm2d | BatchNorm1d, x: string, { g, path }: Ctx): string {
  if (!m.runningMean || !m.runningVar) throw new Error(`exportOnnx: ${path} (${m.constructor.name}) keeps no running statistics, so its eval-mode output depends on the batch; ONNX export needs trackRunningStats`);
  const n = m.numFeatures;
  const scale = m.weight ? g.tensor(`${path}.weight`, m.weight) : g.constant(`${path}.weight`, new Float32Array(n).fill(1), [n]);
  const bias = m.bias ? g.tensor(`${path}.bias`, m.bias) : g.constant(`${path}.bias`, new Float32Array(n), [n]);
  return g.node('BatchNormalization', [x, scale, bias, g.tensor(`${path}.running_mean`, m.runningMean), g.tensor(`${path}.running_var`, m.runningVar)],
    { epsilon: float(m.eps) }, path);
}

function pool(opType: 'MaxPool' | 'AveragePool', kernel: number | [number, number], o: { stride?: number | [number, number]; padding?: number | [number, number]; ceilMode?: boolean; countIncludePad?: boolean }, x: string, { g, path }: Ctx): string {
  const attrs: Record<string, AttributeValue> = {
    kernel_shape: ints(pair(kernel)), strides: ints(pair(o.stride ?? kernel)), pads: ints(pads(pair(o.padding ?? 0))), ceil_mode: int(o.ceilMode ? 1 : 0),
  };
  // PyTorch's avg_pool2d counts the zero padding by default; ONNX's AveragePool does not.
  if (opType === 'AveragePool') attrs.count_include_pad = int(o.countIncludePad === false ? 0 : 1);
  return g.node(opType, [x], attrs, path);
}

function linear(m: Linear, x: string, { g, path }: Ctx): string {
  // MatMul with the transposed weight broadcasts over leading dims ([N, L, D] tokens as well as [N, D]).
  const t = m.weight.T.contiguous();
  let wt: string;
  try { wt = g.tensor(`${path}.weight_t`, t); } finally { t.dispose(); }
  const y = g.node('MatMul', [x, wt], {}, path);
  return m.bias ? g.node('Add', [y, g.tensor(`${path}.bias`, m.bias)], {}, path) : y;
}

function layerNorm(m: LayerNorm, x: string, { g, path }: Ctx): string {
  const n = m.normalizedShape.reduce((a, b) => a * b, 1);
  const scale = m.weight ? g.tensor(`${path}.weight`, m.weight) : g.constant(`${path}.weight`, new Float32Array(n).fill(1), m.normalizedShape);
  const inputs = [x, scale];
  if (m.bias) inputs.push(g.tensor(`${path}.bias`, m.bias));
  return g.node('LayerNormalization', inputs, { axis: int(-m.normalizedShape.length), epsilon: float(m.eps) }, path);
}

function gelu(m: GELU, x: string, { g, path }: Ctx): string {
  if (m.approximate === 'tanh') {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    const cube = g.node('Mul', [g.node('Mul', [x, x], {}, path), x], {}, path);
    const inner = g.node('Mul', [g.node('Add', [x, g.node('Mul', [cube, g.constant(`${path}.c`, [0.044715], [])], {}, path)], {}, path), g.constant(`${path}.k`, [Math.sqrt(2 / Math.PI)], [])], {}, path);
    const t = g.node('Add', [g.node('Tanh', [inner], {}, path), g.constant(`${path}.one`, [1], [])], {}, path);
    return g.node('Mul', [g.node('Mul', [x, t], {}, path), g.constant(`${path}.half`, [0.5], [])], {}, path);
  }
  // 0.5 x (1 + erf(x / sqrt 2)), exactly as aten::gelu
  const e = g.node('Erf', [g.node('Div', [x, g.constant(`${path}.sqrt2`, [Math.SQRT2], [])], {}, path)], {}, path);
  const t = g.node('Add', [e, g.constant(`${path}.one`, [1], [])], {}, path);
  return g.node('Mul', [g.node('Mul', [x, t], {}, path), g.constant(`${path}.half`, [0.5], [])], {}, path);
}

function basicBlock(m: BasicBlock, x: string, c: Ctx): string {
  const sub = (name: string): Ctx => ({ g: c.g, path: `${c.path}.${name}` });
  let h = exportModule(m.conv1, x, sub('conv1'));
  h = c.g.node('Relu', [exportModule(m.bn1, h, sub('bn1'))], {}, c.path);
  h = exportModule(m.bn2, exportModule(m.conv2, h, sub('conv2')), sub('bn2'));
  const s = exportModule(m.shortcut, x, sub('shortcut'));
  return c.g.node('Relu', [c.g.node('Add', [h, s], {}, c.path)], {}, c.path);
}

/** Multi-head self-attention of `layer` on tokens [N, T, D] (batch first), as MultiheadAttention computes it. */
function selfAttention(layer: TransformerEncoderLayer, x: string, { g, path }: Ctx): string {
  const a = layer.selfAttn;
  const d = a.embedDim;
  const h = a.numHeads;
  const hd = a.headDim;
  const wt = a.inProjWeight.T.contiguous();
  let w: string;
  try { w = g.tensor(`${path}.in_proj_weight_t`, wt); } finally { wt.dispose(); }
  let qkv = g.node('MatMul', [x, w], {}, `${path}.qkv`);
  if (a.inProjBias) qkv = g.node('Add', [qkv, g.tensor(`${path}.in_proj_bias`, a.inProjBias)], {}, `${path}.qkv`);
  const heads = g.int64s(`${path}.heads_shape`, [0, 0, h, hd]);
  const [q, k, v] = ['q', 'k', 'v'].map((name, i) => {
    const part = g.node('Slice', [qkv, g.int64s(`${path}.${name}_start`, [i * d]), g.int64s(`${path}.${name}_end`, [(i + 1) * d]), g.int64s(`${path}.axis2`, [2])], {}, `${path}.${name}`);
    return g.node('Transpose', [g.node('Reshape', [part, heads], {}, `${path}.${name}`)], { perm: ints([0, 2, 1, 3]) }, `${path}.${name}`);
  }) as [string, string, string];
  const scores = g.node('Mul', [g.node('MatMul', [q, g.node('Transpose', [k], { perm: ints([0, 1, 3, 2]) }, `${path}.kt`)], {}, `${path}.scores`), g.constant(`${path}.scale`, [1 / Math.sqrt(hd)], [])], {}, `${path}.scores`);
  const attended = g.node('MatMul', [g.node('Softmax', [scores], { axis: int(-1) }, `${path}.attn`), v], {}, `${path}.attended`);
  const merged = g.node('Reshape', [g.node('Transpose', [attended], { perm: ints([0, 2, 1, 3]) }, path), g.int64s(`${path}.merge_shape`, [0, 0, d])], {}, `${path}.merged`);
  return exportModule(a.outProj, merged, { g, path: `${path}.out_proj` });
}

/** A TransformerEncoderLayer (eval mode: dropout is the identity), pre- or post-norm. */
function encoderLayer(m: TransformerEncoderLayer, x: string, c: Ctx): string {
  const sub = (name: string): Ctx => ({ g: c.g, path: `${c.path}.${name}` });
  const mlp = (h: string): string => {
    const a = exportModule(m.linear1, h, sub('linear1'));
    const act = m.activation === 'relu' ? c.g.node('Relu', [a], {}, c.path) : gelu(new GELU(), a, sub('gelu'));
    return exportModule(m.linear2, act, sub('linear2'));
  };
  if (m.normFirst) {
    const h = c.g.node('Add', [x, selfAttention(m, exportModule(m.norm1, x, sub('norm1')), sub('self_attn'))], {}, c.path);
    return c.g.node('Add', [h, mlp(exportModule(m.norm2, h, sub('norm2')))], {}, c.path);
  }
  const h = exportModule(m.norm1, c.g.node('Add', [x, selfAttention(m, x, sub('self_attn'))], {}, c.path), sub('norm1'));
  return exportModule(m.norm2, c.g.node('Add', [h, mlp(h)], {}, c.path), sub('norm2'));
}

/** The ViT's pooled features after block `last` (0: the stem), as VisionTransformer.features. */
function vitFeatures(vit: VisionTransformer, x: string, last: number, g: OnnxGraph, out: string): void {
  const stem = vit.stem;
  const width = vit.width;
  const n = stem.numPatches;
  // Patch tokens: conv, [N, D, gh, gw] -> [N, L, D], plus their positions.
  let tokens = exportModule(stem.proj, x, { g, path: 'stem.proj' });
  tokens = g.node('Transpose', [g.node('Reshape', [tokens, g.int64s('stem.flat_shape', [0, width, -1])], {}, 'stem.flat')], { perm: ints([0, 2, 1]) }, 'stem.tokens');
  const pos = tidy(() => stem.posEmbed.narrow(1, 1, n).contiguous());
  try { tokens = g.node('Add', [tokens, g.tensor('stem.pos_embed_patches', pos)], {}, 'stem.tokens'); } finally { pos.dispose(); }
  // The class token (plus its position), repeated for every image of the batch.
  const cls = tidy(() => stem.clsToken.add(stem.posEmbed.narrow(1, 0, 1)));
  let clsName: string;
  try { clsName = g.tensor('stem.cls_token', cls); } finally { cls.dispose(); }
  const batch = g.node('Slice', [g.node('Shape', [x], {}, 'stem.shape'), g.int64s('stem.zero', [0]), g.int64s('stem.one', [1]), g.int64s('stem.axis0', [0])], {}, 'stem.batch');
  const clsShape = g.node('Concat', [batch, g.int64s('stem.cls_rest', [1, width])], { axis: int(0) }, 'stem.cls_shape');
  let h = g.node('Concat', [g.node('Expand', [clsName, clsShape], {}, 'stem.cls'), tokens], { axis: int(1) }, 'stem.out');
  for (let i = 1; i <= last; i++) h = encoderLayer(vit.layers[i - 1]!, h, { g, path: `block${i}` });
  if (last === vit.layers.length) h = exportModule(vit.norm, h, { g, path: 'norm' });
  if (vit.pool === 'cls') {
    // Gather with a 1-element index keeps the axis: [N, 1, D], flattened to [N, D].
    const gathered = g.node('Gather', [h, g.int64s('pool.cls_index', [0])], { axis: int(1) }, 'pool');
    g.node('Flatten', [gathered], { axis: int(1) }, 'flat', out);
    return;
  }
  const patches = g.node('Slice', [h, g.int64s('pool.start', [1]), g.int64s('pool.end', [1 + n]), g.int64s('pool.axis1', [1])], {}, 'pool.patches');
  g.node('ReduceMean', [patches], { axes: ints([1]), keepdims: int(0) }, 'pool', out);
}

/** Exporters by module class; a class not here (nor a subclass of one) cannot be exported. */
const EXPORTERS: [abstract new (...a: never[]) => Module, Exporter<never>][] = [
  [Sequential, (m: Sequential, x, c) => {
    let h = x;
    for (const [name, child] of m.namedChildren()) h = exportModule(child, h, { g: c.g, path: `${c.path}.${name}` });
    return h;
  }],
  [Conv2d, conv],
  [BatchNorm2d, batchNorm],
  [BatchNorm1d, batchNorm],
  [ReLU, (_m, x, { g, path }) => g.node('Relu', [x], {}, path)],
  [Sigmoid, (_m, x, { g, path }) => g.node('Sigmoid', [x], {}, path)],
  [Tanh, (_m, x, { g, path }) => g.node('Tanh', [x], {}, path)],
  [SiLU, (_m, x, { g, path }) => g.node('Mul', [x, g.node('Sigmoid', [x], {}, path)], {}, path)],
  [LeakyReLU, (m: LeakyReLU, x, { g, path }) => g.node('LeakyRelu', [x], { alpha: float(m.negativeSlope) }, path)],
  [GELU, gelu],
  // Identity and Dropout (eval mode) pass the value through: no node needed.
  [Identity, (_m, x) => x],
  [Dropout, (_m, x) => x],
  [MaxPool2d, (m: MaxPool2d, x, c) => pool('MaxPool', m.kernelSize, m.options, x, c)],
  [AvgPool2d, (m: AvgPool2d, x, c) => pool('AveragePool', m.kernelSize, m.options, x, c)],
  [AdaptiveAvgPool2d, (m: AdaptiveAvgPool2d, x, { g, path }) => {
    const [h, w] = pair(m.outputSize);
    if (h !== 1 || w !== 1) throw new Error(`exportOnnx: ${path} is AdaptiveAvgPool2d(${m.outputSize}); only global pooling (output size 1) is exported`);
    return g.node('GlobalAveragePool', [x], {}, path);
  }],
  [Flatten, (m: Flatten, x, { g, path }) => {
    if (m.endDim !== -1) throw new Error(`exportOnnx: ${path} flattens dims ${m.startDim}..${m.endDim}; only Flatten(start, -1) is exported`);
    return g.node('Flatten', [x], { axis: int(m.startDim) }, path);
  }],
  [Linear, linear],
  [LayerNorm, layerNorm],
  [BasicBlock, basicBlock],
  [TransformerEncoderLayer, encoderLayer],
];

/** Appends the nodes of `m`'s forward applied to the value `x`; returns the output's name. */
export function exportModule(m: Module, x: string, c: Ctx): string {
  for (const [cls, fn] of EXPORTERS) if (m instanceof cls) return (fn as Exporter)(m, x, c);
  throw new Error(`exportOnnx: no ONNX exporter for ${c.path} (${m.constructor.name}); exported module classes are ${EXPORTERS.map(([k]) => k.name).join(', ')}`);
}

/** The encoder as ONNX bytes: [N, C, H, W] images in [0, 1] -> [N, D] embedding. */
export function encoderToOnnx(encoder: Backbone, o: OnnxExportOptions): Uint8Array {
  const [cIn, h, w] = o.imageShape;
  if (![cIn, h, w].every((v) => Number.isInteger(v) && v > 0)) throw new RangeError(`exportOnnx: imageShape must be three positive integers [C, H, W], got [${o.imageShape.join(', ')}]`);
  const block = o.block ?? encoder.embedBlock;
  const last = encoder.blockIndex(block);
  const blockName = encoder.blockNames[last]!;
  if (o.norm && (o.norm.mean.length !== cIn || o.norm.std.length !== cIn)) {
    throw new RangeError(`exportOnnx: norm has ${o.norm.mean.length} means and ${o.norm.std.length} stds for ${cIn} channels`);
  }
  const g = new OnnxGraph();
  const input = g.name(ONNX_INPUT);
  const out = g.name(ONNX_OUTPUT);
  let x = input;
  if (o.norm) {
    x = g.node('Sub', [x, g.constant('norm.mean', o.norm.mean, [1, cIn, 1, 1])], {}, 'normalized');
    x = g.node('Div', [x, g.constant('norm.std', o.norm.std, [1, cIn, 1, 1])], {}, 'normalized');
  }
  if (encoder instanceof VisionTransformer) {
    vitFeatures(encoder, x, last, g, out);
  } else {
    const children = new Map(encoder.namedChildren());
    for (let i = 0; i <= last; i++) {
      const name = encoder.blockNames[i]!;
      x = exportModule(children.get(name)!, x, { g, path: name });
    }
    // Backbone.features: global average pooling of the block's map, flattened.
    g.node('Flatten', [g.node('GlobalAveragePool', [x], {}, 'pooled')], { axis: int(1) }, 'flat', out);
  }
  const version = o.version ?? 'unknown';
  const metadata: Record<string, string> = {
    'selfsup.version': version,
    'selfsup.input_shape': JSON.stringify(['N', cIn, h, w]),
    'selfsup.input_range': '[0, 1]',
    'selfsup.norm_mean': JSON.stringify(o.norm?.mean ?? null),
    'selfsup.norm_std': JSON.stringify(o.norm?.std ?? null),
    'selfsup.block': blockName,
    'selfsup.embed_dim': String(encoder.featureDim(blockName)),
    'selfsup.backbone': encoder.constructor.name,
    'selfsup.method': o.method ?? 'unknown',
    ...o.metadata,
  };
  return serializeModel(g, {
    graphName: `selfsup_${encoder.constructor.name}`, opset: ONNX_OPSET, producerVersion: version, metadata,
    input: { name: input, shape: ['N', cIn, h, w] },
    output: { name: out, shape: ['N', encoder.featureDim(blockName)] },
    docString: `selfsup image encoder: float32 [N, ${cIn}, ${h}, ${w}] in [0, 1] -> [N, ${encoder.featureDim(blockName)}] embedding of ${blockName}`,
  });
}

/** Writes the encoder as an ONNX file (atomically: a failed export leaves no partial file). Returns the bytes written. */
export function exportOnnx(encoder: Backbone, path: string, o: OnnxExportOptions): number {
  const bytes = encoderToOnnx(encoder, o);
  writeFileAtomic(path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return bytes.byteLength;
}
