// Training checkpoints: `<name>.safetensors` holds the model tensors, the optimizer
// tensors under `optim.`, and (format version 2) the whole description: format version,
// optimizer hyperparameters, user meta, as JSON in its `__metadata__`. That one file is
// the checkpoint; it is replaced by one atomic rename, so a kill at any instant leaves
// the old checkpoint or the new one, never a mix. `<name>.json` beside it is a readable
// copy of the description, written after it; loading never needs it.
// Version 1 checkpoints (description only in `<name>.json`, paired by a random id) still load.
import { readFileSync, statSync, existsSync, mkdirSync, linkSync, copyFileSync, renameSync, unlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join, sep } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/scope.js';
import { writeFileAtomic, tempPathFor, removeStaleTempFiles } from './atomic.js';
import { saveSafetensors, loadSafetensors, readSafetensorsHeader } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'selfsup.checkpoint';
export const CHECKPOINT_VERSION = 2;
const OPTIM_PREFIX = 'optim.';
/** The `__metadata__` key holding a version-2 checkpoint's description. */
const DESCRIPTION_KEY = 'selfsup_checkpoint';

/** Anything with a state dict, such as an nn.Module. */
export interface HasStateDict {
  stateDict(): Map<string, Tensor>;
}
/** Optimizer state: tensors (moments, ...) plus JSON-able hyperparameters and step counts. */
export interface OptimizerState {
  state: Map<string, Tensor>;
  meta: unknown;
}
/** Anything with optimizer state, such as an Optimizer (`tensors` is accepted as another name for `state`). */
export interface HasOptimizerState {
  stateDict(): OptimizerState | { tensors: Map<string, Tensor>; meta: unknown };
}

export interface SaveCheckpointOptions {
  model: HasStateDict;
  optimizer?: HasOptimizerState;
  /** Anything JSON can hold: config, epoch, step, metrics... */
  meta?: object;
  /** Keep the checkpoint being replaced as `<name>.prev.safetensors` (and its `.prev.json` copy). */
  keepPrevious?: boolean;
}

export interface CheckpointPaths {
  tensors: string;
  json: string;
  prevTensors: string;
  prevJson: string;
}

export interface LoadCheckpointOptions {
  /** Where the tensors go; 'cpu' by default. */
  device?: string;
  /**
   * When the checkpoint at `path` cannot be loaded (a version-1 save interrupted between its
   * two files, a damaged file), load `<name>.prev` instead; `fallback` then says why.
   */
  fallBackToPrevious?: boolean;
}

export interface Checkpoint {
  /** The model's state dict. The caller owns these tensors. */
  model: Map<string, Tensor>;
  /** The optimizer's state, if one was saved (tensor names without the `optim.` prefix), ready for Optimizer.loadStateDict. */
  optimizer: OptimizerState | null;
  meta: Record<string, unknown>;
  version: number;
  savedAt: string;
  /** The files loaded: `<name>.prev.*` after a fallback. */
  paths: CheckpointPaths;
  /** Why the previous checkpoint was loaded instead of the one asked for; null when it was not. */
  fallback: string | null;
}

/** A checkpoint's description: what version 2 keeps inside the tensors file and copies to `<name>.json`. */
interface CheckpointJson {
  format: string;
  version: number;
  id: string;
  savedAt: string;
  /** Version 1 only: the size of the tensors file it pairs with. */
  tensorBytes?: number;
  optimizer: { meta: unknown } | null;
  meta: Record<string, unknown>;
}

/** What a checkpoint's files say about it, read without loading any tensor. */
export interface CheckpointInfo {
  meta: Record<string, unknown>;
  version: number;
  savedAt: string;
  paths: CheckpointPaths;
  fallback: string | null;
}

/**
 * The files of a checkpoint. `runs/a/ckpt`, `runs/a/ckpt.json` and `runs/a/ckpt.safetensors`
 * all name the checkpoint `runs/a/ckpt.{safetensors,json}`; an existing directory, or a path
 * ending in a separator, holds `checkpoint.{safetensors,json}`.
 */
export function checkpointPaths(path: string): CheckpointPaths {
  const isDir = path.endsWith('/') || path.endsWith(sep) || (existsSync(path) && statSync(path).isDirectory());
  const base = isDir ? join(path, 'checkpoint') : path.replace(/\.(json|safetensors)$/, '');
  return {
    tensors: `${base}.safetensors`,
    json: `${base}.json`,
    prevTensors: `${base}.prev.safetensors`,
    prevJson: `${base}.prev.json`,
  };
}

const previousOf = (paths: CheckpointPaths): CheckpointPaths => checkpointPaths(paths.prevTensors);

function toJsonText(value: unknown, what: string): string {
  try {
    return JSON.stringify(value, null, 2) + '\n';
  } catch (err) {
    throw new TypeError(`saveCheckpoint: ${what} cannot be written as JSON: ${(err as Error).message}`);
  }
}

/**
 * Saves a checkpoint: one safetensors file, renamed into place, then its readable `.json`
 * copy. A kill at any instant leaves a loadable checkpoint (the old one until the rename,
 * the new one after); with `keepPrevious`, the one before it too.
 */
export function saveCheckpoint(path: string, opts: SaveCheckpointOptions): CheckpointPaths {
  const paths = checkpointPaths(path);
  // tidy: state-dict tensors made just for this save (detached copies, say) are freed after it.
  tidy(() => {
    const tensors = new Map(opts.model.stateDict());
    let optimizer: CheckpointJson['optimizer'] = null;
    if (opts.optimizer) {
      for (const name of tensors.keys()) {
        if (name.startsWith(OPTIM_PREFIX)) throw new Error(`saveCheckpoint: model tensor '${name}' clashes with the '${OPTIM_PREFIX}' prefix reserved for optimizer state`);
      }
      const sd = opts.optimizer.stateDict();
      const state = 'state' in sd ? sd.state : sd.tensors;
      if (!(state instanceof Map)) throw new TypeError('saveCheckpoint: optimizer.stateDict() must return { state: Map<string, Tensor>, meta }');
      for (const [name, t] of state) tensors.set(OPTIM_PREFIX + name, t);
      optimizer = { meta: sd.meta ?? null };
    }
    const id = randomUUID();
    const doc: CheckpointJson = {
      format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, id, savedAt: new Date().toISOString(), optimizer, meta: { ...(opts.meta ?? {}) },
    };
    const text = toJsonText(doc, 'meta or optimizer state'); // fail before touching any file

    mkdirSync(dirname(paths.json), { recursive: true });
    removeStaleCheckpointTemps(paths);
    if (opts.keepPrevious) keepCurrentAsPrevious(paths);
    saveSafetensors(paths.tensors, tensors, { format: CHECKPOINT_FORMAT, checkpoint_id: id, [DESCRIPTION_KEY]: JSON.stringify(doc) });
    writeFileAtomic(paths.json, Buffer.from(text, 'utf8'));
  });
  return paths;
}

/** Removes temp files that killed saves of this checkpoint left behind (those of live processes stay). */
export function removeStaleCheckpointTemps(path: string | CheckpointPaths): string[] {
  const paths = typeof path === 'string' ? checkpointPaths(path) : path;
  return [paths.tensors, paths.json, paths.prevTensors, paths.prevJson].flatMap((p) => removeStaleTempFiles(p));
}

function parseDescription(text: string, file: string): CheckpointJson {
  let doc: CheckpointJson;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`checkpoint '${file}' is not valid JSON (truncated or corrupt?): ${(err as Error).message}`);
  }
  if (doc?.format !== CHECKPOINT_FORMAT) throw new Error(`'${file}' is not a selfsup checkpoint (format is ${JSON.stringify(doc?.format)})`);
  if (!Number.isInteger(doc.version) || doc.version > CHECKPOINT_VERSION) {
    throw new Error(`checkpoint '${file}' has format version ${doc.version}; this selfsup reads up to version ${CHECKPOINT_VERSION}`);
  }
  return doc;
}

function readJson(file: string, tensorsExist: boolean): CheckpointJson {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') {
      throw new Error(`checkpoint '${file}' does not exist${tensorsExist ? ' (its .safetensors does, from an older selfsup, whose save was interrupted before the JSON was written)' : ''}`);
    }
    throw err;
  }
  return parseDescription(text, file);
}

/**
 * The description of the checkpoint at `paths`, checked against its tensors file's header:
 * version 2 from inside the tensors file, version 1 from the `.json` paired by id and size.
 */
function readDescriptionOf(paths: CheckpointPaths): CheckpointJson {
  if (!existsSync(paths.tensors)) {
    if (existsSync(paths.json)) throw new Error(`checkpoint '${paths.json}': its tensors file '${paths.tensors}' does not exist`);
    throw new Error(`checkpoint '${paths.tensors}' does not exist`);
  }
  const metadata = readSafetensorsHeader(paths.tensors).metadata;
  const embedded = metadata?.[DESCRIPTION_KEY];
  if (embedded !== undefined) {
    const doc = parseDescription(embedded, paths.tensors);
    if (doc.id !== metadata?.checkpoint_id) throw new Error(`checkpoint '${paths.tensors}': its description and its header disagree on the save id`);
    return doc;
  }
  if (metadata?.format !== CHECKPOINT_FORMAT) throw new Error(`'${paths.tensors}' is not a selfsup checkpoint (format is ${JSON.stringify(metadata?.format)})`);
  const doc = readJson(paths.json, true); // version 1
  const id = metadata.checkpoint_id;
  if (id !== doc.id) {
    throw new Error(`checkpoint '${paths.json}': '${paths.tensors}' comes from a different save (id ${id ?? 'missing'}, expected ${doc.id}); a save was interrupted between its two files`);
  }
  const size = statSync(paths.tensors).size;
  if (size !== doc.tensorBytes) throw new Error(`checkpoint '${paths.json}': '${paths.tensors}' is ${size} bytes, expected ${doc.tensorBytes}`);
  return doc;
}

/** The checkpoint to load at `path`: that one, or with `fallBackToPrevious` the previous one when it cannot be read. */
function locate(path: string, fallBackToPrevious: boolean): { paths: CheckpointPaths; doc: CheckpointJson; fallback: string | null } {
  const paths = checkpointPaths(path);
  try {
    return { paths, doc: readDescriptionOf(paths), fallback: null };
  } catch (err) {
    const prev = previousOf(paths);
    if (!fallBackToPrevious || !existsSync(prev.tensors)) throw err;
    let doc: CheckpointJson;
    try {
      doc = readDescriptionOf(prev);
    } catch (prevErr) {
      throw new Error(`${(err as Error).message}; the previous checkpoint cannot be loaded either: ${(prevErr as Error).message}`);
    }
    return { paths: prev, doc, fallback: `${(err as Error).message}; using the previous complete checkpoint, '${prev.tensors}' (saved ${doc.savedAt})` };
  }
}

/** True when `path` names a checkpoint (its tensors or its JSON exist, or its previous one does). */
export function checkpointExists(path: string): boolean {
  const paths = checkpointPaths(path);
  return existsSync(paths.tensors) || existsSync(paths.json) || existsSync(paths.prevTensors);
}

/** Reads a checkpoint's meta (and which files hold it) without loading its tensors; the same choice loadCheckpoint makes. */
export function readCheckpointInfo(path: string, opts: Pick<LoadCheckpointOptions, 'fallBackToPrevious'> = {}): CheckpointInfo {
  const { paths, doc, fallback } = locate(path, opts.fallBackToPrevious ?? false);
  return { meta: doc.meta, version: doc.version, savedAt: doc.savedAt, paths, fallback };
}

/** Loads a checkpoint saved by saveCheckpoint (tensors on `device`, 'cpu' by default). */
export function loadCheckpoint(path: string, opts: LoadCheckpointOptions = {}): Checkpoint {
  const { paths, doc, fallback } = locate(path, opts.fallBackToPrevious ?? false);
  const { tensors } = loadSafetensors(paths.tensors, opts);
  let optimizer: Checkpoint['optimizer'] = null;
  if (doc.optimizer) {
    optimizer = { state: new Map(), meta: doc.optimizer.meta };
    for (const [name, t] of tensors) {
      if (name.startsWith(OPTIM_PREFIX)) {
        optimizer.state.set(name.slice(OPTIM_PREFIX.length), t);
        tensors.delete(name);
      }
    }
  }
  return { model: tensors, optimizer, meta: doc.meta, version: doc.version, savedAt: doc.savedAt, paths, fallback };
}

function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}

/** Points `dst` at `src`'s contents atomically: a hard link when the file system allows, else a copy. */
function replaceWithLink(src: string, dst: string): void {
  // Already the same file (a save killed after this link, before its rename): rename() of one
  // hard link onto another of the same file does nothing and would leave the temp link behind.
  if (sameFile(src, dst)) return;
  const tmp = tempPathFor(dst);
  try {
    try {
      linkSync(src, tmp);
    } catch {
      copyFileSync(src, tmp);
    }
    renameSync(tmp, dst);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* never created */ }
    throw err;
  }
}

/**
 * Makes `<name>.prev.*` the current checkpoint before it is replaced. Hard links keep the old
 * contents when the new file is renamed over `<name>.safetensors`. A broken current
 * checkpoint (a version-1 save interrupted between its files) is not kept, so it never
 * replaces a good previous one.
 */
function keepCurrentAsPrevious(paths: CheckpointPaths): void {
  let doc: CheckpointJson;
  try {
    doc = readDescriptionOf(paths);
  } catch {
    return;
  }
  if (doc.version >= 2) {
    replaceWithLink(paths.tensors, paths.prevTensors);
    // The copy is a courtesy for readers; the previous checkpoint loads from its tensors file alone.
    writeFileAtomic(paths.prevJson, Buffer.from(toJsonText(doc, 'meta'), 'utf8'));
    return;
  }
  // Version 1: the pair is the checkpoint. A kill between the two links leaves a previous
  // pair whose ids disagree, which loading refuses rather than mixing.
  replaceWithLink(paths.json, paths.prevJson);
  replaceWithLink(paths.tensors, paths.prevTensors);
}
