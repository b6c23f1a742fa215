// Help text: the command list, and for each command what it does, every option
// with its default, and examples. Built from the specs in commands.ts.
import type { CommandSpec } from './commands.js';

const WIDTH = 100;

/** Wraps `text` to WIDTH columns, every line indented by `indent` spaces but the first by `first`. */
function wrap(text: string, indent: number, first = indent): string {
  const lines: string[] = [];
  let line = ' '.repeat(first);
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = ' '.repeat(indent);
      empty = true;
    }
    line += (empty ? '' : ' ') + word;
    empty = false;
  }
  lines.push(line);
  return lines.join('\n');
}

export function commandHelp(c: CommandSpec): string {
  const positional = (c.positionals ?? []).map((p) => { const n = p.variadic ? `${p.name}...` : p.name; return p.optional ? ` [${n}]` : ` ${n}`; }).join('');
  const rows = Object.entries(c.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const dflt = o.defaultText ?? o.default;
    return { flag, text: `${o.help}${dflt !== undefined ? ` (default: ${dflt})` : ''}` };
  });
  const column = Math.min(34, Math.max(...rows.map((r) => r.flag.length)) + 4);
  const options = rows.map((r) => {
    const head = `  ${r.flag}`;
    return head.length + 1 < column ? head.padEnd(column) + wrap(r.text, column).slice(column) : `${head}\n${wrap(r.text, column)}`;
  });
  const parts = [
    `selfsup ${c.name}: ${c.summary}`,
    '',
    `Usage: selfsup ${c.name}${positional} [options]`,
    '',
    wrap(c.description, 0),
  ];
  for (const list of c.lists ?? []) {
    const width = Math.max(...list.items.map(([name]) => name.length)) + 4;
    parts.push('', `${list.title}:`, ...list.items.map(([name, text]) => `  ${name.padEnd(width - 2)}${wrap(text, width).slice(width)}`));
  }
  if (c.positionals?.length) {
    parts.push('', 'Arguments:', ...c.positionals.map((p) => `  ${p.name.padEnd(column - 2)}${p.help}`));
  }
  parts.push('', 'Options:', ...options, '', 'Examples:', ...c.examples.map((e) => `  ${e}`));
  return parts.join('\n') + '\n';
}

export function mainHelp(commands: readonly CommandSpec[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  return [
    `selfsup ${version}: self-supervised representation learning on libtorch`,
    '',
    'Usage: selfsup <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Options:',
    '  -h, --help       show this help (or a command\'s: selfsup <command> --help)',
    '  -V, --version    print the version',
    '',
    'Every command takes --json (one JSON object as the last line of stdout) and --verbose (stack traces).',
    'Exit codes: 0 done, 1 failed, 2 bad command line, 130 interrupted by Ctrl-C.',
    '',
    'Start with:  selfsup demo',
    '',
  ].join('\n');
}
