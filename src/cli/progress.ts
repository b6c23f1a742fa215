// A progress line for work counted in items (images embedded, files read): done/total,
// rate and ETA; redrawn in place on a terminal, a plain line every few seconds elsewhere.
export class CountProgress {
  readonly #started = performance.now();
  #lastPrint = 0;
  readonly #tty: boolean;

  constructor(readonly label: string, readonly total: number, readonly unit = 'img', private readonly out: NodeJS.WriteStream = process.stderr, private readonly everyMs = 5000) {
    this.#tty = Boolean(out.isTTY);
  }

  update(done: number): void {
    const now = performance.now();
    const seconds = (now - this.#started) / 1000;
    const rate = done / Math.max(seconds, 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : NaN;
    const filled = Math.round((20 * done) / Math.max(1, this.total));
    const fmt = (s: number): string => (Number.isFinite(s) ? `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}` : '--:--');
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${done}/${this.total} ${rate.toFixed(0)} ${this.unit}/s ETA ${fmt(eta)}`;
    if (this.#tty) this.out.write(`\r${line}\x1b[K`);
    else if (now - this.#lastPrint >= this.everyMs || done === this.total) {
      this.out.write(line + '\n');
      this.#lastPrint = now;
    }
  }

  finish(): void {
    if (this.#tty) this.out.write('\r\x1b[K');
  }
}
