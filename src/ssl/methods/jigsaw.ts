// The jigsaw puzzle (Noroozi & Favaro, ECCV 2016, "Unsupervised Learning of Visual
// Representations by Solving Jigsaw Puzzles", https://arxiv.org/abs/1603.09246): the
// image is cut into a 3x3 grid of cells, one jittered tile smaller than its cell is cut
// from each (transforms/grid-tiles.ts: a gap and a random offset, so no edge lines up
// with its neighbour's), the nine tiles are shown in one of N orders, and a network
// whose nine branches share the encoder's weights says which order it was. The N
// orders are the paper's maximal-Hamming-distance set (permutations.ts), fixed by
// `permutations` and `permutationSeed`.
//
// Geometry and normalisation (tile-pretext.ts): the 28x28 images are resized to 64x64
// (cells of 21 px) and each tile is 16 px with at least 2 px between neighbours (their
// distance varies over 2-8 px, mean 5). The paper cuts 64-px tiles from 75-px cells of
// a 225-px crop (85% of the cell, gaps 0-22 px); 16 of 21 px (76%) with a guaranteed gap
// leaves a little more jitter in these small cells. The resize (x2.3) rather than 84x84
// (x3, 22-24 px tiles): about half the time per puzzle and a tile scale closer to the
// 28x28 images the encoder meets downstream.
//
// The set is part of the model: a persistent buffer 'permutations' [N, 9] (int64) is
// saved in every checkpoint and restored by loadStateDict, so a resumed run and a loaded
// checkpoint use the checkpoint's orders whatever seed they were made with (a
// checkpoint with another N does not load: the shapes differ). describe() records the
// set too, with its seed and distances, in the checkpoint's JSON.
import { tensor, type Tensor } from '../../tensor/index.js';
import type { StateDict, LoadStateDictResult } from '../../nn/index.js';
import type { Backbone } from '../../models/index.js';
import type { Rng } from '../../data/index.js';
import { maximalHammingPermutations, pairwiseDistances, type PermutationSet } from '../permutations.js';
import { TilePretext, type TilePretextOptions } from './tile-pretext.js';

export interface JigsawOptions extends TilePretextOptions {
  /** Orders to tell apart, N (default 64; the paper's best was 1000 on ImageNet, 100 its usual). */
  permutations?: number;
  /** Draws the set's first order (default 0). */
  permutationSeed?: number;
}

export const JIGSAW_DEFAULTS: Required<JigsawOptions> = {
  permutations: 64, permutationSeed: 0, imageSize: 64, tile: 16, gap: 2, tileNorm: 'dataset', head: 'mlp', tileDim: 64, hiddenDim: 256,
};

const TILES = 9;

export class JigsawPuzzle extends TilePretext {
  readonly name = 'jigsaw';
  readonly metricName = 'jigsaw_acc';
  /** The orders, [N, 9] int64: row p, slot i shows the tile of cell permutations[p][i]. */
  readonly permutations: Tensor;
  readonly permutationSeed: number;
  /** A JS copy of the buffer (refreshed whenever a state dict is loaded). */
  #table: Uint8Array;

  constructor(encoder: Backbone, o: JigsawOptions = {}) {
    const c = { ...JIGSAW_DEFAULTS, ...o };
    const set = maximalHammingPermutations(TILES, c.permutations, { seed: c.permutationSeed });
    const { permutations: _n, permutationSeed: _s, ...tiles } = c;
    super(encoder, TILES, c.permutations, tiles);
    this.permutationSeed = c.permutationSeed;
    this.#table = set.perms;
    this.permutations = this.registerBuffer('permutations', tensor(Array.from(set.perms), { dtype: 'int64', shape: [set.count, TILES] }));
  }

  /** The set in use (the buffer's: after a checkpoint is loaded, the checkpoint's). */
  permutationSet(): PermutationSet {
    const { min, mean } = pairwiseDistances(this.#table, this.classes, TILES);
    return { tiles: TILES, perms: this.#table.slice(), count: this.classes, seed: this.permutationSeed, minDistance: min, meanDistance: mean };
  }

  drawCells(batch: number, rng: Rng): { cells: Int32Array; labels: Int32Array } {
    const labels = new Int32Array(batch);
    const cells = new Int32Array(batch * TILES);
    for (let b = 0; b < batch; b++) {
      const p = (labels[b] = rng.int(this.classes));
      cells.set(this.#table.subarray(p * TILES, (p + 1) * TILES), b * TILES);
    }
    return { cells, labels };
  }

  override loadStateDict(sd: StateDict | Record<string, Tensor>, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const r = super.loadStateDict(sd, opts);
    const rows = this.permutations.dataNumbers();
    const table = Uint8Array.from(rows);
    for (let p = 0; p < this.classes; p++) {
      const seen = new Set(table.subarray(p * TILES, (p + 1) * TILES));
      if (seen.size !== TILES || [...seen].some((v) => v >= TILES) || rows.slice(p * TILES, (p + 1) * TILES).some((v) => !Number.isInteger(v) || v < 0)) {
        throw new RangeError(`jigsaw: row ${p} of the loaded permutation set is not an order of 0..8: [${rows.slice(p * TILES, (p + 1) * TILES).join(', ')}]`);
      }
    }
    this.#table = table;
    return r;
  }

  override describe(): Record<string, unknown> {
    const s = this.permutationSet();
    const orders = Array.from({ length: s.count }, (_, p) => Array.from(s.perms.subarray(p * TILES, (p + 1) * TILES)));
    return { ...super.describe(), permutationSet: { count: s.count, seed: s.seed, minDistance: s.minDistance, meanDistance: Number(s.meanDistance.toFixed(4)), orders } };
  }
}
