// A progress line for long work: epoch, step, items/s (images, tokens...), loss, ETA.
// On a terminal it redraws one line on stderr; elsewhere (CI, pipes) it prints
// a plain line every few seconds so logs stay readable.

export interface ProgressState {
  epoch: number; epochs: number; step: number; steps: number; loss: number; itemsPerSec: number; extra?: string;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const m = Math.floor(s / 60);
  const sec = Math.floor(s % 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(sec).padStart(2, '0')}`;
}

export class ProgressBar {
  private readonly tty: boolean;
  private lastPrint = 0;
  private readonly started = performance.now();

  constructor(
    readonly label: string,
    readonly totalSteps: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly enabled = true,
    private readonly plainEveryMs = 5000,
    /** What the step's count counts, for the rate: 'img' gives 'img/s'. */
    private readonly unit = 'img',
    /** A time limit on the run: the ETA is then the sooner of the steps' end and the limit. */
    private readonly budgetSeconds?: number,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  /** `done` counts steps finished over the whole run, for the ETA. */
  update(s: ProgressState, done: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    const elapsed = (now - this.started) / 1000;
    const bySteps = done > 0 ? (elapsed / done) * (this.totalSteps - done) : NaN;
    const eta = this.budgetSeconds === undefined ? bySteps : Math.min(Number.isNaN(bySteps) ? Infinity : bySteps, Math.max(0, this.budgetSeconds - elapsed));
    const width = 20;
    const filled = Math.round((width * done) / Math.max(1, this.totalSteps));
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    const line = `${this.label} [${bar}] epoch ${s.epoch + 1}/${s.epochs} step ${s.step}/${s.steps}` +
      ` loss ${s.loss.toFixed(4)} ${s.itemsPerSec.toFixed(0)} ${this.unit}/s ETA ${formatSeconds(eta)}${s.extra ? ' ' + s.extra : ''}`;
    if (this.tty) {
      this.out.write(`\r${line.slice(0, (this.out.columns || 160) - 1)}\x1b[K`);
    } else if (now - this.lastPrint >= this.plainEveryMs || done === this.totalSteps) {
      this.out.write(line + '\n');
      this.lastPrint = now;
    }
  }

  finish(message?: string): void {
    if (!this.enabled) return;
    if (this.tty) this.out.write('\r\x1b[K');
    if (message) this.out.write(`${this.label}: ${message}\n`);
  }
}
