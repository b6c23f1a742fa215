// Where the CLI writes. Results go to stdout, progress and notes to stderr; under
// --json, stdout holds nothing but the final JSON object (its last line), so a
// script can parse it while a person still sees everything on stderr.

export class Output {
  constructor(readonly json: boolean, readonly verbose: boolean) {}

  /** A line of the human-readable result (stdout; stderr under --json). */
  say(line = ''): void {
    (this.json ? process.stderr : process.stdout).write(line + '\n');
  }

  /** Progress and notes (always stderr). */
  note(line: string): void {
    process.stderr.write(line + '\n');
  }

  /** The machine-readable result: one line of JSON on stdout under --json, nothing otherwise. */
  result(value: Record<string, unknown>): void {
    if (this.json) process.stdout.write(JSON.stringify(value) + '\n');
  }
}
