// Ctrl-C (SIGINT): the first finishes the step, saves and returns with
// interrupted=true; a second leaves at once (exit code 130).
import type { RunContext, TrainingCallback } from './types.js';

export class InterruptCallback implements TrainingCallback {
  private onSigint?: () => void;

  onTrainBegin(run: RunContext): void {
    this.onSigint = () => {
      if (run.interrupted) process.exit(130);
      run.interrupt();
      process.stderr.write(`\n${run.name}: stopping after this step${run.checkpointPath ? ' and saving' : ''} (Ctrl-C again to quit at once)\n`);
    };
    process.on('SIGINT', this.onSigint);
  }

  onTrainEnd(): void {
    if (this.onSigint) process.off('SIGINT', this.onSigint);
    this.onSigint = undefined;
  }
}
