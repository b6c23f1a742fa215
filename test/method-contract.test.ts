// Every registered method keeps the shared contract (test/support/method-contract.ts);
// the loop is over METHODS, so a newly registered method is tested without editing
// this file. Then the registry's own promises, and that one method of each family
// learns something on toy data.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setNumThreads } from '../src/tensor/index.js';
import { METHODS, getMethod, methodNames, createMethod } from '../src/ssl/registry.js';
import { methodContract, smallHeads, toyRun, freshMethod, runSteps, makeEncoder } from './support/method-contract.js';
import { toyImages } from './support/toy-images.js';
import { channelStats } from '../src/data/index.js';

// Tiny shapes gain nothing from threads, and OpenMP threads crawl on shared cores.
setNumThreads(1);

// The image contract trains on toy images; text methods have a contract of their own
// (test/text-method-contract.test.ts, its own process, so that no other test's garbage
// is finalised in the middle of its live-tensor counts).
for (const spec of METHODS.filter((s) => s.modality === 'image')) methodContract(spec.name, { options: smallHeads(spec.name) });
// A variant whose encoder meets other inputs (whole assembled puzzles) and whose head is another.
methodContract('jigsaw', { options: { ...smallHeads('jigsaw'), grid: 2, imageSize: 32, tile: 12, gap: 2, input: 'assembled' }, variant: 'input assembled' });

describe('registry', () => {
  const toy = toyImages(8);
  const ctx = { imageShape: toy.imageShape, norm: channelStats(toy) };
  test('names are unique and getMethod finds each', () => {
    const names = methodNames();
    assert.equal(new Set(names).size, names.length);
    for (const n of names) assert.equal(getMethod(n).name, n);
  });

  test('an option a method does not take is a RangeError naming it and the ones it takes; every image method lists its options', () => {
    using encoder = makeEncoder();
    assert.throws(() => createMethod('jigsaw', encoder, ctx, { inptu: 'assembled' }), /jigsaw: unknown option 'inptu'; its options are grid, permutations, permutationSeed, input, /);
    assert.throws(() => createMethod('rotation', encoder, ctx, { temperature: 0.1 }), /rotation: unknown option 'temperature'; its options are head$/);
    for (const spec of METHODS) if (spec.modality === 'image') assert.ok(spec.optionNames.length > 0, spec.name);
    createMethod('simclr', makeEncoder(), ctx, { temperature: 0.5 }).dispose();
  });

  test('an unknown name is a RangeError that lists the known methods', () => {
    assert.throws(() => getMethod('nope'), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, /'nope'/);
      for (const n of methodNames()) assert.ok(e.message.includes(n), `the message names ${n}: ${e.message}`);
      return true;
    });
  });
});

/** Mean of the first and of the last `k` losses of a run of `steps` steps. */
async function firstAndLast(name: string, steps: number, k = 5): Promise<{ first: number; last: number; losses: number[] }> {
  const r = toyRun(name, { options: smallHeads(name) });
  const run = await runSteps(r, freshMethod(r), steps);
  run.method.dispose();
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { first: mean(run.losses.slice(0, k)), last: mean(run.losses.slice(-k)), losses: run.losses };
}

// One method per family: a classification pretext, a joint embedding with a momentum
// target, one without, and a masked-modelling one (MAE, on a tiny ViT). Seeded, so the runs are the same every time. Not MoCo or DINO:
// in 40 steps their losses rise (MoCo's queue starts as random keys, easy negatives,
// and fills with real ones; DINO's student starts equal to its teacher), and only fall
// after that (measured over 200 steps), so first-5 vs last-5 would not measure learning.
describe('a short pretraining run lowers the loss on toy data', () => {
  for (const name of ['rotation', 'byol', 'simclr', 'mae']) {
    test(name, async () => {
      const { first, last, losses } = await firstAndLast(name, 40);
      assert.ok(last < first, `${name}: mean of the last 5 losses ${last.toFixed(4)} is not below the first 5 ${first.toFixed(4)} (${losses.map((v) => v.toFixed(3)).join(' ')})`);
    });
  }
});
