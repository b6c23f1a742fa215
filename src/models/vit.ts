// A small Vision Transformer (Dosovitskiy et al. 2021, https://arxiv.org/abs/2010.11929):
// the image is cut into p x p patches, each patch becomes a token (a stride-p convolution),
// a class token is put in front, learned positional embeddings are added, and pre-norm
// transformer layers follow, with a final LayerNorm. As a Backbone its blocks are 'stem'
// (patch embedding, class token and positions, like ResNet's stem) and 'block1' ...
// 'blockN' (the transformer layers), so blocks freeze and probe by name as in the CNNs.
// The pooled embedding is the mean of the patch tokens (see `pool`). MAE
// (ssl/methods/mae.ts) runs the encoder on the visible patches only, through
// `encodeVisible`.
import { Tensor, tidy, cat, zeros } from '../tensor/index.js';
import { Module, Conv2d, LayerNorm, Linear, TransformerEncoderLayer, init } from '../nn/index.js';
import { Backbone } from './backbone.js';

export interface VitOptions {
  inChannels?: number;
  /** Height and width of the input images (default 32); the positional embeddings are made for this grid. */
  imageSize?: number | [number, number];
  /** Side of the square patches (default 4: 7x7 patches on 28x28 images, 8x8 on 32x32). */
  patchSize?: number;
  /** Token width (default 128). */
  width?: number;
  /** Transformer layers, the blocks 'block1' ... (default 6). */
  depth?: number;
  /** Attention heads (default 4); must divide the width. */
  heads?: number;
  /** MLP hidden width as a multiple of the width (default 4). */
  mlpRatio?: number;
  /**
   * What `features` pools: 'mean' of the patch tokens (the default; MAE's fine-tuning
   * and short runs, where the class token gets no direct signal from a reconstruction
   * loss) or the 'cls' token.
   */
  pool?: 'mean' | 'cls';
}

/** The defaults of `vit-tiny` as createBackbone makes it; see the README for why these. */
export const VIT_DEFAULTS = { inChannels: 3, imageSize: 32, patchSize: 4, width: 128, depth: 6, heads: 4, mlpRatio: 4, pool: 'mean' as 'mean' | 'cls' };

/** Patch embedding, class token and positional embeddings: images [N, C, H, W] to tokens [N, 1 + L, width]. */
export class PatchEmbedding extends Module {
  readonly proj: Conv2d;
  readonly clsToken: Tensor;
  readonly posEmbed: Tensor;
  readonly grid: [number, number];

  constructor(readonly inChannels: number, readonly imageSize: [number, number], readonly patchSize: number, readonly width: number) {
    super();
    const [h, w] = imageSize;
    if (h % patchSize || w % patchSize) {
      throw new RangeError(`PatchEmbedding: the image size ${h}x${w} is not a multiple of the patch size ${patchSize}`);
    }
    this.grid = [h / patchSize, w / patchSize];
    this.proj = this.registerModule('proj', new Conv2d(inChannels, width, patchSize, { stride: patchSize }));
    this.clsToken = this.registerParameter('cls_token', zeros([1, 1, width]));
    this.posEmbed = this.registerParameter('pos_embed', zeros([1, 1 + this.numPatches, width]));
    // As in MAE's and timm's ViT: the projection like a Linear layer (Xavier on [width, C*p*p]), tokens N(0, 0.02).
    tidy(() => { init.xavierUniform_(this.proj.weight.view(width, -1)); });
    init.zeros_(this.proj.bias!);
    init.truncNormal_(this.clsToken, 0, 0.02);
    init.truncNormal_(this.posEmbed, 0, 0.02);
  }

  get numPatches(): number {
    return this.grid[0] * this.grid[1];
  }

  /** The patch tokens with their positional embeddings, without the class token: [N, L, width]. */
  patchTokens(x: Tensor): Tensor {
    const [, , h, w] = x.shape as [number, number, number, number];
    if (x.ndim !== 4 || x.size(1) !== this.inChannels || h !== this.imageSize[0] || w !== this.imageSize[1]) {
      throw new RangeError(`VisionTransformer: built for [N, ${this.inChannels}, ${this.imageSize[0]}, ${this.imageSize[1]}] images (imageSize), got [${x.shape.join(', ')}]`);
    }
    return tidy(() => this.proj.forward(x).flatten(2).transpose(1, 2).add(this.posEmbed.narrow(1, 1, this.numPatches)));
  }

  /** The class token with its positional embedding, for `n` images: [n, 1, width]. */
  classToken(n: number): Tensor {
    return tidy(() => this.clsToken.add(this.posEmbed.narrow(1, 0, 1)).expand(n, 1, this.width));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => cat([this.classToken(x.size(0)), this.patchTokens(x)], 1));
  }
}

/** A pre-norm transformer layer (GELU MLP, no dropout), initialised as MAE's ViT: Xavier-uniform linear weights, zero biases. */
export function vitLayer(width: number, heads: number, mlpRatio: number): TransformerEncoderLayer {
  const layer = new TransformerEncoderLayer(width, heads, {
    dimFeedforward: Math.round(mlpRatio * width), dropout: 0, activation: 'gelu', normFirst: true, batchFirst: true, layerNormEps: 1e-6,
  });
  for (const lin of [layer.linear1, layer.linear2, layer.selfAttn.outProj] as Linear[]) {
    init.xavierUniform_(lin.weight);
    if (lin.bias) init.zeros_(lin.bias);
  }
  return layer;
}

export class VisionTransformer extends Backbone {
  readonly stem: PatchEmbedding;
  readonly layers: TransformerEncoderLayer[] = [];
  readonly norm: LayerNorm;
  readonly patchSize: number;
  readonly width: number;
  readonly pool: 'mean' | 'cls';

  constructor(options: VitOptions = {}) {
    const size = options.imageSize ?? VIT_DEFAULTS.imageSize;
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as VitOptions; // undefined: the default
    const o = { ...VIT_DEFAULTS, ...given, imageSize: (typeof size === 'number' ? [size, size] : [...size]) as [number, number] };
    super(o);
    if (o.pool !== 'mean' && o.pool !== 'cls') throw new RangeError(`VisionTransformer: pool must be 'mean' or 'cls', got '${String(o.pool)}'`);
    for (const [k, v] of Object.entries({ patchSize: o.patchSize, width: o.width, depth: o.depth, heads: o.heads })) {
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`VisionTransformer: ${k} must be a positive integer, got ${v}`);
    }
    if (o.width % o.heads) throw new RangeError(`VisionTransformer: width (${o.width}) must be divisible by heads (${o.heads})`);
    this.patchSize = o.patchSize;
    this.width = o.width;
    this.pool = o.pool;
    this.stem = new PatchEmbedding(o.inChannels, o.imageSize, o.patchSize, o.width);
    this.addBlock('stem', this.stem, o.width);
    for (let i = 0; i < o.depth; i++) {
      const layer = vitLayer(o.width, o.heads, o.mlpRatio);
      this.layers.push(layer);
      this.addBlock(`block${i + 1}`, layer, o.width);
    }
    this.norm = this.registerModule('norm', new LayerNorm(o.width, { eps: 1e-6 }));
  }

  get imageSize(): [number, number] {
    return this.stem.imageSize;
  }

  get grid(): [number, number] {
    return this.stem.grid;
  }

  get numPatches(): number {
    return this.stem.numPatches;
  }

  /** Values in one patch: p * p * C. */
  get patchDim(): number {
    return this.patchSize * this.patchSize * this.stem.inChannels;
  }

  /**
   * All tokens after `block` (default: the last), [N, 1 + L, width], class token first;
   * after the last block they go through the final LayerNorm.
   */
  tokens(x: Tensor, block?: string): Tensor {
    const last = this.blockIndex(block);
    return tidy(() => {
      let h = this.stem.forward(x);
      for (let i = 1; i <= last; i++) h = this.layers[i - 1]!.forward(h);
      return last === this.layers.length ? this.norm.forward(h) : h;
    });
  }

  /**
   * The encoder on the visible patches only (MAE): `keep` [N, K] int64 holds, per image,
   * the indices (0 ... L-1, row-major over the patch grid) of the patches it sees. Returns
   * the class token and the K visible tokens after every layer and the final LayerNorm,
   * [N, 1 + K, width], the visible ones in the order of `keep`.
   */
  encodeVisible(x: Tensor, keep: Tensor): Tensor {
    const n = x.size(0);
    if (keep.ndim !== 2 || keep.size(0) !== n || keep.isFloatingPoint()) {
      throw new RangeError(`VisionTransformer.encodeVisible: keep must be int64 [${n}, K], got ${keep.dtype} [${keep.shape.join(', ')}]`);
    }
    return tidy(() => {
      const patches = this.stem.patchTokens(x);
      const visible = patches.gather(1, keep.unsqueeze(2).expand(n, keep.size(1), this.width));
      let h = cat([this.stem.classToken(n), visible], 1);
      for (const layer of this.layers) h = layer.forward(h);
      return this.norm.forward(h);
    });
  }

  /** The patch tokens after `block` as a map [N, width, H/p, W/p]. */
  override featureMap(x: Tensor, block?: string): Tensor {
    return tidy(() => {
      const [gh, gw] = this.grid;
      return this.tokens(x, block).narrow(1, 1, this.numPatches).transpose(1, 2).reshape(x.size(0), this.width, gh, gw);
    });
  }

  /** The pooled vector after `block`, [N, width]: the mean of the patch tokens, or the class token (`pool`). */
  override features(x: Tensor, block?: string): Tensor {
    return tidy(() => {
      const h = this.tokens(x, block);
      return this.pool === 'cls' ? h.select(1, 0) : h.narrow(1, 1, this.numPatches).mean(1);
    });
  }

  protected override extraRepr(): string {
    const [h, w] = this.imageSize;
    return `imageSize=${h}x${w}, patchSize=${this.patchSize}, width=${this.width}, depth=${this.layers.length}, pool=${this.pool}`;
  }
}

/** Images [N, C, H, W] to patches [N, L, p * p * C] (row-major over the grid; within a patch rows, columns, then channels, as MAE's patchify). */
export function patchify(x: Tensor, p: number): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (x.ndim !== 4 || h % p || w % p) throw new RangeError(`patchify: need [N, C, H, W] with H and W multiples of ${p}, got [${x.shape.join(', ')}]`);
  return tidy(() => x.reshape(n, c, h / p, p, w / p, p).permute(0, 2, 4, 3, 5, 1).reshape(n, (h / p) * (w / p), p * p * c));
}

/** The inverse of `patchify`: patches [N, L, p * p * C] back to images [N, C, H, W]. */
export function unpatchify(patches: Tensor, p: number, imageShape: [number, number, number]): Tensor {
  const [c, h, w] = imageShape;
  const n = patches.size(0);
  if (patches.ndim !== 3 || patches.size(1) !== (h / p) * (w / p) || patches.size(2) !== p * p * c) {
    throw new RangeError(`unpatchify: [${patches.shape.join(', ')}] are not the ${p}x${p} patches of [${c}, ${h}, ${w}] images`);
  }
  return tidy(() => patches.reshape(n, h / p, w / p, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(n, c, h, w));
}

/** Is it a ViT (for methods that need one)? */
export function isVisionTransformer(b: unknown): b is VisionTransformer {
  return b instanceof VisionTransformer;
}
