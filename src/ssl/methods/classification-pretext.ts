// The classification-pretext family: a transform turns images into (input, label)
// pairs that need no human labels (rotations, jigsaw permutations, patch positions),
// and a head on the encoder's pooled features learns to predict the label.
import { F, tidy, type Tensor } from '../../tensor/index.js';
import type { Module } from '../../nn/index.js';
import type { Backbone } from '../../models/index.js';
import type { StepOutput } from '../../train/trainer.js';
import { SslMethod, type ViewBatch } from '../method.js';

export abstract class ClassificationPretext extends SslMethod {
  readonly family = 'classification-pretext' as const;
  readonly head: Module;

  /** `head` maps the pooled features of `block` (default: the encoder's last) to the pretext's classes. */
  constructor(encoder: Backbone, head: Module, readonly block?: string) {
    super(encoder);
    this.head = this.registerModule('head', head);
  }

  /** The pretext's inputs and their int64 labels, on the batch's device. */
  abstract pretextBatch(x: Tensor, batch: ViewBatch): { x: Tensor; y: Tensor };

  /** Class scores of the pretext for already-transformed inputs. */
  override forward(x: Tensor): Tensor {
    return tidy(() => this.head.forward(this.encoder.features(x, this.block)));
  }

  trainingStep(batch: ViewBatch): StepOutput {
    const { x, y } = this.pretextBatch(batch.x, batch);
    const logits = this.forward(x);
    return { loss: F.crossEntropy(logits, y), correct: logits.argmax(1).eq(y).sum(), count: y.shape[0]! };
  }
}
