// The image experiment with the method library: any registered method under every
// protocol, results named <method>-<protocol> with pretext and protocol fields, the
// report's method comparison, block-wise probe and monitors; the distill options;
// the CLI's --methods expansion and --preset.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setNumThreads, memory, manualSeed } from '../src/tensor/index.js';
import { runImageExperiment, type ImageExperimentConfig } from '../src/experiment/image.js';
import { defaultImageConfig, jointEmbeddingPretrain } from '../src/experiment/defaults.js';
import { parseMethod, expandMethods, experimentMethodNames } from '../src/experiment/protocols.js';
import { bestConfig, demoConfig, jigsawConfig, presetNames } from '../src/experiment/presets.js';
import { renderReport } from '../src/report/index.js';
import { distill } from '../src/train/distill.js';
import { Classifier, linearHead, SmallCnn } from '../src/models/index.js';
import { trainSupervised } from '../src/train/supervised.js';
import { kPerClass } from '../src/data/index.js';
import { experimentMethods } from '../src/cli/commands/experiment.js';
import { parseOptions } from '../src/cli/options.js';
import { COMMANDS } from '../src/cli/commands.js';
import { toyImages } from './support/toy-images.js';

setNumThreads(1);
const tmp = mkdtempSync(join(tmpdir(), 'selfsup-exp-methods-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const data = toyImages(160, { leftShade: false, size: 16 }); // a fifth (32) held out: 16 vote and 16 are classified by the kNN monitor

function tinyConfig(methods: string[]): ImageExperimentConfig {
  const c = defaultImageConfig();
  Object.assign(c, { width: 4, ks: [2, 4], seeds: [0, 1], seedsPerK: { 4: [0] }, testLimit: 32, methods, blockProbe: true });
  c.pretrain = { ...c.pretrain, maxSteps: 4, batchSize: 16, heldOut: 32, monitorPoints: 2, optimizer: { ...c.pretrain.optimizer, warmupSteps: 1 } };
  c.methodPretrain = jointEmbeddingPretrain(4);
  for (const m of Object.values(c.methodPretrain)) Object.assign(m, { batchSize: 16, options: { hiddenDim: 16, projectionDim: 8 } });
  c.finetune = { ...c.finetune, steps: 4, stepsPerK: {}, batchSize: 8 };
  c.scratch = { ...c.scratch, steps: 4, stepsPerK: {}, batchSize: 8 };
  c.probe = { ...c.probe, steps: 20 };
  c.knn = { ...c.knn, k: 3 };
  c.distill = { ...c.distill, steps: 3, batchSize: 16, labelledBatchSize: 4 };
  c.propagate = { ...c.propagate, graphNeighbors: 4, neighbors: 5 };
  return c;
}

describe('experiment: methods x protocols', () => {
  test('rotation and simclr under every protocol, beside scratch: names, fields, seeds per k, report sections', async () => {
    const methods = ['scratch', 'label-spreading', ...expandMethods(['rotation', 'simclr'], ['finetune', 'probe', 'knn', 'distill', 'propagate'])];
    const r = await runImageExperiment({ name: 'toy', train: data, test: data }, tinyConfig(methods), join(tmp, 'all'), () => {});
    assert.equal(r.interrupted, false);
    assert.equal(r.runsPlanned, methods.length * 3, 'two seeds at k=2, one at k=4');
    assert.equal(r.runsDone, r.runsPlanned);
    for (const m of methods) {
      const at2 = r.results.find((x) => x.method === m && x.k === 2)!;
      assert.equal(at2.runs.length, 2, m);
      assert.equal(r.results.find((x) => x.method === m && x.k === 4)!.runs.length, 1, m);
      assert.ok(at2.mean >= 0 && at2.mean <= 1);
      const p = parseMethod(m);
      assert.deepEqual({ pretext: at2.pretext, protocol: at2.protocol }, { pretext: p.pretext, protocol: p.protocol });
    }
    assert.deepEqual(Object.keys(r.pretrainRates).sort(), ['rotation', 'simclr']);
    assert.deepEqual(Object.keys(r.encoders).sort(), ['rotation', 'simclr']);
    assert.deepEqual(r.report.blockProbes!.map((b) => [b.pretext, Object.keys(b.blocks)]), [['rotation', ['block1', 'block2', 'block3']], ['simclr', ['block1', 'block2', 'block3']]]);
    // The report's similar-images grid: six queries, seven neighbours each, none the query itself.
    const sim = r.report.similarImages!;
    assert.match(sim.title, /-pretrained encoder/);
    assert.equal(sim.rows.length, 6);
    for (const row of sim.rows) {
      assert.equal(row.neighbors.length, 7);
      assert.equal(row.query.pixels.length, sim.channels * sim.width * sim.height);
      for (let j = 1; j < 7; j++) assert.ok(row.neighbors[j - 1]!.score >= row.neighbors[j]!.score);
    }
    const simclrCurve = r.report.curves.find((c) => c.run === 'simclr-pretrain')!;
    assert.ok(simclrCurve.points.some((p) => p.val_knn_acc !== undefined && p.val_embedding_std !== undefined), 'the monitors are in the pretraining curve');
    const html = await renderReport(r.report);
    for (const id of ['method-grid', 'figure-method-comparison', 'block-probe', 'figure-monitors']) assert.ok(html.includes(`id="${id}"`), `report has ${id}`);
  });

  test('propagate from the fine-tuned network over an embedding-only graph of a sampled pool; the same seed gives the same result', async () => {
    const run = async (dir: string) => {
      const c = tinyConfig(['scratch', 'rotation-finetune', 'rotation-propagate']);
      c.ks = [2];
      c.seedsPerK = {};
      c.propagate = { ...c.propagate, teacher: 'finetune', graphFeatures: 'embedding', poolLimit: 100, withTeacher: false };
      return runImageExperiment({ name: 'toy', train: data, test: data }, c, join(tmp, dir), () => {});
    };
    const before = memory().numTensors;
    const a = await run('ft-teacher-a');
    const b = await run('ft-teacher-b');
    const accs = (r: typeof a) => r.results.find((x) => x.method === 'rotation-propagate')!.runs;
    assert.equal(accs(a).length, 2);
    assert.deepEqual(accs(a), accs(b));
    assert.match(a.report.notes?.join(' ') ?? JSON.stringify(a.report), /fine-tuned network's predictions on 100 sampled training images/);
    assert.ok(memory().numTensors - before < 40, `live tensors stay flat (${memory().numTensors - before} more)`);
  });

  test('method names: parse, expand, and clear errors', () => {
    assert.deepEqual(parseMethod('barlow-twins-knn'), { pretext: 'barlow-twins', protocol: 'knn' });
    assert.deepEqual(parseMethod('transfer'), { pretext: null, protocol: 'transfer' });
    assert.throws(() => parseMethod('simclr-guess'), /unknown experiment method 'simclr-guess'/);
    assert.throws(() => parseMethod('skipgram-knn'), /unknown experiment method/); // a text method
    assert.ok(experimentMethodNames().includes('dino-propagate'));
  });

  test('--methods takes methods alone (each under --protocols), pairs and baselines; scratch joins when no baseline is named', () => {
    const spec = COMMANDS.find((c) => c.name === 'experiment')!;
    const args = (...argv: string[]) => parseOptions('experiment', argv, spec.options);
    assert.deepEqual(experimentMethods(args('--methods', 'rotation,simclr-knn'), []), ['scratch', 'rotation-finetune', 'rotation-probe', 'rotation-knn', 'simclr-knn']);
    assert.deepEqual(experimentMethods(args('--methods', 'transfer,byol', '--protocols', 'distill'), []), ['transfer', 'byol-distill']);
    assert.deepEqual(experimentMethods(args('--protocols', 'knn'), ['scratch', 'rotation-finetune', 'rotation-probe']), ['scratch', 'rotation-knn']);
    assert.throws(() => experimentMethods(args('--methods', 'simclr,nope'), []), /unknown 'nope'/);
  });

  test('presets: best is VICReg against scratch and label spreading at k=10 and 100 with 5 seeds; demo is a curve at k = 1, 10, 100', () => {
    assert.deepEqual(presetNames(), ['default', 'demo', 'jigsaw', 'best']);
    const j = jigsawConfig();
    assert.deepEqual({ ks: j.ks, seeds: j.seeds }, { ks: [10], seeds: [0, 1, 2, 3, 4] });
    assert.deepEqual(j.methodPretrain?.jigsaw?.options, { grid: 2, imageSize: 32, tile: 12, gap: 2, input: 'assembled' });
    assert.equal(j.methodPretrain?.jigsaw?.maxSteps, 1000);
    assert.equal(j.methodPretrain?.jigsaw?.optimizer?.weightDecay, 5e-3);
    assert.deepEqual(j.pretrain, defaultImageConfig().pretrain, 'rotation at its defaults');
    const c = bestConfig();
    assert.deepEqual({ ks: c.ks, seeds: c.seeds }, { ks: [10, 100], seeds: [0, 1, 2, 3, 4] });
    for (const m of ['scratch', 'label-spreading', 'vicreg-propagate']) assert.ok(c.methods.includes(m), m);
    assert.equal(c.methodPretrain?.vicreg?.maxSteps, 1600, 'a step budget, not a time budget');
    const d = demoConfig();
    assert.deepEqual(d.ks, [1, 10, 100]);
    for (const m of ['scratch', 'transfer', 'rotation-finetune', 'vicreg-propagate']) assert.ok(d.methods.includes(m), m);
    // The demo keeps today's rotation setting, so its seeds repeat the earlier numbers.
    assert.deepEqual(d.pretrain, defaultImageConfig().pretrain);
  });
});

describe('distill', () => {
  for (const [what, extra] of [['soft targets', {}], ['a strong student view and confident hard targets', { strongViewMinScale: 0.3, confidenceThreshold: 0.3 }]] as const) {
    test(`a student learns from the teacher (${what}) and nothing leaks`, async () => {
      manualSeed(3);
      const labelled = kPerClass(data.labels!, 4, 0, 4);
      const teacher = new Classifier(new SmallCnn({ widths: [4, 8, 8] }), linearHead(8, 4));
      await trainSupervised({ name: 't', model: teacher, data, indices: labelled, batchSize: 16, steps: 10, optimizer: { kind: 'adam', lr: 1e-2 }, seed: 0, progress: false });
      const before = memory().numTensors;
      const student = new Classifier(new SmallCnn({ widths: [4, 8, 8] }), linearHead(8, 4));
      const r = await distill({
        name: 'd', teacher, student, data, labelled, seed: 0, progress: false,
        config: { ...defaultImageConfig().distill, steps: 12, batchSize: 16, labelledBatchSize: 8, ...extra },
      });
      assert.equal(r.steps, 12);
      assert.ok(Number.isFinite(r.lastLoss));
      const first = r.curve[0]!.loss!;
      assert.ok(r.lastLoss < first, `loss ${first} -> ${r.lastLoss}`);
      student.dispose();
      assert.equal(memory().numTensors, before, 'only the student was made');
      teacher.dispose();
    });
  }
});
