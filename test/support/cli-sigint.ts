// Runs the selfsup CLI in a child process and sends it SIGINT (Ctrl-C) once its
// stderr matches a pattern: the shared part of the CLI's Ctrl-C tests.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface CliRun { code: number | null; stdout: string; stderr: string; sent: boolean }

/** The CLI with `args` on one thread; SIGINT when stderr first matches `interruptWhen`. */
export async function runCliAndInterrupt(args: string[], interruptWhen: RegExp): Promise<CliRun> {
  const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, SELFSUP_NUM_THREADS: '1' } });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    if (!sent && interruptWhen.test(stderr)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr, sent };
}
