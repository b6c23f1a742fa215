// Batched, seeded view transforms for joint-embedding SSL (SimCLR, BYOL, MoCo, DINO) and the tile cutting of jigsaw and relative patch location.
export { randomResizedCrop, resizedCrop, sampleCropBoxes, type RandomResizedCropOptions, type CropBoxes } from './random-resized-crop.js';
export { randomHorizontalFlip, type HorizontalFlipOptions } from './flip.js';
export { colorJitter, adjustColors, sampleColorJitter, type ColorJitterOptions, type ColorJitterParams, type ColorAdjustment } from './color-jitter.js';
export { randomGrayscale, lumaOf, ITU_R_601_WEIGHTS, type RandomGrayscaleOptions } from './grayscale.js';
export { gaussianBlur, blurBatch, gaussianKernel1d, defaultBlurKernelSize, type GaussianBlurOptions } from './gaussian-blur.js';
export { randomSolarize, type RandomSolarizeOptions } from './solarize.js';
export { viewPipeline, viewStep, normalizeView, MultiViewTransform, type ViewTransform } from './view.js';
export { simclrViews, byolViews, dinoViews, buildView, type ViewRecipe, type PresetOptions, type SimclrViewOptions, type ByolViewOptions, type DinoViewOptions } from './presets.js';
export { gridTiles, cutTiles, tileGrid, sampleTilePositions, resizeBatch, standardizeTiles, assembleTiles, type GridTilesOptions, type TileGrid, type TilePositions } from './grid-tiles.js';
