// The label-efficiency experiment for images: for k labels per class and several
// seeds, compare training from scratch, transfer from another labelled domain,
// and rotation pretraining (fine-tuned, linear-probed, kNN) on the same subsets.
// Ctrl-C stops the whole sequence after the run it interrupts; the results of the
// runs that finished come back, marked partial.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkDevice, manualSeed, noGrad, tidy, type Tensor } from '../tensor/index.js';
import { saveSafetensors } from '../io/index.js';
import { createBackbone, Classifier, linearHead, mlpHead, type Backbone, type BackboneName } from '../models/index.js';
import { kPerClass, splitIndices, channelStats, type ImageDataset } from '../data/index.js';
import { trainSupervised, type Augmentation, type OptimizerConfig } from '../train/supervised.js';
import { MetricsLog } from '../train/metrics-log.js';
import type { Callbacks } from '../train/trainer.js';
import { accuracy, extractFeatures, labelTensor, type Normalization } from '../eval/evaluate.js';
import { knnClassify } from '../eval/knn.js';
import { linearProbe } from '../eval/probe.js';
import { pretrainRotation, rotationSamples } from '../ssl/methods/rotation.js';
import type { MethodResult, TrainingCurve, ReportData, EmbeddingSet, RotationSample } from '../report/types.js';
import { InterruptWatch } from './interrupt.js';
import { summarize } from './summary.js';

export const IMAGE_METHODS = ['scratch', 'transfer', 'rotation-finetune', 'rotation-probe', 'rotation-knn'] as const;
export type ImageMethod = (typeof IMAGE_METHODS)[number];

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
  labelSmoothing: number;
}

export interface ImageExperimentConfig {
  backbone: BackboneName;
  width?: number;
  ks: number[];
  seeds: number[];
  methods: ImageMethod[];
  pretrain: {
    epochs: number;
    /** Stop rotation pretraining after this many steps (the learning-rate schedule ends there). */
    maxSteps?: number;
    /** Stop rotation pretraining after this many seconds (the checkpoint is kept). */
    timeBudgetSeconds?: number;
    batchSize: number;
    optimizer: OptimizerConfig;
    augment: Augmentation;
    /** Images held out of pretraining to measure rotation accuracy. */
    heldOut: number;
  };
  transfer: { steps: number; batchSize: number; optimizer: OptimizerConfig; augment: Augmentation; freeze: string[] };
  finetune: FinetuneConfig;
  /** Fine-tuning of the scratch baseline (all blocks trainable). */
  scratch: Omit<FinetuneConfig, 'freeze'>;
  probe: { block?: string; steps: number; lr: number; weightDecay: number };
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
  pretrainImagesPerSecond: number | null;
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

export async function runImageExperiment(data: ImageExperimentData, c: ImageExperimentConfig, outDir: string,
  log: (line: string) => void = (l) => process.stderr.write(l + '\n'), options: ImageExperimentOptions = {}): Promise<ImageExperimentOutput> {
  const device = checkDevice(c.device, 'runImageExperiment');
  mkdirSync(outDir, { recursive: true });
  const metrics = new MetricsLog(join(outDir, 'metrics.jsonl'));
  const numClasses = data.train.classNames?.length ?? 10;
  const inChannels = data.train.imageShape[0];
  // On the CPU: the same seed draws the same network whatever the device (training moves it).
  const makeEncoder = (): Backbone => createBackbone(c.backbone, { inChannels, width: c.width });
  const norm: Normalization = channelStats(data.train);
  const testIndices = c.testLimit ? Int32Array.from({ length: Math.min(c.testLimit, data.test.length) }, (_, i) => i) : undefined;
  const curves: TrainingCurve[] = [];
  const runs = new Map<string, number[]>();
  const runsPlanned = c.methods.length * c.ks.length * c.seeds.length;
  let runsDone = 0;
  const record = (method: string, k: number, acc: number, seed: number): void => {
    const key = `${method}|${k}`;
    runs.set(key, [...(runs.get(key) ?? []), acc]);
    runsDone++;
    metrics.write({ kind: 'result', method, k, seed, accuracy: acc });
    log(`  ${method.padEnd(18)} k=${String(k).padEnd(5)} seed=${seed}  test accuracy ${(100 * acc).toFixed(2)}%`);
  };
  const wants = (m: ImageMethod): boolean => c.methods.includes(m);
  const wantsRotation = c.methods.some((m) => m.startsWith('rotation'));
  const callbacks = options.callbacks;
  using stop = new InterruptWatch('experiment', log, options.handleInterrupt ?? true);
  /** Records a finished run (null: interrupted, not counted); false when the experiment stops here. */
  const done = async (method: ImageMethod, k: number, seed: number, acc: number | null): Promise<boolean> => {
    if (acc !== null) record(method, k, acc, seed);
    return acc !== null && !(await stop.shouldStop());
  };

  const testLabels = noGrad(() => labelTensor(data.test, testIndices));
  /** What steps 1 to 3 make, filled in as they go. */
  const got: {
    rotationEncoder: Backbone | null; rotationAccuracy: number | null; pretrainRate: number | null; samples: RotationSample[];
    transferEncoder: Backbone | null; rotationTestFeatures: { probe: Tensor; knn: Tensor } | null;
  } = { rotationEncoder: null, rotationAccuracy: null, pretrainRate: null, samples: [], transferEncoder: null, rotationTestFeatures: null };

  // Steps 1 to 3; returns early when Ctrl-C stops the experiment.
  const runAll = async (): Promise<void> => {
    // 1. Rotation pretraining on the unlabelled training images.
    if (wantsRotation) {
      // Hold out at most a fifth of the images for measuring rotation accuracy.
      const held = Math.min(c.pretrain.heldOut, Math.floor(data.train.length / 5)) / data.train.length;
      const [heldOut, rest] = splitIndices(data.train.length, [held, 1 - held], c.seed);
      manualSeed(c.seed);
      log(`rotation pretraining: ${c.backbone} on ${rest!.length} unlabelled images (${c.pretrain.maxSteps ? `at most ${c.pretrain.maxSteps} steps, ` : ''}${c.pretrain.epochs} epoch${c.pretrain.epochs === 1 ? '' : 's'}${c.pretrain.timeBudgetSeconds ? `, at most ${c.pretrain.timeBudgetSeconds} s` : ''})`);
      const r = await stop.training(() => pretrainRotation({
        encoder: makeEncoder(), data: data.train, indices: rest, heldOut: { data: data.train, indices: heldOut },
        norm, batchSize: c.pretrain.batchSize, epochs: c.pretrain.epochs, maxSteps: c.pretrain.maxSteps, optimizer: c.pretrain.optimizer,
        augment: c.pretrain.augment, seed: c.seed, metrics, timeBudgetSeconds: c.pretrain.timeBudgetSeconds, device, callbacks,
        checkpoint: join(outDir, 'rotation-pretrain'), checkpointMeta: { backbone: c.backbone, width: c.width ?? null, inChannels, norm },
      }));
      if (r.fit.interrupted) {
        stop.markInterrupted();
        log(`rotation pretraining: interrupted after ${r.fit.steps} steps; its checkpoint is ${join(outDir, 'rotation-pretrain')}.safetensors`);
        r.model.dispose();
        return;
      }
      got.rotationEncoder = r.model.encoder;
      got.rotationAccuracy = r.heldOutRotationAccuracy;
      got.pretrainRate = r.fit.examplesPerSecond;
      curves.push({ run: 'rotation-pretrain', points: r.fit.curve });
      got.samples = rotationSamples(r.model, data.test, 32, { norm });
      saveSafetensors(join(outDir, 'rotation-encoder.safetensors'), r.model.encoder.stateDict(), { backbone: c.backbone, method: 'rotation' });
      log(`rotation pretraining: held-out rotation accuracy ${(100 * (r.heldOutRotationAccuracy ?? 0)).toFixed(2)}%, ${r.fit.examplesPerSecond.toFixed(0)} images/s`);
      r.model.head.dispose(); // the 4-way rotation head is done; the encoder lives on
      if (await stop.shouldStop()) return;
    }

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
    const rotationEncoder = got.rotationEncoder;
    const transferEncoder = got.transferEncoder;
    if (rotationEncoder && (wants('rotation-probe') || wants('rotation-knn'))) {
      const enc = rotationEncoder;
      got.rotationTestFeatures = {
        probe: extractFeatures(enc, (x) => enc.features(x, c.probe.block), data.test, { norm, indices: testIndices }),
        knn: extractFeatures(enc, (x) => enc.features(x, c.knn.block), data.test, { norm, indices: testIndices }),
      };
      if (await stop.shouldStop()) return;
    }
    /** Test accuracy after fine-tuning, or null when Ctrl-C interrupted the training. */
    const finetuneFrom = async (name: string, encoder: Backbone, f: Omit<FinetuneConfig, 'freeze'> & { freeze: string[] }, subset: Int32Array, k: number, seed: number): Promise<number | null> => {
      const model = new Classifier(encoder, f.head === 'mlp' ? mlpHead(encoder.featureDim(), numClasses) : linearHead(encoder.featureDim(), numClasses));
      if (f.freeze.length) model.freeze(f.freeze.map((b) => `encoder.${b}`));
      const r = await stop.training(() => trainSupervised({
        name, model, data: data.train, indices: subset, norm, batchSize: f.batchSize, steps: f.stepsPerK?.[String(k)] ?? f.steps,
        optimizer: f.optimizer, augment: f.augment, labelSmoothing: f.labelSmoothing, seed, metrics, progress: false, device, callbacks,
      }));
      if (r.interrupted) {
        stop.markInterrupted();
        log(`  ${name} seed=${seed}: interrupted after ${r.steps} steps; not counted`);
        model.dispose();
        return null;
      }
      if (seed === c.seeds[0]) curves.push({ run: name, points: r.curve });
      const acc = accuracy(model, data.test, { norm, indices: testIndices });
      model.dispose();
      return acc;
    };

    for (const k of c.ks) {
      for (const seed of c.seeds) {
        const subset = kPerClass(data.train.labels!, k, seed, numClasses);
        if (wants('scratch')) {
          manualSeed(seed);
          if (!await done('scratch', k, seed, await finetuneFrom(`scratch k=${k}`, makeEncoder(), { ...c.scratch, freeze: [] }, subset, k, seed))) return;
        }
        if (wants('transfer') && transferEncoder) {
          manualSeed(seed);
          const enc = cloneEncoder(transferEncoder, makeEncoder);
          if (!await done('transfer', k, seed, await finetuneFrom(`transfer k=${k}`, enc, { ...c.finetune, freeze: c.transfer.freeze }, subset, k, seed))) return;
        }
        if (wants('rotation-finetune') && rotationEncoder) {
          manualSeed(seed);
          const enc = cloneEncoder(rotationEncoder, makeEncoder);
          if (!await done('rotation-finetune', k, seed, await finetuneFrom(`rotation-finetune k=${k}`, enc, c.finetune, subset, k, seed))) return;
        }
        const testFeatures = got.rotationTestFeatures;
        if (rotationEncoder && testFeatures) {
          const enc = rotationEncoder;
          const y = labelTensor(data.train, subset);
          try {
            if (wants('rotation-probe')) {
              manualSeed(seed);
              const feats = extractFeatures(enc, (x) => enc.features(x, c.probe.block), data.train, { norm, indices: subset });
              const r = linearProbe(feats, y, testFeatures.probe, testLabels, numClasses, { steps: c.probe.steps, lr: c.probe.lr, weightDecay: c.probe.weightDecay });
              feats.dispose();
              r.classifier.dispose();
              r.mean.dispose();
              r.std.dispose();
              if (!await done('rotation-probe', k, seed, r.accuracy)) return;
            }
            if (wants('rotation-knn')) {
              const feats = extractFeatures(enc, (x) => enc.features(x, c.knn.block), data.train, { norm, indices: subset });
              const r = knnClassify(feats, y, testFeatures.knn, testLabels, numClasses, { k: c.knn.k, temperature: c.knn.temperature });
              feats.dispose();
              if (!await done('rotation-knn', k, seed, r.accuracy)) return;
            }
          } finally {
            y.dispose();
          }
        }
      }
    }
  };
  await runAll();
  const interrupted = stop.requested && runsDone < runsPlanned;
  if (interrupted) log(`experiment: stopped by Ctrl-C after ${runsDone} of ${runsPlanned} runs; the results are partial`);

  // 4. Results and report data.
  const results: MethodResult[] = [];
  for (const m of IMAGE_METHODS) for (const k of c.ks) {
    const r = runs.get(`${m}|${k}`);
    if (r) results.push(summarize(m, k, r));
  }
  const embeddings: EmbeddingSet[] = [];
  const { rotationEncoder, rotationAccuracy, pretrainRate, samples, transferEncoder, rotationTestFeatures: features } = got;
  if (rotationEncoder && features) {
    const n = Math.min(1500, features.knn.shape[0]!);
    const vectors = tidy(() => features.knn.slice(0, 0, n)).toArray() as number[][];
    const labels = data.test.labels!.subarray(0, n);
    embeddings.push({ title: `Test images embedded by the rotation-pretrained encoder (${c.knn.block ?? 'last block'})`, vectors, labels: Array.from(labels, (l) => data.test.classNames?.[l] ?? String(l)) });
  }
  features?.probe.dispose();
  features?.knn.dispose();
  testLabels.dispose();
  const extra: Record<string, number | string> = {};
  if (rotationAccuracy !== null) extra['rotation accuracy (held out)'] = Number(rotationAccuracy.toFixed(4));
  if (pretrainRate !== null) extra['pretraining images/s'] = Math.round(pretrainRate);
  const partialNote = `Interrupted by Ctrl-C: ${runsDone} of ${runsPlanned} runs finished, and only those are counted; these results are partial.`;
  const report: ReportData = {
    title: `Label efficiency on ${data.name}${interrupted ? ' (partial)' : ''}`, modality: 'image', dataset: data.name, createdAt: new Date().toISOString(),
    results, curves, rotationSamples: samples, embeddings, extra,
    notes: [
      ...(interrupted ? [partialNote] : []),
      `Accuracies on ${testIndices ? testIndices.length : data.test.length} test images; mean and standard deviation over seeds ${c.seeds.join(', ')} (each seed draws its own labelled subset).`,
      `rotation-finetune fine-tunes the rotation-pretrained encoder with ${c.finetune.freeze.length ? c.finetune.freeze.join(', ') + ' frozen' : 'nothing frozen'}; rotation-probe is a linear classifier on pooled ${c.probe.block ?? 'last-block'} features; rotation-knn votes among k=${c.knn.k} cosine neighbours with temperature ${c.knn.temperature}.`,
    ],
    config: c as unknown as Record<string, unknown>,
    ...(interrupted ? { partial: true } : {}),
  };
  rotationEncoder?.dispose();
  transferEncoder?.dispose();
  return { results, report, rotationAccuracy, pretrainImagesPerSecond: pretrainRate, interrupted, runsDone, runsPlanned };
}
