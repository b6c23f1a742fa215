// MoCo v2 (He et al. 2019, https://arxiv.org/abs/1911.05722; Chen, Fan, Girshick & He
// 2020, https://arxiv.org/abs/2003.04297): a query encoder trained by InfoNCE against
// the key of the other view and a queue of keys from earlier batches, made by a
// momentum copy of the encoder. Paper: queue 65,536, momentum 0.999, T = 0.2, MLP head
// 2048-128. Here: queue 4,096 (the pool is 60k images, and older keys go stale in short
// runs) and momentum 0.99, since 0.999 barely moves the key encoder in a few thousand
// steps. One process, so no shuffled BN: the keys' BN sees the key batch only.
import { gatherNoGrad } from '../../distributed/default-group.js';
import { noGrad, tidy, F, randn, zeros, type Tensor } from '../../tensor/index.js';
import type { Backbone } from '../../models/index.js';
import type { Sequential } from '../../nn/index.js';
import type { StepContext, StepOutput } from '../../train/trainer.js';
import { infoNceLoss } from '../losses/index.js';
import { simclrViews } from '../transforms/index.js';
import { mocoProjectionHead } from '../heads.js';
import { frozenCopy, emaUpdate_ } from '../momentum.js';
import type { MethodContext, ViewBatch } from '../method.js';
import { JointEmbedding, viewOptions } from './joint-embedding.js';

export const MOCO_DEFAULTS = { temperature: 0.2, hiddenDim: 512, projectionDim: 128, queueSize: 4096, momentum: 0.99, minScale: 0.2 };
export type MocoOptions = Partial<typeof MOCO_DEFAULTS>;

export class MoCo extends JointEmbedding {
  readonly name = 'moco';
  readonly projector: Sequential;
  readonly keyEncoder: Backbone;
  readonly keyProjector: Sequential;
  /** Keys of earlier batches, l2-normalised, [queueSize, projectionDim]; saved with the weights. */
  readonly queue: Tensor;
  /** Where the next keys go in the queue (int64 [1]). */
  readonly queueHead: Tensor;
  readonly o: typeof MOCO_DEFAULTS;
  #pendingKeys: Tensor | null = null;

  constructor(encoder: Backbone, ctx: MethodContext, options: MocoOptions = {}) {
    const o = { ...MOCO_DEFAULTS, ...options };
    super(encoder, simclrViews({ ...viewOptions(ctx), minScale: o.minScale }));
    this.o = o;
    this.projector = this.registerModule('projector', mocoProjectionHead(encoder.embedDim, o.hiddenDim, o.projectionDim));
    this.keyEncoder = this.registerModule('keyEncoder', frozenCopy(encoder, encoder.cloneArchitecture()));
    this.keyProjector = this.registerModule('keyProjector', frozenCopy(this.projector, mocoProjectionHead(encoder.embedDim, o.hiddenDim, o.projectionDim)));
    // In a scope: the unnormalised draw is freed, only the queue stays.
    this.queue = this.registerBuffer('queue', noGrad(() => tidy(() => F.normalize(randn([o.queueSize, o.projectionDim]), 1))));
    this.queueHead = this.registerBuffer('queueHead', zeros([1], { dtype: 'int64' }));
  }

  trainingStep(batch: ViewBatch): StepOutput {
    const [v0, v1] = this.makeViews(batch);
    const [h0] = this.embedViews([v0!]);
    const [q] = this.through(this.projector, [h0!]);
    const k = noGrad(() => tidy(() => F.normalize(this.keyProjector.forward(this.keyEncoder.embed(v1!)), 1)));
    // The queue changes only after backward (in afterStep): the loss's graph holds it.
    this.#pendingKeys = k;
    const loss = infoNceLoss(q!, k, this.queue, { temperature: this.o.temperature });
    return { loss, count: h0!.shape[0]!, logs: this.spreadLog(h0!) };
  }

  override afterStep(_ctx: StepContext): void {
    emaUpdate_(this.keyEncoder, this.encoder, this.o.momentum);
    emaUpdate_(this.keyProjector, this.projector, this.o.momentum);
    const keys = this.#pendingKeys;
    this.#pendingKeys = null;
    // Data-parallel: every rank enqueues every rank's keys, so the queues stay identical.
    if (keys) this.enqueue(gatherNoGrad(keys));
  }

  /** Writes `keys` over the oldest entries of the queue (wrapping around). */
  private enqueue(keys: Tensor): void {
    const size = this.o.queueSize;
    let head = Number(this.queueHead.item());
    noGrad(() => tidy(() => {
      let start = 0;
      let left = Math.min(keys.shape[0]!, size);
      while (left > 0) {
        const n = Math.min(left, size - head);
        this.queue.narrow(0, head, n).copy_(keys.narrow(0, start, n));
        head = (head + n) % size;
        start += n;
        left -= n;
      }
      this.queueHead.fill_(head);
    }));
  }
}
