// Command-line options: what a command accepts (OptionSpec), parsing with
// node:util parseArgs, and typed reads that turn a bad value into a UsageError
// naming the option, the value and what was expected.
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder for the value in help, e.g. 'N' or 'DIR'. */
  value?: string;
  /** Used when the option is not given; shown in help. */
  default?: string;
  /** Help text for a default that is not a fixed string, e.g. "the backbone's default". */
  defaultText?: string;
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** Edit distance with swapped neighbours as one edit ('mpl' is one typo from 'mlp'), for "did you mean" hints. */
function distance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    const prev = rows[i - 1]!;
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/** The candidate closest to `word`, when close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 3 ? 0.5 : distance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= Math.max(1, Math.floor((word.length + 1) / 3)) ? best : undefined;
}

/** Parsed options of one command: raw strings with defaults applied, and typed reads. */
export class Args {
  constructor(
    readonly command: string,
    private readonly values: Record<string, string | boolean | undefined>,
    /** Options the user gave (not defaulted). */
    readonly given: ReadonlySet<string>,
    readonly positionals: string[],
  ) {}

  has(name: string): boolean {
    return this.given.has(name);
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  string(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === 'string' ? v : undefined;
  }

  required(name: string, why = ''): string {
    const v = this.string(name);
    if (v === undefined || v === '') throw new UsageError(`--${name} is required${why ? ` ${why}` : ''}`);
    return v;
  }

  private bad(name: string, raw: string, expected: string): UsageError {
    return new UsageError(`--${name} must be ${expected}, got '${raw}'`);
  }

  int(name: string, o: { min?: number; max?: number } = {}): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const min = o.min ?? -Infinity;
    const expected = o.max !== undefined ? `an integer from ${min} to ${o.max}` : min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : 'an integer';
    if (!/^[+-]?\d+$/.test(raw.trim())) throw this.bad(name, raw, expected);
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min || n > (o.max ?? Infinity)) throw this.bad(name, raw, expected);
    return n;
  }

  number(name: string, o: { min?: number; positive?: boolean } = {}): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const n = raw.trim() === '' ? NaN : Number(raw);
    const expected = o.positive ? 'a positive number' : o.min !== undefined ? `a number of at least ${o.min}` : 'a number';
    if (!Number.isFinite(n) || (o.positive && !(n > 0)) || (o.min !== undefined && n < o.min)) throw this.bad(name, raw, expected);
    return n;
  }

  /** Comma-separated items, empty ones dropped. */
  list(name: string): string[] | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  }

  intList(name: string, o: { min?: number } = {}): number[] | undefined {
    const items = this.list(name);
    if (items === undefined) return undefined;
    const min = o.min ?? 0;
    const what = `a comma-separated list of ${min >= 1 ? 'positive' : 'non-negative'} integers, e.g. 0,1,2`;
    if (items.length === 0) throw this.bad(name, this.string(name)!, what);
    return items.map((s) => {
      const n = Number(s);
      if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < min) throw this.bad(name, this.string(name)!, what);
      return n;
    });
  }

  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (!(choices as readonly string[]).includes(raw)) {
      const hint = closest(raw, choices);
      throw new UsageError(`--${name} must be one of ${choices.join(', ')}; got '${raw}'${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
    return raw as T;
  }

  /** Every item must be one of `choices`. */
  choices<T extends string>(name: string, choices: readonly T[]): T[] | undefined {
    const items = this.list(name);
    if (items === undefined) return undefined;
    if (items.length === 0) throw new UsageError(`--${name} needs at least one of ${choices.join(', ')}`);
    for (const item of items) {
      if (!(choices as readonly string[]).includes(item)) {
        const hint = closest(item, choices);
        throw new UsageError(`--${name}: unknown '${item}'${hint ? ` (did you mean ${hint}?)` : ''}; choose from ${choices.join(', ')}`);
      }
    }
    return [...new Set(items)] as T[];
  }
}

/**
 * Parses `argv` against `specs`. Unknown options, missing values, values given to
 * flags, and positionals beyond `maxPositionals` are usage errors with a hint.
 */
export function parseOptions(command: string, argv: string[], specs: OptionSpecs, maxPositionals = 0): Args {
  const options = Object.fromEntries(Object.entries(specs).map(([name, s]) => [name, s.short ? { type: s.type, short: s.short } : { type: s.type }]));
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean | undefined> = {};
  const given = new Set<string>();
  const positionals: string[] = [];
  const known = Object.keys(specs);
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (t.kind !== 'option') continue;
    const spec = specs[t.name];
    if (!spec) {
      const hint = closest(t.name, known);
      throw new UsageError(`unknown option ${t.rawName} for 'selfsup ${command}'${hint ? `; did you mean --${hint}?` : ''}`);
    }
    if (spec.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`--${t.name} is a flag and takes no value (got '${t.rawName}=${t.value}')`);
      values[t.name] = true;
    } else {
      const value = t.value;
      const missing = value === undefined || (!t.inlineValue && /^--?[a-z]/i.test(value) && !/^-\d/.test(value));
      if (missing) throw new UsageError(`--${t.name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
      values[t.name] = value;
    }
    given.add(t.name);
  }
  if (positionals.length > maxPositionals) {
    const extra = positionals[maxPositionals]!;
    throw new UsageError(maxPositionals === 0
      ? `'selfsup ${command}' takes no positional arguments, got '${extra}'${extra.startsWith('-') ? '' : ' (options start with --)'}`
      : `unexpected extra argument '${extra}'`);
  }
  for (const [name, s] of Object.entries(specs)) {
    if (!given.has(name) && s.default !== undefined) values[name] = s.default;
  }
  return new Args(command, values, given, positionals);
}
