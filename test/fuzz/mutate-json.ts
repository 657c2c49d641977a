/**
 * JSON-aware mutations: a parsed document is edited in place (types changed, extreme numbers,
 * strings that look like numbers, deep nesting, duplicate keys, __proto__ / constructor keys,
 * very long and odd unicode strings, nulls, removed and added members), then written back with
 * toJsonText, which can also write what JSON.stringify cannot: numbers such as 1e999 or -0,
 * duplicate keys, and nesting thousands of levels deep (as text, so the test never recurses).
 */
import type { Gen } from './gen.js';

/** JSON text written as it is. */
export class Raw {
  constructor(readonly text: string) {}
}

/** An object written with these entries in this order, duplicate keys included. */
export class Entries {
  constructor(readonly entries: [string, JsonLike][]) {}
}

export type JsonLike = null | boolean | number | string | Raw | Entries | JsonLike[] | { [key: string]: JsonLike };

/** Entries written after an object's own keys (duplicate keys added by duplicateKey). */
export const EXTRA = Symbol('extra entries');
type WithExtra = Record<string, JsonLike> & { [EXTRA]?: [string, JsonLike][] };

/** JSON text of a value; Raw pieces go in unchanged. Recurses only as deep as the value's own objects. */
export function toJsonText(v: JsonLike): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Entries) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJsonText(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(toJsonText).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries: [string, JsonLike][] = [...Object.keys(v).map((k) => [k, v[k]] as [string, JsonLike]), ...((v as WithExtra)[EXTRA] ?? [])];
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${toJsonText(x)}`).join(',')}}`;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return 'null';
  return JSON.stringify(v);
}

/** Sets an own property, even one named __proto__ (plain assignment would change the prototype). */
export function setOwn(obj: Record<string, JsonLike>, key: string, value: JsonLike): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Nesting `depth` levels deep, as text (described by its depth in a case's log line). */
export class Deep extends Raw {
  constructor(readonly depth: number, kind: 'array' | 'object') {
    super(kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
  }
}

export function deepNesting(depth: number, kind: 'array' | 'object'): Deep {
  return new Deep(depth, kind);
}

const ODD_STRINGS = [
  '', ' ', 'NaN', 'Infinity', '-Infinity', '1e308', '-1', '0x10', '1_000', '١٢٣', 'null', 'true', 'auto', 'same', 'valid',
  '__proto__', 'constructor', 'toString', '../../../../etc/passwd', '\u0000', 'a\u0000b', '\ud800', '\udfff\ud800', '\u202eevil', 'e\u0301',
  '😀'.repeat(5), 'ﾟ', '\n', '"', '\\', '%s%n', '${x}', '<script>', 'C:\\Windows\\win.ini', 'CON', '.', '..',
];

/** Values that tend to break code that reads JSON: every type, the edges of number ranges, odd strings, deep or big structures. */
export function interestingValue(g: Gen): JsonLike {
  return g.weighted<() => JsonLike>([
    [3, () => g.pick([null, true, false])],
    [6, () => g.pick([0, -1, 1, 2, 3, 7, 0.5, -0.5, 1.5, 1e-7, 255, 256, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 53), 1e15, 1e308, -1e308, 5e-324, 3000])],
    [4, () => new Raw(g.pick(['1e999', '-1e999', '-0', '1E400', `0.${'0'.repeat(400)}1`, '123456789012345678901234567890', '1.0000000000000000000001', '-0.0e-0']))],
    [4, () => g.pick(ODD_STRINGS)],
    [1, () => 'A'.repeat(g.pick([1000, 100_000, 1_000_000]))],
    [2, () => g.pick<JsonLike>([[], {}, [null], [1, 2, 3], [[]], [-1], [0, 0], [2 ** 31, 2 ** 31], [1e9, 1e9, 1e9], { a: 1 }])],
    [1, () => new Array<JsonLike>(g.pick([1000, 100_000])).fill(g.pick([0, 1, null, 'x']))],
    [1, () => deepNesting(g.pick([64, 1000, 5000, 20_000]), g.pick(['array', 'object'] as const))],
    [1, () => new Entries([[g.pick(['__proto__', 'constructor', 'prototype']), { polluted: true, prototype: { polluted: true } }]])],
  ])();
}

/** A nearby value of the same type (the edits a typo or an off-by-one makes). */
function tweak(g: Gen, v: JsonLike): JsonLike {
  if (typeof v === 'number') return g.pick([-v, v + 1, v - 1, v * 1e6, v / 1e6, v * 2 ** 31, Math.floor(v / 2), v + 0.5, 0]);
  if (typeof v === 'string') {
    return g.weighted<() => JsonLike>([
      [2, () => v.slice(0, g.int(v.length + 1))],
      [2, () => `${v}${g.pick(ODD_STRINGS)}`],
      [1, () => v.toUpperCase()],
      [1, () => v.repeat(Math.max(1, Math.min(g.pick([2, 100, 10_000]), Math.floor(1_000_000 / Math.max(v.length, 1)))))],
      [1, () => ` ${v} `],
      [1, () => v.normalize('NFD').split('').reverse().join('')],
    ])();
  }
  if (typeof v === 'boolean') return !v;
  return interestingValue(g);
}

type Slot = { parent: Record<string, JsonLike> | JsonLike[]; key: string | number; value: JsonLike };

/** Every member of the document (breadth first, at most `limit`), with its parent. */
export function slots(root: JsonLike, limit = 5000): Slot[] {
  const out: Slot[] = [];
  const queue: JsonLike[] = [root];
  while (queue.length && out.length < limit) {
    const v = queue.shift()!;
    if (v instanceof Raw || v instanceof Entries || v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) v.forEach((x, i) => (out.push({ parent: v, key: i, value: x }), queue.push(x)));
    else {
      for (const k of Object.keys(v)) {
        out.push({ parent: v, key: k, value: v[k] });
        queue.push(v[k]);
      }
    }
  }
  return out;
}

function put(s: Slot, value: JsonLike): void {
  if (Array.isArray(s.parent)) s.parent[s.key as number] = value;
  else setOwn(s.parent, s.key as string, value);
}

const NEW_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', 'then', 'x', '', ' ', '\u0000', 'a'.repeat(10_000), 'id', 'type', 'params', 'shape'];

export type JsonOp = (g: Gen, s: Slot, root: JsonLike) => string;

export const JSON_OPS: Record<string, JsonOp> = {
  replace(g, s) {
    const v = interestingValue(g);
    put(s, v);
    return `${String(s.key)} = ${describe(v)}`;
  },
  tweak(g, s) {
    const v = tweak(g, s.value);
    put(s, v);
    return `${String(s.key)} ~ ${describe(v)}`;
  },
  remove(_g, s) {
    if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
    else delete s.parent[s.key as string];
    return `remove ${String(s.key)}`;
  },
  addKey(g, s) {
    const target = s.value !== null && typeof s.value === 'object' && !Array.isArray(s.value) && !(s.value instanceof Raw) && !(s.value instanceof Entries) ? s.value : s.parent;
    const key = g.pick(NEW_KEYS);
    const v = interestingValue(g);
    if (Array.isArray(target)) target.splice(g.int(target.length + 1), 0, v);
    else setOwn(target as Record<string, JsonLike>, key, v);
    return `add ${JSON.stringify(key.slice(0, 20))} = ${describe(v)}`;
  },
  duplicateKey(g, s) {
    if (Array.isArray(s.parent)) {
      s.parent.splice(s.key as number, 0, s.value);
      return `duplicate element ${String(s.key)}`;
    }
    // the key twice, with one value first and another last: which one wins is the reader's choice
    const other: JsonLike = g.chance(0.5) ? interestingValue(g) : s.value;
    const [first, last] = g.chance(0.5) ? [s.value, other] : [other, s.value];
    put(s, first);
    const extra = ((s.parent as WithExtra)[EXTRA] ??= []);
    extra.push([s.key as string, last]);
    return `duplicate key ${String(s.key)} (first ${describe(first)}, last ${describe(last)})`;
  },
  wrap(g, s) {
    const v = g.chance(0.5) ? [s.value] : { value: s.value };
    put(s, v);
    return `wrap ${String(s.key)}`;
  },
  nest(g, s) {
    const depth = g.pick([100, 1000, 5000, 6000, 20_000]);
    const v = deepNesting(depth, g.pick(['array', 'object'] as const));
    put(s, v);
    return `${String(s.key)} = nesting ${depth} deep`;
  },
};

const OP_NAMES = Object.keys(JSON_OPS);

/** A few JSON-aware edits of `doc` (changed in place), preferring `prefer`'s slots when given. */
export function mutateJson(g: Gen, doc: JsonLike, o: { maxOps?: number; prefer?: (s: Slot) => boolean } = {}): string[] {
  const what: string[] = [];
  const n = g.small(o.maxOps ?? 3);
  for (let i = 0; i < n; i++) {
    let all = slots(doc);
    if (o.prefer && g.chance(0.7)) {
      const preferred = all.filter(o.prefer);
      if (preferred.length) all = preferred;
    }
    if (!all.length) break;
    const s = g.pick(all);
    what.push(JSON_OPS[g.pick(OP_NAMES)](g, s, doc));
  }
  return what;
}

/** A short description of a value for the case's log line. */
export function describe(v: JsonLike): string {
  if (v instanceof Deep) return `nesting ${v.depth} deep`;
  if (v instanceof Raw) return v.text.length > 40 ? `${v.text.slice(0, 20)}...(${v.text.length} chars)` : v.text;
  if (v instanceof Entries) return `{${v.entries.map(([k]) => JSON.stringify(k)).join(',')}}`;
  const text = toJsonText(v);
  return text.length > 40 ? `${text.slice(0, 30)}...(${text.length} chars)` : text;
}

/** Text-level damage that JSON.parse sees first: a BOM, trailing data, comments, a cut. */
export function textQuirk(g: Gen, text: string): { text: string; what: string } {
  return g.weighted<() => { text: string; what: string }>([
    [2, () => ({ text: `\ufeff${text}`, what: 'UTF-8 BOM' })],
    [1, () => ({ text: `${text}\n{}`, what: 'trailing object' })],
    [1, () => ({ text: `// comment\n${text}`, what: 'comment' })],
    [1, () => ({ text: text.replace(/\n/g, '\r\n'), what: 'CRLF' })],
    [1, () => ({ text: text.replace(/,(\s*[}\]])/, ',,$1'), what: 'double comma' })],
    [1, () => ({ text: text.slice(0, g.int(text.length)), what: 'cut' })],
  ])();
}
