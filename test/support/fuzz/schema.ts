// Parses libtorch schema strings ("aten::add.Tensor(Tensor self, Tensor other, *,
// Scalar alpha=1) -> Tensor") into what the fuzzer needs to make arguments.

export interface ArgType {
  /** Base type name: Tensor, int, SymInt, float, bool, Scalar, str, ScalarType, ... */
  base: string;
  optional: boolean;
  /** List nesting, outermost first; each entry is the fixed length N or null for []. */
  lists: (number | null)[];
  /** Optional elements inside the list (Tensor?[]). */
  elemOptional: boolean;
}

export interface SchemaArg {
  name: string;
  type: ArgType;
  hasDefault: boolean;
}

export interface Schema {
  qualified: string;
  args: SchemaArg[];
  text: string;
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '(') depth++;
    else if (ch === ']' || ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export function parseType(text: string): ArgType {
  let t = text.replace(/\([^)]*\)/g, ''); // alias annotations: Tensor(a!)
  let optional = false;
  if (t.endsWith('?')) {
    optional = true;
    t = t.slice(0, -1);
  }
  const lists: (number | null)[] = [];
  let elemOptional = false;
  for (;;) {
    const m = /\[(\d*)\]$/.exec(t);
    if (!m) break;
    lists.unshift(m[1] ? Number(m[1]) : null);
    t = t.slice(0, m.index);
  }
  if (lists.length > 0 && t.endsWith('?')) {
    elemOptional = true;
    t = t.slice(0, -1);
  }
  return { base: t, optional, lists, elemOptional };
}

export function parseSchema(text: string): Schema | null {
  const open = text.indexOf('(');
  const arrow = text.lastIndexOf(') ->');
  if (open < 0 || arrow < 0) return null;
  const qualified = text.slice(0, open);
  const args: SchemaArg[] = [];
  for (const part of splitTopLevel(text.slice(open + 1, arrow))) {
    if (part === '*' || part === '...') continue;
    const eq = part.indexOf('=');
    const decl = eq < 0 ? part : part.slice(0, eq);
    const space = decl.lastIndexOf(' ');
    if (space < 0) return null;
    args.push({ name: decl.slice(space + 1).trim(), type: parseType(decl.slice(0, space).trim()), hasDefault: eq >= 0 });
  }
  return { qualified, args, text };
}
