// BYOL (Grill et al. 2020, https://arxiv.org/abs/2006.07733): an online network
// (encoder, projector, predictor) predicts a momentum target's projection of the other
// view; no negatives. The target's momentum rises from `baseMomentum` to 1 along a
// cosine. Paper: 4096-256 heads, base momentum 0.996 over ~1000 epochs, asymmetric
// blur/solarize views. Here: 1024-128 heads for a 128-d encoder and base momentum 0.99,
// since a target that moves at 0.996 hardly changes in a few thousand steps.
import { noGrad, tidy } from '../../tensor/index.js';
import type { Backbone } from '../../models/index.js';
import type { Sequential } from '../../nn/index.js';
import type { StepContext, StepOutput } from '../../train/trainer.js';
import { negativeCosineSimilarity } from '../losses/index.js';
import { byolViews } from '../transforms/index.js';
import { byolHead } from '../heads.js';
import { frozenCopy, emaUpdate_, cosineMomentum } from '../momentum.js';
import type { MethodContext, ViewBatch } from '../method.js';
import { JointEmbedding, viewOptions } from './joint-embedding.js';

export const BYOL_DEFAULTS = { hiddenDim: 1024, projectionDim: 128, baseMomentum: 0.99, minScale: 0.2 };
export type ByolOptions = Partial<typeof BYOL_DEFAULTS>;

export class BYOL extends JointEmbedding {
  readonly name = 'byol';
  readonly projector: Sequential;
  readonly predictor: Sequential;
  readonly targetEncoder: Backbone;
  readonly targetProjector: Sequential;
  readonly o: typeof BYOL_DEFAULTS;

  constructor(encoder: Backbone, ctx: MethodContext, options: ByolOptions = {}) {
    const o = { ...BYOL_DEFAULTS, ...options };
    super(encoder, byolViews({ ...viewOptions(ctx), scale: [o.minScale, 1] }));
    this.o = o;
    this.projector = this.registerModule('projector', byolHead(encoder.embedDim, o.hiddenDim, o.projectionDim));
    this.predictor = this.registerModule('predictor', byolHead(o.projectionDim, o.hiddenDim, o.projectionDim));
    this.targetEncoder = this.registerModule('targetEncoder', frozenCopy(encoder, encoder.cloneArchitecture()));
    this.targetProjector = this.registerModule('targetProjector', frozenCopy(this.projector, byolHead(encoder.embedDim, o.hiddenDim, o.projectionDim)));
  }

  trainingStep(batch: ViewBatch): StepOutput {
    const views = this.makeViews(batch);
    const [h0, h1] = this.embedViews(views);
    const [p0, p1] = this.through(this.predictor, this.through(this.projector, [h0!, h1!]));
    const [t0, t1] = noGrad(() => tidy(() => this.through(this.targetProjector, this.embedViews(views, this.targetEncoder))));
    // Symmetrised: each view's prediction of the target's projection of the other view.
    const loss = negativeCosineSimilarity(p0!, t1!).add(negativeCosineSimilarity(p1!, t0!)).mul(0.5);
    return { loss, count: 2 * h0!.shape[0]!, logs: this.spreadLog(h0!) };
  }

  override afterStep(ctx: StepContext): void {
    const m = cosineMomentum(ctx.step + 1, ctx.totalSteps, this.o.baseMomentum);
    emaUpdate_(this.targetEncoder, this.encoder, m);
    emaUpdate_(this.targetProjector, this.projector, m);
  }
}
