// Multi-head attention with PyTorch's parameter layout (in_proj_weight, in_proj_bias,
// out_proj.weight, out_proj.bias), so torch.nn.MultiheadAttention weights load unchanged.
import { Tensor, F, empty, tidy, type Device } from '../tensor/index.js';
import { Module } from './module.js';
import { Linear, checkPositive } from './linear.js';
import { constant_, xavierUniform_ } from './init.js';

export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights, in training. */
  dropout?: number;
  bias?: boolean;
  /**
   * Inputs and outputs are [batch, seq, embed] when true (the default here);
   * [seq, batch, embed] when false (PyTorch's default).
   */
  batchFirst?: boolean;
  device?: Device;
}

export interface AttentionMasks {
  /**
   * [batch, srcLen]: bool, true marks a key to ignore (padding); or float, added to the scores.
   */
  keyPaddingMask?: Tensor | null;
  /**
   * [tgtLen, srcLen] or [batch * numHeads, tgtLen, srcLen]: bool, true marks a pair that may not
   * attend; or float, added to the scores (use -Infinity to block).
   */
  attnMask?: Tensor | null;
}

export interface AttendOptions extends AttentionMasks {
  /** Average the returned weights over heads ([batch, tgtLen, srcLen]); else [batch, heads, tgtLen, srcLen]. */
  averageAttnWeights?: boolean;
}

export class MultiheadAttention extends Module {
  readonly inProjWeight: Tensor;
  readonly inProjBias: Tensor | null;
  readonly outProj: Linear;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;

  constructor(readonly embedDim: number, readonly numHeads: number, o: MultiheadAttentionOptions = {}) {
    super();
    checkPositive('MultiheadAttention', { embedDim, numHeads });
    if (embedDim % numHeads) throw new RangeError(`MultiheadAttention: embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`);
    this.headDim = embedDim / numHeads;
    this.dropout = o.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) throw new RangeError(`MultiheadAttention: dropout must be in [0, 1], got ${this.dropout}`);
    this.batchFirst = o.batchFirst ?? true;
    const bias = o.bias ?? true;
    this.inProjWeight = this.registerParameter('in_proj_weight', empty([3 * embedDim, embedDim], { device: o.device }));
    this.inProjBias = bias ? this.registerParameter('in_proj_bias', empty([3 * embedDim], { device: o.device })) : null;
    this.outProj = this.registerModule('out_proj', new Linear(embedDim, embedDim, { bias, device: o.device }));
    this.resetParameters();
  }

  /** PyTorch's initialisation (random draws in the same order as its constructor, after out_proj's). */
  resetParameters(): void {
    xavierUniform_(this.inProjWeight);
    if (this.inProjBias) constant_(this.inProjBias, 0);
    if (this.outProj.bias) constant_(this.outProj.bias, 0);
  }

  /** Attention output for `query` attending to `key`/`value` (self-attention when they are omitted). */
  forward(query: Tensor, key: Tensor = query, value: Tensor = key, masks: AttentionMasks = {}): Tensor {
    const { output, weights } = this.#attend(query, key, value, masks, false, true);
    weights?.dispose();
    return output;
  }

  /** Like forward, but also returns the attention weights (after dropout, as PyTorch does). */
  attend(query: Tensor, key: Tensor, value: Tensor, o: AttendOptions = {}): { output: Tensor; weights: Tensor } {
    const { output, weights } = this.#attend(query, key, value, o, true, o.averageAttnWeights ?? true);
    return { output, weights: weights! };
  }

  #attend(query: Tensor, key: Tensor, value: Tensor, masks: AttentionMasks, needWeights: boolean, average: boolean): { output: Tensor; weights: Tensor | null } {
    return tidy(() => {
      const E = this.embedDim;
      const H = this.numHeads;
      const D = this.headDim;
      const toBatchFirst = (t: Tensor, what: string): Tensor => {
        if (t.ndim !== 3 || t.size(2) !== E) {
          throw new RangeError(`MultiheadAttention: ${what} must be [${this.batchFirst ? 'batch, seq' : 'seq, batch'}, ${E}], got [${t.shape.join(', ')}]`);
        }
        return this.batchFirst ? t : t.transpose(0, 1);
      };
      const q = toBatchFirst(query, 'query');
      const k = toBatchFirst(key, 'key');
      const v = toBatchFirst(value, 'value');
      const [B, L] = q.shape as [number, number];
      const S = k.size(1);
      if (k.size(0) !== B || v.size(0) !== B || v.size(1) !== S) {
        throw new RangeError(`MultiheadAttention: query, key and value disagree on batch or key length: [${query.shape}], [${key.shape}], [${value.shape}]`);
      }

      let qp: Tensor, kp: Tensor, vp: Tensor;
      if (query === key && key === value) {
        [qp, kp, vp] = F.linear(q, this.inProjWeight, this.inProjBias).chunk(3, -1) as [Tensor, Tensor, Tensor];
      } else {
        const proj = (x: Tensor, i: number): Tensor =>
          F.linear(x, this.inProjWeight.slice(0, i * E, (i + 1) * E), this.inProjBias?.slice(0, i * E, (i + 1) * E));
        [qp, kp, vp] = [proj(q, 0), proj(k, 1), proj(v, 2)];
      }
      // [B, len, E] -> [B, H, len, D]
      const heads = (t: Tensor, len: number): Tensor => t.reshape(B, len, H, D).transpose(1, 2);
      const qh = heads(qp, L).div(Math.sqrt(D)); // PyTorch scales the queries before the product
      let scores = qh.matmul(heads(kp, S).transpose(-2, -1)); // [B, H, L, S]

      if (masks.attnMask) {
        const m = masks.attnMask;
        const fits = m.ndim === 2 ? m.size(0) === L && m.size(1) === S : m.ndim === 3 && m.size(0) === B * H && m.size(1) === L && m.size(2) === S;
        if (!fits) throw new RangeError(`MultiheadAttention: attnMask must be [${L}, ${S}] or [${B * H}, ${L}, ${S}], got [${m.shape.join(', ')}]`);
        scores = applyMask(scores, m.ndim === 3 ? m.reshape(B, H, L, S) : m);
      }
      if (masks.keyPaddingMask) {
        const m = masks.keyPaddingMask;
        if (m.ndim !== 2 || m.size(0) !== B || m.size(1) !== S) {
          throw new RangeError(`MultiheadAttention: keyPaddingMask must be [${B}, ${S}], got [${m.shape.join(', ')}]`);
        }
        scores = applyMask(scores, m.reshape(B, 1, 1, S));
      }
      let attn = scores.softmax(-1);
      if (this.training && this.dropout > 0) attn = F.dropout(attn, this.dropout, true);
      const merged = attn.matmul(heads(vp, S)).transpose(1, 2).reshape(B, L, E);
      const out = this.outProj.forward(merged);
      const output = this.batchFirst ? out : out.transpose(0, 1);
      const weights = needWeights ? (average ? attn.sum(1).div(H) : attn) : null;
      return { output, weights };
    });
  }

  protected override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}, dropout=${this.dropout}, batchFirst=${this.batchFirst}`;
  }
}

/** Blocks positions where a bool mask is true, or adds a float mask. */
function applyMask(scores: Tensor, mask: Tensor): Tensor {
  if (mask.dtype === 'bool' || mask.dtype === 'uint8') {
    const b = mask.dtype === 'bool' ? mask : mask.bool();
    return scores.maskedFill(b, -Infinity);
  }
  return scores.add(mask);
}
