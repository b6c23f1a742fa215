// A rank that `selfsup launch` started ends soon after the launcher dies. The launcher
// takes its ranks with it when it exits or is signalled (they run detached, in process
// groups of their own, so that a terminal's Ctrl-C reaches them once); a launcher killed
// by SIGKILL or the OOM killer runs no handler, and its ranks, still able to talk to each
// other, would train on unwatched. So the launcher names itself in SELFSUP_LAUNCHER_PID
// and each rank, on joining its group, polls whether it is still the launcher's child
// (process.ppid changes when the parent dies). The poll runs on a worker thread: the main
// thread may be blocked in a collective or a long step. When the launcher is gone the rank
// says so on stderr and stops with SIGTERM (SIGKILL two seconds later, should a SIGTERM
// handler have been installed and the main thread be busy), within about 1.5 s. The last
// saved checkpoint is what a resume starts from.
import { Worker } from 'node:worker_threads';

/** The variable the launcher sets for its ranks. */
export const LAUNCHER_PID_ENV = 'SELFSUP_LAUNCHER_PID';

const WATCH = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { pid, label, intervalMs, delayMs, graceMs } = workerData;
const timer = setInterval(() => {
  if (process.ppid === pid) return;
  clearInterval(timer);
  setTimeout(() => {
    try { writeSync(2, label + ': the launcher (pid ' + pid + ') has died; stopping this rank\\n'); } catch {}
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), graceMs);
  }, delayMs);
}, intervalMs);
`;

let watching = false;

/**
 * Starts watching the launcher named by SELFSUP_LAUNCHER_PID, if any (once per process).
 * The variable is removed from `env`, so processes this rank starts do not watch it too.
 */
export function watchLauncher(env: NodeJS.ProcessEnv = process.env, o: { intervalMs?: number; graceMs?: number } = {}): void {
  const raw = env[LAUNCHER_PID_ENV];
  if (watching || raw === undefined) return;
  delete env[LAUNCHER_PID_ENV];
  const pid = Number(raw);
  if (!Number.isInteger(pid) || pid <= 1) return;
  watching = true;
  const label = `rank ${env.RANK ?? '?'}`;
  // Rank 0 alone writes to the launcher's terminal (the others' stderr went through the launcher):
  // the others stop a second later, so that what the terminal shows is rank 0 saying why, not
  // rank 0 failing in a collective because a peer stopped first.
  const delayMs = env.RANK === '0' ? 0 : 1000;
  const worker = new Worker(WATCH, {
    eval: true, workerData: { pid, label, intervalMs: o.intervalMs ?? 250, delayMs, graceMs: o.graceMs ?? 2000 },
    env: {}, stdout: true, stderr: true,
  });
  // The watch never keeps the rank alive, nor fails it.
  worker.unref();
  worker.on('error', () => {});
}
