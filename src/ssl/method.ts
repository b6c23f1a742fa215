// The shared base of every self-supervised method. A method is a Module that owns an
// encoder and whatever else its pretext needs (heads, momentum copies, queues,
// centres), and says how one batch becomes a loss. `pretrain` (pretrain.ts) runs any
// method on `train.fit`; the registry (registry.ts) makes them by name.
import type { Tensor } from '../tensor/index.js';
import { Module } from '../nn/index.js';
import type { Backbone, Encoder } from '../models/index.js';
import type { Batch, Rng, ImageDataset } from '../data/index.js';
import type { StepContext, StepOutput } from '../train/trainer.js';
import type { Augmentation } from '../train/supervised.js';
import { makeOptimizer, type Optimizer, type OptimizerConfig } from '../optim/index.js';
import type { Normalization } from '../eval/evaluate.js';

/** The families the library serves; a method belongs to one. */
export type MethodFamily = 'classification-pretext' | 'joint-embedding' | 'masked-modelling' | 'context-prediction';

/** A loader batch plus a random stream of its own, seeded by (seed, epoch, step), for the method's views. */
export interface ViewBatch extends Batch {
  rng: Rng;
}

/** What a method needs to know of its data to build its views. */
export interface MethodContext {
  /** [C, H, W] of the images. */
  imageShape: [number, number, number];
  /** Per-channel mean and std of the training images (views normalise with them). */
  norm: Normalization;
  /** Digits and text-like images must not be mirrored. */
  noFlip?: boolean;
}

/** Defaults of a method's pretraining run, kept next to the method. */
export interface PretrainDefaults {
  batchSize: number;
  optimizer: OptimizerConfig;
  /** Loader-side augmentation (methods with views of their own leave it empty). */
  augment: Augmentation;
}

/** What image methods validate on: held-out images and their normalisation. */
export interface ImageHeldOut {
  data: ImageDataset;
  indices?: ArrayLike<number>;
  /** The loader's normalisation (none when pretraining had none). */
  norm?: Normalization;
}

/**
 * B: what a batch is (images with an Rng for their views, or token ids); H: what `validate`
 * takes; E: the encoder (an image Backbone, or a text encoder).
 */
export abstract class SslMethod<B extends Disposable = ViewBatch, H = ImageHeldOut, E extends Encoder = Backbone> extends Module {
  /** The registry name, e.g. 'simclr'. */
  abstract readonly name: string;
  abstract readonly family: MethodFamily;
  readonly encoder: E;
  /**
   * True when `trainingStep` wants raw images in [0, 1] (it makes and normalises its own
   * views); false when the loader should crop, flip and normalise (rotation).
   */
  readonly rawInput: boolean = true;

  constructor(encoder: E) {
    super();
    this.encoder = this.registerModule('encoder', encoder);
  }

  /** The loss for one batch. Runs inside a scope (temporaries are freed) with the method in training mode. */
  abstract trainingStep(batch: B, ctx: StepContext): StepOutput;

  /** After each optimizer step, in the same scope: momentum updates, queues, centres. */
  afterStep(_ctx: StepContext): void {}

  /** The optimizer for this method's trainable parameters; override for parameter groups of their own. */
  makeOptimizer(c: OptimizerConfig): Optimizer {
    return makeOptimizer(this, c);
  }

  /** Pretext metrics on held-out images (e.g. rotation accuracy); none by default. */
  validate(_heldOut: H): Record<string, number> {
    return {};
  }

  /** What to record in checkpoints besides the weights (e.g. a jigsaw's permutation set). */
  describe(): Record<string, unknown> {
    return {};
  }

  /**
   * Frees everything but the encoder and hands the encoder over; the method cannot
   * train afterwards. The caller owns (and disposes) the encoder.
   */
  takeEncoder(): E {
    for (const [, child] of this.namedChildren()) if (child !== this.encoder) child.dispose();
    for (const [name, t] of [...this.namedParameters(), ...this.namedBuffers()]) if (!name.includes('.')) t.dispose();
    return this.encoder;
  }

  /** The encoder's pooled embedding, [N, embedDim]. */
  embed(x: Tensor): Tensor {
    return this.encoder.embed(x);
  }

  /** Without a head of its own a method's forward is its encoder's embedding. */
  forward(x: Tensor): Tensor {
    return this.encoder.embed(x);
  }
}
