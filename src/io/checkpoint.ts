// Training checkpoints: `<name>.safetensors` (model tensors, optimizer tensors under
// `optim.`) beside `<name>.json` (format version, optimizer hyperparameters, user meta).
// The tensors are written first and the JSON last, both atomically; both carry one
// random id, so a JSON never silently pairs with tensors from another save.
import { readFileSync, statSync, existsSync, mkdirSync, linkSync, copyFileSync, renameSync, unlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join, sep } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/scope.js';
import { writeFileAtomic, tempPathFor } from './atomic.js';
import { saveSafetensors, loadSafetensors, readSafetensorsHeader } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'selfsup.checkpoint';
export const CHECKPOINT_VERSION = 1;
const OPTIM_PREFIX = 'optim.';

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
  /** Keep the checkpoint being replaced as `<name>.prev.safetensors` / `<name>.prev.json`. */
  keepPrevious?: boolean;
}

export interface CheckpointPaths {
  tensors: string;
  json: string;
  prevTensors: string;
  prevJson: string;
}

export interface Checkpoint {
  /** The model's state dict. The caller owns these tensors. */
  model: Map<string, Tensor>;
  /** The optimizer's state, if one was saved (tensor names without the `optim.` prefix), ready for Optimizer.loadStateDict. */
  optimizer: OptimizerState | null;
  meta: Record<string, unknown>;
  version: number;
  savedAt: string;
  paths: CheckpointPaths;
}

/** What `<name>.json` holds. */
interface CheckpointJson {
  format: string;
  version: number;
  id: string;
  savedAt: string;
  tensorBytes: number;
  optimizer: { meta: unknown } | null;
  meta: Record<string, unknown>;
}

/**
 * The files of a checkpoint. `runs/a/ckpt`, `runs/a/ckpt.json` and `runs/a/ckpt.safetensors`
 * all name the pair `runs/a/ckpt.{safetensors,json}`; an existing directory, or a path
 * ending in a separator, holds the pair `checkpoint.{safetensors,json}`.
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

function toJsonText(value: unknown, what: string): string {
  try {
    return JSON.stringify(value, null, 2) + '\n';
  } catch (err) {
    throw new TypeError(`saveCheckpoint: ${what} cannot be written as JSON: ${(err as Error).message}`);
  }
}

/**
 * Saves a checkpoint. A crash never leaves the JSON beside partial tensors; a crash between
 * the two writes is reported on load (the ids differ). With `keepPrevious`, one complete
 * checkpoint survives a crash at any moment.
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
      format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, id, savedAt: new Date().toISOString(),
      tensorBytes: 0, optimizer, meta: { ...(opts.meta ?? {}) },
    };
    toJsonText(doc, 'meta or optimizer state'); // fail before touching any file

    mkdirSync(dirname(paths.json), { recursive: true });
    if (opts.keepPrevious) keepCurrentAsPrevious(paths);
    doc.tensorBytes = saveSafetensors(paths.tensors, tensors, { format: CHECKPOINT_FORMAT, checkpoint_id: id });
    writeFileAtomic(paths.json, Buffer.from(toJsonText(doc, 'meta'), 'utf8'));
  });
  return paths;
}

function readJson(file: string): CheckpointJson {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') {
      throw new Error(`checkpoint '${file}' does not exist${existsSync(file.replace(/\.json$/, '.safetensors')) ? ' (its .safetensors does: the save was interrupted before the JSON was written)' : ''}`);
    }
    throw err;
  }
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

/** Checks that the tensors file is the one the JSON was written with, reading only its header. */
function checkPair(paths: CheckpointPaths, doc: CheckpointJson): void {
  const id = readSafetensorsHeader(paths.tensors).metadata?.checkpoint_id;
  if (id !== doc.id) {
    throw new Error(`checkpoint '${paths.json}': '${paths.tensors}' comes from a different save (id ${id ?? 'missing'}, expected ${doc.id}); a save was interrupted between its two files`);
  }
  const size = statSync(paths.tensors).size;
  if (size !== doc.tensorBytes) throw new Error(`checkpoint '${paths.json}': '${paths.tensors}' is ${size} bytes, expected ${doc.tensorBytes}`);
}

/** Loads a checkpoint saved by saveCheckpoint (tensors on `device`, 'cpu' by default). */
export function loadCheckpoint(path: string, opts: { device?: string } = {}): Checkpoint {
  const paths = checkpointPaths(path);
  const doc = readJson(paths.json);
  checkPair(paths, doc);
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
  return { model: tensors, optimizer, meta: doc.meta, version: doc.version, savedAt: doc.savedAt, paths };
}

function isCompletePair(paths: CheckpointPaths): boolean {
  try {
    checkPair(paths, readJson(paths.json));
    return true;
  } catch {
    return false;
  }
}

/** Points `dst` at `src`'s contents atomically: a hard link when the file system allows, else a copy. */
function replaceWithLink(src: string, dst: string): void {
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
 * Makes `<name>.prev.*` the current pair before it is replaced. Hard links keep the old
 * contents when the new files are renamed over `<name>.*`. A broken current pair (from an
 * interrupted save) is not kept, so it never replaces a good previous one.
 */
function keepCurrentAsPrevious(paths: CheckpointPaths): void {
  if (!isCompletePair(paths)) return;
  replaceWithLink(paths.tensors, paths.prevTensors);
  replaceWithLink(paths.json, paths.prevJson);
}
