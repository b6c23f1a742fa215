// WordNet's data files (Debian package wordnet-base): one synset per line with its
// words, its lexicographer file (the label we classify by) and its gloss, a
// definition followed by quoted example sentences.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CorpusError, requirePath, type TextCorpus } from './corpus.js';

export const DEFAULT_WORDNET_DIR = '/usr/share/wordnet';
const INSTALL_HINT = 'install the Debian package wordnet-base (apt-get install wordnet-base), or pass the folder holding data.noun, data.verb, data.adj and data.adv';

export type WordNetPos = 'noun' | 'verb' | 'adj' | 'adv';
export const WORDNET_POS: readonly WordNetPos[] = ['noun', 'verb', 'adj', 'adv'];

/** The 45 lexicographer files, numbered as in WordNet 3.0's lexnames file. */
export const STANDARD_LEXNAMES: readonly string[] = [
  'adj.all', 'adj.pert', 'adv.all', 'noun.Tops', 'noun.act', 'noun.animal', 'noun.artifact', 'noun.attribute',
  'noun.body', 'noun.cognition', 'noun.communication', 'noun.event', 'noun.feeling', 'noun.food', 'noun.group',
  'noun.location', 'noun.motive', 'noun.object', 'noun.person', 'noun.phenomenon', 'noun.plant', 'noun.possession',
  'noun.process', 'noun.quantity', 'noun.relation', 'noun.shape', 'noun.state', 'noun.substance', 'noun.time',
  'verb.body', 'verb.change', 'verb.cognition', 'verb.communication', 'verb.competition', 'verb.consumption',
  'verb.contact', 'verb.creation', 'verb.emotion', 'verb.motion', 'verb.perception', 'verb.possession',
  'verb.social', 'verb.stative', 'verb.weather', 'adj.ppl',
];

export interface Synset {
  /** Byte offset in its data file: with the part of speech, the synset's id. */
  offset: number;
  pos: WordNetPos;
  /** Lexicographer file number (the second field). */
  lexFilenum: number;
  /** Its name, e.g. 'noun.animal'. */
  lexname: string;
  /** The synset's words as written ('dog', 'domestic_dog'), adjective markers removed. */
  words: string[];
  /** The gloss without its examples. */
  definition: string;
  /** Example sentences quoted in the gloss. */
  examples: string[];
}

/** The lexicographer file names from `<dir>/lexnames` when present, else the standard 45. */
export function readLexnames(dir: string = DEFAULT_WORDNET_DIR): string[] {
  const file = join(dir, 'lexnames');
  if (!existsSync(file)) return [...STANDARD_LEXNAMES];
  const names: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [num, name] = line.trim().split(/\s+/);
    if (num !== undefined && name !== undefined && /^\d+$/.test(num)) names[Number(num)] = name;
  }
  return names;
}

/** Splits a gloss into its definition and its quoted examples. */
export function splitGloss(gloss: string): { definition: string; examples: string[] } {
  const examples: string[] = [];
  const definition = gloss.replace(/"([^"]*)"?/g, (_, ex: string) => {
    if (ex.trim()) examples.push(ex.trim());
    return '';
  });
  return { definition: definition.replace(/[\s;]+$/, '').replace(/^[\s;]+/, '').replace(/\s*;\s*(;\s*)+/g, '; ').trim(), examples };
}

/**
 * Parses one line of a WordNet data file; returns null for the license header
 * (lines starting with spaces) and blank lines. Throws a CorpusError on a malformed line.
 */
export function parseWordNetLine(line: string, lexnames: readonly string[] = STANDARD_LEXNAMES): Synset | null {
  if (line.length === 0 || line.startsWith(' ') || line.trim() === '') return null;
  const bar = line.indexOf(' | ');
  const head = (bar >= 0 ? line.slice(0, bar) : line).trim().split(/\s+/);
  const gloss = bar >= 0 ? line.slice(bar + 3).trim() : '';
  const bad = (why: string): CorpusError => new CorpusError(`not a WordNet data line (${why}): ${line.slice(0, 80)}`);
  if (head.length < 4 || !/^\d{8}$/.test(head[0]!)) throw bad('it must start with an 8-digit offset');
  const lexFilenum = Number(head[1]);
  if (!/^\d{2}$/.test(head[1]!)) throw bad('the lexicographer file number must be two digits');
  const pos = ({ n: 'noun', v: 'verb', a: 'adj', s: 'adj', r: 'adv' } as const)[head[2] as 'n'];
  if (!pos) throw bad(`unknown synset type '${head[2]}'`);
  const wordCount = parseInt(head[3]!, 16);
  if (!Number.isInteger(wordCount) || wordCount < 1 || head.length < 4 + 2 * wordCount) throw bad('bad word count');
  const words: string[] = [];
  for (let i = 0; i < wordCount; i++) words.push(head[4 + 2 * i]!.replace(/\((a|p|ip)\)$/, ''));
  const { definition, examples } = splitGloss(gloss);
  return {
    offset: Number(head[0]), pos, lexFilenum, lexname: lexnames[lexFilenum] ?? `lexfile.${head[1]}`,
    words, definition, examples,
  };
}

/** Reads the synsets of the given parts of speech from `<dir>/data.<pos>`. */
export function readWordNet(dir: string = DEFAULT_WORDNET_DIR, pos: readonly WordNetPos[] = WORDNET_POS): Synset[] {
  requirePath(dir, 'the WordNet folder', INSTALL_HINT);
  const lexnames = readLexnames(dir);
  const synsets: Synset[] = [];
  for (const p of pos) {
    const file = join(dir, `data.${p}`);
    requirePath(file, `the WordNet data file data.${p}`, INSTALL_HINT);
    for (const line of readFileSync(file, 'latin1').split('\n')) {
      const s = parseWordNetLine(line, lexnames);
      if (s) synsets.push(s);
    }
  }
  if (synsets.length === 0) throw new CorpusError(`no synsets in the WordNet data files under '${dir}'; ${INSTALL_HINT}`);
  return synsets;
}

/** The text of a synset as a document: its definition and its examples. */
export function synsetText(s: Synset): string {
  return [s.definition, ...s.examples].filter((t) => t.length > 0).join('; ');
}

/**
 * The glosses of the synsets in the given lexicographer files as a labelled corpus
 * (classes in the order given). Throws if a category has no synset.
 */
export function glossCorpus(synsets: readonly Synset[], categories: readonly string[]): TextCorpus {
  const index = new Map(categories.map((c, i) => [c, i]));
  const texts: string[] = [];
  const labels: number[] = [];
  const counts = new Array<number>(categories.length).fill(0);
  for (const s of synsets) {
    const c = index.get(s.lexname);
    if (c === undefined) continue;
    const text = synsetText(s);
    if (!text) continue;
    texts.push(text);
    labels.push(c);
    counts[c]!++;
  }
  const empty = categories.filter((_, i) => counts[i] === 0);
  if (empty.length) {
    throw new CorpusError(`WordNet has no synsets in ${empty.map((c) => `'${c}'`).join(', ')}; categories are lexicographer file names such as noun.animal or noun.food`);
  }
  return { name: `WordNet glosses (${categories.join(', ')})`, texts, labels: Int32Array.from(labels), classNames: [...categories] };
}
