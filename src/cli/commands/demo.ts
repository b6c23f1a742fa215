// selfsup demo: Fashion-MNIST, rotation and VICReg pretraining, then 1, 10 and 100
// labels per class over several seeds: scratch vs transfer from MNIST digits vs each
// method's protocols, with the table and the HTML report. --quick is a tiny run.
import { demoConfig } from '../../experiment/presets.js';
import { pretrainSettingsFor, type ImageExperimentConfig } from '../../experiment/image.js';
import { parseMethod } from '../../experiment/protocols.js';
import { loadData, firstImages } from '../data.js';
import { runImageCommand, quickImageConfig, QUICK_LIMITS } from '../image-run.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';
import { pretrainLimits } from '../settings.js';
import { deviceOption } from '../device.js';

export async function run(args: Args, out: Output): Promise<void> {
  const quick = args.flag('quick');
  const c = quick ? quickImageConfig() : demoConfig();
  c.device = deviceOption(args);
  if (args.has('seeds')) {
    c.seeds = args.intList('seeds')!;
    delete c.seedsPerK; // the given seeds at every k
  }
  const limits = pretrainLimits(args, c);
  const outDir = args.string('out')!;
  const testLimit = args.int('test-limit', { min: 1 }) ?? (quick ? QUICK_LIMITS.test : undefined);
  const data = await loadData('fashion-mnist', { limit: quick ? QUICK_LIMITS.train : undefined, testLimit, needTest: true, needLabels: true });
  const digits = (await loadData('mnist-digits', { option: 'source' })).train;
  const source = quick ? firstImages(digits, QUICK_LIMITS.source) : digits;
  out.note(quick ? 'demo --quick: tiny budgets, for smoke tests; the numbers mean little'
    : `demo: ${pretexts(c).map((p) => `${p} (${pretrainSettingsFor(c, p).maxSteps ?? 'all'} steps)`).join(' and ')} pretraining, then ${c.methods.length} methods at k = ${c.ks.join(', ')}; about 10 minutes on 2 idle cores`);
  await runImageCommand('demo', { name: 'Fashion-MNIST', train: data.train, test: data.test!, source }, c, outDir, 'fashion-mnist', out, limits);
}

/** The pretexts the demo's methods pretrain, in order. */
function pretexts(c: ImageExperimentConfig): string[] {
  return [...new Set(c.methods.flatMap((m) => parseMethod(m).pretext ?? []))];
}
