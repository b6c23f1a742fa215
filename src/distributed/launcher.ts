// `selfsup launch`, as torchrun: starts this machine's ranks of a data-parallel job
// with MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK and LOCAL_RANK set, and watches them.
// Ctrl-C is passed to every rank once per press (each rank is its own process group,
// so the terminal does not signal it a second time): they stop after the same step
// and rank 0 saves. When a rank fails, the others are stopped at once rather than
// left to wait for it until the timeout. When the launcher itself dies, even by SIGKILL,
// the ranks notice within a second and stop (launcher-watch.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LAUNCHER_PID_ENV } from './launcher-watch.js';

export interface LaunchOptions {
  nprocPerNode: number;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
  /** Seconds every rank waits for the others (SELFSUP_DIST_TIMEOUT). */
  timeoutSeconds?: number;
  /** libtorch threads per rank (default: this machine's cores / nprocPerNode, at least 1). */
  threadsPerProcess?: number;
  /** The program the ranks run (default: the selfsup CLI); argv follows it. */
  script?: string;
  /** Where the launcher's own messages go (default stderr). */
  log?: (line: string) => void;
}

export interface LaunchResult {
  /** The job's exit code: 0, 130 after Ctrl-C, or the first failed rank's code. */
  exitCode: number;
  /** Each local rank's exit code (or signal name). */
  ranks: (number | string)[];
}

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** Refuses a master port that something on this machine already listens on, before any rank starts. */
export async function checkPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(new Error(e.code === 'EADDRINUSE'
        ? `port ${port} on ${host} is already in use (another job, or one still shutting down); choose another --master-port`
        : `cannot listen on ${host}:${port} for the rendezvous: ${e.message}`));
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

export async function launch(argv: string[], o: LaunchOptions): Promise<LaunchResult> {
  const nnodes = o.nnodes ?? 1;
  const nodeRank = o.nodeRank ?? 0;
  const masterAddr = o.masterAddr ?? '127.0.0.1';
  const masterPort = o.masterPort ?? 29500;
  const log = o.log ?? ((line: string) => process.stderr.write(`selfsup launch: ${line}\n`));
  if (!Number.isInteger(o.nprocPerNode) || o.nprocPerNode < 1) throw new RangeError(`--nproc-per-node must be a positive integer, got ${o.nprocPerNode}`);
  if (!Number.isInteger(nnodes) || nnodes < 1) throw new RangeError(`--nnodes must be a positive integer, got ${nnodes}`);
  if (!Number.isInteger(nodeRank) || nodeRank < 0 || nodeRank >= nnodes) throw new RangeError(`--node-rank must be 0..${nnodes - 1}, got ${nodeRank}`);
  // Node 0 hosts the rendezvous: a taken port is an error now, not a timeout later.
  if (nodeRank === 0) await checkPortFree(masterAddr === 'localhost' ? '127.0.0.1' : masterAddr, masterPort).catch((e: Error) => {
    // On a multi-node job MASTER_ADDR may name this machine by an address we cannot bind by name; only a taken port is fatal.
    if (/already in use/.test(e.message)) throw e;
  });
  const worldSize = nnodes * o.nprocPerNode;
  const threads = o.threadsPerProcess ?? Math.max(1, Math.floor(availableParallelism() / o.nprocPerNode));
  const children: ChildProcess[] = [];
  const codes: (number | string | null)[] = Array.from({ length: o.nprocPerNode }, () => null);
  let failure: { rank: number; code: number | string } | null = null;
  let interrupts = 0;

  const stopOthers = (): void => {
    for (const [i, c] of children.entries()) if (codes[i] === null) c.kill('SIGTERM');
  };
  const onSigint = (): void => {
    interrupts++;
    for (const [i, c] of children.entries()) if (codes[i] === null) c.kill('SIGINT');
  };
  const onSigterm = (): void => stopOthers();
  // A launcher that dies for any reason takes its ranks with it.
  const onExit = (): void => {
    for (const [i, c] of children.entries()) if (codes[i] === null) c.kill('SIGKILL');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.on('exit', onExit);

  try {
    const done = Array.from({ length: o.nprocPerNode }, (_, local) => new Promise<void>((resolve) => {
      const rank = nodeRank * o.nprocPerNode + local;
      const env: NodeJS.ProcessEnv = {
        ...process.env, MASTER_ADDR: masterAddr, MASTER_PORT: String(masterPort), WORLD_SIZE: String(worldSize),
        RANK: String(rank), LOCAL_RANK: String(local), LOCAL_WORLD_SIZE: String(o.nprocPerNode),
        SELFSUP_NUM_THREADS: process.env.SELFSUP_NUM_THREADS ?? String(threads),
        // Each rank stops soon after this process dies, even by SIGKILL (see launcher-watch.ts).
        [LAUNCHER_PID_ENV]: String(process.pid),
      };
      if (o.timeoutSeconds !== undefined) env.SELFSUP_DIST_TIMEOUT = String(o.timeoutSeconds);
      // Rank 0 speaks for the job; the others' stdout is dropped and their stderr marked with the rank.
      const child = spawn(process.execPath, [o.script ?? CLI, ...argv], {
        env, detached: true, stdio: ['ignore', rank === 0 ? 'inherit' : 'ignore', rank === 0 ? 'inherit' : 'pipe'],
      });
      if (child.stderr) prefixLines(child.stderr, `[rank ${rank}] `);
      children.push(child);
      child.on('exit', (code, signal) => {
        codes[local] = code ?? signal ?? 'unknown';
        const ok = code === 0 || (interrupts > 0 && code === 130);
        if (!ok && !failure) {
          failure = { rank, code: codes[local]! };
          const others = codes.filter((c) => c === null).length;
          log(`rank ${rank} ${typeof codes[local] === 'number' ? `exited with code ${codes[local]}` : `was killed by ${codes[local]}`}` +
            `${others > 0 ? '; stopping the other ranks' : ''}`);
          stopOthers();
        }
        resolve();
      });
      child.on('error', (e) => {
        codes[local] = 1;
        if (!failure) failure = { rank, code: 1 };
        log(`rank ${rank} could not start: ${e.message}`);
        stopOthers();
        resolve();
      });
    }));
    await Promise.all(done);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('exit', onExit);
  }
  const ranks = codes.map((c) => c ?? 'unknown');
  const f = failure as { rank: number; code: number | string } | null;
  const exitCode = f ? (typeof f.code === 'number' ? f.code : 1) : interrupts > 0 && ranks.some((c) => c === 130) ? 130 : 0;
  return { exitCode, ranks };
}

function prefixLines(stream: NodeJS.ReadableStream, prefix: string): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) process.stderr.write(prefix + line + '\n');
  });
  stream.on('end', () => {
    if (pending) process.stderr.write(prefix + pending + '\n');
  });
}
