// One rank of the data-parallel tests (test/distributed.test.ts), or the one-process
// reference when WORLD_SIZE is unset. argv: scenario, output JSON path, options JSON.
//  train: `pretrain` of rotation (on a tiny ViT, batch-norm-free, or the small CNN) with SGD;
//         rank 0 writes the final parameters and buffers (every rank with `everyRank`).
//  ntxent: the gathered NT-Xent of fixed embeddings (options.loss 'barlow' or 'vicreg': those
//    losses over the gathered global batch); every rank writes its loss and gradient.
//  runs: several train / ntxent runs, one after another in the same processes (fewer
//        process starts); the options JSON is a list of { scenario, out, options }.
//  hang: joins, then all-reduces forever (a peer, or the launcher, is killed by the test).
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { manualSeed, setNumThreads, randn, tidy } from '../../src/tensor/index.js';
import { createBackbone } from '../../src/models/index.js';
import { createMethod } from '../../src/ssl/registry.js';
import { pretrain } from '../../src/ssl/pretrain.js';
import { ntXentLoss, barlowTwinsLoss, vicregLoss } from '../../src/ssl/losses/index.js';
import { checkpointPaths } from '../../src/io/index.js';
import { ProcessGroup, distributedEnv, setDefaultGroup } from '../../src/distributed/index.js';
import { toyImages } from './toy-images.js';

interface TrainOptions {
  batchSize?: number; steps?: number; checkpoint?: string; resume?: boolean; epochs?: number; world?: number; interruptAtStep?: number;
  startedFile?: string; backbone?: 'vit-tiny' | 'small-cnn'; syncBatchNorm?: boolean;
  dataParallel?: { bucketCapMB?: number; overlap?: boolean };
  /** Every rank writes `<out>.rank<r>` (parameters and buffers), not rank 0 alone `<out>`. */
  everyRank?: boolean;
  /** After the run, rank 0 copies the checkpoint's files here (for a later resume elsewhere). */
  copyCheckpointTo?: string;
  /** pretrain is expected to throw: rank 0 writes { error } instead of failing. */
  expectError?: boolean;
}
interface Run { scenario: 'train' | 'ntxent'; out: string; options: TrainOptions }

setNumThreads(Number(process.env.TEST_THREADS ?? 1));
const [scenario, outPath, optionsJson] = process.argv.slice(2);
// `node --test dist/test/` also runs this file, without a scenario: nothing to do then.
if (scenario === undefined) process.exit(0);
const env = distributedEnv();
const group = env ? await ProcessGroup.init({ timeoutSeconds: Number(process.env.TEST_TIMEOUT ?? 20) }) : undefined;
const rank = group?.rank ?? 0;

async function train(out: string, opts: TrainOptions): Promise<void> {
  manualSeed(7);
  const data = toyImages(96, { size: 12 });
  const encoder = opts.backbone === 'small-cnn' ? createBackbone('small-cnn', { inChannels: 1, width: 4 })
    : createBackbone('vit-tiny', { inChannels: 1, width: 16, blocks: 1, imageSize: [12, 12] });
  const method = createMethod('rotation', encoder, { imageShape: [1, 12, 12], norm: { mean: [0.3], std: [0.3] } });
  let result;
  try {
    result = await pretrain(method, {
      data, batchSize: opts.batchSize ?? 8, epochs: opts.epochs ?? 10, maxSteps: opts.steps ?? 20, seed: 3, group,
      optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0 }, progress: false,
      checkpoint: opts.checkpoint, resume: opts.resume, syncBatchNorm: opts.syncBatchNorm, dataParallel: opts.dataParallel,
      // Ctrl-C on rank 0 alone: the coordinator must stop every rank after the same step.
      callbacks: {
        onStepEnd: (step) => {
          if (step === opts.interruptAtStep && rank === 0) process.emit('SIGINT');
          if (step === 1 && opts.startedFile) writeFileSync(`${opts.startedFile}.${rank}`, 'training');
        },
      },
    });
  } catch (e) {
    if (!opts.expectError) throw e;
    if (rank === 0) writeFileSync(out, JSON.stringify({ error: (e as Error).message }));
    method.dispose();
    return;
  }
  if (opts.expectError) throw new Error('pretrain was expected to throw');
  if (rank === 0 || opts.everyRank) {
    // The float buffers (batch norm's running statistics) are compared with the parameters.
    const floats = [...method.namedParameters(), ...method.namedBuffers().filter(([, b]) => b.dtype === 'float32')];
    const params = Object.fromEntries(floats.map(([n, p]) => [n, Array.from(p.data() as Float32Array)]));
    const buffers = Object.fromEntries(method.namedBuffers().map(([n, b]) => [n, Array.from(b.data() as ArrayLike<number | bigint>, Number)]));
    writeFileSync(opts.everyRank ? `${out}.rank${rank}` : out, JSON.stringify({ params, buffers, steps: result.fit.steps, interrupted: result.fit.interrupted, communication: result.communication }));
  }
  if (opts.copyCheckpointTo && rank === 0) {
    const [from, to] = [checkpointPaths(opts.checkpoint!), checkpointPaths(opts.copyCheckpointTo)];
    for (const k of ['tensors', 'json', 'prevTensors', 'prevJson'] as const) if (existsSync(from[k])) copyFileSync(from[k], to[k]);
  }
  method.dispose();
}

function ntxent(out: string, opts: TrainOptions): void {
  // Every rank makes the same global [W*n, D] embeddings and takes its rows.
  const n = 6;
  const world = group?.worldSize ?? opts.world ?? 1;
  manualSeed(11);
  const [all0, all1] = [randn([n * world, 5]), randn([n * world, 5])];
  const rows = env ? n : n * world;
  const z0 = all0!.narrow(0, rank * rows, rows).detach().requiresGrad_();
  const z1 = all1!.narrow(0, rank * rows, rows).detach().requiresGrad_();
  if (group) setDefaultGroup(group);
  const which = (opts as { loss?: string }).loss ?? 'ntxent';
  const loss = which === 'barlow' ? barlowTwinsLoss(z0, z1, { gatherDistributed: true })
    : which === 'vicreg' ? vicregLoss(z0, z1, { gatherDistributed: true })
      : ntXentLoss(z0, z1, { temperature: 0.3, gatherDistributed: true });
  loss.backward();
  writeFileSync(group ? `${out}.rank${rank}` : out, JSON.stringify({ loss: loss.item(), grad0: Array.from(z0.grad!.data() as Float32Array) }));
  setDefaultGroup(null);
  for (const t of [all0!, all1!, z0, z1, loss]) t.dispose();
}

async function runOne(r: Run): Promise<void> {
  if (r.scenario === 'train') await train(r.out, r.options);
  else if (r.scenario === 'ntxent') ntxent(r.out, r.options);
  else throw new Error(`unknown scenario ${String(r.scenario)}`);
}

if (scenario === 'train' || scenario === 'ntxent') {
  await runOne({ scenario, out: outPath!, options: JSON.parse(optionsJson ?? '{}') as TrainOptions });
} else if (scenario === 'runs') {
  for (const r of JSON.parse(optionsJson!) as Run[]) {
    await runOne(r);
    // A run's checkpoint and outputs are complete before any rank starts the next.
    group?.barrier();
  }
} else if (scenario === 'hang') {
  // The test kills one rank by the pid written here.
  writeFileSync(`${outPath}.${group!.rank}`, String(process.pid));
  const t = randn([1000]);
  for (;;) tidy(() => group!.allReduce([t]));
} else {
  throw new Error(`unknown scenario ${scenario}`);
}
group?.destroy();
