// Jittered tiles from a grid: the cutting step of the jigsaw puzzle (Noroozi & Favaro
// 2016, https://arxiv.org/abs/1603.09246) and of relative patch location (Doersch,
// Gupta & Efros 2015, https://arxiv.org/abs/1505.05192). The image is divided into a
// grid x grid array of cells; from each cell a square tile smaller than the cell is cut
// at a random offset, so neighbouring tiles are always at least `gap` pixels apart and
// their distance varies by up to `cell - tile - gap` pixels: edges never line up, and
// a network cannot solve the pretext by continuing lines or textures across borders.
//
// Offsets are drawn in JS, two per (image, cell), for every cell whatever is cut, so a
// cell's tile position depends only on the Rng's state and not on which cells a method
// asks for or in which order. The tiles are then cut on the batch's device by one
// gather of precomputed flat pixel indices (tensor arithmetic, no per-pixel JS).
import { Tensor, tidy, tensor, arange, op } from '../../tensor/index.js';
import type { Rng } from '../../data/random.js';
import { checkFloatBatch } from './validate.js';

export interface GridTilesOptions {
  /** Cells per side (default 3). */
  grid?: number;
  /** Side of each square tile in pixels. */
  tile: number;
  /** Least distance between neighbouring tiles in pixels (default 0). */
  gap?: number;
}

/** Where the tiles of one image size can lie. */
export interface TileGrid {
  grid: number;
  tile: number;
  gap: number;
  cellHeight: number;
  cellWidth: number;
  /** Top-left corner of the grid (pixels left over by the cells are split around it). */
  top: number;
  left: number;
  /** A tile's offset in its cell ranges over [gap / 2 (rounded down), that + jitter], per axis. */
  jitterY: number;
  jitterX: number;
}

/** One tile per (image, cell): cell k of image b at index b * grid² + k, in the image's pixels. */
export interface TilePositions {
  grid: TileGrid;
  batch: number;
  top: Int32Array;
  left: Int32Array;
}

/** The grid of tiles for images of height x width; a RangeError when the tiles and gap do not fit the cells. */
export function tileGrid(height: number, width: number, o: GridTilesOptions, fn = 'tileGrid'): TileGrid {
  const grid = o.grid ?? 3;
  const gap = o.gap ?? 0;
  const tile = o.tile;
  if (!Number.isInteger(grid) || grid < 1) throw new RangeError(`${fn}: grid must be a positive integer, got ${String(grid)}`);
  if (!Number.isInteger(tile) || tile < 1) throw new RangeError(`${fn}: tile must be a positive integer number of pixels, got ${String(tile)}`);
  if (!Number.isInteger(gap) || gap < 0) throw new RangeError(`${fn}: gap must be an integer >= 0, got ${String(gap)}`);
  const cellHeight = Math.floor(height / grid);
  const cellWidth = Math.floor(width / grid);
  if (tile + gap > Math.min(cellHeight, cellWidth)) {
    throw new RangeError(`${fn}: a ${grid}x${grid} grid of ${height}x${width} images has cells of ${cellHeight}x${cellWidth} pixels; tile ${tile} + gap ${gap} must fit in them`);
  }
  return {
    grid, tile, gap, cellHeight, cellWidth,
    top: Math.floor((height - grid * cellHeight) / 2), left: Math.floor((width - grid * cellWidth) / 2),
    jitterY: cellHeight - tile - gap, jitterX: cellWidth - tile - gap,
  };
}

/** Draws each tile's place in its cell: 2 draws per (image, cell), row before column, images in order, cells row-major. */
export function sampleTilePositions(batch: number, g: TileGrid, rng: Rng): TilePositions {
  const cells = g.grid * g.grid;
  const top = new Int32Array(batch * cells);
  const left = new Int32Array(batch * cells);
  const margin = Math.floor(g.gap / 2);
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < cells; k++) {
      const row = Math.floor(k / g.grid);
      const col = k % g.grid;
      top[b * cells + k] = g.top + row * g.cellHeight + margin + rng.int(g.jitterY + 1);
      left[b * cells + k] = g.left + col * g.cellWidth + margin + rng.int(g.jitterX + 1);
    }
  }
  return { grid: g, batch, top, left };
}

/**
 * Cuts `slots` tiles from each image of x [B, C, H, W]: slot s of image b is the tile of
 * cell cells[b * slots + s] (row-major cell numbers). Returns [B, slots, C, tile, tile]
 * on x's device, a copy (x is untouched; no gradient flows back to it).
 */
export function cutTiles(x: Tensor, positions: TilePositions, cells: ArrayLike<number>, slots: number): Tensor {
  const [batch, channels, height, width] = checkFloatBatch(x, 'cutTiles');
  const g = positions.grid;
  const perImage = g.grid * g.grid;
  if (positions.batch !== batch) throw new RangeError(`cutTiles: positions are for ${positions.batch} images, the batch has ${batch}`);
  if (!Number.isInteger(slots) || slots < 1 || cells.length !== batch * slots) {
    throw new RangeError(`cutTiles: need ${slots} cell numbers per image (${batch * slots} in all), got ${cells.length}`);
  }
  const last = g.top + g.grid * g.cellHeight;
  const right = g.left + g.grid * g.cellWidth;
  if (last > height || right > width) throw new RangeError(`cutTiles: the grid spans ${last}x${right} pixels, the images are ${height}x${width}`);
  const t = g.tile;
  const tops = new Float64Array(batch * slots);
  const lefts = new Float64Array(batch * slots);
  for (let i = 0; i < batch * slots; i++) {
    const cell = cells[i]!;
    if (!Number.isInteger(cell) || cell < 0 || cell >= perImage) throw new RangeError(`cutTiles: cell ${cell} is not in 0..${perImage - 1}`);
    const at = Math.floor(i / slots) * perImage + cell;
    tops[i] = positions.top[at]!;
    lefts[i] = positions.left[at]!;
  }
  return tidy(() => {
    const opts = { dtype: 'int64' as const, device: x.device };
    const r = arange(0, t, 1, opts);
    // Flat index of pixel (i, j) of slot s of image b: (top + i) * W + left + j, [B, S, t, t].
    const rows = tensor(tops, { ...opts, shape: [batch, slots, 1, 1] }).add(r.reshape(1, 1, t, 1));
    const cols = tensor(lefts, { ...opts, shape: [batch, slots, 1, 1] }).add(r.reshape(1, 1, 1, t));
    const flat = rows.mul(width).add(cols).reshape(batch, 1, slots * t * t).expand(batch, channels, slots * t * t);
    const pixels = x.detach().reshape(batch, channels, height * width).gather(2, flat);
    return pixels.reshape(batch, channels, slots, t, t).permute(0, 2, 1, 3, 4).contiguous();
  });
}

/** Jittered tiles of the given cells (see cutTiles), with the positions drawn from `rng`. */
export function gridTiles(x: Tensor, rng: Rng, cells: ArrayLike<number>, slots: number, o: GridTilesOptions): { tiles: Tensor; positions: TilePositions } {
  const [batch, , height, width] = checkFloatBatch(x, 'gridTiles');
  const positions = sampleTilePositions(batch, tileGrid(height, width, o, 'gridTiles'), rng);
  return { tiles: cutTiles(x, positions, cells, slots), positions };
}

/**
 * The tiles of each image put back together in the order of their slots, edge to edge, as
 * one image: tiles [B, grid², C, t, t] to [B, C, grid·t, grid·t], slot s at row s / grid,
 * column s % grid. The gaps between the cells are left out, so no line continues across a seam.
 */
export function assembleTiles(tiles: Tensor, grid: number): Tensor {
  if (tiles.ndim !== 5 || tiles.shape[1] !== grid * grid || tiles.shape[3] !== tiles.shape[4]) {
    throw new RangeError(`assembleTiles: expected square tiles [B, ${grid * grid}, C, t, t], got [${tiles.shape.join(', ')}]`);
  }
  const [b, , c, t] = tiles.shape as [number, number, number, number];
  return tidy(() => tiles.reshape(b, grid, grid, c, t, t).permute(0, 3, 1, 4, 2, 5).reshape(b, c, grid * t, grid * t));
}

/** Resizes a batch to size x size (bilinear, align_corners false; a new tensor even when the size is unchanged). */
export function resizeBatch(x: Tensor, size: number): Tensor {
  const [, , height, width] = checkFloatBatch(x, 'resizeBatch');
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`resizeBatch: size must be a positive integer, got ${String(size)}`);
  if (height === size && width === size) return x.clone();
  return op<Tensor>('aten::upsample_bilinear2d', x, [size, size], false, null, null);
}

/**
 * Each tile standardised on its own: zero mean and unit standard deviation per channel
 * over its pixels (the jigsaw paper's defence against tiles matching by their low-level
 * statistics). The standard deviation is floored at `minStd` so that a blank tile (a
 * Fashion-MNIST corner) stays flat instead of having its noise blown up.
 */
export function standardizeTiles(tiles: Tensor, minStd = 0.1): Tensor {
  if (tiles.ndim !== 5) throw new RangeError(`standardizeTiles: expected tiles [B, S, C, t, t], got [${tiles.shape.join(', ')}]`);
  return tidy(() => {
    const mean = tiles.mean([3, 4], true);
    const std = tiles.std([3, 4], { unbiased: false, keepdim: true }).clamp(minStd, null);
    return tiles.sub(mean).div(std);
  });
}
