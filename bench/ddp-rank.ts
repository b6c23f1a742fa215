// One process of the data-parallel bench (bench/ddp.ts): `pretrain` of one method on the
// small CNN over Fashion-MNIST, data-parallel when started under the launcher. Rank 0
// (or the only process) writes one JSON object: global images/s over the timed steps,
// the gradient all-reduce time per step (waiting for the other rank included), the same
// all-reduce timed alone, and the gradient bytes per step.
// node dist/bench/ddp-rank.js --method rotation --batch 64 --steps 10 --warmup 3 --out FILE
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { manualSeed, getNumThreads, zeros } from '../src/tensor/index.js';
import { SmallCnn } from '../src/models/index.js';
import { loadFashionMnist } from '../src/data/fashion-mnist.js';
import { createMethod, methodInfo, pretrain } from '../src/ssl/index.js';
import { ProcessGroup, distributedEnv } from '../src/distributed/index.js';

const { values } = parseArgs({
  options: {
    method: { type: 'string', default: 'rotation' }, batch: { type: 'string', default: '64' }, steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' }, out: { type: 'string' },
  },
});
const [steps, warmup, batch] = [Number(values.steps), Number(values.warmup), Number(values.batch)];
const env = distributedEnv();
const group = env && env.worldSize > 1 ? await ProcessGroup.init() : undefined;
const world = group?.worldSize ?? 1;
const norm = { mean: [0.286], std: [0.353] };
manualSeed(0);
const method = createMethod(values.method!, new SmallCnn(), { imageShape: [1, 28, 28], norm });
const data = loadFashionMnist({ split: 'train' });
const stamps: number[] = [];
const result = await pretrain(method, {
  data, indices: Int32Array.from({ length: batch * world * (steps + warmup) }, (_, i) => i), norm, batchSize: batch, epochs: 1,
  maxSteps: steps + warmup, seed: 0, optimizer: methodInfo(values.method!).defaults.optimizer, progress: false, group,
  callbacks: { onStepEnd: () => { stamps.push(performance.now()); } },
});
// The all-reduce alone, ranks lined up by a barrier first: what the step's all-reduce time
// costs beyond waiting for the slower rank to finish its backward.
let transferMs = 0;
if (group && result.communication) {
  const flat = zeros([result.communication.gradBytesPerStep / 4]);
  group.allReduce([flat]);
  group.barrier();
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) group.allReduce([flat]);
  transferMs = (performance.now() - t0) / 10;
  flat.dispose();
}
if ((group?.rank ?? 0) === 0) {
  // Steps after the warm-up ones: from the end of step `warmup` to the end of the last.
  const seconds = (stamps.at(-1)! - stamps[warmup - 1]!) / 1000;
  const c = result.communication;
  const report = {
    method: values.method, processes: world, threads: getNumThreads(), batchPerProcess: batch,
    imgPerS: (batch * world * steps) / seconds, stepMs: (1000 * seconds) / steps,
    allReduceMsPerStep: c ? c.allReduceMs / c.steps : 0, allReduceAloneMs: transferMs, gradBytesPerStep: c?.gradBytesPerStep ?? 0,
  };
  if (values.out) writeFileSync(values.out, JSON.stringify(report));
  else console.log(JSON.stringify(report));
}
group?.destroy();
