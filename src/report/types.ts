// Plain data the report is built from. No tensors: callers convert before handing over.

/** Accuracy of one method at one label budget, over several seeds. Accuracies are fractions (0..1). */
/** A linear probe on each block's pooled features of one pretext's encoder. */
export interface BlockProbe {
  pretext: string;
  k: number;
  seed: number;
  /** Test accuracy (0..1) by block name, in block order. */
  blocks: Record<string, number>;
}

export interface MethodResult {
  /** `<pretext>-<protocol>` (e.g. 'simclr-knn'), or a baseline ('scratch', 'transfer', 'label-spreading'). */
  method: string;
  /** The self-supervised method whose encoder was used; null for baselines. */
  pretext?: string | null;
  /** finetune, probe, knn or distill; for baselines their own name. */
  protocol?: string;
  /** Labelled examples per class. */
  k: number;
  mean: number;
  std: number;
  runs: number[];
}

/** One logged point of a training run, e.g. { step: 100, loss: 0.7, acc: 0.81, lr: 0.01 }. */
export interface CurvePoint {
  step: number;
  epoch?: number;
  [metric: string]: number | undefined;
}

export interface TrainingCurve {
  /** e.g. 'rotation-pretrain', 'scratch k=10 seed=0'. */
  run: string;
  points: CurvePoint[];
}

/** A test image as fed to the rotation head (already rotated). Pixels are CHW, 0..255. */
export interface RotationSample {
  pixels: Uint8Array | number[];
  width: number;
  height: number;
  channels: 1 | 3;
  /** True rotation in quarter turns (0 = 0°, 1 = 90°, 2 = 180°, 3 = 270°). */
  rotation: 0 | 1 | 2 | 3;
  predicted: 0 | 1 | 2 | 3;
}

/**
 * A held-out image through a masked autoencoder (MAE's Fig. 2): the input with its hidden
 * patches greyed out, the reconstruction (predicted hidden patches, visible ones pasted in),
 * and the original. Pixels are CHW, 0..255.
 */
export interface MaeSample {
  masked: Uint8Array | number[];
  reconstruction: Uint8Array | number[];
  original: Uint8Array | number[];
  width: number;
  height: number;
  channels: 1 | 3;
}

/** A few test images and their nearest neighbours by one encoder's embedding (cosine), for the report's grid. */
export interface SimilarImages {
  title: string;
  width: number;
  height: number;
  channels: 1 | 3;
  rows: { query: { pixels: Uint8Array | number[]; caption: string }; neighbors: { pixels: Uint8Array | number[]; caption: string; score: number }[] }[];
}

/** Raw feature vectors with a label each; the report computes the 2-D map. */
export interface EmbeddingSet {
  title: string;
  vectors: number[][] | Float32Array[];
  labels: string[];
}

/** Word vectors (any dimension; 2-D ones are drawn as given) labelled with their word. */
export interface WordMap {
  title: string;
  vectors: number[][];
  words: string[];
}

export interface ReportData {
  title: string;
  modality: 'image' | 'text';
  dataset: string;
  /** ISO timestamp. */
  createdAt: string;
  results: MethodResult[];
  curves: TrainingCurve[];
  rotationSamples?: RotationSample[];
  /** Masked-autoencoder reconstructions of held-out images. */
  maeSamples?: MaeSample[];
  /** Nearest test images by the best method's embedding. */
  similarImages?: SimilarImages;
  /** Which block's features are best, per pretext. */
  blockProbes?: BlockProbe[];
  embeddings?: EmbeddingSet[];
  wordMaps?: WordMap[];
  notes?: string[];
  config?: Record<string, unknown>;
  /** Headline figures, e.g. rotation accuracy, synonym AUC, images/s. */
  extra?: Record<string, number | string>;
  /** True when the run was stopped early (Ctrl-C): `results` hold only the runs that finished. */
  partial?: boolean;
}

/** Thrown when report input cannot be drawn (NaN accuracy, mismatched lengths, ...). */
export class ReportInputError extends Error {
  override name = 'ReportInputError';
}
