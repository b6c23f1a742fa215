// The joint-embedding family: two (or more) random views of each input go through the
// encoder and a head, and a loss pulls the views of one input together while
// something (negatives, a momentum target, a predictor, variance terms) keeps the
// embeddings from collapsing to a point. Views are made here, on the batch's device,
// from the batch's own Rng, so a resumed run sees the same views.
import { cat, tidy, F, type Tensor } from '../../tensor/index.js';
import type { Backbone, Encoder } from '../../models/index.js';
import type { Module } from '../../nn/index.js';
import type { MultiViewTransform } from '../transforms/index.js';
import { SslMethod, type ImageHeldOut, type MethodContext, type ViewBatch } from '../method.js';

/**
 * What the family shares across modalities: two views in one encoder pass, heads applied
 * the same way, and the collapse monitor. Images (JointEmbedding below) make their views
 * by augmentation; text (SimCSE) gets its second view from dropout.
 */
export abstract class JointEmbeddingBase<B extends Disposable, H, E extends Encoder> extends SslMethod<B, H, E> {
  readonly family = 'joint-embedding' as const;

  /**
   * Encoder embeddings of same-sized views in one forward pass (one large batch runs
   * faster than several small ones; BatchNorm then sees both views, as in SimCLR's
   * reference code), split back per view.
   */
  embedViews(views: Tensor[], encoder: E = this.encoder): Tensor[] {
    return inOnePass((x) => encoder.embed(x), views);
  }

  /** `module` applied to same-sized tensors in one pass (one BatchNorm batch), split back. */
  through(module: Module, xs: Tensor[]): Tensor[] {
    return inOnePass((x) => module.forward(x), xs);
  }

  /** The collapse monitor on the training batch: spread of l2-normalised embeddings (0 means collapse). */
  spreadLog(h: Tensor): Record<string, Tensor> {
    return { embedding_std: tidy(() => F.normalize(h.detach(), 1).std(0).mean()) };
  }
}

/** The image methods of the family: views made from each batch's images and Rng. */
export abstract class JointEmbedding extends JointEmbeddingBase<ViewBatch, ImageHeldOut, Backbone> {
  override readonly rawInput = true;

  constructor(encoder: Backbone, readonly views: MultiViewTransform) {
    super(encoder);
  }

  /** The batch's views, each [B, C, h, w], normalised. */
  makeViews(batch: ViewBatch): Tensor[] {
    return this.views.views(batch.x, batch.rng);
  }
}

/** `fn` on the tensors stacked along the batch, its output split back the same way. */
function inOnePass(fn: (x: Tensor) => Tensor, xs: Tensor[]): Tensor[] {
  const n = xs[0]!.shape[0]!;
  const out = fn(xs.length === 1 ? xs[0]! : cat(xs, 0));
  return xs.map((_, i) => out.narrow(0, i * n, n));
}

/** The view presets' common options for the method's data: output size, channels, normalisation, and flips unless the data forbids them. */
export function viewOptions(ctx: MethodContext): { size: [number, number]; channels: number; mean: number[]; std: number[]; flipP: number } {
  const [channels, h, w] = ctx.imageShape;
  return { size: [h, w], channels, mean: ctx.norm.mean, std: ctx.norm.std, flipP: ctx.noFlip ? 0 : 0.5 };
}
