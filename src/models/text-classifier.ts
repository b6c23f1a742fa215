// Text classifiers: a linear model on one-hot bags of words (the from-scratch
// baseline) and a pretrained text encoder with a linear head (fine-tuning).
import { Tensor, F, tidy, zeros } from '../tensor/index.js';
import { Module, Linear } from '../nn/index.js';
import type { TransformerTextEncoder } from './text-transformer.js';

/** A linear classifier over binary bags of words: the scores are a sum of one weight row per distinct word. */
export class BagOfWordsClassifier extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly vocabSize: number, readonly numClasses: number) {
    super();
    this.weight = this.registerParameter('weight', zeros([vocabSize, numClasses]));
    this.bias = this.registerParameter('bias', zeros([numClasses]));
  }

  /** Distinct word ids per document [B, L], padded with 0 (the unknown word, which carries no weight). */
  forward(ids: Tensor): Tensor {
    return tidy(() => F.embeddingBag(this.weight, ids, 'sum', 0).add(this.bias));
  }
}

/**
 * A pretrained encoder with a linear head on its mean-pooled output, or with
 * `allLayers` on the pooled embedding and every layer's output side by side.
 */
export class TextClassifier extends Module {
  readonly encoder: TransformerTextEncoder;
  readonly head: Linear;
  readonly allLayers: boolean;

  constructor(encoder: TransformerTextEncoder, numClasses: number, o: { allLayers?: boolean } = {}) {
    super();
    this.allLayers = o.allLayers ?? false;
    this.encoder = this.registerModule('encoder', encoder);
    const features = encoder.config.dModel * (this.allLayers ? encoder.config.layers + 1 : 1);
    this.head = this.registerModule('head', new Linear(features, numClasses));
  }

  forward(ids: Tensor): Tensor {
    return tidy(() => this.head.forward(this.encoder.pool(ids, { allLayers: this.allLayers })));
  }
}
