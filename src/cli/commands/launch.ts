// selfsup launch: runs a selfsup command on several processes (and machines) as one
// data-parallel job, the way torchrun does; see src/distributed/launcher.ts.
import { launch } from '../../distributed/launcher.js';
import { InterruptedError, UsageError } from '../errors.js';
import { findCommand } from '../commands.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';

/** The commands that train data-parallel when started under `launch`. */
export const DATA_PARALLEL_COMMANDS = ['pretrain', 'experiment'];

export async function run(args: Args, _out: Output): Promise<void> {
  const command = args.positionals;
  if (command.length === 0) throw new UsageError("say what to run after '--', e.g. selfsup launch --nproc-per-node 2 -- pretrain --method simclr");
  const name = command[0]!;
  if (!findCommand(name)) throw new UsageError(`unknown command '${name}' after '--'`);
  if (name === 'experiment' && command.some((w, i) => w === '--modality' ? command[i + 1] === 'text' : w === '--modality=text')) {
    throw new UsageError('only the image experiment pretrains data-parallel');
  }
  if (!DATA_PARALLEL_COMMANDS.includes(name)) throw new UsageError(`'selfsup ${name}' does not train data-parallel; launch runs ${DATA_PARALLEL_COMMANDS.join(', ')}`);
  const result = await launch(command, {
    nprocPerNode: args.int('nproc-per-node', { min: 1 })!,
    nnodes: args.int('nnodes', { min: 1 })!,
    nodeRank: args.int('node-rank', { min: 0 })!,
    masterAddr: args.string('master-addr')!,
    masterPort: args.int('master-port', { min: 1, max: 65535 })!,
    timeoutSeconds: args.number('timeout', { positive: true }),
  });
  if (result.exitCode === 130) throw new InterruptedError('every rank stopped after the same step (rank 0 saved the checkpoint; continue with --resume)');
  if (result.exitCode !== 0) throw new Error(`the job failed (rank exit codes: ${result.ranks.join(', ')}); the first failure is reported above`);
}

/**
 * `selfsup pretrain --nproc N`: the same command line, minus --nproc, on N processes
 * of this machine (a free port is picked unless MASTER_PORT is set).
 */
export async function relaunch(nproc: number, argv: string[]): Promise<void> {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--nproc') i++;
    else if (!argv[i]!.startsWith('--nproc=')) rest.push(argv[i]!);
  }
  const masterPort = process.env.MASTER_PORT ? Number(process.env.MASTER_PORT) : await freePort();
  const result = await launch(rest, { nprocPerNode: nproc, masterPort, masterAddr: '127.0.0.1' });
  if (result.exitCode === 130) throw new InterruptedError('every rank stopped after the same step (rank 0 saved the checkpoint; continue with --resume)');
  if (result.exitCode !== 0) throw new Error(`the job failed (rank exit codes: ${result.ranks.join(', ')}); the first failure is reported above`);
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
