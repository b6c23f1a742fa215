// Masked autoencoders (MAE; He, Chen, Xie, Li, Dollár & Girshick 2021,
// https://arxiv.org/abs/2111.06377): a random 75% of each image's patches is hidden, the
// ViT encoder sees only the visible ones (with their positional embeddings), and a light
// decoder (its own positional embeddings and a learned mask token in every hidden place)
// predicts the hidden patches' pixels, each normalised by its own mean and std; the loss
// (losses/mae.ts) counts the hidden patches only. The masks come from the batch's Rng, so
// a resumed run masks exactly as an uninterrupted one. The loader crops, flips and
// normalises (rawInput false), as the paper's simple augmentation.
// Paper: ViT-B/L/H, decoder 8 layers of width 512, AdamW (0.9, 0.95), lr 1.5e-4 x batch/256,
// weight decay 0.05, batch 4096, 800-1600 epochs. Here: the 128-wide vit-tiny with a
// 2-layer, 64-wide decoder (the paper's decoder is about half the encoder's width, and a
// shallow one costs little: the encoder sees 25% of the tokens, the decoder all of them).
import { Tensor, tidy, noGrad, cat, zeros, tensor } from '../../tensor/index.js';
import { Linear, LayerNorm, TransformerEncoderLayer, inEvalMode, init } from '../../nn/index.js';
import { VisionTransformer, patchify, unpatchify, vitLayer, type Backbone } from '../../models/index.js';
import { DataLoader, Rng, type ImageDataset } from '../../data/index.js';
import { AdamW, type Optimizer, type OptimizerConfig } from '../../optim/index.js';
import type { StepOutput } from '../../train/trainer.js';
import type { Normalization } from '../../eval/evaluate.js';
import type { MaeSample } from '../../report/types.js';
import { maeLoss } from '../losses/index.js';
import { SslMethod, type ImageHeldOut, type MethodContext, type ViewBatch } from '../method.js';

export const MAE_DEFAULTS = { maskRatio: 0.75, decoderWidth: 64, decoderDepth: 2, decoderHeads: 4, normPixLoss: true };
export type MaeOptions = Partial<typeof MAE_DEFAULTS>;

/** The validation masks' seed: the same hidden patches every time the held-out loss is measured. */
const VALIDATE_SEED = 0x3ae;

/** One random masking of a batch: which patches each image keeps, and how to put the sequence back in order. */
export interface PatchMasking {
  /** Patches kept per image. */
  keepCount: number;
  /** [N, K] patch indices each image's encoder sees. */
  keep: Int32Array;
  /** [N, L] position of each patch in (kept ..., hidden ...): gathers the decoder's sequence back into grid order. */
  restore: Int32Array;
  /** [N, L] 1 for a hidden patch, 0 for a visible one. */
  mask: Float32Array;
}

/** Per image a random `ratio` of the L patches is hidden (at least one patch stays visible), drawn from `rng`. */
export function randomMasking(n: number, numPatches: number, ratio: number, rng: Rng): PatchMasking {
  const L = numPatches;
  const keepCount = Math.max(1, Math.floor(L * (1 - ratio)));
  const keep = new Int32Array(n * keepCount);
  const restore = new Int32Array(n * L);
  const mask = new Float32Array(n * L);
  const order = new Int32Array(L);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < L; j++) order[j] = j;
    rng.shuffle(order);
    for (let j = 0; j < L; j++) {
      const patch = order[j]!;
      restore[i * L + patch] = j;
      if (j < keepCount) keep[i * keepCount + j] = patch;
      else mask[i * L + patch] = 1;
    }
  }
  return { keepCount, keep, restore, mask };
}

/** What one forward pass gives: the loss, and what the report's reconstructions need. */
export interface MaeForward {
  loss: Tensor;
  /** [N, L, p*p*C] predictions of every patch (per-patch normalised when normPixLoss). */
  pred: Tensor;
  /** [N, L] 1 for the hidden patches. */
  mask: Tensor;
  /** [N, L, p*p*C] the input's patches. */
  target: Tensor;
}

export class MaskedAutoencoder extends SslMethod<ViewBatch, ImageHeldOut, VisionTransformer> {
  readonly name = 'mae';
  readonly family = 'masked-modelling' as const;
  override readonly rawInput = false;
  readonly o: typeof MAE_DEFAULTS;
  readonly decoderEmbed: Linear;
  readonly maskToken: Tensor;
  readonly decoderPosEmbed: Tensor;
  readonly decoderLayers: TransformerEncoderLayer[] = [];
  readonly decoderNorm: LayerNorm;
  readonly decoderPred: Linear;

  constructor(encoder: Backbone, ctx: MethodContext, options: MaeOptions = {}) {
    if (!(encoder instanceof VisionTransformer)) {
      throw new TypeError(`mae: the encoder must be a vision transformer (--backbone vit-tiny), got ${encoder.constructor.name}: MAE hides patches from the encoder, which a CNN cannot skip`);
    }
    const [c, h, w] = ctx.imageShape;
    const [eh, ew] = encoder.imageSize;
    if (h !== eh || w !== ew || c !== encoder.stem.inChannels) {
      throw new RangeError(`mae: the data has ${c}x${h}x${w} images but the encoder was built for ${encoder.stem.inChannels}x${eh}x${ew}`);
    }
    const o = { ...MAE_DEFAULTS, ...options };
    if (!(o.maskRatio > 0 && o.maskRatio < 1)) throw new RangeError(`mae: maskRatio must be in (0, 1), got ${o.maskRatio}`);
    super(encoder);
    this.o = o;
    const d = o.decoderWidth;
    this.decoderEmbed = this.registerModule('decoder_embed', new Linear(encoder.width, d));
    this.maskToken = this.registerParameter('mask_token', zeros([1, 1, d]));
    this.decoderPosEmbed = this.registerParameter('decoder_pos_embed', zeros([1, 1 + encoder.numPatches, d]));
    for (let i = 0; i < o.decoderDepth; i++) this.decoderLayers.push(this.registerModule(`decoder_block${i + 1}`, vitLayer(d, o.decoderHeads, 4)));
    this.decoderNorm = this.registerModule('decoder_norm', new LayerNorm(d, { eps: 1e-6 }));
    this.decoderPred = this.registerModule('decoder_pred', new Linear(d, encoder.patchDim));
    for (const lin of [this.decoderEmbed, this.decoderPred]) {
      init.xavierUniform_(lin.weight);
      init.zeros_(lin.bias!);
    }
    init.truncNormal_(this.maskToken, 0, 0.02);
    init.truncNormal_(this.decoderPosEmbed, 0, 0.02);
  }

  /** Encoder on the visible patches, decoder on all, and the loss, for normalised images `x` masked from `rng`. */
  reconstruct(x: Tensor, rng: Rng): MaeForward {
    return tidy(() => {
      const vit = this.encoder;
      const n = x.size(0);
      const L = vit.numPatches;
      const m = randomMasking(n, L, this.o.maskRatio, rng);
      const device = x.device;
      const keep = tensor(m.keep, { shape: [n, m.keepCount], dtype: 'int64', device });
      const restore = tensor(m.restore, { shape: [n, L], dtype: 'int64', device });
      const mask = tensor(m.mask, { shape: [n, L], device });
      const latent = this.decoderEmbed.forward(vit.encodeVisible(x, keep)); // [N, 1 + K, d]
      const d = this.o.decoderWidth;
      // Visible tokens, then a mask token for every hidden patch, gathered back into grid order.
      const tokens = cat([latent.narrow(1, 1, m.keepCount), this.maskToken.expand(n, L - m.keepCount, d)], 1)
        .gather(1, restore.unsqueeze(2).expand(n, L, d));
      let hid = cat([latent.narrow(1, 0, 1), tokens], 1).add(this.decoderPosEmbed);
      for (const layer of this.decoderLayers) hid = layer.forward(hid);
      const pred = this.decoderPred.forward(this.decoderNorm.forward(hid)).narrow(1, 1, L);
      const target = patchify(x, vit.patchSize);
      const loss = maeLoss(pred, target, mask, { normPixLoss: this.o.normPixLoss });
      return { loss, pred, mask, target };
    });
  }

  trainingStep(batch: ViewBatch): StepOutput {
    const { loss } = this.reconstruct(batch.x, batch.rng);
    return { loss, count: batch.x.size(0) };
  }

  /**
   * AdamW with the paper's betas (0.9, 0.95), and no weight decay on biases, norms, the
   * class and mask tokens and the positional embeddings (as the authors' param groups).
   * Other kinds of optimizer: as configured, for every parameter alike.
   */
  override makeOptimizer(c: OptimizerConfig): Optimizer {
    if (c.kind !== 'adamw' || c.lrScale) return super.makeOptimizer(c);
    const trainable = this.namedParameters().filter(([, p]) => p.requiresGrad);
    const noDecay = ([name, p]: [string, Tensor]): boolean => p.ndim <= 1 || /(^|\.)(cls_token|pos_embed|mask_token|decoder_pos_embed)$/.test(name);
    const groups = [
      { params: trainable.filter((e) => !noDecay(e)).map(([, p]) => p), lr: c.lr, weightDecay: c.weightDecay ?? 0.05 },
      { params: trainable.filter(noDecay).map(([, p]) => p), lr: c.lr, weightDecay: 0 },
    ].filter((g) => g.params.length > 0);
    return new AdamW(groups, { betas: [0.9, 0.95] });
  }

  /** The reconstruction loss on the held-out images, with masks from a fixed seed. */
  override validate(h: ImageHeldOut): Record<string, number> {
    let sum = 0;
    let count = 0;
    inEvalMode(this, () => noGrad(() => {
      const loader = new DataLoader(h.data, { batchSize: 250, shuffle: false, indices: h.indices, mean: h.norm?.mean, std: h.norm?.std, device: this.device });
      let i = 0;
      for (const b of loader) {
        using batch = b;
        const n = batch.x.size(0);
        sum += n * tidy(() => this.reconstruct(batch.x, new Rng(VALIDATE_SEED, i++)).loss.item());
        count += n;
      }
    }));
    return { recon_loss: count ? sum / count : 0 };
  }

  override describe(): Record<string, unknown> {
    return { mae: { ...this.o } };
  }
}

/**
 * A few held-out images as the report shows them (the paper's Fig. 2): the masked input,
 * the reconstruction (the predicted hidden patches, with the visible ones pasted in), and
 * the original. With normPixLoss the predictions are per-patch normalised, so each hidden
 * patch is shown at its original's mean and std: the grid shows the predicted structure,
 * not the brightness, of a hidden patch.
 */
export function maeSamples(model: MaskedAutoencoder, data: ImageDataset, count: number, o: { norm?: Normalization; indices?: ArrayLike<number> } = {}): MaeSample[] {
  const all = Int32Array.from(o.indices ?? Array.from({ length: data.length }, (_, i) => i));
  const indices = all.subarray(0, Math.min(count, all.length));
  if (indices.length === 0) return [];
  const [c, h, w] = data.imageShape;
  const out: MaeSample[] = [];
  inEvalMode(model, () => noGrad(() => {
    const device = model.device;
    const [nb] = [...new DataLoader(data, { batchSize: indices.length, shuffle: false, indices, mean: o.norm?.mean, std: o.norm?.std, device })];
    using batch = nb!;
    const images = tidy(() => {
      const p = model.encoder.patchSize;
      const r = model.reconstruct(batch.x, new Rng(VALIDATE_SEED, 0x5a));
      let pred = r.pred;
      if (model.o.normPixLoss) {
        const mean = r.target.mean(-1, true);
        const std = r.target.var(-1, { unbiased: true, keepdim: true }).add(1e-6).sqrt();
        pred = pred.mul(std).add(mean);
      }
      const shape: [number, number, number] = [c, h, w];
      // 1 on the pixels of the hidden patches, [N, C, H, W].
      const hidden = unpatchify(r.mask.unsqueeze(2).expand(r.pred.shape), p, shape);
      const visible = hidden.neg().add(1);
      const mean = tensor(o.norm?.mean ?? new Array(c).fill(0), { shape: [1, c, 1, 1], device });
      const std = tensor(o.norm?.std ?? new Array(c).fill(1), { shape: [1, c, 1, 1], device });
      const toBytes = (normalised: Tensor): Tensor => normalised.mul(std).add(mean).clamp(0, 1).mul(255).round().to('uint8').cpu();
      const grey = mean.neg().add(0.5).div(std); // mid-grey once un-normalised
      const masked = batch.x.mul(visible).add(hidden.mul(grey));
      const recon = unpatchify(pred, p, shape).mul(hidden).add(batch.x.mul(visible));
      return [toBytes(masked), toBytes(recon), toBytes(batch.x)];
    });
    const [maskedBytes, reconBytes, originalBytes] = images.map((t) => t.data() as Uint8Array) as [Uint8Array, Uint8Array, Uint8Array];
    const per = c * h * w;
    for (let i = 0; i < indices.length; i++) {
      const cut = (b: Uint8Array): Uint8Array => b.slice(i * per, (i + 1) * per);
      out.push({ width: w, height: h, channels: c as 1 | 3, masked: cut(maskedBytes), reconstruction: cut(reconBytes), original: cut(originalBytes) });
    }
    for (const t of images) t.dispose();
  }));
  return out;
}
