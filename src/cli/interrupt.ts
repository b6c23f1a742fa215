// Ctrl-C outside a training loop. While the trainer runs, its own SIGINT handler
// finishes the step and saves; this one only remembers that Ctrl-C came (so a
// command can stop at its next checkpoint of work) and, when no training loop is
// listening, stops the process at once with exit code 130.
import { EXIT_INTERRUPTED, InterruptedError } from './errors.js';

let requested = false;

function onSigint(): void {
  requested = true;
  // Another listener is the trainer's: it stops after this step and returns.
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
