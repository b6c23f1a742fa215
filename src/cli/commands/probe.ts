// selfsup probe: a linear classifier on frozen, pooled features of one block of
// an encoder, trained on k labels per class, once per seed.
import { manualSeed } from '../../tensor/index.js';
import { extractFeatures, labelTensor } from '../../eval/evaluate.js';
import { linearProbe } from '../../eval/probe.js';
import { defaultImageConfig } from '../../experiment/defaults.js';
import { prepareLabelled, labelledSubset, summarizeRuns, type SeedRun } from '../labelled.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';
import { featureBlock, pct } from '../settings.js';
import { deviceOption } from '../device.js';

export async function run(args: Args, out: Output): Promise<void> {
  const steps = args.int('steps', { min: 1 })!;
  const lr = args.number('lr', { positive: true })!;
  const weightDecay = args.number('weight-decay', { min: 0 })!;
  const device = deviceOption(args);
  const s = await prepareLabelled(args, out, { encoderRequired: true });
  // Features are computed, and the probe trained, where the encoder is.
  const enc = s.encoder!.module.to(device);
  const block = featureBlock(args, s.encoder!.info.blocks, defaultImageConfig().probe.block);
  const features = (indices?: Int32Array, data = s.train) => extractFeatures(enc, (x) => enc.features(x, block), data, { norm: s.norm, indices });
  const testFeatures = features(undefined, s.test);
  const testLabels = labelTensor(s.test);
  out.note(`linear probe on ${block} features (${enc.featureDim(block)} dims), ${steps} steps, lr ${lr}${device === 'cpu' ? '' : `, on ${device}`}`);

  const runs: SeedRun[] = [];
  for (const seed of s.seeds) {
    const subset = labelledSubset(s, seed);
    manualSeed(seed);
    const x = features(subset);
    const y = labelTensor(s.train, subset);
    const r = linearProbe(x, y, testFeatures, testLabels, s.numClasses, { steps, lr, weightDecay });
    for (const t of [x, y, r.mean, r.std]) t.dispose();
    r.classifier.dispose();
    runs.push({ seed, accuracy: r.accuracy, trainAccuracy: r.trainAccuracy, trainImages: subset.length });
    out.say(`seed ${seed}: ${pct(r.accuracy)} test accuracy (train ${pct(r.trainAccuracy)}, ${subset.length} labelled images)`);
  }
  testFeatures.dispose();
  testLabels.dispose();
  enc.dispose();
  out.result({ command: 'probe', ...summarizeRuns(`linear probe on ${block} of ${s.encoder!.dir}`, s, runs, out), block, steps, lr, weightDecay, device });
}
