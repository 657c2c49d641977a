/**
 * The CSV tokenizer: text in, records of string fields out (RFC 4180, plus what spreadsheets actually write).
 * What the fields mean is engine/data/csv-table.ts's business; reading the file is engine/data/csv.ts's.
 *
 * - Fields are separated by ',', ';' or tab; without `delimiter` it is detected from the first records (the
 *   candidate that gives the same number of fields (> 1) on every sampled record, the most fields winning; ties
 *   in the order , ; tab).
 * - A field may be wrapped in double quotes; inside, "" is one quote and delimiters and line breaks are literal.
 *   Spaces may follow a closing quote; anything else there is an error. A quote inside an unquoted field is kept.
 * - Records end at CRLF, LF or a lone CR. A UTF-8 byte-order mark is dropped; UTF-16 files (with a BOM, as Excel's
 *   "Unicode text" writes them) are decoded as such. Blank lines are skipped (as pandas does).
 * - The file is read in 1 MiB chunks and parsed incrementally, so a 100 MB file never exists as one string.
 * - Line numbers in messages are 1-based physical lines of the file (a record with a quoted line break is
 *   reported at the line it starts on); column numbers are 1-based.
 */
import { NetloomError } from '../errors.js';

export type CsvDelimiter = ',' | ';' | '\t';

const SNIFF_RECORDS = 20;
export const DELIMITERS: readonly CsvDelimiter[] = [',', ';', '\t'];

/** Receives each record's fields and the 1-based line it starts on. */
export type RecordSink = (fields: string[], line: number) => void;

/**
 * An incremental RFC 4180 parser: push() text in any pieces, then end(). Records are handed to the sink as soon
 * as they are complete; an incomplete tail is kept until the next push.
 */
export class CsvParser {
  private rest = '';
  private line = 1;
  private readonly delim: number;

  constructor(
    delimiter: CsvDelimiter,
    private readonly sink: RecordSink,
    private readonly file = 'CSV text',
  ) {
    this.delim = delimiter.charCodeAt(0);
  }

  push(text: string): void {
    this.run(this.rest + text, false);
  }

  end(): void {
    this.run(this.rest, true);
    this.rest = '';
  }

  private run(s: string, final: boolean): void {
    let pos = 0;
    while (pos < s.length) {
      const next = this.record(s, pos, final);
      if (next < 0) break;
      pos = next;
    }
    this.rest = s.slice(pos);
  }

  /** Parses one record starting at `start`; returns the position after it, or -1 when it is not complete yet. */
  private record(s: string, start: number, final: boolean): number {
    const fields: string[] = [];
    const len = s.length;
    const d = this.delim;
    let pos = start;
    let breaks = 0; // line breaks inside quoted fields
    for (;;) {
      if (pos < len && s.charCodeAt(pos) === 34 /* " */) {
        let j = pos + 1;
        let value = '';
        for (;;) {
          const q = s.indexOf('"', j);
          if (q < 0 || (q + 1 === len && !final)) {
            if (!final) return -1;
            throw new NetloomError(
              'NL_BAD_DATASET',
              `${this.file}, line ${this.line + breaks}: a quoted field starting at column ${this.column(s, pos)} is never closed`,
              'Every opening double quote needs a closing one; a quote inside a quoted value is written twice ("").',
            );
          }
          if (s.charCodeAt(q + 1) === 34) {
            value += s.slice(j, q + 1);
            j = q + 2;
            continue;
          }
          value += s.slice(j, q);
          pos = q + 1;
          break;
        }
        breaks += countBreaks(value);
        while (pos < len && (s.charCodeAt(pos) === 32 || (s.charCodeAt(pos) === 9 && d !== 9))) pos++;
        if (pos < len) {
          const c = s.charCodeAt(pos);
          if (c !== d && c !== 13 && c !== 10) {
            throw new NetloomError(
              'NL_BAD_DATASET',
              `${this.file}, line ${this.line + breaks}, column ${this.column(s, pos)}: unexpected ${JSON.stringify(s[pos])} after the closing quote of a quoted field`,
              `A quoted field must end right before a delimiter (${JSON.stringify(String.fromCharCode(d))}) or the end of the line. ` +
                'Write a quote inside a quoted value as two quotes ("").',
            );
          }
        } else if (!final) {
          return -1;
        }
        fields.push(value);
      } else {
        let j = pos;
        while (j < len) {
          const c = s.charCodeAt(j);
          if (c === d || c === 13 || c === 10) break;
          j++;
        }
        if (j === len && !final) return -1;
        fields.push(s.slice(pos, j));
        pos = j;
      }
      // pos is at a delimiter, a line break, or the end of the text.
      if (pos === len) {
        // Only reached when final: a last record without a line break.
        this.emit(fields, breaks);
        return pos;
      }
      const c = s.charCodeAt(pos);
      if (c === d) {
        pos++;
        if (pos === len) {
          if (!final) return -1;
          fields.push('');
          this.emit(fields, breaks);
          return pos;
        }
        continue;
      }
      if (c === 13) {
        if (pos + 1 === len && !final) return -1;
        pos += s.charCodeAt(pos + 1) === 10 ? 2 : 1;
      } else {
        pos++;
      }
      this.emit(fields, breaks + 1);
      return pos;
    }
  }

  private emit(fields: string[], lines: number): void {
    const line = this.line;
    this.line += lines;
    this.sink(fields, line);
  }

  private column(s: string, pos: number): number {
    const lf = s.lastIndexOf('\n', pos - 1);
    const cr = s.lastIndexOf('\r', pos - 1);
    return pos - Math.max(lf, cr);
  }
}

function countBreaks(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 10 || (c === 13 && value.charCodeAt(i + 1) !== 10)) n++;
  }
  return n;
}

/** Parses a whole CSV text into records (each with the line it starts on); for small inputs and tests. */
export function parseCsv(text: string, delimiter?: CsvDelimiter): { delimiter: CsvDelimiter; records: string[][]; lines: number[] } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const d = delimiter ?? detectDelimiter(body, true);
  const records: string[][] = [];
  const lines: number[] = [];
  const parser = new CsvParser(d, (fields, line) => {
    if (!isBlank(fields)) {
      records.push(fields);
      lines.push(line);
    }
  });
  parser.push(body);
  parser.end();
  return { delimiter: d, records, lines };
}

/** Picks the delimiter from the start of a file (see the module comment for the rule). `complete`: the sample is the whole file. */
export function detectDelimiter(sample: string, complete = false): CsvDelimiter {
  let best: CsvDelimiter | undefined;
  let bestFields = 1;
  let fallback: CsvDelimiter = ',';
  let fallbackFields = 1;
  for (const d of DELIMITERS) {
    const counts: number[] = [];
    try {
      const p = new CsvParser(d, (fields) => {
        if (!isBlank(fields) && counts.length < SNIFF_RECORDS + 1) counts.push(fields.length);
      });
      p.push(sample);
      if (complete) p.end();
    } catch {
      continue;
    }
    // Without the whole file, the last record seen may still be complete; only records the parser finished count.
    const seen = counts.slice(0, SNIFF_RECORDS);
    if (seen.length === 0) continue;
    if (seen[0] > fallbackFields) {
      fallback = d;
      fallbackFields = seen[0];
    }
    if (seen.every((n) => n === seen[0]) && seen[0] > bestFields) {
      best = d;
      bestFields = seen[0];
    }
  }
  return best ?? fallback;
}

/** A blank line: one field of nothing but spaces (skipped, as pandas does). */
export function isBlank(fields: string[]): boolean {
  return fields.length === 1 && fields[0].trim() === '';
}
