// Backbones (encoders made of named blocks), heads, and the encoder+head classifier.
import { checkDevice } from '../tensor/index.js';
import { Backbone } from './backbone.js';
import { SmallCnn } from './small-cnn.js';
import { NetworkInNetwork } from './nin.js';
import { ResNet18 } from './resnet.js';
import { VisionTransformer } from './vit.js';

export { Backbone, SmallCnn, NetworkInNetwork, ResNet18, VisionTransformer };
export { PatchEmbedding, VIT_DEFAULTS, patchify, unpatchify, isVisionTransformer, vitLayer } from './vit.js';
export { linearHead, mlpHead, Classifier } from './heads.js';
export type { Encoder } from './encoder.js';
export type { SmallCnnOptions } from './small-cnn.js';
export type { NinOptions } from './nin.js';
export type { ResNetOptions } from './resnet.js';
export type { VitOptions } from './vit.js';

export type BackboneName = 'small-cnn' | 'nin' | 'resnet18' | 'vit-tiny';
export const BACKBONES: BackboneName[] = ['small-cnn', 'nin', 'resnet18', 'vit-tiny'];

export interface CreateBackboneOptions {
  inChannels: number;
  /** Channel width of the first block (CNNs), or the token width (vit-tiny). */
  width?: number;
  /** Blocks (nin), or transformer layers (vit-tiny). */
  blocks?: number;
  /** [H, W] of the input images: the ViT's positional embeddings are made for it (default 32x32); the CNNs take any size. */
  imageSize?: [number, number];
  device?: string;
}

/**
 * Makes a backbone by name, for the CLI and configs. The weights are drawn on the CPU
 * (so a seed gives the same network whatever the device), then moved to `device`.
 */
export function createBackbone(name: BackboneName, opts: CreateBackboneOptions): Backbone {
  const device = checkDevice(opts.device, 'createBackbone');
  const backbone = makeBackbone(name, opts);
  return device === 'cpu' ? backbone : backbone.to(device);
}

function makeBackbone(name: BackboneName, opts: CreateBackboneOptions): Backbone {
  switch (name) {
    case 'small-cnn': {
      const w = opts.width ?? 32;
      return new SmallCnn({ inChannels: opts.inChannels, widths: [w, 2 * w, 4 * w] });
    }
    case 'nin': return new NetworkInNetwork({ inChannels: opts.inChannels, width: opts.width, blocks: opts.blocks });
    case 'resnet18': return new ResNet18({ inChannels: opts.inChannels, width: opts.width });
    case 'vit-tiny': return new VisionTransformer({ inChannels: opts.inChannels, width: opts.width, depth: opts.blocks, imageSize: opts.imageSize });
    default: throw new RangeError(`unknown backbone '${String(name)}'; choose one of ${BACKBONES.join(', ')}`);
  }
}
