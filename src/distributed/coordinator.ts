// Keeps every rank at the same step when a run stops early. Ctrl-C, a time budget or
// a callback may stop one rank a step before the others; a rank that left the loop
// would leave the rest waiting in an all-reduce. After every step the ranks all-reduce
// their [interrupted, stopped] flags, so all stop after the same step (rank 0 saves).
// Ctrl-C reaches every rank from `selfsup launch`; a second one quits at once.
import type { RunContext, TrainingCallback } from '../train/callbacks/types.js';
import { tensor } from '../tensor/index.js';
import type { DataParallel } from './data-parallel.js';

export class StopCoordinator implements TrainingCallback {
  private sigintSeen = false;
  private onSigint?: () => void;

  constructor(private readonly ddp: DataParallel) {}

  onTrainBegin(run: RunContext): void {
    // After a resume too: every rank starts from rank 0's weights.
    this.ddp.broadcastState();
    this.onSigint = () => {
      if (this.sigintSeen) process.exit(130);
      this.sigintSeen = true;
      if (this.ddp.isRoot) process.stderr.write(`\n${run.name}: stopping every rank after this step${run.checkpointPath ? ' and saving' : ''} (Ctrl-C again to quit at once)\n`);
    };
    process.on('SIGINT', this.onSigint);
  }

  async onStepEnd(run: RunContext): Promise<void> {
    // On the model's device: NCCL reduces CUDA tensors only.
    const flags = tensor([this.sigintSeen ? 1 : 0, run.stopped ? 1 : 0], { dtype: 'float32', device: run.model.device });
    try {
      // Off the main thread: a Ctrl-C handler can run while a slow rank catches up.
      await this.ddp.group.allReduceAsync([flags], 'max');
      const [interrupted, stopped] = flags.dataNumbers();
      if (interrupted && !run.interrupted) run.interrupt();
      else if (stopped && !run.stopped) run.stop('another rank stopped');
    } finally {
      flags.dispose();
    }
  }

  /** Rank 0 validates and saves at an epoch's end: the others wait here, off the main thread, rather than in the next step's all-reduce. */
  async onEpochEnd(): Promise<void> {
    await this.ddp.group.barrierAsync();
  }

  onTrainEnd(): void {
    if (this.onSigint) process.off('SIGINT', this.onSigint);
    this.onSigint = undefined;
  }
}
