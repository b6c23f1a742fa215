// The user's own text: a file with one document per line, a TSV of `label<TAB>text`
// lines, a folder with one document per file, or a folder with one sub-folder per
// label holding that label's documents.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import { CorpusError, requirePath, requireDocuments, labelIndices, type TextCorpus } from './corpus.js';

export interface UserCorpusOptions {
  /** In folders: a document per file (default) or per non-empty line. */
  documents?: 'file' | 'line';
  /** Read a file as `label<TAB>text` lines; default: when its name ends in .tsv. */
  tsv?: boolean;
}

function visible(dir: string): string[] {
  return readdirSync(dir).filter((f) => !f.startsWith('.')).sort();
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}

function documentsOf(file: string, per: 'file' | 'line'): string[] {
  const text = readFileSync(file, 'utf8');
  if (per === 'line') return lines(text);
  return text.trim() ? [text.trim()] : [];
}

/** Parses `label<TAB>text` lines; throws naming the first line without a tab. */
export function parseTsv(text: string, source = 'TSV'): { texts: string[]; labels: string[] } {
  const texts: string[] = [];
  const labels: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const tab = line.indexOf('\t');
    if (tab < 0) throw new CorpusError(`${source}, line ${i + 1}: expected 'label<TAB>text', found no tab: ${line.slice(0, 60)}`);
    const label = line.slice(0, tab).trim();
    if (!label) throw new CorpusError(`${source}, line ${i + 1}: the label (before the tab) is empty`);
    texts.push(line.slice(tab + 1).trim());
    labels.push(label);
  });
  return { texts, labels };
}

/** Reads a user's corpus from a file or folder (see the module comment). */
export function readTextCorpus(path: string, o: UserCorpusOptions = {}): TextCorpus {
  requirePath(path, 'the text corpus');
  const per = o.documents ?? 'file';
  if (statSync(path).isFile()) {
    const text = readFileSync(path, 'utf8');
    if (o.tsv ?? extname(path).toLowerCase() === '.tsv') {
      const t = parseTsv(text, path);
      return requireDocuments({ name: path, texts: t.texts, ...labelIndices(t.labels) });
    }
    return requireDocuments({ name: path, texts: lines(text) });
  }
  const entries = visible(path);
  const folders = entries.filter((e) => statSync(join(path, e)).isDirectory());
  if (folders.length === 0) {
    const texts = entries.flatMap((f) => documentsOf(join(path, f), per));
    return requireDocuments({ name: path, texts }, 'a folder corpus holds text files, or one sub-folder of text files per label');
  }
  const loose = entries.filter((e) => !folders.includes(e));
  if (loose.length) {
    throw new CorpusError(`'${path}' mixes files (${loose.slice(0, 3).join(', ')}) with label sub-folders (${folders.slice(0, 3).join(', ')}); put every document inside a label's sub-folder`);
  }
  const texts: string[] = [];
  const labels: string[] = [];
  for (const label of folders) {
    for (const f of visible(join(path, label))) {
      const file = join(path, label, f);
      if (!statSync(file).isFile()) continue;
      for (const d of documentsOf(file, per)) {
        texts.push(d);
        labels.push(label);
      }
    }
  }
  return requireDocuments({ name: path, texts, ...labelIndices(labels) });
}
