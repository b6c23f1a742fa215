// The view recipes of SimCLR (Chen et al. 2020, app. A), BYOL (Grill et al. 2020,
// app. B, table 6) and DINO (Caron et al. 2021, app. and its multi-crop code), as
// MultiViewTransforms. Every number can be overridden through the options.
// Grey (1-channel) images, e.g. 28x28 MNIST: greyscale is left out, colour jitter keeps
// brightness and contrast only; see the transforms' headers for what else differs there.
import type { Tensor } from '../../tensor/index.js';
import type { Rng } from '../../data/random.js';
import { MultiViewTransform, normalizeView, viewPipeline, viewStep, type ViewTransform } from './view.js';
import { randomResizedCrop, resolveCropOptions, type RandomResizedCropOptions } from './random-resized-crop.js';
import { randomHorizontalFlip, resolveFlipOptions, type HorizontalFlipOptions } from './flip.js';
import { colorJitter, resolveColorJitterOptions, type ColorJitterOptions } from './color-jitter.js';
import { randomGrayscale, resolveGrayscaleOptions, type RandomGrayscaleOptions } from './grayscale.js';
import { gaussianBlur, resolveBlurOptions, type GaussianBlurOptions } from './gaussian-blur.js';
import { randomSolarize, resolveSolarizeOptions, type RandomSolarizeOptions } from './solarize.js';
import { checkGreyOrRgb, checkOrderedPair, checkProbability, checkSize } from './validate.js';

/** Everything one view does, in this order: crop, flip, jitter, greyscale, blur, solarize, normalise. */
export interface ViewRecipe {
  crop: RandomResizedCropOptions & { size: number | [number, number] };
  flip: HorizontalFlipOptions;
  jitter: ColorJitterOptions;
  grayscale: RandomGrayscaleOptions;
  blur: GaussianBlurOptions;
  solarize: RandomSolarizeOptions;
  mean: number[];
  std: number[];
}

/**
 * A view pipeline from a recipe, options checked now rather than at the first batch.
 * Steps that can change nothing (p = 0, greyscale of grey images) are left out.
 */
export function buildView(recipe: ViewRecipe, channels: number, fn = 'buildView'): ViewTransform {
  checkGreyOrRgb(channels, fn);
  if (recipe.mean.length !== channels || recipe.std.length !== channels) {
    throw new RangeError(`${fn}: mean and std need one value per channel (${channels}), got ${recipe.mean.length} and ${recipe.std.length}`);
  }
  const crop = resolveCropOptions(recipe.crop, fn);
  if (crop.size === null) throw new RangeError(`${fn}: the crop needs an output size`);
  const flip = resolveFlipOptions(recipe.flip, fn);
  const jitter = resolveColorJitterOptions(recipe.jitter, fn);
  const grayscale = resolveGrayscaleOptions(recipe.grayscale, fn);
  const blur = resolveBlurOptions(recipe.blur, fn);
  const solarize = resolveSolarizeOptions(recipe.solarize, fn);
  const cropOptions: RandomResizedCropOptions = { size: crop.size, scale: crop.scale, ratio: crop.ratio };
  const steps: ViewTransform[] = [viewStep((x, rng) => randomResizedCrop(x, rng, cropOptions))];
  const add = (p: number, apply: (x: Tensor, rng: Rng) => Tensor): void => { if (p > 0) steps.push(viewStep(apply)); };
  add(flip.p, (x, rng) => randomHorizontalFlip(x, rng, flip));
  add(jitter.p, (x, rng) => colorJitter(x, rng, jitter));
  add(channels === 3 ? grayscale.p : 0, (x, rng) => randomGrayscale(x, rng, grayscale));
  add(blur.p, (x, rng) => gaussianBlur(x, rng, { p: blur.p, sigma: blur.sigma, ...(blur.kernelSize === null ? {} : { kernelSize: blur.kernelSize }) }));
  add(solarize.p, (x, rng) => randomSolarize(x, rng, solarize));
  steps.push(normalizeView(recipe.mean, recipe.std));
  return viewPipeline(steps);
}

/** Options every preset takes; given fields replace the preset's values. */
export interface PresetOptions {
  /** Output size of the (global) views: one side or [height, width]. */
  size: number | [number, number];
  /** 1 (grey) or 3 (RGB). */
  channels: number;
  /** Per-channel normalisation after the augmentations. */
  mean: number[];
  std: number[];
  /** Aspect-ratio range of the crops (default [3/4, 4/3]). */
  ratio?: [number, number];
  /** Flip probability (default 0.5). */
  flipP?: number;
  /** Colour jitter fields replacing the preset's (strengths, p, shuffleOrder). */
  jitter?: ColorJitterOptions;
  /** Greyscale probability for RGB images (default 0.2). */
  grayscaleP?: number;
  /** Blur sigma range and kernel size (the probabilities are the presets' own options). */
  blur?: Omit<GaussianBlurOptions, 'p'>;
  /** Solarization threshold (the probabilities are the presets' own options). */
  solarize?: Omit<RandomSolarizeOptions, 'p'>;
}

function checkPreset(o: PresetOptions, fn: string): void {
  if (o === null || typeof o !== 'object') throw new TypeError(`${fn}: expected an options object with size, channels, mean and std`);
  checkSize(o.size, fn);
  checkGreyOrRgb(o.channels, fn);
  for (const key of ['mean', 'std'] as const) {
    if (!Array.isArray(o[key]) || o[key].length !== o.channels) throw new RangeError(`${fn}: ${key} needs one value per channel (${o.channels}), got ${JSON.stringify(o[key])}`);
  }
}

/** A pair of probabilities, one per view. */
function checkPair(v: [number, number], fn: string, name: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) throw new RangeError(`${fn}: ${name} must be a pair [first view, second view], got ${JSON.stringify(v)}`);
  return [checkProbability(v[0], fn, `${name}[0]`), checkProbability(v[1], fn, `${name}[1]`)];
}

function recipe(o: PresetOptions, view: { size: number | [number, number]; scale: [number, number]; jitter: ColorJitterOptions; blurP: number; solarizeP: number }): ViewRecipe {
  return {
    crop: { size: view.size, scale: view.scale, ...(o.ratio ? { ratio: o.ratio } : {}) },
    flip: { p: o.flipP ?? 0.5 },
    jitter: { ...view.jitter, ...o.jitter },
    grayscale: { p: o.grayscaleP ?? 0.2 },
    blur: { ...o.blur, p: view.blurP },
    solarize: { ...o.solarize, p: view.solarizeP },
    mean: o.mean,
    std: o.std,
  };
}

export interface SimclrViewOptions extends PresetOptions {
  /** Smallest crop area (default 0.08); `scale` overrides the whole range. */
  minScale?: number;
  scale?: [number, number];
  /** Colour distortion strength s: jitter 0.8s, 0.8s, 0.8s, 0.2s (default 0.5, SimCLR's CIFAR-10 setting; 1 on ImageNet). */
  jitterStrength?: number;
  /** Blur probability (default 0.5; SimCLR used none on CIFAR-10). */
  blurP?: number;
  /** Solarization probability (default 0: SimCLR does not solarize). */
  solarizeP?: number;
}

/** SimCLR's two identical random views: crop, flip, colour jitter (p 0.8), greyscale 0.2, blur, normalise. */
export function simclrViews(o: SimclrViewOptions): MultiViewTransform {
  const fn = 'simclrViews';
  checkPreset(o, fn);
  const scale = checkOrderedPair(o.scale ?? [o.minScale ?? 0.08, 1], fn, 'scale');
  const s = o.jitterStrength ?? 0.5;
  if (!(s >= 0 && Number.isFinite(s))) throw new RangeError(`${fn}: jitterStrength must be >= 0, got ${s}`);
  const jitter = { brightness: 0.8 * s, contrast: 0.8 * s, saturation: 0.8 * s, hue: Math.min(0.5, 0.2 * s), p: 0.8 };
  const view = buildView(recipe(o, { size: o.size, scale, jitter, blurP: o.blurP ?? 0.5, solarizeP: o.solarizeP ?? 0 }), o.channels, fn);
  return new MultiViewTransform([view, view]);
}

export interface ByolViewOptions extends PresetOptions {
  /** Crop area range (default [0.08, 1]). */
  scale?: [number, number];
  /** Blur probability of the first and second view (default [1, 0.1]). */
  blurP?: [number, number];
  /** Solarization probability of the first and second view (default [0, 0.2]). */
  solarizeP?: [number, number];
}

/** BYOL's asymmetric pair: jitter 0.4/0.4/0.2/0.1 (p 0.8), greyscale 0.2, blur 1.0 / 0.1, solarize 0 / 0.2. */
export function byolViews(o: ByolViewOptions): MultiViewTransform {
  const fn = 'byolViews';
  checkPreset(o, fn);
  const scale = checkOrderedPair(o.scale ?? [0.08, 1], fn, 'scale');
  const blurP = checkPair(o.blurP ?? [1, 0.1], fn, 'blurP');
  const solarizeP = checkPair(o.solarizeP ?? [0, 0.2], fn, 'solarizeP');
  const jitter = { brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, p: 0.8 };
  return new MultiViewTransform([0, 1].map((v) => buildView(recipe(o, { size: o.size, scale, jitter, blurP: blurP[v]!, solarizeP: solarizeP[v]! }), o.channels, fn)));
}

export interface DinoViewOptions extends PresetOptions {
  /** Number of small local crops after the two global views (default 0). */
  localCrops?: number;
  /** Side of the local crops (default size * 96 / 224, DINO's 96 for 224). */
  localSize?: number | [number, number];
  /** Crop area ranges (defaults [0.4, 1] and [0.05, 0.4]). */
  globalScale?: [number, number];
  localScale?: [number, number];
  /** Blur probability of the two global views (default [1, 0.1]) and of the local ones (default 0.5). */
  blurP?: [number, number];
  localBlurP?: number;
  /** Solarization probability of the two global views (default [0, 0.2]); local crops are never solarized. */
  solarizeP?: [number, number];
}

/** DINO's multi-crop: two global views (BYOL's asymmetric pair on larger crops) and `localCrops` small ones. */
export function dinoViews(o: DinoViewOptions): MultiViewTransform {
  const fn = 'dinoViews';
  checkPreset(o, fn);
  const localCrops = o.localCrops ?? 0;
  if (!Number.isInteger(localCrops) || localCrops < 0) throw new RangeError(`${fn}: localCrops must be a non-negative integer, got ${String(localCrops)}`);
  const [height, width] = checkSize(o.size, fn);
  const localSize = checkSize(o.localSize ?? [Math.max(1, Math.round((height * 96) / 224)), Math.max(1, Math.round((width * 96) / 224))], fn, 'localSize');
  const globalScale = checkOrderedPair(o.globalScale ?? [0.4, 1], fn, 'globalScale');
  const localScale = checkOrderedPair(o.localScale ?? [0.05, 0.4], fn, 'localScale');
  const blurP = checkPair(o.blurP ?? [1, 0.1], fn, 'blurP');
  const localBlurP = checkProbability(o.localBlurP ?? 0.5, fn, 'localBlurP');
  const solarizeP = checkPair(o.solarizeP ?? [0, 0.2], fn, 'solarizeP');
  const jitter = { brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, p: 0.8 };
  const global = [0, 1].map((v) => buildView(recipe(o, { size: o.size, scale: globalScale, jitter, blurP: blurP[v]!, solarizeP: solarizeP[v]! }), o.channels, fn));
  // A given blur kernelSize is meant for the global views; local crops get the default for their size.
  const localRecipe = recipe(o, { size: localSize, scale: localScale, jitter, blurP: localBlurP, solarizeP: 0 });
  const local = localCrops === 0 ? null : buildView({ ...localRecipe, blur: { p: localBlurP, ...(o.blur?.sigma ? { sigma: o.blur.sigma } : {}) } }, o.channels, fn);
  return new MultiViewTransform([...global, ...Array.from({ length: localCrops }, () => local!)]);
}
