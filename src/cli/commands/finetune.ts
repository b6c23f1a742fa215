// selfsup finetune: a new head on the encoder (or a fresh backbone), trained on k
// labels per class, once per seed; frozen blocks keep weights and BN statistics.
import { manualSeed } from '../../tensor/index.js';
import { createBackbone, Classifier, linearHead, mlpHead } from '../../models/index.js';
import { trainSupervised } from '../../train/supervised.js';
import { accuracy } from '../../eval/evaluate.js';
import { defaultImageConfig } from '../../experiment/defaults.js';
import { BACKBONE_NAMES } from '../commands.js';
import { deviceOption } from '../device.js';
import { backboneBlocks } from '../../io/encoder-files.js';
import { saveClassifier } from '../../io/classifier-files.js';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { stopIfInterrupted } from '../interrupt.js';
import { prepareLabelled, labelledSubset, freshEncoder, summarizeRuns, type SeedRun } from '../labelled.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';
import { augmentation, frozenBlocks, pct } from '../settings.js';

export async function run(args: Args, out: Output): Promise<void> {
  const d = defaultImageConfig().finetune;
  const lr = args.number('lr', { positive: true })!;
  const batchSize = args.int('batch-size', { min: 1 })!;
  const optimizer = args.choice('optimizer', ['sgd', 'adam', 'adamw'] as const)!;
  const head = args.choice('head', ['linear', 'mlp'] as const)!;
  const backbone = args.choice('backbone', BACKBONE_NAMES)!;
  const width = args.int('width', { min: 1 });
  if (args.string('encoder') !== undefined && (args.has('backbone') || args.has('width'))) {
    throw new UsageError('--backbone and --width are for training from scratch; with --encoder they come from its encoder.json');
  }
  const device = deviceOption(args);
  const s = await prepareLabelled(args, out, { encoderRequired: false });
  // Like the experiment: more labels get more steps unless --steps says otherwise.
  const steps = args.int('steps', { min: 1 }) ?? d.stepsPerK?.[String(s.k)] ?? d.steps;
  const augment = augmentation(args, d.augment, s.data.mirrorSafe);
  const inChannels = s.train.imageShape[0];
  const scratch = () => createBackbone(backbone, { inChannels, width, imageSize: [s.train.imageShape[1], s.train.imageShape[2]] });
  const blocks = s.encoder?.info.blocks ?? backboneBlocks(backbone, inChannels, width);
  const freeze = frozenBlocks(args, blocks, s.encoder ? d.freeze : []);
  const what = s.encoder
    ? `finetune of ${s.encoder.dir} (${freeze.length ? `${freeze.join(', ')} frozen` : 'nothing frozen'}, ${head} head)`
    : `${backbone} from scratch (${head} head)`;
  out.note(`${what}: ${steps} steps per seed, ${optimizer} lr ${lr}${device === 'cpu' ? '' : `, on ${device}`}`);

  // --out: each seed's model is kept (one seed: in DIR itself; several: DIR/seed-N).
  const outDir = args.string('out') === undefined ? null : resolve(args.string('out')!);
  const modelDir = (seed: number): string => (s.seeds.length === 1 ? outDir! : join(outDir!, `seed-${seed}`));
  const classNames = s.train.classNames ?? Array.from({ length: s.numClasses }, (_, i) => String(i));
  const saved: string[] = [];
  const runs: SeedRun[] = [];
  for (const seed of s.seeds) {
    const subset = labelledSubset(s, seed);
    manualSeed(seed);
    const encoder = freshEncoder(s, scratch);
    const model = new Classifier(encoder, head === 'mlp' ? mlpHead(encoder.featureDim(), s.numClasses) : linearHead(encoder.featureDim(), s.numClasses));
    if (freeze.length) model.freeze(freeze.map((b) => `encoder.${b}`));
    const started = performance.now();
    const fit = await trainSupervised({
      name: `finetune seed ${seed}`, model, data: s.train, indices: subset, norm: s.norm, batchSize, steps,
      optimizer: { ...d.optimizer, kind: optimizer, lr }, augment, labelSmoothing: d.labelSmoothing, seed, device,
    });
    stopIfInterrupted(`interrupted during seed ${seed}; finished seeds: ${runs.map((r) => `${r.seed} (${pct(r.accuracy)})`).join(', ') || 'none'}`);
    const acc = accuracy(model, s.test, { norm: s.norm });
    const seconds = (performance.now() - started) / 1000;
    if (outDir) {
      const dir = modelDir(seed);
      mkdirSync(dir, { recursive: true });
      const info = s.encoder?.info;
      saveClassifier(dir, model, {
        backbone: info?.backbone ?? backbone, width: info ? info.width : (width ?? null), inChannels, imageShape: s.train.imageShape, norm: s.norm,
        head, block: null, classNames, trainedFrom: s.encoder ? `${s.encoder.dir} (${info!.method})` : 'scratch', data: s.data.spec.text,
        labelsPerClass: s.k, seed, testAccuracy: acc,
      });
      saved.push(dir);
    }
    model.dispose();
    runs.push({ seed, accuracy: acc, trainImages: subset.length, steps: fit.steps, seconds });
    out.say(`seed ${seed}: ${pct(acc)} test accuracy (${subset.length} labelled images, ${fit.steps} steps, ${seconds.toFixed(1)} s)`);
  }
  s.encoder?.module.dispose();
  const summary = summarizeRuns(what, s, runs, out);
  if (saved.length) out.say(`saved ${saved.length === 1 ? `the model in ${saved[0]}` : `each seed's model in ${outDir}/seed-N`}; label new images with: selfsup predict --model ${saved[0]} IMAGE...`);
  out.result({ command: 'finetune', ...summary, freeze, head, steps, lr, optimizer, backbone: s.encoder?.info.backbone ?? backbone, device, saved });
}
