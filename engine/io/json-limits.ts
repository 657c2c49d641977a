/**
 * Limits on JSON that comes from a user: how deep it nests, and (where the format forbids them)
 * keys given twice.
 *
 * Depth: V8's JSON.parse does not recurse, so a file nesting 5,000 levels deep parses fine; then
 * JSON.stringify, structuredClone and every recursive walk overflow the stack (saving, the
 * recovery file and analysis all failed with NL_INTERNAL). A project needs about 8 levels and a
 * safetensors header 3; MAX_JSON_DEPTH leaves room for any future section while staying far below
 * the ~2,000 levels where JSON.stringify overflows.
 *
 * Duplicate keys: JSON.parse silently keeps the last of two equal keys, so a safetensors header
 * naming one tensor twice loaded the second. Only a scan of the text can see them.
 *
 * The text scan runs before JSON.parse (so a 16 MiB "[[[[..." is refused without building
 * millions of arrays) and needs no valid JSON: it follows strings and brackets only, and leaves
 * syntax errors to JSON.parse. The object walk is for values that arrive already built
 * (Electron IPC's structured clone, which can also carry a cycle).
 */

/** The deepest nesting of objects and lists accepted from a user (the top-level value is level 1). */
export const MAX_JSON_DEPTH = 64;

export type JsonProblem =
  | { kind: 'depth'; /** character offset of the bracket that went too deep */ offset: number; path: string }
  | { kind: 'duplicate'; key: string; /** offsets of the two key strings */ first: number; second: number; /** the object holding them ('' at the top) */ path: string };

const MAX_PATH_PARTS = 12;

/** "a.b[3].c", cut after MAX_PATH_PARTS parts: a deep path is all repetition. */
function pathText(parts: readonly (string | number)[]): string {
  let s = '';
  for (const p of parts.slice(0, MAX_PATH_PARTS)) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += (s ? '.' : '') + (/^[A-Za-z_$][\w$-]*$/.test(p) ? p : JSON.stringify(p));
  }
  return parts.length > MAX_PATH_PARTS ? `${s}...` : s;
}

interface Frame {
  object: boolean;
  /** the key or index of the current member */
  at: string | number;
  expectKey: boolean;
  keys?: Map<string, number>;
}

/**
 * The first problem in JSON text, or undefined: nesting beyond maxDepth, and with `duplicates`,
 * an object that gives one key twice (compared after unescaping, as JSON.parse would).
 */
export function scanJson(text: string, o: { maxDepth?: number; duplicates?: boolean } = {}): JsonProblem | undefined {
  const maxDepth = o.maxDepth ?? MAX_JSON_DEPTH;
  const stack: Frame[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x5c /* \ */) j += 2;
        else if (d === 0x22) break;
        else j++;
      }
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          key = text.slice(i + 1, j); // invalid: JSON.parse will report it
        }
        top.expectKey = false;
        if (o.duplicates) {
          const first = top.keys!.get(key);
          if (first !== undefined) return { kind: 'duplicate', key, first, second: i, path: pathText(stack.slice(0, -1).map((f) => f.at)) };
          top.keys!.set(key, i);
        }
        top.at = key;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const object = c === 0x7b;
      stack.push({ object, at: object ? '' : 0, expectKey: object, keys: object && o.duplicates ? new Map() : undefined });
      // the path of the value that opens here: its container's members, not its own
      if (stack.length > maxDepth) return { kind: 'depth', offset: i, path: pathText(stack.slice(0, -1).map((f) => f.at)) };
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.object) top.expectKey = true;
      else if (top) top.at = (top.at as number) + 1;
    }
  }
  return undefined;
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let k = text.indexOf('\n'); k !== -1 && k < offset; k = text.indexOf('\n', k + 1)) {
    line++;
    start = k + 1;
  }
  return { line, column: offset - start + 1 };
}

/** "nests objects and lists more than 64 levels deep" — the shared wording of every depth refusal. */
export const TOO_DEEP = `nests objects and lists more than ${MAX_JSON_DEPTH} levels deep`;

/**
 * The first problem in an already built value, or undefined: nesting beyond maxDepth, or a value
 * that contains itself. `root` names the value in the path ("params").
 */
export function checkJsonValue(value: unknown, root: string, maxDepth = MAX_JSON_DEPTH): { kind: 'depth' | 'cycle'; path: string } | undefined {
  const parts: (string | number)[] = [root];
  const open = new Set<object>();
  // Recursion is safe: it stops at maxDepth.
  const visit = (v: unknown, depth: number): { kind: 'depth' | 'cycle'; path: string } | undefined => {
    if (typeof v !== 'object' || v === null) return undefined;
    if (open.has(v)) return { kind: 'cycle', path: pathText(parts) };
    if (depth > maxDepth) return { kind: 'depth', path: pathText(parts) };
    open.add(v);
    const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, k) => [k, x]) : Object.entries(v);
    for (const [k, x] of entries) {
      parts.push(k);
      const p = visit(x, depth + 1);
      parts.pop();
      if (p) return p;
    }
    open.delete(v);
    return undefined;
  };
  return visit(value, 1);
}
