// Barlow Twins (Zbontar, Jing, Misra, LeCun & Deny 2021, https://arxiv.org/abs/2103.03230):
// the cross-correlation of the two views' embeddings, standardised over the batch, is
// pushed toward the identity. Paper: a 3-layer 8192 expander, lambda 5e-3, LARS.
// Here: a 1024-wide expander for a 128-d encoder (the loss's redundancy term then has
// 64x fewer entries; lambda stays the paper's, whose authors found it robust).
import type { Backbone } from '../../models/index.js';
import type { Sequential } from '../../nn/index.js';
import type { StepOutput } from '../../train/trainer.js';
import { barlowTwinsLoss } from '../losses/index.js';
import { simclrViews } from '../transforms/index.js';
import { expanderHead } from '../heads.js';
import type { MethodContext, ViewBatch } from '../method.js';
import { JointEmbedding, viewOptions } from './joint-embedding.js';

export const BARLOW_TWINS_DEFAULTS = { expanderDim: 1024, lambda: 5e-3, minScale: 0.2 };
export type BarlowTwinsOptions = Partial<typeof BARLOW_TWINS_DEFAULTS>;

export class BarlowTwins extends JointEmbedding {
  readonly name = 'barlow-twins';
  readonly projector: Sequential;
  readonly lambda: number;

  constructor(encoder: Backbone, ctx: MethodContext, options: BarlowTwinsOptions = {}) {
    const o = { ...BARLOW_TWINS_DEFAULTS, ...options };
    super(encoder, simclrViews({ ...viewOptions(ctx), minScale: o.minScale }));
    this.projector = this.registerModule('projector', expanderHead(encoder.embedDim, o.expanderDim));
    this.lambda = o.lambda;
  }

  trainingStep(batch: ViewBatch): StepOutput {
    const [h0, h1] = this.embedViews(this.makeViews(batch));
    const [z0, z1] = this.through(this.projector, [h0!, h1!]);
    return { loss: barlowTwinsLoss(z0!, z1!, { lambda: this.lambda, gatherDistributed: true }), count: 2 * h0!.shape[0]!, logs: this.spreadLog(h0!) };
  }
}
