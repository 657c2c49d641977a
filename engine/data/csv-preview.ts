/**
 * A quick look at a CSV file before it becomes a dataset: its columns, the delimiter, the first rows,
 * and for each column whether it can be a numeric feature (and why not) and what a label there
 * suggests (classification or regression). It reads only the start of the file (PREVIEW_BYTES), so a
 * 10 GB file previews as fast as a small one; `complete` says whether that was the whole file.
 *
 * Parsing is the dataset loader's own (csv.ts: CsvParser, detectDelimiter, the same encodings and
 * header rules), so what the preview calls numeric is what loadCsv accepts as a feature — judged on
 * the rows read. A record cut off by the end of the sample is dropped, never shown half.
 */
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { NetloomError } from '../errors.js';
import { openUserFile } from '../io/read-file.js';
import { CsvParser, detectDelimiter, type CsvDelimiter } from './csv-parse.js';
import type { TabularTask } from './csv-table.js';

/** How much of the file is read. */
export const PREVIEW_BYTES = 256 * 1024;
/** Rows returned for the table. */
export const PREVIEW_ROWS = 8;
/** Most distinct label values counted per column (more: "many"). */
const DISTINCT_CAP = 1000;
/** A numeric column with at most this many distinct whole numbers reads as class labels. */
export const CLASS_LIKE_DISTINCT = 20;

// csv.ts's rules for a number (and, with ';' or tab delimiters, a decimal comma).
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const DECIMAL_COMMA = /^[+-]?\d*,\d+$/;

export interface CsvColumnPreview {
  name: string;
  /** every sampled cell is a number the loader accepts as a feature */
  numeric: boolean;
  /** why the column cannot be a feature (the first offending cell), or null */
  reason: string | null;
  /** distinct values among the sampled rows (capped at 1000) */
  distinct: number;
  /** numeric and every sampled value a whole number */
  integer: boolean;
  /** what a label in this column suggests: text or a few whole numbers -> classification, other numbers -> regression */
  task: TabularTask;
}

export interface CsvPreview {
  /** the absolute path read */
  path: string;
  /** file size in bytes */
  bytes: number;
  delimiter: CsvDelimiter;
  header: boolean;
  columns: CsvColumnPreview[];
  /** the first data rows (at most PREVIEW_ROWS), as text, one entry per column */
  rows: string[][];
  /** data rows read to judge the columns */
  sampledRows: number;
  /** the whole file was read (otherwise only its first PREVIEW_BYTES) */
  complete: boolean;
}

export interface CsvPreviewOptions {
  /** detected when omitted */
  delimiter?: CsvDelimiter;
  /** the first record names the columns (default true) */
  header?: boolean;
  /** bytes to read (default PREVIEW_BYTES) */
  maxBytes?: number;
}

function encodingOf(first: Buffer): string {
  if (first.length >= 2 && first[0] === 0xff && first[1] === 0xfe) return 'utf-16le';
  if (first.length >= 2 && first[0] === 0xfe && first[1] === 0xff) return 'utf-16be';
  return 'utf-8';
}

async function readStart(file: string, maxBytes: number): Promise<{ text: string; bytes: number; complete: boolean }> {
  let handle: FileHandle;
  let size: number;
  try {
    ({ handle, size } = await openUserFile(file));
  } catch (e) {
    if (e instanceof NetloomError) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'EISDIR') throw new NetloomError('NL_DATASET_MISSING', `${file} is not a file`, 'Choose a .csv file, not a folder.');
    if (code === 'ENOENT') throw new NetloomError('NL_DATASET_MISSING', `CSV file ${file} does not exist`, 'Check the path, or choose the file again.', { cause: e });
    throw new NetloomError('NL_IO', `Could not read ${file}: ${(e as Error)?.message ?? String(e)}`, 'Check that the file is readable.', { cause: e });
  }
  try {
    // One byte more than shown tells whether the file goes on: the size fstat reports may be wrong (/proc says 0).
    const buf = Buffer.alloc(maxBytes + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const complete = got <= maxBytes;
    const shown = buf.subarray(0, Math.min(got, maxBytes));
    // stream: true keeps a multi-byte character cut at the end from becoming a replacement character
    const text = new TextDecoder(encodingOf(buf)).decode(shown, { stream: !complete });
    return { text, bytes: Math.max(size, got), complete };
  } catch (e) {
    throw new NetloomError('NL_IO', `Could not read ${file}: ${(e as Error)?.message ?? String(e)}`, 'Check that the file is readable.', { cause: e });
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Column names as the loader names them: empty header cells are "Unnamed: <i>"; no header: "0", "1", ... */
function columnNames(first: string[] | undefined, width: number, header: boolean, file: string): string[] {
  if (!header || !first) return Array.from({ length: width }, (_, i) => String(i));
  const names = first.map((h, i) => (h.trim() === '' ? `Unnamed: ${i}` : h.trim()));
  const dup = names.find((h, i) => names.indexOf(h) !== i);
  if (dup !== undefined)
    throw new NetloomError('NL_BAD_DATASET', `${path.basename(file)}, line 1: the header names column ${JSON.stringify(dup)} twice (columns ${names.indexOf(dup) + 1} and ${names.lastIndexOf(dup) + 1})`,
      'Give every column a distinct name in the header line, or turn off "first row is a header" if the file has none.');
  return names;
}

/** Reads the start of a CSV file and describes its columns (see the module comment). */
export async function previewCsv(file: string, opts: CsvPreviewOptions = {}): Promise<CsvPreview> {
  const abs = path.resolve(file);
  const header = opts.header ?? true;
  const { text, bytes, complete } = await readStart(abs, Math.max(1024, opts.maxBytes ?? PREVIEW_BYTES));
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const delimiter = opts.delimiter ?? detectDelimiter(body, complete);
  const records: { fields: string[]; line: number }[] = [];
  const parser = new CsvParser(delimiter, (fields, line) => {
    if (!(fields.length === 1 && fields[0].trim() === '')) records.push({ fields, line });
  }, path.basename(abs));
  parser.push(body);
  if (complete) parser.end(); // otherwise the cut-off last record stays unparsed
  if (records.length === 0)
    throw new NetloomError('NL_BAD_DATASET', `${path.basename(abs)} has no rows`, 'Choose a CSV file with a header line and at least one row of values.');

  const width = header ? records[0].fields.length : Math.max(...records.map((r) => r.fields.length));
  const names = columnNames(header ? records[0].fields : undefined, width, header, abs);
  const data = header ? records.slice(1) : records;
  const decimalComma = delimiter !== ',';
  const columns: CsvColumnPreview[] = names.map((name, c) => {
    let reason: string | null = null;
    let integer = true;
    const seen = new Set<string>();
    for (const { fields, line } of data) {
      const raw = fields[c];
      const cell = raw?.trim() ?? '';
      if (seen.size < DISTINCT_CAP) seen.add(cell);
      if (reason !== null) continue;
      if (raw === undefined) reason = `line ${line} has only ${fields.length} of ${names.length} columns`;
      else if (cell === '') reason = `empty cell on line ${line}`;
      else if (NUMBER.test(cell) || (decimalComma && DECIMAL_COMMA.test(cell))) {
        const v = Number(cell.replace(',', '.'));
        if (!Number.isFinite(v) || Math.abs(v) > 3.4028234663852886e38) reason = `${JSON.stringify(cell)} on line ${line} is outside the float32 range`;
        else if (!Number.isInteger(v)) integer = false;
      } else reason = `${JSON.stringify(cell.length > 24 ? `${cell.slice(0, 24)}…` : cell)} on line ${line} is not a number`;
    }
    const numeric = reason === null && data.length > 0;
    if (data.length === 0) reason = 'no rows to judge by';
    const task: TabularTask = !numeric || (integer && seen.size <= CLASS_LIKE_DISTINCT) ? 'classification' : 'regression';
    return { name, numeric, reason, distinct: seen.size, integer: numeric && integer, task };
  });
  return {
    path: abs,
    bytes,
    delimiter,
    header,
    columns,
    rows: data.slice(0, PREVIEW_ROWS).map((r) => names.map((_, c) => r.fields[c] ?? '')),
    sampledRows: data.length,
    complete,
  };
}
