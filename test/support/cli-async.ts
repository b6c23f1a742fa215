// Runs the CLI without blocking (one thread per run), so that independent commands in a
// test run side by side; resolves with the exit status and both streams.
import { spawn } from 'node:child_process';

export interface CliResult { status: number | null; stdout: string; stderr: string }

export function cliAsync(cli: string, cwd: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...process.env, SELFSUP_NUM_THREADS: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
