/**
 * Turns a layer's paramsSchema (JSON Schema 2020-12, as zod's toJSONSchema writes it) into
 * form fields, and parses what the user types back into values. The shapes that occur:
 *   integer / number (with bounds), boolean, string enum, string const ("auto", "same", "zeros"),
 *   null (nullable), pair (prefixItems of 2: torch's `int or (int, int)`), list (items),
 * and anyOf unions of those (nested anyOf flattened).
 */

type Json = Record<string, unknown>;

export interface NumberSpec {
  integer: boolean;
  min?: number;
  max?: number;
  exclusiveMin?: number;
  exclusiveMax?: number;
}

export interface ItemSpec {
  number?: NumberSpec;
  nullable: boolean;
}

export interface FieldSpec {
  name: string;
  required: boolean;
  default: unknown;
  hasDefault: boolean;
  boolean: boolean;
  /** a string enum: a select */
  enumValues: string[] | null;
  /** string constants offered as toggles ("auto", "same", "valid") */
  consts: string[];
  nullable: boolean;
  number?: NumberSpec;
  pair?: ItemSpec;
  list?: ItemSpec & { minItems?: number; maxItems?: number };
}

function flatten(s: Json): Json[] {
  if (Array.isArray(s.anyOf)) return (s.anyOf as Json[]).flatMap(flatten);
  if (Array.isArray(s.oneOf)) return (s.oneOf as Json[]).flatMap(flatten);
  return [s];
}

function numberSpec(s: Json): NumberSpec {
  const big = (v: unknown) => (typeof v === 'number' && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined);
  return { integer: s.type === 'integer', min: big(s.minimum), max: big(s.maximum), exclusiveMin: big(s.exclusiveMinimum), exclusiveMax: big(s.exclusiveMaximum) };
}

function itemSpec(s: Json | undefined): ItemSpec {
  const alts = s ? flatten(s) : [];
  const num = alts.find((a) => a.type === 'integer' || a.type === 'number');
  return { number: num ? numberSpec(num) : undefined, nullable: alts.some((a) => a.type === 'null') };
}

export function fieldSpecs(schema: Json): FieldSpec[] {
  const props = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => {
    const f: FieldSpec = { name, required: required.has(name), default: s.default, hasDefault: 'default' in s, boolean: false, enumValues: null, consts: [], nullable: false };
    for (const a of flatten(s)) {
      if (a.type === 'boolean') f.boolean = true;
      else if (a.type === 'null') f.nullable = true;
      else if (a.type === 'string' && Array.isArray(a.enum)) f.enumValues = a.enum as string[];
      else if ('const' in a && typeof a.const === 'string') f.consts.push(a.const);
      else if (a.type === 'integer' || a.type === 'number') f.number = numberSpec(a);
      else if (a.type === 'array' && Array.isArray(a.prefixItems)) f.pair = itemSpec((a.prefixItems as Json[])[0]);
      else if (a.type === 'array') f.list = { ...itemSpec(a.items as Json | undefined), minItems: a.minItems as number | undefined, maxItems: a.maxItems as number | undefined };
    }
    return f;
  });
}

/** True when the field is edited as text (numbers, pairs, lists) rather than a checkbox or a select. */
export const hasTextValue = (f: FieldSpec) => !!(f.number || f.pair || f.list);

export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => (x === null ? 'none' : String(x))).join(', ');
  return String(v);
}

export type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

function checkNumber(tok: string, spec: NumberSpec): Parsed {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(tok)) return { ok: false, message: `"${tok}" is not a number` };
  const v = Number(tok);
  if (spec.integer && !Number.isInteger(v)) return { ok: false, message: `${tok} must be a whole number` };
  if (spec.min !== undefined && v < spec.min) return { ok: false, message: `must be at least ${spec.min}` };
  if (spec.exclusiveMin !== undefined && v <= spec.exclusiveMin) return { ok: false, message: spec.exclusiveMin === 0 ? 'must be positive' : `must be greater than ${spec.exclusiveMin}` };
  if (spec.max !== undefined && v > spec.max) return { ok: false, message: `must be at most ${spec.max}` };
  if (spec.exclusiveMax !== undefined && v >= spec.exclusiveMax) return { ok: false, message: `must be less than ${spec.exclusiveMax}` };
  return { ok: true, value: v };
}

function parseItem(tok: string, item: ItemSpec): Parsed {
  if (item.nullable && /^(none|null)$/i.test(tok)) return { ok: true, value: null };
  if (!item.number) return { ok: false, message: `"${tok}" is not allowed here` };
  return checkNumber(tok, item.number);
}

function expected(f: FieldSpec): string {
  const kind = (n?: NumberSpec) => (n?.integer ? 'whole number' : 'number');
  const parts: string[] = [];
  if (f.number) parts.push(`a ${kind(f.number)}`);
  if (f.pair) parts.push(`two ${kind(f.pair.number)}s (height, width)`);
  if (f.list) parts.push(`a list of ${kind(f.list.number)}s separated by commas`);
  return `Enter ${parts.join(' or ')}`;
}

/**
 * Parses typed text into the field's value: "3" -> 3, "3, 5" / "(3, 5)" -> [3, 5],
 * "1, 28, 28" -> [1, 28, 28]. Empty text means "unset" (back to the default) unless required.
 */
export function parseText(text: string, f: FieldSpec): Parsed {
  const t = text.trim().replace(/^[[(]\s*|\s*[\])]$/g, '');
  if (t === '') {
    if (f.required && !f.hasDefault) return { ok: false, message: `${f.name} is required` };
    return { ok: true, value: undefined };
  }
  const toks = t.split(/\s*[,;x×]\s*|\s+/).filter(Boolean);
  const listShaped = /[,;x×\s]/.test(t) || text.trim().startsWith('[') || text.trim().startsWith('(');
  if (toks.length === 1 && f.number && !listShaped) return checkNumber(toks[0], f.number);
  if (toks.length === 2 && f.pair) {
    const a = parseItem(toks[0], f.pair);
    const b = parseItem(toks[1], f.pair);
    if (!a.ok) return a;
    if (!b.ok) return b;
    return { ok: true, value: [a.value, b.value] };
  }
  if (f.list) {
    const vals: unknown[] = [];
    for (const tok of toks) {
      const r = parseItem(tok, f.list);
      if (!r.ok) return r;
      vals.push(r.value);
    }
    if (f.list.minItems !== undefined && vals.length < f.list.minItems) return { ok: false, message: `give at least ${f.list.minItems} value${f.list.minItems > 1 ? 's' : ''}` };
    if (f.list.maxItems !== undefined && vals.length > f.list.maxItems) return { ok: false, message: `give at most ${f.list.maxItems} values` };
    return { ok: true, value: vals };
  }
  if (toks.length === 1 && f.number) return checkNumber(toks[0], f.number);
  return { ok: false, message: expected(f) };
}

export function placeholder(f: FieldSpec): string {
  if (f.pair && f.number) return 'n  or  h, w';
  if (f.list) return 'e.g. 1, 28, 28';
  if (f.number?.integer) return 'whole number';
  return 'number';
}
