// Reads the variables a service declares with envalid's cleanEnv from its source file (a fixture), so the tests
// derive what the reference requires instead of copying a list by hand. A variable is required in production
// when its options have no `default` key: `devDefault` applies only when NODE_ENV is set and not production,
// and `default: undefined` counts as a default (envalid 8 tests `'default' in spec`). The scanner knows strings,
// template literals and comments, so `//` and commas inside strings do not split anything.

export interface EnvalidVariable {
  name: string;
  validator: string;
  required: boolean;
}

/** The source with comments blanked out and string contents kept, plus a mask of which characters are in strings. */
function scan(src: string): { code: string; inString: boolean[] } {
  let code = '';
  const inString: boolean[] = [];
  let i = 0;
  const push = (ch: string, s: boolean) => {
    code += ch;
    inString.push(s);
  };
  while (i < src.length) {
    const c = src[i] as string;
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      i += 2;
      while (i < src.length && !(src[i] === '*' && src[i + 1] === '/')) i++;
      i += 2;
    } else if (c === "'" || c === '"' || c === '`') {
      push(c, false);
      i++;
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\\') {
          push(src[i] as string, true);
          i++;
        }
        push(src[i] as string, true);
        i++;
      }
      push(c, false);
      i++;
    } else {
      push(c, false);
      i++;
    }
  }
  return { code, inString };
}

/** Splits `body` at commas outside strings and brackets. */
function splitTop(body: string, mask: boolean[]): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (mask[i]) continue;
    const c = body[i];
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** The text between the bracket at `open` and its match, with its string mask. */
function inside(code: string, mask: boolean[], open: number): { text: string; mask: boolean[] } {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (mask[i]) continue;
    if (code[i] === '{' || code[i] === '(') depth++;
    else if (code[i] === '}' || code[i] === ')') {
      depth--;
      if (depth === 0) return { text: code.slice(open + 1, i), mask: mask.slice(open + 1, i) };
    }
  }
  throw new Error('unbalanced brackets');
}

export function envalidVariables(source: string): EnvalidVariable[] {
  const { code, inString } = scan(source);
  const call = code.indexOf('cleanEnv(process.env,');
  if (call < 0) throw new Error('no cleanEnv(process.env, ...) call');
  const open = code.indexOf('{', call);
  const body = inside(code, inString, open);
  const out: EnvalidVariable[] = [];
  let offset = 0;
  for (const entry of splitTop(body.text, body.mask)) {
    const at = body.text.indexOf(entry, offset);
    offset = at + entry.length;
    const m = /^([A-Z][A-Z0-9_]*)\s*:\s*([a-z]+)\s*\(/.exec(entry);
    if (!m) throw new Error(`cannot read the entry: ${entry}`);
    const paren = at + entry.indexOf('(');
    const args = inside(body.text, body.mask, paren);
    const brace = args.text.indexOf('{');
    const keys =
      brace < 0
        ? []
        : (() => {
            const opts = inside(args.text, args.mask, brace);
            return splitTop(opts.text, opts.mask).map((o) => o.split(':')[0]?.trim() ?? '');
          })();
    out.push({ name: m[1] as string, validator: m[2] as string, required: !keys.includes('default') });
  }
  return out;
}
