// The progress line: its unit, and an ETA that respects a time budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar } from '../src/train/progress.js';

/** A non-terminal stream that keeps what is written. */
function sink(): NodeJS.WriteStream & { lines: string[] } {
  const lines: string[] = [];
  return { isTTY: false, lines, write: (s: string) => { lines.push(s); return true; } } as unknown as NodeJS.WriteStream & { lines: string[] };
}

const state = { epoch: 0, epochs: 1, step: 1, steps: 100000, loss: 1.5, itemsPerSec: 1234 };

test('the rate names its unit (img by default)', () => {
  const images = sink();
  new ProgressBar('run', 100000, images, true, 0).update(state, 1);
  assert.match(images.lines[0]!, /1234 img\/s/);
  const tokens = sink();
  new ProgressBar('mlm', 100000, tokens, true, 0, 'masked tokens').update(state, 1);
  assert.match(tokens.lines[0]!, /1234 masked tokens\/s/);
});

test('with a time budget the ETA is the sooner of the last step and the budget', async () => {
  // 100,000 steps at one done per ~20 ms would take half an hour; the budget says 2 s.
  await new Promise((r) => setTimeout(r, 20));
  const budgeted = sink();
  const bar = new ProgressBar('run', 100000, budgeted, true, 0, 'img', 2);
  await new Promise((r) => setTimeout(r, 20));
  bar.update(state, 1);
  assert.match(budgeted.lines[0]!, /ETA 0:0[0-2]\n?$/, budgeted.lines[0]);
  const unbounded = sink();
  const slow = new ProgressBar('run', 100000, unbounded, true, 0);
  await new Promise((r) => setTimeout(r, 20));
  slow.update(state, 1);
  assert.match(unbounded.lines[0]!, /ETA ([1-9]\d*:\d\d|\d+h\d\dm)/, `without a budget, the steps decide: ${unbounded.lines[0]}`);
});
