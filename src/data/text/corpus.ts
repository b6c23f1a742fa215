// A text corpus: documents, and optionally a label for each one.
// Every reader in this folder returns one, and fails with a CorpusError that
// names the path and (for the system corpora) the Debian package to install.
import { existsSync } from 'node:fs';

export interface TextCorpus {
  /** Where the documents came from, e.g. 'wordnet noun glosses' or a path. */
  name: string;
  texts: string[];
  /** Class index of each document, when the corpus is labelled. */
  labels?: Int32Array;
  /** Name of each class index. */
  classNames?: string[];
}

export class CorpusError extends Error {
  override name = 'CorpusError';
}

/** Throws a CorpusError for a missing path, with a hint on how to get it. */
export function requirePath(path: string, what: string, hint?: string): void {
  if (!existsSync(path)) {
    throw new CorpusError(`${what} not found at '${path}'${hint ? `; ${hint}` : ''}`);
  }
}

/** Throws a CorpusError when a corpus holds no document with any text. */
export function requireDocuments(corpus: TextCorpus, hint?: string): TextCorpus {
  if (!corpus.texts.some((t) => t.trim().length > 0)) {
    throw new CorpusError(`${corpus.name}: the corpus is empty (no document with text)${hint ? `; ${hint}` : ''}`);
  }
  return corpus;
}

/** Turns string labels into class indices, classes in sorted order. */
export function labelIndices(labels: string[]): { labels: Int32Array; classNames: string[] } {
  const classNames = [...new Set(labels)].sort();
  const index = new Map(classNames.map((c, i) => [c, i]));
  return { labels: Int32Array.from(labels, (l) => index.get(l)!), classNames };
}

/** The documents (and labels) at `indices`. */
export function subsetCorpus(corpus: TextCorpus, indices: ArrayLike<number>, name = corpus.name): TextCorpus {
  const texts = Array.from(indices, (i) => corpus.texts[i]!);
  const out: TextCorpus = { name, texts };
  if (corpus.labels) {
    out.labels = Int32Array.from(indices, (i) => corpus.labels![i]!);
    out.classNames = corpus.classNames;
  }
  return out;
}
