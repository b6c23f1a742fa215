// The label-efficiency experiment for images: for k labels per class and several
// seeds, compare training from scratch, transfer from another labelled domain, and
// any registered self-supervised method (pretext) under each protocol (fine-tuned,
// linear-probed, kNN, distilled onto the unlabelled pool) on the same subsets.
// Ctrl-C stops the whole sequence after the run it interrupts; the results of the
// runs that finished come back, marked partial.
import type { ProcessGroup } from '../distributed/index.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkDevice, manualSeed, noGrad, tidy, cat, F, type Tensor } from '../tensor/index.js';
import { saveSafetensors } from '../io/index.js';
import { createBackbone, Classifier, linearHead, mlpHead, type Backbone, type BackboneName } from '../models/index.js';
import { kPerClass, splitIndices, channelStats, permutation, type ImageDataset } from '../data/index.js';
import type { OptimizerConfig } from '../optim/index.js';
import { Identity, type Module } from '../nn/index.js';
import { trainSupervised, type Augmentation } from '../train/supervised.js';
import { distill, type DistillConfig } from '../train/distill.js';
import { MetricsLog } from '../train/metrics-log.js';
import type { Callbacks } from '../train/trainer.js';
import { accuracy, extractFeatures, labelTensor, recalibrateBatchNorm, type Normalization } from '../eval/evaluate.js';
import { knnClassify } from '../eval/knn.js';
import { knnGraph, spreadAndVote, type KnnGraph } from '../eval/label-spreading.js';
import { linearProbe, initHeadFromProbe } from '../eval/probe.js';
import { rotationSamples } from '../ssl/methods/rotation.js';
import { createMethod, checkMethodOptions } from '../ssl/registry.js';
import { checkMethodBackbone } from '../ssl/catalog.js';
import { MaskedAutoencoder, maeSamples } from '../ssl/methods/mae.js';
import { pretrain } from '../ssl/pretrain.js';
import type { MethodResult, TrainingCurve, ReportData, EmbeddingSet, RotationSample, MaeSample, BlockProbe, SimilarImages } from '../report/types.js';
import { nearestNeighbors } from '../eval/similar.js';
import { parseMethod, type Protocol } from './protocols.js';
import { InterruptWatch } from './interrupt.js';
import { GridRunner } from './runner.js';

/** A baseline ('scratch', 'transfer') or `<pretext>-<protocol>` (see protocols.ts), e.g. 'simclr-knn'. */
export type ImageMethod = string;

/** How one method pretrains; `methodPretrain` entries override `pretrain` key by key. */
export interface PretrainSettings {
  epochs: number;
  /** Stop pretraining after this many steps (the learning-rate schedule ends there). */
  maxSteps?: number;
  /** Stop pretraining after this many seconds (the checkpoint is kept). */
  timeBudgetSeconds?: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  /** Loader-side augmentation (rotation); methods with views of their own ignore it, except for whether flips are allowed. */
  augment: Augmentation;
  /** Images held out of pretraining, for the pretext metric and the monitors. */
  heldOut: number;
  /** The method's own options (temperature, head sizes, ...), as its registry entry takes them. */
  options?: Record<string, unknown>;
  /** Measure the kNN and collapse monitors this many times over the run (0: after each epoch only). */
  monitorPoints?: number;
  /**
   * After pretraining, recompute the encoder's batch-norm statistics over this many of the
   * unlabelled training images, seen whole (0: keep the pretraining's). For pretexts whose
   * encoder saw other inputs than the protocols show it (jigsaw's and relative patch's
   * tiles); the saved encoder carries the recomputed statistics.
   */
  recalibrateBatchNorm?: number;
}

export interface FinetuneConfig {
  /** Optimisation steps; `stepsPerK` overrides it for particular k (more labels need more steps). */
  steps: number;
  stepsPerK?: Record<string, number>;
  batchSize: number;
  optimizer: OptimizerConfig;
  augment: Augmentation;
  /** Blocks kept frozen (weights and BN statistics), e.g. ['block1']. */
  freeze: string[];
  head: 'linear' | 'mlp';
  /**
   * 'random' (PyTorch's default initialisation) or 'probe': a linear head first set to the
   * linear probe of the pretrained features on the labelled images (LP-FT), with the
   * experiment's probe settings.
   */
  headInit?: 'random' | 'probe';
  labelSmoothing: number;
}

export interface ImageExperimentConfig {
  backbone: BackboneName;
  width?: number;
  ks: number[];
  seeds: number[];
  /** Other seeds for particular k (e.g. fewer at the largest k, where runs take longest). */
  seedsPerK?: Record<string, number[]>;
  methods: ImageMethod[];
  /** Pretraining settings of every method (rotation's as they are). */
  pretrain: PretrainSettings;
  /** Per-method changes to `pretrain`, by registry name. */
  methodPretrain?: Record<string, Partial<PretrainSettings>>;
  transfer: { steps: number; batchSize: number; optimizer: OptimizerConfig; augment: Augmentation; freeze: string[] };
  finetune: FinetuneConfig;
  /** Fine-tuning of the scratch baseline (all blocks trainable). */
  scratch: Omit<FinetuneConfig, 'freeze'>;
  probe: { block?: string; steps: number; lr: number; weightDecay: number };
  /** Self-training of a student on the fine-tuned teacher's predictions over the unlabelled images. */
  distill: DistillConfig;
  /** Label spreading of the fine-tuned teacher's predictions over a kNN graph of the unlabelled images' embeddings. */
  propagate: PropagateConfig;
  /** Probe every block of each pretext's encoder at the k nearest 10 and its first seed (RotNet's Table 1). */
  blockProbe?: boolean;
  knn: { block?: string; k: number; temperature: number };
  /** Evaluate on the first N test images (default: all). */
  testLimit?: number;
  seed: number;
  /**
   * Where to train and evaluate: 'cpu' (the default), 'cuda' or 'cuda:N'. Networks are
   * initialised on the CPU and then moved, so a seed gives the same start on any device.
   */
  device?: string;
}

export interface ImageExperimentOptions {
  /** Passed to every training run (pretraining, transfer, each fine-tuning), e.g. for a progress display. */
  callbacks?: Callbacks;
  /**
   * Listen for SIGINT (Ctrl-C) for the whole experiment, so that Ctrl-C between runs
   * also stops it cleanly (default true). Either way, a run that its trainer reports
   * as interrupted stops the experiment.
   */
  handleInterrupt?: boolean;
  /**
   * Data-parallel: each pretext's pretraining runs on this group's ranks (see `pretrain`);
   * rank 0 alone evaluates, writes and reports, and the other ranks return after the
   * pretraining with empty results.
   */
  group?: ProcessGroup;
}

export interface ImageExperimentData {
  name: string;
  train: ImageDataset;
  test: ImageDataset;
  /** Labelled source domain for transfer (e.g. MNIST digits). */
  source?: ImageDataset;
}

export interface ImageExperimentOutput {
  /** Mean and std per method and k over the seeds that finished. */
  results: MethodResult[];
  report: ReportData;
  rotationAccuracy: number | null;
  /** Rotation's pretraining rate (or the first pretext's), images per second. */
  pretrainImagesPerSecond: number | null;
  /** Every pretext's pretraining rate, images per second (each view counted once per image). */
  pretrainRates: Record<string, number>;
  /** Where each pretext's encoder was saved (safetensors). */
  encoders: Record<string, string>;
  /** True when Ctrl-C stopped the experiment before every run finished: the results are partial. */
  interrupted: boolean;
  /** Evaluation runs (method x k x seed) finished, and planned. */
  runsDone: number;
  runsPlanned: number;
}

/** A fresh copy of `encoder` (same architecture and weights, same device). */
function cloneEncoder(encoder: Backbone, make: () => Backbone): Backbone {
  const copy = make().to(encoder.device);
  copy.loadStateDict(encoder.stateDict());
  return copy;
}

/** `pretrain` with the method's changes applied. */
export function pretrainSettingsFor(c: ImageExperimentConfig, method: string): PretrainSettings {
  const own = c.methodPretrain?.[method] ?? {};
  return { ...c.pretrain, ...own, augment: { ...c.pretrain.augment, ...own.augment }, optimizer: { ...c.pretrain.optimizer, ...own.optimizer } };
}

/** What pretraining leaves for the protocols, per pretext. */
interface Pretrained {
  encoder: Backbone;
  testFeatures: { probe: Tensor; knn: Tensor } | null;
  /** The propagate protocol's kNN graph over the training images (all, or a sample) and what it was built from. */
  pool: PropagatePool | null;
}

/** A kNN graph over training images (the pool) and the features it was built from, for label spreading. */
interface GraphPool {
  features: Tensor;
  testFeatures: Tensor;
  graph: KnnGraph;
  /** Training-image index of each pool row; null: every training image, in order. */
  indices: Int32Array | null;
  dispose(): void;
}

/** The propagate protocol's pool: its graph's features are the embedding, or pixels beside it. */
interface PropagatePool extends GraphPool {
  /** The probe block's features of the pool (the probe teacher scores them). */
  probeFeatures: Tensor;
  /** The graph's features of some training images (the labelled ones, for the graph probe). */
  featuresOf(rows: ArrayLike<number>): Tensor;
}

export interface PropagateConfig {
  /** Neighbours of each image in the graph. */
  graphNeighbors: number;
  alpha: number;
  iterations: number;
  /** kNN vote of each test image among the spread pool labels. */
  neighbors: number;
  temperature: number;
  /** Average the vote with the teacher's own probabilities (true), or use the vote alone. */
  withTeacher: boolean;
  /**
   * Whose predictions seed the spreading: the linear probe on the frozen features (cheap; the
   * better seed in our runs) or the fine-tuned network.
   */
  teacher: 'probe' | 'finetune';
  /**
   * What the graph joins: the embedding alone, or the l2-normalised pixels beside the
   * l2-normalised embedding (on Fashion-MNIST the pixels' neighbours and the embedding's make
   * different mistakes, and together they gave a 2-point better graph).
   */
  graphFeatures: 'embedding' | 'pixels+embedding';
  /** Class mass normalisation of the spread scores (each class's total made equal). */
  classBalance: boolean;
  /**
   * With the probe teacher: average in a second linear probe, trained on the graph's features
   * (pixels beside the embedding). The two probes err differently: their average was 2-3 points
   * better than either on Fashion-MNIST at k = 10 and 100.
   */
  graphProbe: boolean;
  /** Build the graph over this many training images (a seeded sample) and the experiment's labelled ones, not all: faster. */
  poolLimit?: number;
}

export async function runImageExperiment(data: ImageExperimentData, c: ImageExperimentConfig, outDir: string,
  log: (line: string) => void = (l) => process.stderr.write(l + '\n'), options: ImageExperimentOptions = {}): Promise<ImageExperimentOutput> {
  const device = checkDevice(c.device, 'runImageExperiment');
  mkdirSync(outDir, { recursive: true });
  const group = options.group && options.group.worldSize > 1 ? options.group : undefined;
  const root = !group || group.rank === 0;
  const metrics = new MetricsLog(root ? join(outDir, 'metrics.jsonl') : null);
  const numClasses = data.train.classNames?.length ?? 10;
  const inChannels = data.train.imageShape[0];
  // On the CPU: the same seed draws the same network whatever the device (training moves it).
  const imageSize: [number, number] = [data.train.imageShape[1], data.train.imageShape[2]];
  const makeEncoder = (): Backbone => createBackbone(c.backbone, { inChannels, width: c.width, imageSize });
  const norm: Normalization = channelStats(data.train);
  const testIndices = c.testLimit ? Int32Array.from({ length: Math.min(c.testLimit, data.test.length) }, (_, i) => i) : undefined;
  const curves: TrainingCurve[] = [];
  const parsed = c.methods.map((m) => ({ name: m, ...parseMethod(m) }));
  const pretexts = [...new Set(parsed.flatMap((m) => (m.pretext ? [m.pretext] : [])))];
  for (const p of pretexts) {
    // Before any run, not after the first hour.
    checkMethodBackbone(p, c.backbone);
    checkMethodOptions(p, pretrainSettingsFor(c, p).options);
  }
  const wants = (m: string): boolean => c.methods.includes(m);
  const wantsProtocol = (pretext: string, p: Protocol): boolean => wants(`${pretext}-${p}`);
  const callbacks = options.callbacks;
  using stop = new InterruptWatch('experiment', log, options.handleInterrupt ?? true);
  // The grid of step 3 (method x k x seed): recording, Ctrl-C between runs, the summary.
  const runner = new GridRunner({ ks: c.ks, seeds: c.seeds, seedsPerK: c.seedsPerK, methods: c.methods }, {
    stop, metrics, log, line: (r) => `  ${r.method.padEnd(18)} k=${String(r.k).padEnd(5)} seed=${r.seed}  test accuracy ${(100 * r.accuracy).toFixed(2)}%`,
  });
  const seedsFor = (k: number): readonly number[] => runner.seedsFor(k);
  /** Records a finished run (null: interrupted, not counted); false when the experiment stops here. */
  const done = (method: string, k: number, seed: number, acc: number | null): Promise<boolean> => runner.record(method, k, seed, acc);

  const testLabels = noGrad(() => labelTensor(data.test, testIndices));
  const pretrained = new Map<string, Pretrained>();
  const got = {
    rotationAccuracy: null as number | null, samples: [] as RotationSample[], maeSamples: [] as MaeSample[], transferEncoder: null as Backbone | null,
    rates: {} as Record<string, number>, encoders: {} as Record<string, string>, blockProbes: [] as BlockProbe[],
  };

  /** 1. Pretrains `name` on the unlabelled training images; false when Ctrl-C stopped it. */
  const pretrainPretext = async (name: string): Promise<boolean> => {
    const s = pretrainSettingsFor(c, name);
    // Hold out at most a fifth of the images for the pretext metric and the monitors.
    const held = Math.min(s.heldOut, Math.floor(data.train.length / 5)) / data.train.length;
    const [heldOut, rest] = splitIndices(data.train.length, [held, 1 - held], c.seed);
    manualSeed(c.seed);
    const method = createMethod(name, makeEncoder(), { imageShape: data.train.imageShape, norm, noFlip: s.augment.flip === false }, s.options);
    const stepsPerEpoch = Math.floor(rest!.length / s.batchSize);
    const totalSteps = Math.min(s.maxSteps ?? Infinity, s.epochs * stepsPerEpoch);
    const half = Math.floor(heldOut!.length / 2);
    const monitor = data.train.labels && half >= 10 && (s.monitorPoints ?? 0) > 0
      ? { data: data.train, bank: heldOut!.subarray(0, half), queries: heldOut!.subarray(half), every: Math.max(1, Math.floor(totalSteps / s.monitorPoints!)) }
      : undefined;
    log(`${name} pretraining: ${c.backbone} on ${rest!.length} unlabelled images (${s.maxSteps ? `at most ${s.maxSteps} steps, ` : ''}${s.epochs} epoch${s.epochs === 1 ? '' : 's'}${s.timeBudgetSeconds ? `, at most ${s.timeBudgetSeconds} s` : ''})`);
    const r = await stop.training(() => pretrain(method, {
      data: data.train, indices: rest, heldOut: { data: data.train, indices: heldOut }, monitor,
      norm, batchSize: s.batchSize, epochs: s.epochs, maxSteps: s.maxSteps, optimizer: s.optimizer,
      augment: s.augment, seed: c.seed, metrics, timeBudgetSeconds: s.timeBudgetSeconds, device, callbacks, group,
      checkpoint: join(outDir, `${name}-pretrain`), checkpointMeta: {
        backbone: c.backbone, width: c.width ?? null, inChannels, norm,
        // The settings this pretraining ran with, so that the checkpoint says what it is.
        experiment: { pretext: name, data: data.train.name, trainImages: rest!.length, seed: c.seed, pretrain: s },
      },
    }));
    if (r.fit.interrupted) {
      stop.markInterrupted();
      log(`${name} pretraining: interrupted after ${r.fit.steps} steps; its checkpoint is ${join(outDir, `${name}-pretrain`)}.safetensors`);
      method.dispose();
      return false;
    }
    if (!root) {
      // Rank 0 keeps, measures and saves the encoder.
      method.dispose();
      return true;
    }
    got.rates[name] = r.fit.examplesPerSecond;
    curves.push({ run: `${name}-pretrain`, points: r.fit.curve });
    if (name === 'rotation') {
      got.rotationAccuracy = r.validation.rotation_acc ?? null;
      got.samples = rotationSamples(method, data.test, 32, { norm });
      log(`rotation pretraining: held-out rotation accuracy ${(100 * (got.rotationAccuracy ?? 0)).toFixed(2)}%, ${r.fit.examplesPerSecond.toFixed(0)} images/s`);
    } else if (method instanceof MaskedAutoencoder) {
      got.maeSamples = maeSamples(method, data.test, 12, { norm });
      log(`${name} pretraining: held-out reconstruction loss ${r.validation.recon_loss?.toFixed(4) ?? '-'}, ${r.fit.examplesPerSecond.toFixed(0)} images/s${r.validation.knn_acc !== undefined ? `, monitor kNN ${(100 * r.validation.knn_acc).toFixed(1)}%` : ''}`);
    } else {
      const v = r.validation;
      // A pretext's own held-out metric (jigsaw_acc, relative_patch_acc), beside the monitors.
      const pretext = Object.entries(v).filter(([k]) => k.endsWith('_acc') && k !== 'knn_acc').map(([k, a]) => `, held-out ${k} ${(100 * a).toFixed(1)}%`).join('');
      log(`${name} pretraining: ${r.fit.examplesPerSecond.toFixed(0)} images/s${pretext}${v.knn_acc !== undefined ? `, monitor kNN ${(100 * v.knn_acc).toFixed(1)}%, embedding spread ${v.embedding_std?.toFixed(3)}` : ''}`);
    }
    const encoder = method.takeEncoder(); // heads, momentum copies and queues are freed here
    if (s.recalibrateBatchNorm) {
      const images = Math.min(s.recalibrateBatchNorm, rest!.length);
      const layers = recalibrateBatchNorm(encoder, data.train, { norm, indices: permutation(rest!.length, c.seed + 0xb4).subarray(0, images).map((i) => rest![i]!) });
      log(`${name}: batch-norm statistics of ${layers} layers recomputed over ${images} whole training images`);
    }
    const file = join(outDir, `${name}-encoder.safetensors`);
    saveSafetensors(file, encoder.stateDict(), { backbone: c.backbone, method: name });
    got.encoders[name] = file;
    pretrained.set(name, { encoder, testFeatures: null, pool: null });
    return true;
  };

  /** Test accuracy after fine-tuning, or null when Ctrl-C interrupted the training; `keep` returns the model too. */
  const finetuneFrom = async (name: string, encoder: Backbone, f: Omit<FinetuneConfig, 'freeze'> & { freeze: string[] }, subset: Int32Array, k: number, seed: number,
    keep = false): Promise<{ acc: number; model: Classifier | null } | null> => {
    const model = new Classifier(encoder, f.head === 'mlp' ? mlpHead(encoder.featureDim(), numClasses) : linearHead(encoder.featureDim(), numClasses));
    if (f.freeze.length) model.freeze(f.freeze.map((b) => `encoder.${b}`));
    if (f.headInit === 'probe') {
      if (f.head !== 'linear') throw new RangeError(`${name}: headInit 'probe' needs head 'linear', got '${f.head}'`);
      manualSeed(seed);
      initHeadFromProbe(model, data.train, subset, numClasses, { norm, steps: c.probe.steps, lr: c.probe.lr, weightDecay: c.probe.weightDecay });
    } else if (f.headInit !== undefined && f.headInit !== 'random') {
      throw new RangeError(`${name}: headInit must be 'random' or 'probe', got ${JSON.stringify(f.headInit)}`);
    }
    const r = await stop.training(() => trainSupervised({
      name, model, data: data.train, indices: subset, norm, batchSize: f.batchSize, steps: f.stepsPerK?.[String(k)] ?? f.steps,
      optimizer: f.optimizer, augment: f.augment, labelSmoothing: f.labelSmoothing, seed, metrics, progress: false, device, callbacks,
    }));
    const acc = testAfter(name, model, r, seed);
    if (acc !== null && keep) return { acc, model };
    model.dispose();
    return acc === null ? null : { acc, model: null };
  };

  /** A protocol's trained model: its test accuracy, or null (not counted) when Ctrl-C interrupted its training. */
  const testAfter = (name: string, model: Classifier, r: { interrupted: boolean; steps: number; curve: TrainingCurve['points'] }, seed: number): number | null => {
    if (r.interrupted) {
      stop.markInterrupted();
      log(`  ${name} seed=${seed}: interrupted after ${r.steps} steps; not counted`);
      return null;
    }
    if (seed === c.seeds[0]) curves.push({ run: name, points: r.curve });
    return accuracy(model, data.test, { norm, indices: testIndices });
  };

  /** The distill protocol: a student from the pretrained encoder learns the teacher's predictions on every training image. */
  const distillFrom = async (name: string, teacher: Classifier, encoder: Backbone, subset: Int32Array, seed: number): Promise<number | null> => {
    const student = new Classifier(encoder, linearHead(encoder.featureDim(), numClasses));
    const r = await stop.training(() => distill({
      name, teacher, student, data: data.train, labelled: subset, norm, config: c.distill, seed, metrics, progress: false, device, callbacks,
    }));
    const acc = testAfter(name, student, r, seed);
    student.dispose();
    return acc;
  };

  /** Normalised pixels of some images, flattened to [N, C*H*W], on `on`'s device (the module only places the batches). */
  const pixelsOf = (ds: ImageDataset, rows: ArrayLike<number> | undefined, on: Module = new Identity()): Tensor =>
    extractFeatures(on, (x) => x.flatten(1), ds, { norm, indices: rows });

  /**
   * The training images the graph protocols build their graph over: all (null), or with
   * poolLimit a seeded sample of them plus every image some run of this experiment labels
   * (so that each labelled image is a seed of the spreading, whatever the sample).
   */
  let poolRows: Int32Array | null | undefined;
  const graphPool = (): Int32Array | null => {
    if (poolRows !== undefined) return poolRows;
    const limit = c.propagate.poolLimit;
    if (!limit || limit >= data.train.length) return (poolRows = null);
    const sample = permutation(data.train.length, c.seed + 0x9001).subarray(0, limit);
    const inSample = new Set(sample);
    const labelled = new Set(c.ks.flatMap((k) => seedsFor(k).flatMap((seed) => Array.from(kPerClass(data.train.labels!, k, seed, numClasses)))));
    return (poolRows = Int32Array.from([...sample, ...[...labelled].filter((i) => !inSample.has(i)).sort((x, y) => x - y)]));
  };

  /** The propagate protocol's graph: built once per pretext, over the whole pool or a seeded sample of it. */
  const propagatePool = (p: Pretrained): PropagatePool => p.pool ??= (() => {
    const g = c.propagate;
    const enc = p.encoder;
    const indices = graphPool();
    const of = (ds: ImageDataset, rows: ArrayLike<number> | undefined, block: string | undefined): Tensor =>
      extractFeatures(enc, (x) => enc.features(x, block), ds, { norm, indices: rows });
    const embedding = of(data.train, indices ?? undefined, c.knn.block);
    const testEmbedding = of(data.test, testIndices, c.knn.block);
    const withPixels = (ds: ImageDataset, rows: ArrayLike<number> | undefined, e: Tensor): Tensor => {
      using pixels = pixelsOf(ds, rows, enc);
      return noGrad(() => tidy(() => cat([F.normalize(pixels, 1), F.normalize(e, 1)], 1)));
    };
    const pixelsToo = g.graphFeatures === 'pixels+embedding';
    const features = pixelsToo ? withPixels(data.train, indices ?? undefined, embedding) : embedding;
    const testFeatures = pixelsToo ? withPixels(data.test, testIndices, testEmbedding) : testEmbedding;
    const probeFeatures = c.probe.block === c.knn.block ? embedding : of(data.train, indices ?? undefined, c.probe.block);
    if (pixelsToo) testEmbedding.dispose();
    const graph = knnGraph(features, g.graphNeighbors);
    const owned = [...new Set([features, testFeatures, probeFeatures, embedding])];
    const featuresOf = (rows: ArrayLike<number>): Tensor => {
      const e = of(data.train, rows, c.knn.block);
      if (!pixelsToo) return e;
      const both = withPixels(data.train, rows, e);
      e.dispose();
      return both;
    };
    return { features, testFeatures, graph, probeFeatures, indices, featuresOf, dispose: () => { graph.dispose(); for (const t of owned) t.dispose(); } };
  })();

  /**
   * The propagate protocol: the teacher's probabilities on the pool (labelled images one-hot)
   * spread over the pretext's kNN graph; each test image then takes the kNN vote of its pool
   * neighbours' spread labels, with the teacher's own probabilities added when withTeacher.
   */
  const propagateFrom = (p: Pretrained, teacher: { pool: Tensor; test: Tensor }, subset: Int32Array): number => spreadAccuracy(propagatePool(p), teacher, subset);

  /** Test accuracy of label spreading from `subset`'s labels (and a teacher's probabilities) over a pool's graph. */
  const spreadAccuracy = (pool: GraphPool, teacher: { pool: Tensor; test: Tensor } | null, subset: Int32Array): number => {
    const g = c.propagate;
    // Rows of the labelled images in the pool (all of them, unless the pool is a sample).
    const rowOf = pool.indices ? new Map(Array.from(pool.indices, (img, row) => [img, row])) : null;
    const labelled = rowOf ? subset.filter((i) => rowOf.has(i)) : subset;
    const labelledRows = rowOf ? Int32Array.from(labelled, (i) => rowOf.get(i)!) : subset;
    using labels = labelTensor(data.train, labelled);
    const r = spreadAndVote(pool.graph, pool.features, pool.testFeatures, {
      labelledRows, labels, numClasses, teacher, alpha: g.alpha, iterations: g.iterations, classBalance: g.classBalance,
      neighbors: g.neighbors, temperature: g.temperature, withTeacher: g.withTeacher,
    });
    try {
      return noGrad(() => tidy(() => r.scores.argmax(1).eq(testLabels.to(r.scores.device)).to('float32').mean().item()));
    } finally {
      r.scores.dispose();
      r.poolLabels.dispose();
    }
  };

  /** The label-spreading baseline: the labels alone spread over the propagate protocol's graph, built from the pixels only. */
  let pixelPool: GraphPool | null = null;
  const pixelSpreading = (subset: Int32Array): number => {
    pixelPool ??= (() => {
      const indices = graphPool();
      const features = pixelsOf(data.train, indices ?? undefined);
      const testFeatures = pixelsOf(data.test, testIndices);
      const graph = knnGraph(features, c.propagate.graphNeighbors);
      return { features, testFeatures, graph, indices, dispose: () => { graph.dispose(); features.dispose(); testFeatures.dispose(); } };
    })();
    return spreadAccuracy(pixelPool, null, subset);
  };

  /**
   * The probe teacher: probe `r`'s probabilities on the pool and the test images, averaged with a
   * second probe's on the graph's features when graphProbe (seeded like the first).
   */
  const probeTeacher = (p: Pretrained, r: { classifier: Module; mean: Tensor; std: Tensor }, testProbeFeatures: Tensor, subset: Int32Array, y: Tensor, seed: number): { pool: Tensor; test: Tensor } => {
    const pool = propagatePool(p);
    const probs = (probe: { classifier: Module; mean: Tensor; std: Tensor }, x: Tensor): Tensor => noGrad(() => tidy(() =>
      probe.classifier.forward(x.to(probe.mean.device).sub(probe.mean).div(probe.std)).softmax(1)));
    const first = { pool: probs(r, pool.probeFeatures), test: probs(r, testProbeFeatures) };
    if (!c.propagate.graphProbe) return first;
    manualSeed(seed);
    using labelledFeatures = pool.featuresOf(subset);
    const second = linearProbe(labelledFeatures, y, pool.testFeatures, testLabels, numClasses, { steps: c.probe.steps, lr: c.probe.lr, weightDecay: c.probe.weightDecay });
    const average = (a: Tensor, x: Tensor): Tensor => {
      const b = probs(second, x);
      const mean = noGrad(() => tidy(() => a.add(b).div(2)));
      a.dispose();
      b.dispose();
      return mean;
    };
    const both = { pool: average(first.pool, pool.features), test: average(first.test, pool.testFeatures) };
    for (const t of [second.classifier, second.mean, second.std]) t.dispose();
    return both;
  };

  /** The fine-tuned network's probabilities on the pool and the test images (the finetune teacher). */
  const networkTeacher = (p: Pretrained, model: Classifier): { pool: Tensor; test: Tensor } => {
    const probs = (ds: ImageDataset, rows: ArrayLike<number> | undefined): Tensor => extractFeatures(model, (x) => model.forward(x).softmax(1), ds, { norm, indices: rows });
    return { pool: probs(data.train, propagatePool(p).indices ?? undefined), test: probs(data.test, testIndices) };
  };

  /** Fine-tune, distill, propagate, probe and kNN of one pretext on one labelled subset; false when the experiment stops. */
  const evaluatePretext = async (name: string, p: Pretrained, subset: Int32Array, k: number, seed: number): Promise<boolean> => {
    const propagateWith = wantsProtocol(name, 'propagate') ? c.propagate.teacher : null;
    if (wantsProtocol(name, 'finetune') || wantsProtocol(name, 'distill') || propagateWith === 'finetune') {
      manualSeed(seed);
      const withDistill = wantsProtocol(name, 'distill');
      const withTeacher = withDistill || propagateWith === 'finetune';
      const ft = await finetuneFrom(`${name}-finetune k=${k}`, cloneEncoder(p.encoder, makeEncoder), c.finetune, subset, k, seed, withTeacher);
      if (ft === null) return false;
      if (wantsProtocol(name, 'finetune') && !(await done(`${name}-finetune`, k, seed, ft.acc))) {
        ft.model?.dispose();
        return false;
      }
      if (propagateWith === 'finetune' && ft.model) {
        const teacher = networkTeacher(p, ft.model);
        const acc = propagateFrom(p, teacher, subset);
        teacher.pool.dispose();
        teacher.test.dispose();
        if (!(await done(`${name}-propagate`, k, seed, acc))) {
          ft.model.dispose();
          return false;
        }
      }
      if (withDistill && ft.model) {
        manualSeed(seed);
        const acc = await distillFrom(`${name}-distill k=${k}`, ft.model, cloneEncoder(p.encoder, makeEncoder), subset, seed);
        ft.model.dispose();
        if (!(await done(`${name}-distill`, k, seed, acc))) return false;
      }
      ft.model?.dispose();
    }
    if (!(wantsProtocol(name, 'probe') || wantsProtocol(name, 'knn') || propagateWith === 'probe')) return true;
    const enc = p.encoder;
    p.testFeatures ??= {
      probe: extractFeatures(enc, (x) => enc.features(x, c.probe.block), data.test, { norm, indices: testIndices }),
      knn: extractFeatures(enc, (x) => enc.features(x, c.knn.block), data.test, { norm, indices: testIndices }),
    };
    const testFeatures = p.testFeatures;
    const y = labelTensor(data.train, subset);
    try {
      if (wantsProtocol(name, 'probe') || propagateWith === 'probe') {
        manualSeed(seed);
        const feats = extractFeatures(enc, (x) => enc.features(x, c.probe.block), data.train, { norm, indices: subset });
        const r = linearProbe(feats, y, testFeatures.probe, testLabels, numClasses, { steps: c.probe.steps, lr: c.probe.lr, weightDecay: c.probe.weightDecay });
        feats.dispose();
        // The probe as the propagate protocol's teacher: its probabilities on the pool and the test images.
        const teacher = propagateWith === 'probe' ? probeTeacher(p, r, testFeatures.probe, subset, y, seed) : null;
        r.classifier.dispose();
        r.mean.dispose();
        r.std.dispose();
        const probeDone = !wantsProtocol(name, 'probe') || await done(`${name}-probe`, k, seed, r.accuracy);
        if (teacher) {
          const acc = probeDone ? propagateFrom(p, teacher, subset) : null;
          teacher.pool.dispose();
          teacher.test.dispose();
          if (acc === null || !(await done(`${name}-propagate`, k, seed, acc))) return false;
        }
        if (!probeDone) return false;
      }
      if (wantsProtocol(name, 'knn')) {
        const feats = extractFeatures(enc, (x) => enc.features(x, c.knn.block), data.train, { norm, indices: subset });
        const r = knnClassify(feats, y, testFeatures.knn, testLabels, numClasses, { k: c.knn.k, temperature: c.knn.temperature });
        feats.dispose();
        if (!await done(`${name}-knn`, k, seed, r.accuracy)) return false;
      }
    } finally {
      y.dispose();
    }
    return true;
  };

  /** Which block's pooled features are best: a linear probe on each block (RotNet's Table 1), at one k and seed. */
  const probeBlocks = (name: string, p: Pretrained, k: number, seed: number): void => {
    const subset = kPerClass(data.train.labels!, k, seed, numClasses);
    const y = labelTensor(data.train, subset);
    const enc = p.encoder;
    const blocks: Record<string, number> = {};
    for (const block of enc.blockNames) {
      manualSeed(seed);
      const train = extractFeatures(enc, (x) => enc.features(x, block), data.train, { norm, indices: subset });
      const test = extractFeatures(enc, (x) => enc.features(x, block), data.test, { norm, indices: testIndices });
      const r = linearProbe(train, y, test, testLabels, numClasses, { steps: c.probe.steps, lr: c.probe.lr, weightDecay: c.probe.weightDecay });
      for (const t of [train, test, r.classifier, r.mean, r.std]) t.dispose();
      blocks[block] = r.accuracy;
    }
    y.dispose();
    got.blockProbes.push({ pretext: name, k, seed, blocks });
    log(`  ${name}: linear probe by block (k=${k}, seed ${seed}): ${Object.entries(blocks).map(([b, a]) => `${b} ${(100 * a).toFixed(1)}%`).join(', ')}`);
  };

  // Steps 1 to 3; returns early when Ctrl-C stops the experiment.
  const runAll = async (): Promise<void> => {
    // 1. Each pretext's pretraining on the unlabelled training images.
    for (const name of pretexts) {
      if (!(await pretrainPretext(name))) return;
      if (await stop.shouldStop()) return;
    }
    // Data-parallel: the other ranks only help pretrain.
    if (!root) return;

    // 2. Supervised pretraining on the source domain, for transfer.
    if (wants('transfer')) {
      if (!data.source) throw new Error('transfer needs a labelled source data set');
      const src = data.source;
      manualSeed(c.seed + 1);
      const encoder = makeEncoder();
      const model = new Classifier(encoder, linearHead(encoder.featureDim(), src.classNames?.length ?? 10));
      log(`transfer: supervised pretraining on ${src.name} (${src.length} images)`);
      const r = await stop.training(() => trainSupervised({
        name: 'transfer-pretrain', model, data: src, norm, batchSize: c.transfer.batchSize, steps: c.transfer.steps,
        optimizer: c.transfer.optimizer, augment: c.transfer.augment, seed: c.seed, metrics, device, callbacks,
      }));
      if (r.interrupted) {
        stop.markInterrupted();
        log(`transfer: supervised pretraining interrupted after ${r.steps} steps`);
        model.dispose();
        return;
      }
      curves.push({ run: `transfer-pretrain (${src.name})`, points: r.curve });
      got.transferEncoder = model.encoder;
      model.head.dispose(); // the source-class head is done; the encoder lives on
      if (await stop.shouldStop()) return;
    }

    // 3. The labelled subsets.
    const transferEncoder = got.transferEncoder;
    if (c.blockProbe && data.train.labels) {
      // At the k nearest 10 labels per class (RotNet's Table 1 is about features, not about one label per class).
      const k = [...c.ks].sort((a, b) => Math.abs(Math.log(a / 10)) - Math.abs(Math.log(b / 10)))[0]!;
      for (const [name, p] of pretrained) probeBlocks(name, p, k, seedsFor(k)[0]!);
      if (await stop.shouldStop()) return;
    }
    await runner.run({
      subset: (k, seed) => kPerClass(data.train.labels!, k, seed, numClasses),
      evaluate: async ({ k, seed, subset }) => {
        if (wants('scratch')) {
          manualSeed(seed);
          const r = await finetuneFrom(`scratch k=${k}`, makeEncoder(), { ...c.scratch, freeze: [] }, subset, k, seed);
          if (!await done('scratch', k, seed, r?.acc ?? null)) return false;
        }
        if (wants('label-spreading')) {
          const r = pixelSpreading(subset);
          if (!await done('label-spreading', k, seed, r)) return false;
        }
        if (wants('transfer') && transferEncoder) {
          manualSeed(seed);
          const enc = cloneEncoder(transferEncoder, makeEncoder);
          const r = await finetuneFrom(`transfer k=${k}`, enc, { ...c.finetune, freeze: c.transfer.freeze }, subset, k, seed);
          if (!await done('transfer', k, seed, r?.acc ?? null)) return false;
        }
        for (const [name, p] of pretrained) if (!(await evaluatePretext(name, p, subset, k, seed))) return false;
        return true;
      },
    });
  };
  await runAll();
  const { interrupted, runsDone, runsPlanned } = runner;
  if (interrupted) log(`experiment: stopped by Ctrl-C after ${runsDone} of ${runsPlanned} runs; the results are partial`);

  // 4. Results and report data.
  const results: MethodResult[] = runner.results(parseMethod);
  const embeddings: EmbeddingSet[] = [];
  // Maps of the best pretexts' frozen features (by their best mean at the first k).
  const bestAt = (name: string): number => Math.max(...results.filter((r) => r.pretext === name && r.k === c.ks[0]).map((r) => r.mean), -1);
  const ranked = [...pretrained.keys()].filter((n) => pretrained.get(n)!.testFeatures).sort((a, b) => bestAt(b) - bestAt(a));
  for (const name of ranked.slice(0, 2)) {
    const features = pretrained.get(name)!.testFeatures!;
    const n = Math.min(1500, features.knn.shape[0]!);
    const vectors = tidy(() => features.knn.slice(0, 0, n)).toArray() as number[][];
    const labels = data.test.labels!.subarray(0, n);
    embeddings.push({ title: `Test images embedded by the ${name}-pretrained encoder (${c.knn.block ?? 'last block'})`, vectors, labels: Array.from(labels, (l) => data.test.classNames?.[l] ?? String(l)) });
  }
  const similarImages = ranked.length ? similarTestImages(ranked[0]!, pretrained.get(ranked[0]!)!.testFeatures!.knn, data.test, testIndices) : undefined;
  for (const p of pretrained.values()) {
    p.testFeatures?.probe.dispose();
    p.testFeatures?.knn.dispose();
    p.pool?.dispose();
  }
  (pixelPool as GraphPool | null)?.dispose();
  testLabels.dispose();
  const { rotationAccuracy, samples, maeSamples: reconstructions, transferEncoder, rates, encoders, blockProbes } = got;
  const extra: Record<string, number | string> = {};
  if (rotationAccuracy !== null) extra['rotation accuracy (held out)'] = Number(rotationAccuracy.toFixed(4));
  for (const [name, rate] of Object.entries(rates)) extra[`${name} pretraining images/s`] = Math.round(rate);
  const partialNote = `Interrupted by Ctrl-C: ${runsDone} of ${runsPlanned} runs finished, and only those are counted; these results are partial.`;
  const report: ReportData = {
    title: `Label efficiency on ${data.name}${interrupted ? ' (partial)' : ''}`, modality: 'image', dataset: data.name, createdAt: new Date().toISOString(),
    results, curves, rotationSamples: samples, ...(reconstructions.length ? { maeSamples: reconstructions } : {}), embeddings, extra, ...(blockProbes.length ? { blockProbes } : {}),
    ...(similarImages ? { similarImages } : {}),
    notes: [
      ...(interrupted ? [partialNote] : []),
      `Accuracies on ${testIndices ? testIndices.length : data.test.length} test images; mean and standard deviation over seeds ${c.seeds.join(', ')}${c.seedsPerK ? ` (${Object.entries(c.seedsPerK).map(([k, s]) => `k=${k}: seeds ${s.join(', ')}`).join('; ')})` : ''} (each seed draws its own labelled subset).`,
      `<method>-finetune fine-tunes the pretrained encoder with ${c.finetune.freeze.length ? c.finetune.freeze.join(', ') + ' frozen' : 'nothing frozen'}; <method>-probe is a linear classifier on pooled ${c.probe.block ?? 'last-block'} features; <method>-knn votes among k=${c.knn.k} cosine neighbours with temperature ${c.knn.temperature}; <method>-distill trains a student from the pretrained encoder on the fine-tuned teacher's predictions over every training image (${c.distill.steps} steps, T=${c.distill.temperature}); <method>-propagate spreads the ${c.propagate.teacher === 'finetune' ? 'fine-tuned network\'s predictions' : c.propagate.graphProbe ? 'averaged predictions of two linear probes (on the embedding, and on the graph\'s features)' : 'linear probe\'s predictions'} on ${c.propagate.poolLimit ? `${c.propagate.poolLimit} sampled training images and the labelled ones` : 'every training image'} (labelled ones one-hot) over a ${c.propagate.graphNeighbors}-NN graph of their ${c.propagate.graphFeatures === 'pixels+embedding' ? 'pixels beside their embeddings' : 'embeddings'} (label spreading, alpha ${c.propagate.alpha}, ${c.propagate.iterations} iterations${c.propagate.classBalance ? ', classes balanced' : ''}) and classifies each test image by the kNN vote of the spread labels${c.propagate.withTeacher ? ', added to the teacher\'s probabilities' : ''}.`,
      ...(wants('label-spreading') ? [`label-spreading is the baseline without any network: the k labels spread over a ${c.propagate.graphNeighbors}-NN graph of the raw pixels of ${c.propagate.poolLimit ? `${c.propagate.poolLimit} sampled training images and the labelled ones` : 'all training images'}, each test image classified by the vote of its pixel neighbours.`] : []),
      'The pretraining curves carry two monitors measured on held-out training images: val_knn_acc (kNN accuracy, labels of a small held-out split) and val_embedding_std / embedding_std (spread of l2-normalised embeddings; a collapse falls toward 0). They are never used to train or to choose.',
    ],
    config: c as unknown as Record<string, unknown>,
    ...(interrupted ? { partial: true } : {}),
  };
  for (const p of pretrained.values()) p.encoder.dispose();
  transferEncoder?.dispose();
  const pretrainImagesPerSecond = rates.rotation ?? Object.values(rates)[0] ?? null;
  return { results, report, rotationAccuracy, pretrainImagesPerSecond, pretrainRates: rates, encoders, interrupted, runsDone, runsPlanned };
}

/**
 * Six test images and their nearest test images by `name`'s embedding (cosine; a query
 * never finds itself), from the first 2,000 test images, for the report's grid.
 */
function similarTestImages(name: string, features: Tensor, test: ImageDataset, testIndices: Int32Array | null | undefined): SimilarImages {
  const n = Math.min(2000, features.size(0));
  const queries = Math.min(6, n - 1);
  const near = tidy(() => nearestNeighbors(features.narrow(0, 0, queries), features.narrow(0, 0, n), 7, { exclude: Array.from({ length: queries }, (_, i) => i) }));
  const [c, h, w] = test.imageShape;
  const per = c * h * w;
  const row = (i: number): number => (testIndices ? testIndices[i]! : i);
  const pixels = (i: number): Uint8Array => test.images.slice(row(i) * per, (row(i) + 1) * per);
  const label = (i: number): string => { const l = test.labels?.[row(i)]; return l === undefined ? `#${row(i)}` : (test.classNames?.[l] ?? String(l)); };
  return {
    title: `Nearest test images by the ${name}-pretrained encoder's features (the best method at the first k)`, width: w, height: h, channels: c as 1 | 3,
    rows: Array.from({ length: queries }, (_, q) => ({
      query: { pixels: pixels(q), caption: label(q) },
      neighbors: Array.from({ length: near.k }, (_, j) => { const i = near.indices[q * near.k + j]!; return { pixels: pixels(i), caption: label(i), score: near.scores[q * near.k + j]! }; }),
    })),
  };
}
