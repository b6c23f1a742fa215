// SimSiam (Chen & He 2021, https://arxiv.org/abs/2011.10566): BYOL without the
// momentum target; a predictor and a stop-gradient on the other branch are enough to
// avoid collapse. Paper: 3-layer 2048 projector with BN at the end, 2048-512-2048
// predictor, SGD. Here: 512-wide projector and a 128 bottleneck for a 128-d encoder.
import type { Backbone } from '../../models/index.js';
import type { Sequential } from '../../nn/index.js';
import type { StepOutput } from '../../train/trainer.js';
import { negativeCosineSimilarity } from '../losses/index.js';
import { simclrViews } from '../transforms/index.js';
import { simsiamProjectionHead, simsiamPredictionHead } from '../heads.js';
import type { MethodContext, ViewBatch } from '../method.js';
import { JointEmbedding, viewOptions } from './joint-embedding.js';

export const SIMSIAM_DEFAULTS = { projectionDim: 512, bottleneckDim: 128, minScale: 0.2 };
export type SimSiamOptions = Partial<typeof SIMSIAM_DEFAULTS>;

export class SimSiam extends JointEmbedding {
  readonly name = 'simsiam';
  readonly projector: Sequential;
  readonly predictor: Sequential;

  constructor(encoder: Backbone, ctx: MethodContext, options: SimSiamOptions = {}) {
    const o = { ...SIMSIAM_DEFAULTS, ...options };
    super(encoder, simclrViews({ ...viewOptions(ctx), minScale: o.minScale }));
    this.projector = this.registerModule('projector', simsiamProjectionHead(encoder.embedDim, o.projectionDim, o.projectionDim));
    this.predictor = this.registerModule('predictor', simsiamPredictionHead(o.projectionDim, o.bottleneckDim));
  }

  trainingStep(batch: ViewBatch): StepOutput {
    const [h0, h1] = this.embedViews(this.makeViews(batch));
    const [z0, z1] = this.through(this.projector, [h0!, h1!]);
    const [p0, p1] = this.through(this.predictor, [z0!, z1!]);
    const loss = negativeCosineSimilarity(p0!, z1!.detach()).add(negativeCosineSimilarity(p1!, z0!.detach())).mul(0.5);
    return { loss, count: 2 * h0!.shape[0]!, logs: this.spreadLog(h0!) };
  }
}
