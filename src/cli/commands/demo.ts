// selfsup demo: Fashion-MNIST, rotation pretraining, then 10 labels per class
// over several seeds: scratch vs transfer from MNIST digits vs rotation-finetune,
// -probe and -knn, with the table and the HTML report. --quick is a tiny run.
import { defaultImageConfig } from '../../experiment/defaults.js';
import { loadData, firstImages } from '../data.js';
import { runImageCommand, quickImageConfig, QUICK_LIMITS } from '../image-run.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';
import { pretrainLimits } from '../settings.js';
import { deviceOption } from '../device.js';

export async function run(args: Args, out: Output): Promise<void> {
  const quick = args.flag('quick');
  const c = quick ? quickImageConfig() : { ...defaultImageConfig(), ks: [10] };
  c.device = deviceOption(args);
  if (args.has('seeds')) c.seeds = args.intList('seeds')!;
  pretrainLimits(args, c);
  const outDir = args.string('out')!;
  const testLimit = args.int('test-limit', { min: 1 }) ?? (quick ? QUICK_LIMITS.test : undefined);
  const data = await loadData('fashion-mnist', { limit: quick ? QUICK_LIMITS.train : undefined, testLimit, needTest: true, needLabels: true });
  const digits = (await loadData('mnist-digits', { option: 'source' })).train;
  const source = quick ? firstImages(digits, QUICK_LIMITS.source) : digits;
  out.note(quick ? 'demo --quick: tiny budgets, for smoke tests; the numbers mean little'
    : `demo: rotation pretraining (${c.pretrain.maxSteps ?? 'all'} steps), then ${c.seeds.length} seeds of 5 methods at k=10; about 8 minutes on 2 idle cores`);
  await runImageCommand('demo', { name: 'Fashion-MNIST', train: data.train, test: data.test!, source }, c, outDir, 'fashion-mnist', out);
}
