// Metrics as JSON lines: one object per line, appended as training goes, so a
// crash loses nothing already logged and any tool can read the file.
import { appendFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';

export type MetricsRecord = Record<string, number | string | boolean | null>;

export class MetricsLog {
  constructor(readonly path: string | null) {
    if (path) mkdirSync(dirname(path), { recursive: true });
  }
  write(record: MetricsRecord): void {
    if (this.path) appendFileSync(this.path, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
  }
}

/** Reads a metrics file back (skips a torn last line from a crash). */
export function readMetrics(path: string): MetricsRecord[] {
  if (!existsSync(path)) return [];
  const out: MetricsRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricsRecord);
    } catch {
      // a partial line written at the moment of a crash
    }
  }
  return out;
}
