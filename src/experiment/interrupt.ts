// Ctrl-C across a sequence of training runs. Each run's trainer handles SIGINT
// itself (finishes the step, saves, returns with interrupted=true); this watch
// remembers the Ctrl-C so that the sequence stops after that run instead of
// starting the next one. Between runs (evaluation, feature extraction) it is the
// one that answers: it says what will happen, and a second Ctrl-C quits at once,
// as in the trainer.

/** Exit status of a process stopped by Ctrl-C (128 + SIGINT), as shells report it. */
const EXIT_INTERRUPTED = 130;

export class InterruptWatch implements Disposable {
  #requested = false;
  #training = false;
  readonly #onSigint = (): void => {
    if (this.#training) {
      // The trainer prints its own message and quits on a second Ctrl-C.
      this.#requested = true;
      return;
    }
    if (this.#requested) {
      process.stderr.write(`\n${this.name}: interrupted again; quitting at once\n`);
      process.exit(EXIT_INTERRUPTED);
    }
    this.#requested = true;
    this.say(`${this.name}: Ctrl-C: stopping after the current run; the results so far will be kept (Ctrl-C again to quit at once)`);
  };

  /** With `enabled` false (e.g. a caller with its own SIGINT handling) it only records what the runs report. */
  constructor(readonly name: string, private readonly say: (line: string) => void, readonly enabled = true) {
    if (enabled) process.on('SIGINT', this.#onSigint);
  }

  /** True once Ctrl-C came, or a run reported that it was interrupted. */
  get requested(): boolean {
    return this.#requested;
  }

  /** Records that a run stopped early because of Ctrl-C (its FitResult.interrupted). */
  markInterrupted(): void {
    this.#requested = true;
  }

  /** Runs one training run; meanwhile the trainer's handler speaks for Ctrl-C. */
  async training<T>(run: () => Promise<T>): Promise<T> {
    this.#training = true;
    try {
      return await run();
    } finally {
      this.#training = false;
    }
  }

  /**
   * Lets a pending SIGINT through (signals wait for the event loop, which long
   * synchronous work such as a linear probe does not turn), then says whether to stop.
   */
  async shouldStop(): Promise<boolean> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return this.#requested;
  }

  [Symbol.dispose](): void {
    if (this.enabled) process.off('SIGINT', this.#onSigint);
  }
}
