// `node dist/bench/text-sweep.js NAME '{"mlm":{"lr":2.5e-4}}'`: one point of a recipe
// sweep for the text methods. Runs the text experiment on the gloss task only (k=10,
// 5 seeds; skip-gram cut to 2 s unless it is asked for), with the JSON merged over the
// default configuration, and prints one line: the overrides, each method's mean ± std,
// the masked LM's held-out accuracy and the wall time. Outputs go to runs/sweep-NAME.
// Accuracies are on the test split: use a sweep to compare recipes, not to pick
// settings by a point (they would fit the test set).
import { runTextExperiment, defaultTextConfig, type TextExperimentConfig } from '../src/experiment/text.js';
import { mergeConfig, TEXT_OPTIONAL_SETTINGS } from '../src/cli/commands/experiment.js';

const [name, json = '{}'] = process.argv.slice(2);
if (!name) throw new Error("usage: node dist/bench/text-sweep.js NAME '{\"mlm\": {...}, \"bpe\": {...}}'");
const d = defaultTextConfig();
const base: TextExperimentConfig = {
  ...d, fortunes: null, ks: [10], seeds: [0, 1, 2, 3, 4], methods: ['mlm-probe'],
  // Sweep points are timed (the masked LM's 150 s), as they were before the experiment's budgets were steps.
  skipgram: { ...d.skipgram, maxSteps: undefined, timeBudgetSeconds: 2 }, mlm: { ...d.mlm, maxSteps: undefined, timeBudgetSeconds: 150 },
};
const overrides = JSON.parse(json) as Record<string, unknown>;
// The CLI's --config merge: unknown settings are errors, so a typo does not run a sweep point for nothing.
const config = mergeConfig(base as unknown as Record<string, unknown>, overrides, 'sweep', TEXT_OPTIONAL_SETTINGS) as unknown as TextExperimentConfig;
const t0 = performance.now();
const r = await runTextExperiment(config, `runs/sweep-${name}`, (line) => { if (/^(masked LM|skip-gram):|^task/.test(line)) process.stderr.write(line + '\n'); }, { handleInterrupt: false });
const results = r.results.map((x) => `${x.method} k=${x.k} ${(100 * x.mean).toFixed(1)}±${(100 * x.std).toFixed(1)}`).join(', ');
console.log(`${name} ${JSON.stringify(overrides)} | ${results} | masked-token acc ${r.mlmHeldOutAccuracy?.toFixed(3) ?? '-'} | ${((performance.now() - t0) / 1000).toFixed(0)} s`);
