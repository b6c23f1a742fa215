// Crash-safe file replacement: write a temp file beside the target, fsync it,
// rename it over the target, fsync the directory. Readers see the old file or
// the new one, never a mix; a failure leaves the old file as it was. A process
// killed mid-write leaves its temp file behind; the next write of that target
// removes it (see removeStaleTempFiles).
import {
  openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, statSync, fchmodSync, readdirSync,
} from 'node:fs';
import { open, rename, unlink, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** File contents: one buffer, or chunks written in order (a generator lets the caller make them lazily). */
export type FileChunks = Uint8Array | Iterable<Uint8Array>;

/** A fresh hidden name beside `path`, for a temp file that will be renamed onto it. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** True unless `pid` is certainly gone (another user's live process answers EPERM). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the temp files (named by tempPathFor) that processes no longer running left
 * beside `path`, e.g. after a kill -9 mid-write. Returns the paths removed.
 */
export function removeStaleTempFiles(path: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // no directory yet: nothing to clean
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length));
    if (!m || processAlive(Number(m[1]))) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(join(dir, name));
    } catch { /* removed by someone else meanwhile */ }
  }
  return removed;
}

function* chunksOf(data: FileChunks): Generator<Uint8Array> {
  if (data instanceof Uint8Array) {
    yield data;
    return;
  }
  for (const chunk of data) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError(`expected Uint8Array chunks, got ${Object.prototype.toString.call(chunk)}`);
    yield chunk;
  }
}

function failure(path: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const wrapped: NodeJS.ErrnoException = new Error(`could not write '${path}': ${e?.message ?? String(err)}`, { cause: err });
  if (e?.code) wrapped.code = e.code;
  return wrapped;
}

/** The permission bits of an existing file, so a replacement keeps them. */
function existingMode(path: string): number | null {
  try {
    return statSync(path).mode & 0o7777;
  } catch {
    return null;
  }
}

// Some platforms and file systems cannot fsync a directory; the rename itself is still atomic there.
const DIR_FSYNC_UNSUPPORTED = new Set(['EINVAL', 'EPERM', 'EISDIR', 'EBADF', 'ENOTSUP', 'EACCES']);

function fsyncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    if (!DIR_FSYNC_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Replaces `path` with `data` atomically and durably. On any failure (including an
 * exception thrown by a chunk generator) the temp file is removed, the previous
 * file at `path` is left untouched, and the error names `path`. Returns the bytes written.
 */
export function writeFileAtomic(path: string, data: FileChunks): number {
  removeStaleTempFiles(path);
  const tmp = tempPathFor(path);
  const mode = existingMode(path);
  let fd: number | null = null;
  let written = 0;
  try {
    fd = openSync(tmp, 'wx', 0o666);
    if (mode !== null) fchmodSync(fd, mode);
    for (const chunk of chunksOf(data)) {
      for (let off = 0; off < chunk.byteLength;) off += writeSync(fd, chunk, off, chunk.byteLength - off);
      written += chunk.byteLength;
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== null) try { closeSync(fd); } catch { /* already failing */ }
    try { unlinkSync(tmp); } catch { /* never created */ }
    throw failure(path, err);
  }
  fsyncDirectory(dirname(path));
  return written;
}

/** The asynchronous form of writeFileAtomic; chunks may also come from an async iterable. */
export async function writeFileAtomicAsync(path: string, data: FileChunks | AsyncIterable<Uint8Array>): Promise<number> {
  removeStaleTempFiles(path);
  const tmp = tempPathFor(path);
  const mode = await stat(path).then((s) => s.mode & 0o7777, () => null);
  let handle: import('node:fs/promises').FileHandle | null = null;
  let written = 0;
  try {
    handle = await open(tmp, 'wx', 0o666);
    if (mode !== null) await handle.chmod(mode);
    const source = Symbol.asyncIterator in Object(data) ? (data as AsyncIterable<Uint8Array>) : chunksOf(data as FileChunks);
    for await (const chunk of source) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError(`expected Uint8Array chunks, got ${Object.prototype.toString.call(chunk)}`);
      for (let off = 0; off < chunk.byteLength;) off += (await handle.write(chunk, off, chunk.byteLength - off)).bytesWritten;
      written += chunk.byteLength;
    }
    await handle.sync();
    await handle.close();
    handle = null;
    await rename(tmp, path);
  } catch (err) {
    if (handle !== null) await handle.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw failure(path, err);
  }
  fsyncDirectory(dirname(path));
  return written;
}
