// The grid every label-efficiency experiment runs, whatever the modality: for each
// k (labels per class), each of its seeds, one labelled subset drawn by the modality,
// on which the modality evaluates its methods. The runner walks the grid in order,
// records each finished run (a 'result' line in metrics.jsonl, a log line, the run
// count), stops after the run that Ctrl-C interrupts or follows, and summarises each
// method and k as mean and std over the seeds that finished.
import type { MetricsLog, MetricsRecord } from '../train/metrics-log.js';
import type { MethodResult } from '../report/types.js';
import type { InterruptWatch } from './interrupt.js';
import { summarize } from './summary.js';

/** What an experiment compares: methods x k x seeds. */
export interface Grid<M extends string = string> {
  /** Labels per class, in the order they run. */
  ks: readonly number[];
  seeds: readonly number[];
  /** Other seeds for particular k (e.g. fewer at the largest k, where runs take longest). */
  seedsPerK?: Readonly<Record<string, readonly number[]>>;
  /** The methods, in the order of the summary; each runs once per (k, seed). */
  methods: readonly M[];
}

/** The seeds of `k`: its own in `seedsPerK`, or `seeds`. */
export function gridSeeds(grid: Grid<string>, k: number): readonly number[] {
  return grid.seedsPerK?.[String(k)] ?? grid.seeds;
}

/** Runs the grid plans: every method at every (k, seed). */
export function plannedRuns(grid: Grid<string>): number {
  return grid.methods.length * grid.ks.reduce((n, k) => n + gridSeeds(grid, k).length, 0);
}

/** One (k, seed) of the grid, with the labelled subset the modality drew for it. */
export interface Cell<S> {
  k: number;
  seed: number;
  subset: S;
}

/** A run that finished, as the runner records it. */
export interface FinishedRun<M extends string = string> {
  method: M;
  k: number;
  seed: number;
  accuracy: number;
  /** Since the cell began or the previous run was recorded. */
  seconds: number;
}

export interface RunnerOptions<M extends string = string> {
  stop: InterruptWatch;
  metrics: MetricsLog;
  log: (line: string) => void;
  /** The log line of a finished run. */
  line: (run: FinishedRun<M>) => string;
  /** Fields of every 'result' line before the method, e.g. `{ task }`. */
  context?: MetricsRecord;
  /** Add each run's seconds to its 'result' line. */
  timed?: boolean;
}

/** How the modality evaluates the grid's cells: one cell at a time, or one method at a time. */
export type Evaluation<S, M extends string = string> = {
  /** The labelled subset of (k, seed). */
  subset: (k: number, seed: number) => S;
  /** Frees what `subset` made, once the cell's runs are over (or stopped). */
  release?: (subset: S) => void;
} & (
  | {
    /**
     * Every run of one cell in the modality's own order, each recorded with
     * `runner.record` (and stopping when it says so); false when the experiment stops.
     */
    evaluate: (cell: Cell<S>) => Promise<boolean>;
  }
  | {
    /**
     * One method on one cell, run in the grid's method order: its test accuracy, null
     * when Ctrl-C interrupted it (not counted; the experiment stops), or undefined when
     * the method has nothing to run here (not counted; the cell goes on).
     */
    evaluateMethod: (method: M, cell: Cell<S>) => Promise<number | null | undefined>;
  }
);

/** Walks one grid; `runsDone` of `runsPlanned` tell how far it got. */
export class GridRunner<M extends string = string> {
  readonly runsPlanned: number;
  #runsDone = 0;
  readonly #runs = new Map<string, number[]>();
  /** Seconds spent per method (its finished runs). */
  readonly seconds: Partial<Record<M, number>> = {};
  #cell: { k: number; seed: number } | null = null;
  #clock = 0;
  #started = false;

  constructor(readonly grid: Grid<M>, private readonly o: RunnerOptions<M>) {
    this.runsPlanned = plannedRuns(grid);
  }

  get runsDone(): number {
    return this.#runsDone;
  }

  /** True when Ctrl-C (or an interrupted run) stopped the grid before every planned run finished. */
  get interrupted(): boolean {
    return this.o.stop.requested && this.#runsDone < this.runsPlanned;
  }

  /** The seeds of `k`. */
  seedsFor(k: number): readonly number[] {
    return gridSeeds(this.grid, k);
  }

  /**
   * Runs every cell, k outermost, then seeds; stops (returns true) at Ctrl-C, before the
   * first cell or after the run it interrupts or follows. Runs once.
   */
  async run<S>(e: Evaluation<S, M>): Promise<{ stopped: boolean }> {
    if (this.#started) throw new Error('GridRunner.run: a runner walks its grid once');
    this.#started = true;
    if (await this.o.stop.shouldStop()) return { stopped: true };
    for (const k of this.grid.ks) {
      for (const seed of this.seedsFor(k)) {
        this.#clock = performance.now();
        const subset = e.subset(k, seed);
        const cell: Cell<S> = { k, seed, subset };
        this.#cell = { k, seed };
        try {
          const go = 'evaluate' in e ? await e.evaluate(cell) : await this.#eachMethod(cell, e.evaluateMethod);
          if (!go) return { stopped: true };
        } finally {
          this.#cell = null;
          e.release?.(subset);
        }
      }
    }
    return { stopped: false };
  }

  async #eachMethod<S>(cell: Cell<S>, evaluate: (method: M, cell: Cell<S>) => Promise<number | null | undefined>): Promise<boolean> {
    for (const method of this.grid.methods) {
      const accuracy = await evaluate(method, cell);
      if (accuracy === undefined) continue;
      if (!(await this.record(method, cell.k, cell.seed, accuracy))) return false;
    }
    return true;
  }

  /**
   * Records a finished run of the current cell (null: interrupted, not counted);
   * resolves false when the experiment stops here (that run was interrupted, or Ctrl-C came).
   */
  async record(method: M, k: number, seed: number, accuracy: number | null): Promise<boolean> {
    const cell = this.#cell;
    if (!cell || cell.k !== k || cell.seed !== seed) {
      throw new Error(`GridRunner.record: ${method} k=${k} seed=${seed} is not the cell under way (${cell ? `k=${cell.k} seed=${cell.seed}` : 'none'})`);
    }
    if (!this.grid.methods.includes(method)) throw new RangeError(`GridRunner.record: '${method}' is not one of the grid's methods (${this.grid.methods.join(', ')})`);
    if (accuracy !== null) {
      const seconds = (performance.now() - this.#clock) / 1000;
      const key = `${method}|${k}`;
      this.#runs.set(key, [...(this.#runs.get(key) ?? []), accuracy]);
      this.#runsDone++;
      this.seconds[method] = (this.seconds[method] ?? 0) + seconds;
      this.o.metrics.write({ kind: 'result', ...this.o.context, method, k, seed, accuracy, ...(this.o.timed ? { seconds } : {}) });
      this.o.log(this.o.line({ method, k, seed, accuracy, seconds }));
    }
    const go = accuracy !== null && !(await this.o.stop.shouldStop());
    this.#clock = performance.now();
    return go;
  }

  /** The accuracies recorded for `method` at `k`, in the order they finished. */
  accuracies(method: M, k: number): readonly number[] {
    return this.#runs.get(`${method}|${k}`) ?? [];
  }

  /** Mean and std per method and k (methods in the grid's order, then k), over the runs that finished; `parts` names each method's pretext and protocol. */
  results(parts?: (method: M) => { pretext: string | null; protocol: string }): MethodResult[] {
    const out: MethodResult[] = [];
    for (const m of this.grid.methods) for (const k of this.grid.ks) {
      const runs = this.#runs.get(`${m}|${k}`);
      if (runs) out.push(summarize(m, k, runs, parts?.(m)));
    }
    return out;
  }
}
