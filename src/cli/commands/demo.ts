// selfsup demo: Fashion-MNIST, rotation pretraining, then 10 labels per class
// over several seeds: scratch vs transfer from MNIST digits vs rotation-finetune,
// -probe and -knn, with the table and the HTML report. --quick is a tiny run.
import { defaultImageConfig } from '../../experiment/defaults.js';
import type { ImageExperimentConfig } from '../../experiment/image.js';
import { loadData, firstImages } from '../data.js';
import { runImageCommand } from '../image-run.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';

/** The demo's settings: the defaults at k=10, or with `quick` budgets small enough for a smoke test. */
export function demoConfig(quick: boolean): ImageExperimentConfig {
  const c = defaultImageConfig();
  c.ks = [10];
  if (!quick) return c;
  c.seeds = [0, 1];
  c.pretrain = { ...c.pretrain, epochs: 1, batchSize: 64, heldOut: 200, timeBudgetSeconds: 8 };
  c.transfer = { ...c.transfer, steps: 20, batchSize: 64 };
  c.finetune = { ...c.finetune, steps: 20 };
  c.scratch = { ...c.scratch, steps: 20 };
  c.probe = { ...c.probe, steps: 100 };
  return c;
}

export async function run(args: Args, out: Output): Promise<void> {
  const quick = args.flag('quick');
  const c = demoConfig(quick);
  if (args.has('seeds')) c.seeds = args.intList('seeds')!;
  if (args.has('minutes')) c.pretrain.timeBudgetSeconds = args.number('minutes', { positive: true })! * 60;
  const outDir = args.string('out')!;
  const testLimit = args.int('test-limit', { min: 1 }) ?? (quick ? 500 : undefined);
  const data = await loadData('fashion-mnist', { limit: quick ? 3000 : undefined, testLimit, needTest: true, needLabels: true });
  const digits = (await loadData('mnist-digits', { option: 'source' })).train;
  const source = quick ? firstImages(digits, 2000) : digits;
  out.note(quick ? 'demo --quick: tiny budgets, for smoke tests; the numbers mean little'
    : `demo: about ${Math.round((c.pretrain.timeBudgetSeconds ?? 0) / 60) + 5} minutes on 2 cores (rotation pretraining, then ${c.seeds.length} seeds of 5 methods at k=10)`);
  await runImageCommand('demo', { name: 'Fashion-MNIST', train: data.train, test: data.test!, source }, c, outDir, 'fashion-mnist', out);
}
