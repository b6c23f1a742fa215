// SimCLR (Chen, Kornblith, Norouzi & Hinton 2020, https://arxiv.org/abs/2002.05709):
// two augmented views of every image, an MLP projection head, and NT-Xent, which
// treats the other 2N-2 views of the batch as negatives.
// Paper: ResNet-50, 2048-2048-128 head, batch 4096, LARS, T = 0.1-0.5 (0.5 at batch 256...4096
// with many epochs). Here: a 512-wide head on a 128-d small CNN and T = 0.2, since short
// runs with batches of a few hundred learn faster at a lower temperature.
import type { Backbone } from '../../models/index.js';
import type { StepOutput } from '../../train/trainer.js';
import { ntXentLoss } from '../losses/index.js';
import { simclrViews } from '../transforms/index.js';
import { simclrProjectionHead } from '../heads.js';
import type { Sequential } from '../../nn/index.js';
import type { MethodContext, ViewBatch } from '../method.js';
import { JointEmbedding, viewOptions } from './joint-embedding.js';

/** blurP 0: SimCLR used no blur on CIFAR-10's 32x32 images, and 28x28 ones have even less detail to spare. */
export const SIMCLR_DEFAULTS = { temperature: 0.2, hiddenDim: 512, projectionDim: 128, minScale: 0.2, blurP: 0, jitterStrength: 0.5 };
export type SimClrOptions = Partial<typeof SIMCLR_DEFAULTS>;

export class SimCLR extends JointEmbedding {
  readonly name = 'simclr';
  readonly projector: Sequential;
  readonly temperature: number;

  constructor(encoder: Backbone, ctx: MethodContext, options: SimClrOptions = {}) {
    const o = { ...SIMCLR_DEFAULTS, ...options };
    super(encoder, simclrViews({ ...viewOptions(ctx), minScale: o.minScale, blurP: o.blurP, jitterStrength: o.jitterStrength }));
    this.projector = this.registerModule('projector', simclrProjectionHead(encoder.embedDim, o.hiddenDim, o.projectionDim));
    this.temperature = o.temperature;
  }

  trainingStep(batch: ViewBatch): StepOutput {
    const [h0, h1] = this.embedViews(this.makeViews(batch));
    const [z0, z1] = this.through(this.projector, [h0!, h1!]);
    const loss = ntXentLoss(z0!, z1!, { temperature: this.temperature, gatherDistributed: true });
    return { loss, count: 2 * h0!.shape[0]!, logs: this.spreadLog(h0!) };
  }
}

