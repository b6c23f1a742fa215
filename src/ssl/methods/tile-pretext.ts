// What the jigsaw puzzle (jigsaw.ts) and relative patch location (relative-patch.ts)
// share: both cut jittered tiles from a 3x3 grid (transforms/grid-tiles.ts), pass every
// tile through the one encoder (a siamese network with shared weights), and classify
// the tiles' pooled features, concatenated in the order they were shown, with a small
// head. They differ only in which cells they cut, in what order, and what the label is.
//
// Geometry on 28x28 images (Fashion-MNIST, the SmallCnn): the batch is first resized
// to `imageSize` (bilinear), then cut. Resizing the image up and cutting (rather than
// cutting 7-9 px tiles at the native scale) is what lets a tile reach the encoder's
// deeper blocks at all: the SmallCnn halves the size twice, so a native 8-px tile ends
// as a 2x2 map whose block-3 receptive field (24 px) is mostly zero padding. At 64 px
// (x2.3) a tile of 14-16 px is a 4x4 map whose receptive field covers the whole tile,
// close to what the encoder sees of a 28x28 image downstream (a 7x7 map, 24-px field);
// at 84 px (x3) tiles of 22-24 px cost about twice as much per image and magnify the
// parts further from the scale at which fine-tuning, probes and kNN see them. Measured
// (2026-12-02, 2 cores shared with other jobs, SmallCnn, jigsaw, 100 steps of 64 images
// of Fashion-MNIST, SGD 0.1): at 64 px 89 images/s, held-out jigsaw accuracy 88.7%,
// monitor kNN 67.0%; at 84 px (22-px tiles) 47 images/s, 90.7%, 66.2%: twice the time
// for no better features. 48 px (12-px tiles) was only 15% faster than 64 in a step
// benchmark: small maps use the cores poorly.
//
// Normalisation: the loader normalises with the data set's mean and std (rawInput
// false, as rotation does), so tiles have the statistics of the images the encoder
// meets downstream; its BN statistics, frozen in block 1 under fine-tuning and in every
// block under the probe and kNN, are then right for them. The jigsaw paper standardises
// each tile on its own, against tiles matching by mean and contrast and against the
// chromatic aberration of colour photographs; grey images have no chromatic cue, and a
// Fashion-MNIST tile's brightness is mostly whether it shows the object (content, not a
// lens artefact), so the data set's normalisation is the default and `tileNorm: 'tile'`
// gives the paper's per-tile standardisation. In the run above it made the puzzle easier
// (93.2%) and the features worse (monitor kNN 60.6% against 67.0%).
import { tidy, noGrad, tensor, type Tensor } from '../../tensor/index.js';
import { Module, Linear, BatchNorm1d, ReLU, Sequential, inEvalMode } from '../../nn/index.js';
import type { Backbone } from '../../models/index.js';
import { DataLoader, Rng } from '../../data/index.js';
import { resizeBatch, gridTiles, standardizeTiles, tileGrid, assembleTiles } from '../transforms/grid-tiles.js';
import { mlpHead } from '../../models/heads.js';
import { ClassificationPretext } from './classification-pretext.js';
import type { ImageHeldOut, ViewBatch } from '../method.js';

export interface TilePretextOptions {
  /** Side the images are resized to before they are cut (pixels). */
  imageSize?: number;
  /** Side of a square tile (pixels of the resized image). */
  tile?: number;
  /** Least distance between neighbouring tiles (pixels of the resized image). */
  gap?: number;
  /** 'dataset': the loader's normalisation only (default); 'tile': each tile standardised on its own (the jigsaw paper's). */
  tileNorm?: 'dataset' | 'tile';
  /** 'mlp' (default): per-tile fc, concatenation, one hidden layer; 'linear': one linear layer on the concatenated features. */
  head?: 'mlp' | 'linear';
  /** Width of the per-tile fc layer (the papers' fc6). */
  tileDim?: number;
  /** Width of the hidden layer over the concatenation (the papers' fc7). */
  hiddenDim?: number;
}

export type ResolvedTileOptions = Required<TilePretextOptions>;

/** Held-out puzzles are drawn from this seed (and the batch's position), so validation repeats. */
const VALIDATION_SEED = 0x7e57;

/**
 * The papers' head, scaled down: a shared fc layer per tile (fc6: Linear, BN, ReLU), the
 * tiles' outputs concatenated in their shown order, a hidden layer over the concatenation
 * (fc7) and the classes (fc8). fc6 keeps the concatenation small (9 x 64 instead of
 * 9 x 128 for the SmallCnn); fc7 lets the head compare tiles (which one lies above
 * which), not only score each tile's absolute position, as a linear head on the
 * concatenation would. Widths 64 and 256 stand to the SmallCnn's 128-d features
 * roughly as the papers' 512-4096 stand to AlexNet's.
 */
export class TileHead extends Module {
  readonly perTile: Module | null;
  readonly joint: Module;

  constructor(readonly inDim: number, readonly slots: number, readonly classes: number, o: { head: 'mlp' | 'linear'; tileDim: number; hiddenDim: number }) {
    super();
    for (const [k, v] of [['tileDim', o.tileDim], ['hiddenDim', o.hiddenDim]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`TileHead: ${k} must be a positive integer, got ${String(v)}`);
    }
    if (o.head === 'linear') {
      this.perTile = null;
      this.joint = this.registerModule('joint', new Linear(slots * inDim, classes));
    } else if (o.head === 'mlp') {
      this.perTile = this.registerModule('perTile', new Sequential(new Linear(inDim, o.tileDim, { bias: false }), new BatchNorm1d(o.tileDim), new ReLU()));
      this.joint = this.registerModule('joint', new Sequential(
        new Linear(slots * o.tileDim, o.hiddenDim, { bias: false }), new BatchNorm1d(o.hiddenDim), new ReLU(), new Linear(o.hiddenDim, classes)));
    } else {
      throw new RangeError(`TileHead: head must be 'mlp' or 'linear', got ${JSON.stringify(o.head)}`);
    }
  }

  /** Pooled features of every tile, [B * slots, inDim] (slot fastest), to class scores [B, classes]. */
  forward(f: Tensor): Tensor {
    return tidy(() => {
      const h = this.perTile ? this.perTile.forward(f) : f;
      return this.joint.forward(h.reshape(-1, this.slots * h.shape[1]!));
    });
  }
}

export abstract class TilePretext extends ClassificationPretext {
  override readonly rawInput = false;
  readonly tiles: ResolvedTileOptions;
  /** The held-out metric's name in validate(), e.g. 'jigsaw_acc'. */
  abstract readonly metricName: string;

  /**
   * `grid` x `grid` cells (3 for relative-patch; jigsaw's `grid` option, 2 or 3). `assembled`:
   * the shown tiles go through the encoder as one image (assembleTiles) and the head sees its
   * pooled features (fc7 and the classes, or one linear layer), instead of each tile's.
   */
  constructor(encoder: Backbone, readonly slots: number, readonly classes: number, tiles: ResolvedTileOptions, readonly grid = 3, readonly assembled = false) {
    if (assembled && slots !== grid * grid) throw new RangeError(`tile pretext: only a full grid of tiles can be assembled (${slots} slots on a ${grid}x${grid} grid)`);
    if (!Number.isInteger(tiles.imageSize) || tiles.imageSize < 3) throw new RangeError(`tile pretext: imageSize must be an integer >= 3, got ${String(tiles.imageSize)}`);
    if (tiles.tileNorm !== 'dataset' && tiles.tileNorm !== 'tile') throw new RangeError(`tile pretext: tileNorm must be 'dataset' or 'tile', got ${JSON.stringify(tiles.tileNorm)}`);
    tileGrid(tiles.imageSize, tiles.imageSize, { grid, tile: tiles.tile, gap: tiles.gap }, 'tile pretext');
    super(encoder, !assembled ? new TileHead(encoder.featureDim(), slots, classes, tiles)
      : tiles.head === 'linear' ? new Linear(encoder.featureDim(), classes) : mlpHead(encoder.featureDim(), classes, tiles.hiddenDim));
    this.tiles = { ...tiles };
  }

  /** For each of `batch` images: the cells its slots show (batch x slots, row-major cell numbers) and its label. */
  abstract drawCells(batch: number, rng: Rng): { cells: Int32Array; labels: Int32Array };

  /**
   * Tiles [B, slots, C, tile, tile] of normalised images [B, C, H, W] (assembled: one image
   * [B, C, grid·tile, grid·tile] each) and their int64 labels [B], drawn from `rng`, on x's device.
   */
  puzzles(x: Tensor, rng: Rng): { x: Tensor; y: Tensor } {
    const batch = x.shape[0]!;
    const { cells, labels } = this.drawCells(batch, rng);
    return tidy(() => {
      const resized = resizeBatch(x, this.tiles.imageSize);
      const { tiles } = gridTiles(resized, rng, cells, this.slots, { grid: this.grid, tile: this.tiles.tile, gap: this.tiles.gap });
      const y = tensor(labels, { dtype: 'int64', device: x.device });
      const shown = this.tiles.tileNorm === 'tile' ? standardizeTiles(tiles) : tiles;
      return { x: this.assembled ? assembleTiles(shown, this.grid) : shown, y };
    });
  }

  pretextBatch(x: Tensor, batch: ViewBatch): { x: Tensor; y: Tensor } {
    return this.puzzles(x, batch.rng);
  }

  /** Class scores [B, classes] of tiles [B, slots, C, t, t]: every tile through the shared encoder, then the head (assembled: of images [B, C, H, W]). */
  override forward(x: Tensor): Tensor {
    if (this.assembled) {
      if (x.ndim !== 4) throw new RangeError(`${this.name}: forward takes assembled puzzles [B, C, H, W], got [${x.shape.join(', ')}]`);
      return super.forward(x);
    }
    if (x.ndim !== 5 || x.shape[1] !== this.slots) throw new RangeError(`${this.name}: forward takes tiles [B, ${this.slots}, C, t, t], got [${x.shape.join(', ')}]`);
    return tidy(() => {
      const [b, s, c, h, w] = x.shape as [number, number, number, number, number];
      return this.head.forward(this.encoder.features(x.reshape(b * s, c, h, w), this.block));
    });
  }

  /** Fraction of held-out puzzles solved (one per image; the same puzzles every call). */
  pretextAccuracy(h: ImageHeldOut, batchSize = 250): number {
    let correct = 0;
    let total = 0;
    inEvalMode(this, () => noGrad(() => {
      const loader = new DataLoader(h.data, { batchSize, shuffle: false, indices: h.indices, mean: h.norm?.mean, std: h.norm?.std, device: this.device });
      let i = 0;
      for (const b of loader) {
        using batch = b;
        const rng = new Rng(VALIDATION_SEED, i++);
        correct += tidy(() => {
          const { x, y } = this.puzzles(batch.x, rng);
          return this.forward(x).argmax(1).eq(y).sum().item();
        });
        total += batch.indices.length;
      }
    }));
    return total ? correct / total : 0;
  }

  override validate(h: ImageHeldOut): Record<string, number> {
    return { [this.metricName]: this.pretextAccuracy(h) };
  }

  override describe(): Record<string, unknown> {
    return { tiles: { ...this.tiles, grid: this.grid, slots: this.slots, classes: this.classes, input: this.assembled ? 'assembled' : 'tiles' } };
  }
}
