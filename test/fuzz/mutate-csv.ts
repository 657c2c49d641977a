/**
 * CSV-aware mutations: quotes (unbalanced, embedded newlines), delimiters (swapped, mixed),
 * ragged rows, huge fields and many columns, NUL bytes, byte-order marks and UTF-16, CRLF / CR,
 * odd cell values (NaN, 1e309, decimal commas), odd headers (duplicate, empty, __proto__), and
 * label columns with one class or more classes than the loader takes.
 */
import type { Gen } from './gen.js';
import { mutateBytes } from './mutate-bytes.js';

const CELLS = ['', ' ', 'NaN', 'nan', 'Infinity', '-inf', '1e309', '-1e309', '1e-330', '-0', '0x10', '1,5', '1.5.5', '١٢', '1_000', '+.5', '.', '-', 'e5',
  'null', 'None', 'TRUE', '\u0000', '"', '""', '"a""b"', '"a\nb"', '😀', 'x'.repeat(70_000), '9'.repeat(400), '__proto__', 'constructor', '=1+1', ' 5 '];

type Rows = string[][];

/** Cells in a generated file, at most. */
const MAX_CELLS = 100_000;

function parseSimple(text: string): Rows {
  return text.replace(/\r/g, '').split('\n').filter((l) => l !== '').map((l) => l.split(','));
}

type CsvOp = (g: Gen, rows: Rows) => string;

const ROW_OPS: Record<string, readonly [number, CsvOp]> = {
  cell: [6, (g, rows) => {
    if (rows.length < 2) return 'no rows';
    const r = g.range(1, rows.length - 1);
    const c = g.int(rows[r].length);
    rows[r][c] = g.pick(CELLS);
    return `row ${r} col ${c} = ${JSON.stringify(rows[r][c].slice(0, 20))}`;
  }],
  column: [2, (g, rows) => {
    const c = g.int(rows[0]?.length ?? 1);
    const v = g.pick(CELLS);
    for (const row of rows.slice(1)) row[c] = v;
    return `column ${c} all ${JSON.stringify(v.slice(0, 20))}`;
  }],
  header: [3, (g, rows) => {
    if (!rows.length) return 'no header';
    const c = g.int(rows[0].length);
    const v = g.pick(['', ' ', rows[0][(c + 1) % rows[0].length], '__proto__', 'constructor', 'hasOwnProperty', 'species', '"species"', '\ufeffspecies', 'x'.repeat(10_000), '1', '😀']);
    rows[0][c] = v;
    return `header ${c} = ${JSON.stringify(v.slice(0, 20))}`;
  }],
  ragged: [3, (g, rows) => {
    if (rows.length < 2) return 'no rows';
    const r = g.range(1, rows.length - 1);
    if (g.chance(0.5)) rows[r].push(...Array.from({ length: g.small(5) }, () => '1'));
    else rows[r].splice(g.int(rows[r].length), 1);
    return `row ${r} has ${rows[r].length} fields`;
  }],
  wide: [1, (g, rows) => {
    const n = g.pick([300, 5000]);
    for (const [i, row] of rows.entries()) for (let k = 0; k < n; k++) row.push(i === 0 ? `f${k}` : String(k % 7));
    return `${n} more columns`;
  }],
  long: [1, (g, rows) => {
    const n = g.pick([2000, 20_000]);
    const body = rows.slice(1);
    for (let i = 0; i < n && body.length; i++) rows.push([...body[i % body.length]]);
    return `${n} more rows`;
  }],
  classes: [2, (g, rows) => {
    const c = rows[0]?.length ? rows[0].length - 1 : 0;
    const kind = g.pick(['one', 'many', 'numeric'] as const);
    rows.slice(1).forEach((row, i) => (row[c] = kind === 'one' ? 'setosa' : kind === 'many' ? `class${i % 300}` : String(i % 3)));
    return `label column: ${kind}`;
  }],
  empty: [1, (g, rows) => {
    const keep = g.pick([0, 1, 2]);
    rows.splice(keep);
    return `only ${keep} line(s)`;
  }],
};

const OPS = Object.values(ROW_OPS);
const OP_NAMES = Object.keys(ROW_OPS);

function join(g: Gen, rows: Rows, what: string[]): string {
  const delim = g.weighted([[8, ','], [1, ';'], [1, '\t'], [1, '|']] as const);
  if (delim !== ',') what.push(`delimiter ${JSON.stringify(delim)}`);
  const eol = g.weighted([[8, '\n'], [2, '\r\n'], [1, '\r']] as const);
  if (eol !== '\n') what.push(`line ends ${JSON.stringify(eol)}`);
  let text = rows.map((r) => r.join(delim)).join(eol) + (g.chance(0.8) ? eol : '');
  if (g.chance(0.1)) {
    // a quote opened and never closed: the rest of the file is one field
    const at = g.int(text.length);
    text = `${text.slice(0, at)}"${text.slice(at)}`;
    what.push(`unbalanced quote at ${at}`);
  }
  if (g.chance(0.05)) {
    text = text.replace(/,/g, () => (g.chance(0.1) ? ';' : ','));
    what.push('mixed delimiters');
  }
  return text;
}

function encode(g: Gen, text: string, what: string[]): Uint8Array {
  const enc = g.weighted([[12, 'utf8'], [2, 'bom'], [1, 'utf16le'], [1, 'utf16be'], [1, 'bom-only'], [1, 'nul']] as const);
  if (enc !== 'utf8') what.push(`encoding ${enc}`);
  if (enc === 'bom') return Buffer.from(`\ufeff${text}`, 'utf8');
  if (enc === 'utf16le') return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  if (enc === 'utf16be') {
    const le = Buffer.from(text, 'utf16le');
    return Buffer.concat([Buffer.from([0xfe, 0xff]), le.swap16()]);
  }
  if (enc === 'bom-only') return Buffer.from([0xef, 0xbb, 0xbf]);
  if (enc === 'nul') {
    const b = Buffer.from(text, 'utf8');
    for (let i = 0; i < g.small(8) && b.length; i++) b[g.int(b.length)] = 0;
    return b;
  }
  return Buffer.from(text, 'utf8');
}

/** A damaged CSV made from a valid one (text with a header row). */
export function mutateCsv(g: Gen, seed: string, other?: Uint8Array): { bytes: Uint8Array; what: string[] } {
  if (g.chance(0.2)) {
    const r = mutateBytes(g, Buffer.from(seed, 'utf8'), { other });
    return { bytes: r.bytes, what: ['bytes', ...r.what] };
  }
  const rows = parseSimple(seed);
  const what: string[] = [];
  const n = g.small(3);
  for (let i = 0; i < n; i++) {
    const k = g.weighted(OPS.map(([w], idx) => [w, idx] as const));
    what.push(`${OP_NAMES[k]}: ${OPS[k][1](g, rows)}`);
  }
  // a few MB at most: a big file is slow to read, not damaged (and hundreds of them would fill the disk)
  const cells = rows.reduce((sum, r) => sum + r.length, 0);
  if (cells > MAX_CELLS) {
    rows.splice(Math.max(2, Math.floor((rows.length * MAX_CELLS) / cells)));
    what.push(`cut to ${rows.length} rows`);
  }
  return { bytes: encode(g, join(g, rows, what), what), what };
}
