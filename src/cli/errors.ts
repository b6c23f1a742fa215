// The errors the CLI turns into exit codes: a usage error (exit 2, with a pointer
// to --help), an interrupt (exit 130, saying what was saved); anything else is a
// failure (exit 1) reported by its message alone unless --verbose asks for the stack.

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** The command line itself is wrong: unknown option, bad value, missing argument. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Ctrl-C stopped the work; `message` says what was kept and how to go on. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  /** What finished before the stop, for the --json result (e.g. partial results and where they were written). */
  constructor(message: string, readonly result: Record<string, unknown> = {}) {
    super(message);
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT_USAGE;
  if (err instanceof InterruptedError) return EXIT_INTERRUPTED;
  return EXIT_FAILURE;
}
