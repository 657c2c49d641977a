/**
 * The streaming CSV parser (engine/data/csv.ts CsvParser) as a property: whatever pieces the text arrives in, it
 * gives the records (and the lines they start on) that RFC 4180, as the module comment states it, gives for the
 * whole text. Two oracles:
 * - records written out by a seeded generator (quoted or not, with delimiters, quotes, CR, LF and CRLF inside
 *   quotes, empty fields, an empty last field after a trailing delimiter, with and without a final line break):
 *   parsing must give back exactly those records;
 * - a small reference parser, one character at a time over the whole text, for any text at all (random soup of
 *   the characters that matter, corner cases by hand), malformed text included: both fail, or both give the same.
 * Each text is fed in every two-piece split, every three-piece split when it is short, one character at a time,
 * and seeded random splits (empty pieces included). Then the file reader (loadCsv, 1 MiB chunks) at its real chunk
 * boundary and at the end of the file: a BOM, no final line break, CRLF, a trailing empty line, a trailing delimiter.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvParser, parseCsv, type CsvDelimiter } from '../../engine/data/csv-parse.js';
import { loadCsv } from '../../engine/data/csv.js';
import { NetloomError } from '../../engine/errors.js';

type Parsed = { records: string[][]; lines: number[] } | { error: string };

// ---- the reference: RFC 4180 plus the module comment's additions, the slow obvious way -------------------------

/** Every record of `text` (blank ones included, as the parser hands them on) and the 1-based line each starts on. */
function reference(text: string, d: CsvDelimiter): Parsed {
  const records: string[][] = [];
  const lines: number[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const fields: string[] = [];
    let breaks = 0;
    for (;;) {
      let value = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) return { error: 'a quoted field is never closed' };
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) breaks++;
          value += c;
          i++;
        }
        // spaces (and tabs, unless tab is the delimiter) may follow a closing quote; nothing else but the end of the field
        while (i < n && (text[i] === ' ' || (text[i] === '\t' && d !== '\t'))) i++;
        if (i < n && text[i] !== d && text[i] !== '\r' && text[i] !== '\n') return { error: 'text after a closing quote' };
      } else {
        while (i < n && text[i] !== d && text[i] !== '\r' && text[i] !== '\n') value += text[i++];
      }
      fields.push(value);
      if (i >= n) break; // the last record, with no line break after it
      if (text[i] === d) {
        i++;
        if (i >= n) {
          fields.push(''); // "a,b," at the end of the file: three fields, the last one empty
          break;
        }
        continue;
      }
      i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1; // CRLF, LF or a lone CR
      breaks++;
      break;
    }
    records.push(fields);
    lines.push(line);
    line += breaks;
  }
  return { records, lines };
}

// ---- the parser under test, fed in pieces ------------------------------------------------------------------------

function streamed(pieces: string[], d: CsvDelimiter): Parsed {
  const records: string[][] = [];
  const lines: number[] = [];
  const p = new CsvParser(d, (f, l) => {
    records.push(f);
    lines.push(l);
  });
  try {
    for (const piece of pieces) p.push(piece);
    p.end();
  } catch (e) {
    if (!(e instanceof NetloomError) || e.code !== 'NL_BAD_DATASET') throw e;
    return { error: e.message };
  }
  return { records, lines };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The ways of cutting `text` into pieces that every test tries. */
function* splits(text: string, r: () => number, all3 = text.length <= 24): Generator<string[]> {
  yield [text];
  yield Array.from({ length: text.length }, (_, i) => text[i]); // one UTF-16 unit at a time (a surrogate pair is cut too)
  for (let i = 0; i <= text.length; i++) yield [text.slice(0, i), text.slice(i)];
  if (all3) for (let i = 0; i <= text.length; i++) for (let j = i; j <= text.length; j++) yield [text.slice(0, i), text.slice(i, j), text.slice(j)];
  for (let k = 0; k < 20; k++) {
    const pieces: string[] = [];
    let at = 0;
    while (at < text.length) {
      const len = Math.floor(r() * 6); // 0: an empty push
      pieces.push(text.slice(at, at + len));
      at += len;
    }
    yield pieces;
  }
}

/**
 * Checks the property for one text: the reference's answer, or the expected records when known, equals the
 * parser's for every split; an error is the same message whatever the split. Returns the reference's answer.
 */
function check(text: string, d: CsvDelimiter, r: () => number, expected?: Parsed): Parsed {
  const ref = reference(text, d);
  if (expected) expect(ref, `reference vs generator for ${JSON.stringify(text)}`).toEqual(expected);
  const whole = streamed([text], d);
  if ('error' in ref) expect('error' in whole, `the parser accepted ${JSON.stringify(text)}: ${JSON.stringify(whole)}`).toBe(true);
  else expect(whole, `whole ${JSON.stringify(text)}`).toEqual(ref);
  for (const pieces of splits(text, r)) {
    const got = streamed(pieces, d);
    if (JSON.stringify(got) !== JSON.stringify(whole)) expect(got, `${JSON.stringify(text)} in pieces ${JSON.stringify(pieces)}`).toEqual(whole);
  }
  return ref;
}

// ---- the corner cases, by hand -----------------------------------------------------------------------------------

const CORNERS: [string, string[][] | 'error'][] = [
  ['a,b,', [['a', 'b', '']]], // an empty last field after a trailing delimiter at the end of the file
  ['a,b,\n', [['a', 'b', '']]],
  ['a,b,\r\n', [['a', 'b', '']]],
  ['x\na,b,', [['x'], ['a', 'b', '']]],
  ['a,,', [['a', '', '']]],
  [',', [['', '']]],
  [',,', [['', '', '']]],
  ['"a",', [['a', '']]],
  ['"a" ,', [['a', '']]],
  ['a,""', [['a', '']]],
  ['a,"",', [['a', '', '']]],
  ['a,b', [['a', 'b']]], // no final line break
  ['a,b\n', [['a', 'b']]],
  ['a,b\r\n', [['a', 'b']]],
  ['a,b\r', [['a', 'b']]],
  ['a,b\n\n', [['a', 'b'], ['']]], // a trailing empty line is a blank record (callers skip it)
  ['a,b\r\n\r\n', [['a', 'b'], ['']]],
  ['a\r\rb', [['a'], [''], ['b']]],
  ['a\n\rb', [['a'], [''], ['b']]], // LF then a lone CR: two breaks, not one CRLF
  ['"a\r\nb",c\r\n', [['a\r\nb', 'c']]],
  ['"a\rb","c\nd"\r\ne', [['a\rb', 'c\nd'], ['e']]],
  ['"a,b","c""d",""""', [['a,b', 'c"d', '"']]],
  ['"",""', [['', '']]],
  ['""""', [['"']]],
  ['a"b,c', [['a"b', 'c']]], // a quote inside an unquoted field is kept
  ['a""', [['a""']]],
  ['"a"  \t,b', [['a', 'b']]],
  ['"a"  ', [['a']]],
  ['"a', 'error'],
  ['"a""', 'error'],
  ['"a"b', 'error'],
  ['a,"b"c\n', 'error'],
  ['a\n"b\n', 'error'],
  ['', []],
  ['\n', [['']]],
  ['\r\n', [['']]],
];

describe('CsvParser: corner cases of RFC 4180, at every split point', () => {
  it.each(CORNERS)('%j', (text, want) => {
    const r = rng(1);
    const ref = check(text, ',', r);
    if (want === 'error') expect('error' in ref).toBe(true);
    else expect(ref).toMatchObject({ records: want });
    // the same with the other delimiters (the text's commas become that delimiter)
    for (const d of [';', '\t'] as const) check(text.replaceAll(',', d), d, r);
  });

  it('parseCsv drops a BOM and skips blank records, and keeps an empty last field at the end of the file', () => {
    expect(parseCsv('\uFEFFa,b,c\r\n1,2,\r\n\r\n3,4,', ',')).toEqual({ delimiter: ',', records: [['a', 'b', 'c'], ['1', '2', ''], ['3', '4', '']], lines: [1, 2, 4] });
    expect(parseCsv('\uFEFF"a";b;\n', ';').records).toEqual([['a', 'b', '']]);
  });
});

// ---- generated records: written out, parsed back ----------------------------------------------------------------

const ATOMS = ['', 'a', 'bc', '1.5', ' ', ' x ', '"', '""', ',', ';', '\t', '\r', '\n', '\r\n', 'é', '😀', "'"];

/** A random table and the CSV text that writes it, the records the text holds and the line each starts on. */
function generate(r: () => number, d: CsvDelimiter): { text: string; expected: Parsed } {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const rows = 1 + Math.floor(r() * 4);
  const records: string[][] = [];
  const lines: number[] = [];
  let text = '';
  let line = 1;
  for (let row = 0; row < rows; row++) {
    const n = 1 + Math.floor(r() * 4);
    const fields = Array.from({ length: n }, () => Array.from({ length: Math.floor(r() * 3) }, () => pick(ATOMS)).join(''));
    const terminator = row === rows - 1 && r() < 0.5 ? '' : pick(['\n', '\r\n', '\r']);
    let breaks = 0;
    const written = fields.map((f) => {
      // must be quoted: a delimiter, a line break, a leading quote; a lone empty field (a blank line otherwise); and
      // a last field that ends in spaces before a lone CR... no: only what RFC 4180 requires, plus sometimes anyway
      // quoted where RFC 4180 needs it (a delimiter, a line break, a leading quote), for a lone empty field (a blank
      // line otherwise), and now and then anyway
      const alone = n === 1 && f === '';
      const mustQuote = f.includes(d) || f.includes('\r') || f.includes('\n') || f.startsWith('"') || alone;
      if (mustQuote || r() < 0.3) {
        for (let k = 0; k < f.length; k++) if (f[k] === '\n' || (f[k] === '\r' && f[k + 1] !== '\n')) breaks++;
        // spaces may follow a closing quote (not part of the value); tabs too where tab is not the delimiter
        const pad = r() < 0.2 ? pick(d === '\t' ? [' ', '  '] : [' ', '\t', ' \t']) : '';
        return `"${f.replaceAll('"', '""')}"${pad}`;
      }
      return f;
    });
    text += written.join(d) + terminator;
    records.push(fields);
    lines.push(line);
    line += breaks + 1;
  }
  return { text, expected: { records, lines } };
}

describe('CsvParser: generated tables round-trip at every split point', () => {
  for (const d of [',', ';', '\t'] as const) {
    it(`delimiter ${JSON.stringify(d)}: 400 seeded tables`, () => {
      const r = rng(d.charCodeAt(0));
      let emptyLastAtEof = 0;
      for (let k = 0; k < 400; k++) {
        const { text, expected } = generate(r, d);
        check(text, d, r, expected);
        if (text.endsWith(d)) emptyLastAtEof++;
      }
      expect(emptyLastAtEof, 'tables ending in a trailing delimiter at the end of the text').toBeGreaterThan(5);
    });
  }
});

describe('CsvParser: any text, against the reference parser', () => {
  it('1500 seeded strings of quotes, delimiters, CR, LF, spaces and letters, malformed ones included', () => {
    const r = rng(42);
    const soup = ['"', '"', ',', ',', '\r', '\n', ' ', '\t', 'a', 'b'];
    let errors = 0;
    for (let k = 0; k < 1500; k++) {
      const text = Array.from({ length: Math.floor(r() * 14) }, () => soup[Math.floor(r() * soup.length)]).join('');
      if ('error' in check(text, ',', r)) errors++;
    }
    // both kinds of text are covered
    expect(errors).toBeGreaterThan(100);
    expect(errors).toBeLessThan(1400);
  });
});

// ---- the file reader: its real 1 MiB chunk boundary, and the end of the file ----------------------------------------

const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-csv-prop-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const CHUNK = 1 << 20;

describe('loadCsv: chunk boundaries and the end of the file', () => {
  const load = (file: string) => loadCsv(file, { features: ['x'], label: 'y', task: 'classification', standardize: false });

  it('a quoted field with a delimiter, doubled quotes, CRLF and a two-byte character, cut by the 1 MiB chunk boundary at each of its bytes', async () => {
    const tricky = 'q,3,"say ""hi"", \r\nthen é, bye",even\r\n';
    for (let at = 0; at <= Buffer.byteLength(tricky); at++) {
      // the header and one long row fill the first chunk up to byte `at` of the tricky row
      const head = 'id,x,note,y\r\n';
      const shell = 'f,1,,odd\r\n';
      // the filler is quoted: the parser finds its end with one indexOf, so the test stays quick when instrumented
      const prefix = `${head}f,1,"${'z'.repeat(CHUNK - at - head.length - shell.length - 2)}",odd\r\n`;
      expect(Buffer.byteLength(prefix)).toBe(CHUNK - at);
      const file = path.join(tmp, `boundary-${at}.csv`);
      writeFileSync(file, `${prefix}${tricky}t,5,"",odd\r\n`);
      const ds = await load(file);
      expect(ds.classes).toEqual(['even', 'odd']);
      expect([...ds.train.x], `boundary at byte ${at}`).toEqual([1, 3, 5]);
      expect([...ds.train.y], `boundary at byte ${at}`).toEqual([1, 0, 1]);
      expect(ds.notes.join(' ')).not.toMatch(/not valid UTF-8/);
      rmSync(file);
    }
  });

  it('the end of the file: an empty last field after a trailing delimiter (with or without a line break), a trailing empty line, a BOM', async () => {
    for (const [tail, why] of [
      ['r3,5,odd,', 'a trailing delimiter and no final line break'],
      ['r3,5,odd,\r\n', 'a trailing delimiter and CRLF'],
      ['r3,5,odd,\n', 'a trailing delimiter and LF'],
      ['r3,5,odd,\r', 'a trailing delimiter and a lone CR'],
      ['r3,5,odd,\r\n\r\n', 'a trailing empty line'],
      ['r3,5,odd,""', 'an empty quoted last field and no final line break'],
    ] as const) {
      const file = path.join(tmp, 'eof.csv');
      // the note column is last, and empty in r1 and r3
      writeFileSync(file, `\uFEFFid,x,y,note\r\nr1,1,odd,\r\nr2,2,even,seen\r\n${tail}`);
      const ds = await load(file);
      expect([...ds.train.x], why).toEqual([1, 2, 5]);
      expect([...ds.train.y], why).toEqual([1, 0, 1]);
    }
  });
});
