// selfsup's version, read from its package.json (found upward from this file, so it
// works from src/ through tsc's dist/ and from an installed package).
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The package version, e.g. '0.1.0', or 'unknown' when no selfsup package.json is found. */
export function selfsupVersion(): string {
  if (cached) return cached;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const { name, version: v } = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
      if (name === 'selfsup' && v) return (cached = v);
    }
    if (dirname(dir) === dir) return (cached = 'unknown');
  }
}
