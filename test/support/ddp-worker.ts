// One rank of the data-parallel tests (test/distributed.test.ts), or the one-process
// reference when WORLD_SIZE is unset. argv: scenario, output JSON path, options JSON.
//  train: `pretrain` of a batch-norm-free method (rotation on a tiny ViT) with SGD;
//         rank 0 writes the final parameters.
//  ntxent: the gathered NT-Xent of fixed embeddings; every rank writes its loss and gradient.
//  hang: joins, then all-reduces forever (a peer is killed by the test).
import { writeFileSync } from 'node:fs';
import { manualSeed, setNumThreads, randn, tidy } from '../../src/tensor/index.js';
import { createBackbone } from '../../src/models/index.js';
import { createMethod } from '../../src/ssl/registry.js';
import { pretrain } from '../../src/ssl/pretrain.js';
import { ntXentLoss } from '../../src/ssl/losses/index.js';
import { ProcessGroup, distributedEnv, setDefaultGroup } from '../../src/distributed/index.js';
import { toyImages } from './toy-images.js';

setNumThreads(Number(process.env.TEST_THREADS ?? 1));
const [scenario, outPath, optionsJson] = process.argv.slice(2);
// `node --test dist/test/` also runs this file, without a scenario: nothing to do then.
if (scenario === undefined) process.exit(0);
const opts = JSON.parse(optionsJson ?? '{}') as { batchSize?: number; steps?: number; checkpoint?: string; resume?: boolean; epochs?: number; world?: number; interruptAtStep?: number; startedFile?: string; backbone?: 'vit-tiny' | 'small-cnn'; syncBatchNorm?: boolean };
const env = distributedEnv();
const group = env ? await ProcessGroup.init({ timeoutSeconds: Number(process.env.TEST_TIMEOUT ?? 20) }) : undefined;

if (scenario === 'train') {
  manualSeed(7);
  const data = toyImages(96, { size: 12 });
  const encoder = opts.backbone === 'small-cnn' ? createBackbone('small-cnn', { inChannels: 1, width: 4 })
    : createBackbone('vit-tiny', { inChannels: 1, width: 16, blocks: 1, imageSize: [12, 12] });
  const method = createMethod('rotation', encoder, { imageShape: [1, 12, 12], norm: { mean: [0.3], std: [0.3] } });
  const result = await pretrain(method, {
    data, batchSize: opts.batchSize ?? 8, epochs: opts.epochs ?? 10, maxSteps: opts.steps ?? 20, seed: 3, group,
    optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0 }, progress: false,
    checkpoint: opts.checkpoint, resume: opts.resume, syncBatchNorm: opts.syncBatchNorm,
    // Ctrl-C on rank 0 alone: the coordinator must stop every rank after the same step.
    callbacks: {
      onStepEnd: (step) => {
        if (step === opts.interruptAtStep && (group?.rank ?? 0) === 0) process.emit('SIGINT');
        if (step === 1 && opts.startedFile) writeFileSync(`${opts.startedFile}.${group?.rank ?? 0}`, 'training');
      },
    },
  });
  if ((group?.rank ?? 0) === 0) {
    const floats = [...method.namedParameters(), ...method.namedBuffers().filter(([, b]) => b.dtype === 'float32')];
    const params = Object.fromEntries(floats.map(([n, p]) => [n, Array.from(p.data() as Float32Array)]));
    writeFileSync(outPath!, JSON.stringify({ params, steps: result.fit.steps, interrupted: result.fit.interrupted, communication: result.communication }));
  }
} else if (scenario === 'ntxent') {
  // Every rank makes the same global [W*n, D] embeddings and takes its rows.
  const n = 6;
  const world = group?.worldSize ?? opts.world ?? 1;
  const rank = group?.rank ?? 0;
  manualSeed(11);
  const [all0, all1] = [randn([n * world, 5]), randn([n * world, 5])];
  const rows = env ? n : n * world;
  const z0 = all0!.narrow(0, rank * rows, rows).detach().requiresGrad_();
  const z1 = all1!.narrow(0, rank * rows, rows).detach().requiresGrad_();
  if (group) setDefaultGroup(group);
  const loss = ntXentLoss(z0, z1, { temperature: 0.3, gatherDistributed: true });
  loss.backward();
  writeFileSync(group ? `${outPath}.rank${rank}` : outPath!, JSON.stringify({ loss: loss.item(), grad0: Array.from(z0.grad!.data() as Float32Array) }));
} else if (scenario === 'hang') {
  // The test kills one rank by the pid written here.
  writeFileSync(`${outPath}.${group!.rank}`, String(process.pid));
  const t = randn([1000]);
  for (;;) tidy(() => group!.allReduce([t]));
} else {
  throw new Error(`unknown scenario ${scenario}`);
}
group?.destroy();
