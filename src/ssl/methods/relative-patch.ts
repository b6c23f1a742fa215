// Relative patch location (Doersch, Gupta & Efros, ICCV 2015, "Unsupervised Visual
// Representation Learning by Context Prediction", https://arxiv.org/abs/1505.05192):
// the centre patch of a 3x3 grid and one of its eight neighbours go through the same
// encoder, and an 8-way head on their concatenated features says where the neighbour
// lies (label 0..7, row-major: 0 top-left, 1 top, 2 top-right, 3 left, 4 right,
// 5 bottom-left, 6 bottom, 7 bottom-right). The paper leaves a gap of half a patch
// between them (96-px patches, 48-px gaps) and jitters each patch by up to 7 px, so that
// lines and textures that continue across a border give no answer away.
//
// Here (tile-pretext.ts for the shared parts): 28x28 images resized to 64x64 (cells of
// 21 px), 14-px patches at least 4 px apart (4-10 px, mean 7: half a patch, as in the
// paper). The paper's other shortcut, chromatic aberration, needs colour; grey images
// have none.
import type { Backbone } from '../../models/index.js';
import type { Rng } from '../../data/index.js';
import { TilePretext, type TilePretextOptions } from './tile-pretext.js';

export type RelativePatchOptions = TilePretextOptions;

export const RELATIVE_PATCH_DEFAULTS: Required<RelativePatchOptions> = {
  imageSize: 64, tile: 14, gap: 4, tileNorm: 'dataset', head: 'mlp', tileDim: 64, hiddenDim: 256,
};

/** The centre cell and, by label, the neighbour cell of a 3x3 grid (row-major). */
export const CENTRE_CELL = 4;
export const NEIGHBOUR_CELLS: readonly number[] = [0, 1, 2, 3, 5, 6, 7, 8];

export class RelativePatchLocation extends TilePretext {
  readonly name = 'relative-patch';
  readonly metricName = 'relative_patch_acc';

  constructor(encoder: Backbone, o: RelativePatchOptions = {}) {
    super(encoder, 2, 8, { ...RELATIVE_PATCH_DEFAULTS, ...o });
  }

  /** Slot 0: the centre; slot 1: the neighbour named by the label. */
  drawCells(batch: number, rng: Rng): { cells: Int32Array; labels: Int32Array } {
    const labels = new Int32Array(batch);
    const cells = new Int32Array(batch * 2);
    for (let b = 0; b < batch; b++) {
      const l = (labels[b] = rng.int(8));
      cells[2 * b] = CENTRE_CELL;
      cells[2 * b + 1] = NEIGHBOUR_CELLS[l]!;
    }
    return { cells, labels };
  }
}
