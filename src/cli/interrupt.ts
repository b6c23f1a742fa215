// Ctrl-C outside a training loop. While the trainer runs, its own SIGINT handler
// finishes the step and saves (and during an image experiment, the experiment's
// stops it after that run); this one only remembers that Ctrl-C came (so a
// command can stop at its next checkpoint of work) and, when nothing else is
// listening, stops the process at once with exit code 130.
import { EXIT_INTERRUPTED, InterruptedError } from './errors.js';

let requested = false;

function onSigint(): void {
  requested = true;
  // Another listener is the trainer's or the experiment's: they stop cleanly and return.
  if (process.listenerCount('SIGINT') > 1) return;
  process.stderr.write('\ninterrupted\n');
  process.exit(EXIT_INTERRUPTED);
}

export function installInterruptHandler(): void {
  process.on('SIGINT', onSigint);
}

export function interruptRequested(): boolean {
  return requested;
}

/** Throws InterruptedError (exit 130) with `message` if Ctrl-C was pressed. */
export function stopIfInterrupted(message: string): void {
  if (requested) throw new InterruptedError(message);
}
