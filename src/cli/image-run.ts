// Runs the image label-efficiency experiment for `experiment` and `demo`, then
// writes what the report needs (report-data.json, report.html, results.json), an
// encoder.json beside the rotation encoder, and prints the method x k table.
// After Ctrl-C the same files are written with the runs that finished, marked
// partial, and the command exits with 130.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { channelStats } from '../data/index.js';
import { checkpointPaths } from '../io/index.js';
import { writeReport } from '../report/index.js';
import { runImageExperiment, pretrainSettingsFor, type ImageExperimentConfig, type ImageExperimentData } from '../experiment/image.js';
import { parseMethod } from '../experiment/protocols.js';
import { defaultImageConfig, jointEmbeddingPretrain, tilePretextPretrain, maePretrain } from '../experiment/defaults.js';
import { backboneBlocks, writeEncoderInfo } from '../io/encoder-files.js';
import { InterruptedError, UsageError } from './errors.js';
import type { Output } from './output.js';
import type { RankContext } from './distributed.js';
import { saveReportData } from './report-data.js';
import { resultsTable } from './table.js';
import { fittingWarmup, pct } from './settings.js';

/** --quick: images used (training, test, transfer source) when no limit is given. */
export const QUICK_LIMITS = { train: 3000, test: 500, source: 2000 };

/** The default configuration at k=10 with budgets small enough for a smoke test (seconds, not minutes). */
export function quickImageConfig(): ImageExperimentConfig {
  const c = defaultImageConfig();
  c.ks = [10];
  c.seeds = [0, 1];
  c.pretrain = { ...c.pretrain, epochs: 1, maxSteps: 40, batchSize: 64, heldOut: 200 };
  c.transfer = { ...c.transfer, steps: 20, batchSize: 64 };
  c.finetune = { ...c.finetune, steps: 20 };
  c.scratch = { ...c.scratch, steps: 20 };
  c.probe = { ...c.probe, steps: 100 };
  c.methodPretrain = { ...jointEmbeddingPretrain(40), ...tilePretextPretrain(40), mae: maePretrain(40) };
  for (const m of Object.values(c.methodPretrain)) m.batchSize = 64;
  c.distill = { ...c.distill, steps: 20, batchSize: 64 };
  c.propagate = { ...c.propagate };
  return c;
}

/**
 * Refuses, as `selfsup pretrain` does, a pretraining batch larger than the images it
 * trains on (those left after the experiment holds out its share), before anything runs.
 */
function checkPretrainBatches(c: ImageExperimentConfig, trainImages: number): void {
  for (const name of new Set(c.methods.flatMap((m) => parseMethod(m).pretext ?? []))) {
    const s = pretrainSettingsFor(c, name);
    const heldOut = Math.min(s.heldOut, Math.floor(trainImages / 5)); // as runImageExperiment holds out
    if (s.batchSize <= trainImages - heldOut) continue;
    const setting = c.methodPretrain?.[name]?.batchSize !== undefined ? `methodPretrain.${name}.batchSize` : 'pretrain.batchSize';
    throw new UsageError(`${setting} ${s.batchSize} is larger than the ${trainImages - heldOut} images ${name} pretrains on ` +
      `(${trainImages} training images, ${heldOut} held out); lower it in the --config file, or use more images`);
  }
}

export async function runImageCommand(command: string, data: ImageExperimentData, config: ImageExperimentConfig, outDir: string,
  dataSpec: string, out: Output, o: { epochsFollowSteps?: boolean } = {}, job?: RankContext): Promise<void> {
  const started = performance.now();
  // Small data (a --limit) gets a held-out set and a warm-up that fit it, as in `selfsup pretrain`.
  const p = config.pretrain;
  p.heldOut = Math.min(p.heldOut, Math.floor(data.train.length / 10));
  const stepsPerEpoch = Math.floor((data.train.length - p.heldOut) / p.batchSize);
  // --pretrain-steps N means N steps: as many epochs as they take, for each method at its own batch size.
  if (o.epochsFollowSteps && p.maxSteps && stepsPerEpoch >= 1) p.epochs = Math.max(p.epochs, Math.ceil(p.maxSteps / stepsPerEpoch));
  for (const [method, own] of o.epochsFollowSteps ? Object.entries(config.methodPretrain ?? {}) : []) {
    const s = pretrainSettingsFor(config, method);
    const perEpoch = Math.floor((data.train.length - p.heldOut) / s.batchSize);
    if (s.maxSteps && perEpoch >= 1) own.epochs = Math.max(s.epochs, Math.ceil(s.maxSteps / perEpoch));
  }
  const steps = Math.min(p.maxSteps ?? Infinity, p.epochs * stepsPerEpoch);
  p.optimizer = { ...p.optimizer, warmupSteps: fittingWarmup(p.optimizer.warmupSteps, steps) };
  checkPretrainBatches(config, data.train.length);
  const checkpoint = checkpointPaths(join(outDir, 'rotation-pretrain')).tensors;
  if (config.device && config.device !== 'cpu') out.note(`training and evaluating on ${config.device}`);
  // Ctrl-C: the experiment stops after the run it interrupts and returns what finished.
  const r = await runImageExperiment(data, config, outDir, (line) => out.note(line), { group: job?.group });
  if (job && !job.root) {
    // Data-parallel: rank 0 evaluates and writes; this rank only helped pretrain.
    job.group?.destroy();
    if (r.interrupted) throw new InterruptedError('stopped with the other ranks');
    return;
  }
  job?.group?.destroy();

  const reportData = saveReportData(outDir, r.report);
  out.note('writing the report...');
  const written = await writeReport(outDir, r.report);
  let encoderJson: string | null = null;
  // encoder.json (what finetune, probe and knn read from --encoder DIR) names rotation's encoder, or the first method's.
  const encoderMethod = r.encoders.rotation ? 'rotation' : Object.keys(r.encoders)[0];
  if (encoderMethod) {
    const inChannels = data.train.imageShape[0];
    encoderJson = writeEncoderInfo(outDir, backboneBlocks(config.backbone, inChannels, config.width), {
      backbone: config.backbone, width: config.width ?? null, inChannels, imageShape: data.train.imageShape,
      norm: channelStats(data.train), method: encoderMethod, data: dataSpec, rotationAccuracy: encoderMethod === 'rotation' ? r.rotationAccuracy : null,
    }, `${encoderMethod}-encoder.safetensors`);
  }
  const seconds = (performance.now() - started) / 1000;

  out.say('');
  if (r.interrupted) out.say(`PARTIAL RESULTS: interrupted after ${r.runsDone} of ${r.runsPlanned} runs; only the runs that finished are counted.`);
  out.say(`Test accuracy on ${data.test.length} images of ${data.test.name}, mean ± std over seeds ${config.seeds.join(', ')}:`);
  out.say(resultsTable(r.results));
  out.say('');
  if (r.rotationAccuracy !== null) {
    out.say(`rotation pretraining: ${pct(r.rotationAccuracy)} held-out rotation accuracy, ${r.pretrainRates.rotation?.toFixed(0)} images/s`);
  }
  for (const [name, rate] of Object.entries(r.pretrainRates)) if (name !== 'rotation') out.say(`${name} pretraining: ${rate.toFixed(0)} images/s`);
  out.say(`report: ${written.html}`);
  out.say(`results: ${written.json}${encoderJson ? `; encoder: ${encoderJson}` : ''} (${(seconds / 60).toFixed(1)} min)`);
  const result = {
    command, ok: true, modality: 'image', results: r.results, rotationAccuracy: r.rotationAccuracy,
    pretrainImagesPerSecond: r.pretrainImagesPerSecond, pretrainRates: r.pretrainRates, encoders: r.encoders, reportPath: written.html, resultsPath: written.json,
    reportDataPath: reportData, encoder: encoderJson, outDir, seconds, data: dataSpec, testImages: data.test.length, config,
  };
  if (r.interrupted) {
    throw new InterruptedError(`interrupted after ${r.runsDone} of ${r.runsPlanned} runs; the partial results are in ${written.json} ` +
      `(marked "partial": true) and ${written.html}${existsSync(checkpoint) ? `; the rotation-pretraining checkpoint is ${checkpoint}` : ''}`,
    { ...result, partial: true, runsDone: r.runsDone, runsPlanned: r.runsPlanned });
  }
  out.result(result);
}
