#!/usr/bin/env node
// selfsup <command> [options]: finds the command, parses its options, runs it, and
// turns what went wrong into a message and an exit code (never a stack trace,
// unless --verbose asks for one).
import { availableParallelism } from 'node:os';
import { COMMANDS, findCommand } from './commands.js';
import { commandHelp, mainHelp } from './help.js';
import { closest, parseOptions } from './options.js';
import { Output } from './output.js';
import { UsageError, InterruptedError, exitCodeFor, EXIT_USAGE } from './errors.js';
import { installInterruptHandler } from './interrupt.js';
import { selfsupVersion as version } from '../version.js';


/** Options before a `--` terminator (after it, '--help' is a plain word). */
function optionWords(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
}

function report(err: unknown, command: string | null, out: Output): number {
  const code = exitCodeFor(err);
  const message = err instanceof Error ? err.message : String(err);
  const where = command ? `selfsup ${command}` : 'selfsup';
  process.stderr.write(`${where}: ${err instanceof InterruptedError ? '' : 'error: '}${message}\n`);
  if (err instanceof UsageError) {
    process.stderr.write(`Run '${where} --help' for ${command ? 'its options' : 'the commands'}.\n`);
  } else if (out.verbose && err instanceof Error && err.stack) {
    process.stderr.write(err.stack + '\n');
  } else if (!(err instanceof InterruptedError)) {
    process.stderr.write('(--verbose shows the stack trace)\n');
  }
  const partial = err instanceof InterruptedError ? err.result : {};
  out.result({ ...partial, command, ok: false, error: message, exitCode: code });
  return code;
}

async function main(argv: string[]): Promise<number> {
  const words = optionWords(argv);
  const out = new Output(words.includes('--json'), words.includes('--verbose') || words.includes('-v'));
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(mainHelp(COMMANDS, version()));
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const c = rest[0] !== undefined ? findCommand(rest[0]) : undefined;
    process.stdout.write(c ? commandHelp(c) : mainHelp(COMMANDS, version()));
    return 0;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const spec = findCommand(first);
  if (!spec) {
    const hint = closest(first, COMMANDS.map((c) => c.name));
    const what = first.startsWith('-') ? `unknown option ${first} (a command's options go after it: selfsup <command> ${first})` : `unknown command '${first}'`;
    const names = COMMANDS.map((c) => c.name).join(', ');
    return report(new UsageError(`${what}${hint ? ` (did you mean '${hint}'?)` : ''}; the commands are ${names}`), null, out);
  }
  if (optionWords(rest).some((w) => w === '--help' || w === '-h')) {
    process.stdout.write(commandHelp(spec));
    return 0;
  }
  try {
    const args = parseOptions(spec.name, rest, spec.options, spec.positionals?.some((p) => p.variadic) ? Infinity : spec.positionals?.length ?? 0);
    const missing = (spec.positionals ?? []).find((p, i) => !p.optional && args.positionals[i] === undefined);
    if (missing) throw new UsageError(`missing ${missing.name}: ${missing.help}`);
    const threads = args.int('threads', { min: 1, max: 4 * availableParallelism() });
    installInterruptHandler();
    const command = await spec.load();
    if (threads !== undefined) (await import('../tensor/index.js')).setNumThreads(threads);
    await command.run(args, out);
    return 0;
  } catch (err) {
    return report(err, spec.name, out);
  }
}

process.on('unhandledRejection', (err) => {
  process.stderr.write(`selfsup: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});

process.exitCode = await main(process.argv.slice(2));
