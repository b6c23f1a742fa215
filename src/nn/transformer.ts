// A transformer encoder layer with torch.nn.TransformerEncoderLayer's structure and
// child names (self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2),
// so its state dict loads unchanged.
import { Tensor, F, tidy, type Device } from '../tensor/index.js';
import { Module } from './module.js';
import { Linear } from './linear.js';
import { LayerNorm } from './layernorm.js';
import { Dropout } from './dropout.js';
import { MultiheadAttention, type AttentionMasks } from './attention.js';

export interface TransformerEncoderLayerOptions {
  dimFeedforward?: number;
  dropout?: number;
  activation?: 'relu' | 'gelu';
  layerNormEps?: number;
  /** [batch, seq, dModel] inputs when true (the default here; PyTorch's default is false). */
  batchFirst?: boolean;
  /** Pre-norm (LayerNorm before attention and feedforward) instead of post-norm. */
  normFirst?: boolean;
  device?: Device;
}

export interface EncoderMasks {
  /** Attention mask, as MultiheadAttention's attnMask. */
  mask?: Tensor | null;
  /** [batch, seq], true marks padding. */
  keyPaddingMask?: Tensor | null;
}

export class TransformerEncoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly activation: 'relu' | 'gelu';
  readonly normFirst: boolean;

  constructor(readonly dModel: number, readonly nhead: number, o: TransformerEncoderLayerOptions = {}) {
    super();
    const p = o.dropout ?? 0.1;
    const ff = o.dimFeedforward ?? 2048;
    const eps = o.layerNormEps ?? 1e-5;
    const device = o.device;
    this.activation = o.activation ?? 'relu';
    if (this.activation !== 'relu' && this.activation !== 'gelu') {
      throw new TypeError(`TransformerEncoderLayer: activation must be 'relu' or 'gelu', got '${String(this.activation)}'`);
    }
    this.normFirst = o.normFirst ?? false;
    // Registration order matches PyTorch's, which also fixes the order of random initialisation.
    this.selfAttn = this.registerModule('self_attn', new MultiheadAttention(dModel, nhead, { dropout: p, batchFirst: o.batchFirst ?? true, device }));
    this.linear1 = this.registerModule('linear1', new Linear(dModel, ff, { device }));
    this.dropout = this.registerModule('dropout', new Dropout(p));
    this.linear2 = this.registerModule('linear2', new Linear(ff, dModel, { device }));
    this.norm1 = this.registerModule('norm1', new LayerNorm(dModel, { eps, device }));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dModel, { eps, device }));
    this.dropout1 = this.registerModule('dropout1', new Dropout(p));
    this.dropout2 = this.registerModule('dropout2', new Dropout(p));
  }

  forward(src: Tensor, masks: EncoderMasks = {}): Tensor {
    return tidy(() => {
      const attnMasks: AttentionMasks = { attnMask: masks.mask ?? null, keyPaddingMask: masks.keyPaddingMask ?? null };
      const selfAttention = (x: Tensor): Tensor => this.dropout1.forward(this.selfAttn.forward(x, x, x, attnMasks));
      const feedForward = (x: Tensor): Tensor => {
        const h = this.linear1.forward(x);
        const a = this.activation === 'relu' ? F.relu(h) : F.gelu(h);
        return this.dropout2.forward(this.linear2.forward(this.dropout.forward(a)));
      };
      if (this.normFirst) {
        const x = src.add(selfAttention(this.norm1.forward(src)));
        return x.add(feedForward(this.norm2.forward(x)));
      }
      const x = this.norm1.forward(src.add(selfAttention(src)));
      return this.norm2.forward(x.add(feedForward(x)));
    });
  }

  protected override extraRepr(): string {
    return `dModel=${this.dModel}, nhead=${this.nhead}, activation=${this.activation}, normFirst=${this.normFirst}`;
  }
}
