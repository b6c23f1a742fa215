// selfsup knn: weighted k-nearest-neighbour classification on frozen, pooled
// features of one block; the neighbour count and temperature go into the output.
import { extractFeatures, labelTensor } from '../../eval/evaluate.js';
import { knnClassify } from '../../eval/knn.js';
import { defaultImageConfig } from '../../experiment/defaults.js';
import { prepareLabelled, labelledSubset, summarizeRuns, type SeedRun } from '../labelled.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';
import { featureBlock, pct } from '../settings.js';
import { deviceOption } from '../device.js';

export async function run(args: Args, out: Output): Promise<void> {
  const neighbors = args.int('neighbors', { min: 1 })!;
  const temperature = args.number('temperature', { positive: true })!;
  const device = deviceOption(args);
  const s = await prepareLabelled(args, out, { encoderRequired: true });
  // Features are computed, and neighbours found, where the encoder is.
  const enc = s.encoder!.module.to(device);
  const block = featureBlock(args, s.encoder!.info.blocks, defaultImageConfig().knn.block);
  const features = (indices?: Int32Array, data = s.train) => extractFeatures(enc, (x) => enc.features(x, block), data, { norm: s.norm, indices });
  const testFeatures = features(undefined, s.test);
  const testLabels = labelTensor(s.test);
  out.note(`kNN on ${block} features (${enc.featureDim(block)} dims): ${neighbors} neighbours, temperature ${temperature}${device === 'cpu' ? '' : `, on ${device}`}`);

  const runs: SeedRun[] = [];
  // Without randomness (--k all), one run says all there is.
  for (const seed of s.k === 'all' ? s.seeds.slice(0, 1) : s.seeds) {
    const subset = labelledSubset(s, seed);
    const x = features(subset);
    const y = labelTensor(s.train, subset);
    const r = knnClassify(x, y, testFeatures, testLabels, s.numClasses, { k: neighbors, temperature });
    x.dispose();
    y.dispose();
    runs.push({ seed, accuracy: r.accuracy, neighbors: r.k, trainImages: subset.length });
    out.say(`seed ${seed}: ${pct(r.accuracy)} test accuracy (${subset.length} labelled images, ${r.k} neighbours, temperature ${r.temperature})`);
  }
  testFeatures.dispose();
  testLabels.dispose();
  enc.dispose();
  const what = `kNN (${neighbors} neighbours, temperature ${temperature}) on ${block} of ${s.encoder!.dir}`;
  out.result({ command: 'knn', ...summarizeRuns(what, s, runs, out), block, neighbors, temperature, device });
}
