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
// `grid: 2` cuts a 2x2 grid instead (four tiles, at most 4! = 24 orders; all 24 by
// default), which lets the tiles stay near the scale of the whole 28x28 image: with
// imageSize 32, tile 12, gap 2 (cells of 16 px, gaps 2-6) a tile covers 10.5 px of the
// original at x1.14, against 7 px at x2.3 for the 3x3 default. Measured 2026-12-03
// (SmallCnn, 300 steps, Fashion-MNIST k=10; chosen on seeds 5-6, where it fine-tuned to
// 73.0 and 72.7 against rotation's 74.0 and 74.8): seeds 0-4 fine-tune 70.4, probe 67.6,
// kNN 55.6 (the 3x3 default: 68.9, 64.0, 51.3; rotation fine-tunes to 72.2 on the same
// subsets; 1,000 steps: 71.3, 67.2, 55.2), held-out puzzle accuracy 92.5%, and a step is 3-4x cheaper (4 tiles of 12 px
// instead of 9 of 16). Better than the 3x3 default on every protocol, still below
// rotation, so 3x3 stays the default.
//
// `input: 'assembled'` (not in the paper) puts the shown tiles back edge to edge as one
// image, the gaps between cells left out so that no line continues across a seam, and the
// encoder sees it whole: on the 2x2 grid above a 24x24 image, the size, scale and shape of
// the 28x28 images it meets downstream, rather than four 12-px tiles whose deepest maps are
// 3x3. Measured 2026-12-04 (SmallCnn, weight decay 5e-3, Fashion-MNIST k=10, the same
// subsets as rotation): 300 steps fine-tune 72.0, probe 63.9, kNN 53.6 (seeds 0-4); 1,000
// steps (about 100 s on 2 cores, rotation's 300 take 3 minutes) 73.7, 68.2, 57.3 on seeds
// 0-4 and 73.4, 67.7, 57.2 on seeds 5-9, where rotation gives 72.2, 62.0, 49.6 and 73.1,
// 62.5, 51.5: the first jigsaw to fine-tune at or above rotation. It is the experiment's
// `--preset jigsaw` (src/experiment/presets.ts); the paper's tiles stay the default here.
//
// The set is part of the model: a persistent buffer 'permutations' [N, grid²] (int64) is
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
  /** Cells per side: 3 (default, the paper's nine tiles) or 2 (four tiles, at most 4! = 24 orders). */
  grid?: number;
  /** Orders to tell apart, N (default 64, or all 24 on a 2x2 grid; the paper's best was 1000 on ImageNet, 100 its usual). */
  permutations?: number;
  /** Draws the set's first order (default 0). */
  permutationSeed?: number;
  /**
   * 'tiles' (default, the paper's): each tile through the encoder on its own, the head on
   * their features side by side; 'assembled': the shuffled tiles put back edge to edge as one
   * image (the gaps left out), which the encoder sees whole, as it sees images downstream.
   */
  input?: 'tiles' | 'assembled';
}

export const JIGSAW_DEFAULTS: Required<JigsawOptions> = {
  grid: 3, permutations: 64, permutationSeed: 0, input: 'tiles', imageSize: 64, tile: 16, gap: 2, tileNorm: 'dataset', head: 'mlp', tileDim: 64, hiddenDim: 256,
};

/** n! for the grid sizes jigsaw takes. */
const ORDERS: Record<number, number> = { 2: 24, 3: 362880 };

export class JigsawPuzzle extends TilePretext {
  readonly name = 'jigsaw';
  readonly metricName = 'jigsaw_acc';
  /** The orders, [N, grid²] int64: row p, slot i shows the tile of cell permutations[p][i]. */
  readonly permutations: Tensor;
  readonly permutationSeed: number;
  /** A JS copy of the buffer (refreshed whenever a state dict is loaded). */
  #table: Uint8Array;

  constructor(encoder: Backbone, o: JigsawOptions = {}) {
    const grid = o.grid ?? JIGSAW_DEFAULTS.grid;
    if (grid !== 2 && grid !== 3) throw new RangeError(`jigsaw: grid must be 2 or 3, got ${String(grid)}`);
    const count = o.permutations ?? Math.min(JIGSAW_DEFAULTS.permutations, ORDERS[grid]!);
    const c = { ...JIGSAW_DEFAULTS, ...o, grid, permutations: count };
    const set = maximalHammingPermutations(grid * grid, c.permutations, { seed: c.permutationSeed });
    if (c.input !== 'tiles' && c.input !== 'assembled') throw new RangeError(`jigsaw: input must be 'tiles' or 'assembled', got ${JSON.stringify(c.input)}`);
    const { permutations: _n, permutationSeed: _s, grid: _g, input, ...tiles } = c;
    super(encoder, grid * grid, c.permutations, tiles, grid, input === 'assembled');
    this.permutationSeed = c.permutationSeed;
    this.#table = set.perms;
    this.permutations = this.registerBuffer('permutations', tensor(Array.from(set.perms), { dtype: 'int64', shape: [set.count, this.slots] }));
  }

  /** The set in use (the buffer's: after a checkpoint is loaded, the checkpoint's). */
  permutationSet(): PermutationSet {
    const { min, mean } = pairwiseDistances(this.#table, this.classes, this.slots);
    return { tiles: this.slots, perms: this.#table.slice(), count: this.classes, seed: this.permutationSeed, minDistance: min, meanDistance: mean };
  }

  drawCells(batch: number, rng: Rng): { cells: Int32Array; labels: Int32Array } {
    const labels = new Int32Array(batch);
    const n = this.slots;
    const cells = new Int32Array(batch * n);
    for (let b = 0; b < batch; b++) {
      const p = (labels[b] = rng.int(this.classes));
      cells.set(this.#table.subarray(p * n, (p + 1) * n), b * n);
    }
    return { cells, labels };
  }

  override loadStateDict(sd: StateDict | Record<string, Tensor>, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const r = super.loadStateDict(sd, opts);
    const rows = this.permutations.dataNumbers();
    const table = Uint8Array.from(rows);
    const n = this.slots;
    for (let p = 0; p < this.classes; p++) {
      const seen = new Set(table.subarray(p * n, (p + 1) * n));
      if (seen.size !== n || [...seen].some((v) => v >= n) || rows.slice(p * n, (p + 1) * n).some((v) => !Number.isInteger(v) || v < 0)) {
        throw new RangeError(`jigsaw: row ${p} of the loaded permutation set is not an order of 0..${n - 1}: [${rows.slice(p * n, (p + 1) * n).join(', ')}]`);
      }
    }
    this.#table = table;
    return r;
  }

  override describe(): Record<string, unknown> {
    const s = this.permutationSet();
    const n = this.slots;
    const orders = Array.from({ length: s.count }, (_, p) => Array.from(s.perms.subarray(p * n, (p + 1) * n)));
    return { ...super.describe(), permutationSet: { count: s.count, seed: s.seed, minDistance: s.minDistance, meanDistance: Number(s.meanDistance.toFixed(4)), orders } };
  }
}
