// The process the kill -9 trials kill: trains one 10 MB parameter with fit(), a
// checkpoint every step (keepPrevious, as every fit checkpoint), resuming from the
// one it finds. Plain SGD with lr 1 on loss = sum(w) makes w equal -step exactly, so
// a checkpoint whose tensors and step came from two saves shows. Prints 'ready' once
// loaded, 'began' after its first step (fit's start removed stale temp files before
// it), 'saved N' after the checkpoint of step N.
// Usage: node checkpoint-kill-child.js CHECKPOINT [MAX_STEPS]
// The engine alone (not ../src/index.js and every namespace): each trial starts a child.
import { zeros, noGrad, type Tensor } from '../src/tensor/index.js';
import { Module } from '../src/nn/index.js';
import { SGD } from '../src/optim/index.js';
import { fit } from '../src/train/index.js';

/** Elements of the parameter: 2.5M float32, a 10 MB checkpoint. */
export const KILL_CHILD_ELEMENTS = 2_500_000;

class Weights extends Module {
  readonly w = this.registerParameter('w', noGrad(() => zeros([KILL_CHILD_ELEMENTS])));
  forward(): Tensor {
    return this.w.sum();
  }
}

const [checkpoint, maxSteps] = process.argv.slice(2);
if (!checkpoint) throw new Error('usage: checkpoint-kill-child.js CHECKPOINT [MAX_STEPS]');
const model = new Weights();
const optimizer = new SGD(model.parameters(), { lr: 1 });
const batch = { [Symbol.dispose]() {} };
let began = false;
const parent = process.ppid;
process.stdout.write('ready\n');
await fit({
  name: 'kill-child', model, optimizer, epochs: 1e9, stepsPerEpoch: 1, progress: false, handleInterrupt: false,
  maxSteps: maxSteps ? Number(maxSteps) : undefined, checkpoint, resume: true,
  batches: () => [batch],
  step: () => ({ loss: model.forward(), count: 1 }),
  callbacks: {
    onStepEnd: () => {
      if (process.ppid !== parent) process.exit(1); // the trials are gone: do not train forever
      if (!began) process.stdout.write('began\n');
      began = true;
    },
    // One step per epoch: epoch N (from 0) ends at step N + 1, after its checkpoint is saved.
    onEpochEnd: (epoch) => { process.stdout.write(`saved ${epoch + 1}\n`); },
  },
});
