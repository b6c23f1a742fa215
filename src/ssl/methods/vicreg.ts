// VICReg (Bardes, Ponce & LeCun 2022, https://arxiv.org/abs/2105.04906): invariance
// (MSE between the views' embeddings), variance (a hinge keeps each dimension's std
// near 1) and covariance (off-diagonal covariance pushed to 0), weights 25/25/1.
// Paper: a 3-layer 8192 expander, LARS. Here: a 1024-wide expander for a 128-d encoder.
import type { Backbone } from '../../models/index.js';
import type { Sequential } from '../../nn/index.js';
import type { StepOutput } from '../../train/trainer.js';
import { vicregLoss } from '../losses/index.js';
import { simclrViews } from '../transforms/index.js';
import { expanderHead } from '../heads.js';
import type { MethodContext, ViewBatch } from '../method.js';
import { JointEmbedding, viewOptions } from './joint-embedding.js';

export const VICREG_DEFAULTS = { expanderDim: 1024, invarianceWeight: 25, varianceWeight: 25, covarianceWeight: 1, minScale: 0.2 };
export type VicregOptions = Partial<typeof VICREG_DEFAULTS>;

export class VICReg extends JointEmbedding {
  readonly name = 'vicreg';
  readonly projector: Sequential;
  readonly o: typeof VICREG_DEFAULTS;

  constructor(encoder: Backbone, ctx: MethodContext, options: VicregOptions = {}) {
    const o = { ...VICREG_DEFAULTS, ...options };
    super(encoder, simclrViews({ ...viewOptions(ctx), minScale: o.minScale }));
    this.projector = this.registerModule('projector', expanderHead(encoder.embedDim, o.expanderDim));
    this.o = o;
  }

  trainingStep(batch: ViewBatch): StepOutput {
    const [h0, h1] = this.embedViews(this.makeViews(batch));
    const [z0, z1] = this.through(this.projector, [h0!, h1!]);
    const { invarianceWeight, varianceWeight, covarianceWeight } = this.o;
    return { loss: vicregLoss(z0!, z1!, { invarianceWeight, varianceWeight, covarianceWeight, gatherDistributed: true }), count: 2 * h0!.shape[0]!, logs: this.spreadLog(h0!) };
  }
}
