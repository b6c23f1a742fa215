// Fortune cookie files (Debian packages fortunes, fortunes-min): quotes separated by
// lines holding only '%'; the file's name is the quote's category.
import { readFileSync, readdirSync, lstatSync } from 'node:fs';
import { join, basename } from 'node:path';
import { CorpusError, requirePath, requireDocuments, type TextCorpus } from './corpus.js';

export const DEFAULT_FORTUNE_DIR = '/usr/share/games/fortunes';
const INSTALL_HINT = 'install the Debian packages fortunes and fortunes-min (apt-get install fortunes fortunes-min), or pass a folder of fortune files';

/** The quotes of one fortune file's text, trimmed, empty ones dropped. */
export function parseFortunes(text: string): string[] {
  const quotes: string[] = [];
  let lines: string[] = [];
  const flush = (): void => {
    const q = lines.join('\n').replace(/^\s*\n/, '').trimEnd();
    if (q.trim()) quotes.push(q);
    lines = [];
  };
  for (const line of text.split('\n')) {
    if (line.trimEnd() === '%') flush();
    else lines.push(line.replace(/\r$/, ''));
  }
  flush();
  return quotes;
}

/** The fortune files of a folder: regular files, not the .dat indexes nor the .u8 links to the files. */
export function fortuneFiles(dir: string = DEFAULT_FORTUNE_DIR): string[] {
  requirePath(dir, 'the fortune folder', INSTALL_HINT);
  if (!lstatSync(dir).isDirectory()) throw new CorpusError(`'${dir}' is not a folder of fortune files; ${INSTALL_HINT}`);
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.') && !f.endsWith('.dat') && lstatSync(join(dir, f)).isFile())
    .sort();
}

export interface FortuneOptions {
  /** Only these files (names within the folder); default every fortune file. */
  files?: readonly string[];
  /** Skip files with fewer quotes than this (default 1). */
  minQuotes?: number;
}

/** Reads fortune files as a corpus labelled by file name (classes in sorted order). */
export function readFortunes(dir: string = DEFAULT_FORTUNE_DIR, o: FortuneOptions = {}): TextCorpus {
  const available = fortuneFiles(dir);
  const wanted = o.files ? [...o.files] : available;
  const missing = wanted.filter((f) => !available.includes(f));
  if (missing.length) {
    throw new CorpusError(`no fortune file ${missing.map((f) => `'${f}'`).join(', ')} in '${dir}' (there are: ${available.join(', ') || 'none'})`);
  }
  const texts: string[] = [];
  const labels: number[] = [];
  const classNames: string[] = [];
  for (const file of [...wanted].sort()) {
    const quotes = parseFortunes(readFileSync(join(dir, file), 'utf8'));
    if (quotes.length < (o.minQuotes ?? 1)) continue;
    const label = classNames.push(basename(file)) - 1;
    for (const q of quotes) {
      texts.push(q);
      labels.push(label);
    }
  }
  return requireDocuments({ name: `fortunes (${dir})`, texts, labels: Int32Array.from(labels), classNames }, INSTALL_HINT);
}
