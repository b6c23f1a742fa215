// A backbone is an encoder made of named blocks ('block1', 'block2', ...), so any
// block can be frozen by name and its features tapped for a probe.
import { Tensor, tidy, F } from '../tensor/index.js';
import { Module, Sequential } from '../nn/index.js';
import type { Encoder } from './encoder.js';
import type { Normalization } from '../eval/evaluate.js';

export abstract class Backbone extends Module implements Encoder {
  /** Block names in order. */
  readonly blockNames: string[] = [];
  /** Channels each block puts out, in order. */
  readonly blockChannels: number[] = [];
  readonly #blocks: Module[] = [];
  /** The block whose pooled features `embed` returns (default: the last). */
  embedBlock: string | undefined = undefined;
  /** The input normalisation it was trained with (see Encoder.inputNorm); null until known. */
  inputNorm: Normalization | null = null;

  /** `options` are the subclass constructor's, kept so that `cloneArchitecture` can build a twin. */
  constructor(protected readonly options: object = {}) {
    super();
  }

  /** Width of `embed`'s output. */
  get embedDim(): number {
    return this.featureDim(this.embedBlock);
  }

  /** The pooled features of `embedBlock`, [N, embedDim]: what every method and protocol uses. */
  embed(x: Tensor): Tensor {
    return this.features(x, this.embedBlock);
  }

  /**
   * A new backbone of the same class and options, with freshly drawn weights on the CPU
   * (load a state dict into it for a copy). Momentum encoders are made this way.
   */
  cloneArchitecture(): Backbone {
    const make = this.constructor as new (o: object) => Backbone;
    const twin = new make(this.options);
    twin.embedBlock = this.embedBlock;
    twin.inputNorm = this.inputNorm;
    return twin;
  }

  protected addBlock(name: string, block: Module, channels: number): void {
    this.#blocks.push(this.registerModule(name, block));
    this.blockNames.push(name);
    this.blockChannels.push(channels);
  }

  /** Width of the pooled feature vector after `block` (default: the last). */
  featureDim(block?: string): number {
    return this.blockChannels[this.blockIndex(block)]!;
  }

  blockIndex(block?: string): number {
    if (block === undefined) return this.#blocks.length - 1;
    const i = this.blockNames.indexOf(block);
    if (i < 0) throw new RangeError(`${this.constructor.name}: no block '${block}'; blocks are ${this.blockNames.join(', ')}`);
    return i;
  }

  /** The feature map after `block` (default: the last), [N, C, H, W]. */
  featureMap(x: Tensor, block?: string): Tensor {
    const last = this.blockIndex(block);
    return tidy(() => {
      let h = x;
      for (let i = 0; i <= last; i++) h = this.#blocks[i]!.forward(h);
      return h;
    });
  }

  /** Globally average-pooled features after `block`, [N, C]. */
  features(x: Tensor, block?: string): Tensor {
    return tidy(() => F.adaptiveAvgPool2d(this.featureMap(x, block), 1).flatten(1));
  }

  /** The pooled features of the last block, [N, featureDim()]. */
  forward(x: Tensor): Tensor {
    return this.features(x);
  }
}

export function sequential(...layers: Module[]): Sequential {
  return new Sequential(...layers);
}
