/**
 * Tabular datasets from a CSV file: numeric feature columns and one label column, as a user would load them
 * with pandas.read_csv and feed to a torch.nn.Linear stack.
 *
 * Parsing (RFC 4180, plus what spreadsheets actually write):
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
 * - With `header: false`, columns are named "0", "1", ... (pandas' header=None); an empty header cell is named
 *   "Unnamed: <i>" (i 0-based, as pandas).
 *
 * Values:
 * - Feature cells (and regression targets) must be decimal numbers: 3, -0.5, .5, 1e-3 (surrounding spaces allowed).
 *   With a ';' or tab delimiter a decimal comma (3,5) is read as 3.5 and `notes` says so. Empty cells, text, NaN,
 *   infinities and values outside the float32 range are NL_BAD_DATASET errors naming file, line, column and value.
 * - Columns that are neither features nor the label are not parsed at all (an id or free-text column is fine).
 * - Classification: label cells are trimmed strings. The classes are the distinct label strings, sorted: numerically
 *   when every label is a number ("2" before "10", "-1" before "0"), otherwise naturally (digit runs compared as
 *   integers, everything else by code point: "class2" before "class10", "B" before "a"). Class index = position in
 *   that order; `classes` holds the strings. At most 256 classes (labels are uint8).
 * - Regression: the label column is a float target like a feature.
 *
 * Validation and standardisation:
 * - `validationFraction` (default 0) moves round(n * fraction) rows to a validation split (see split.ts; stratified
 *   by class for classification, deterministic for `seed`). Rows keep file order within each split.
 * - `stats` are per-feature mean and standard deviation of the TRAINING split only (population std, ddof=0, as
 *   sklearn's StandardScaler), computed in float64. With `standardize`, x' = (x - mean) / std is applied to both
 *   splits; a feature that is constant on the training split is only centred (its `std` entry is 1, as sklearn's
 *   scale_) and `notes` says so. Without `standardize` the raw values are kept and `stats` is informational.
 */
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { NetloomError } from '../errors.js';
import { openUserFile } from '../io/read-file.js';
import { checkValidationFraction, splitTrainVal } from './split.js';

export type CsvDelimiter = ',' | ';' | '\t';
export type TabularTask = 'classification' | 'regression';

export interface CsvOptions {
  /** Feature column names in the order the model sees them, or every column except the label, in file order. */
  features: string[] | 'all-but-label';
  /** The label (target) column name. */
  label: string;
  task: TabularTask;
  /** Standardise features with the training split's mean and std. */
  standardize: boolean;
  /** Field separator; detected from the file when omitted. */
  delimiter?: CsvDelimiter;
  /** Whether the first record names the columns (default true). */
  header?: boolean;
  /** Share of rows moved to a validation split, in [0, 1) (default 0: none). */
  validationFraction?: number;
  /** Seed of the validation split (default 0). */
  seed?: number;
  /**
   * Also keep each split's features as the file has them (`raw`, float32) when `standardize` is on:
   * for showing rows to the user as they appear in the file (x holds the standardised values).
   */
  keepRaw?: boolean;
  /** Called after each chunk read: bytes read so far and the file size. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/**
 * One split of a tabular dataset: `count` rows of `features.length` float32 features, row-major
 * (x[r * f + j] is feature j of row r), and one target per row.
 */
export interface TabularSplit<Y extends Uint8Array | Float32Array = Uint8Array | Float32Array> {
  x: Float32Array;
  /** With `keepRaw`: the file's values (float32), same layout as x; x itself when not standardised. */
  raw?: Float32Array;
  /** Class indices into `classes` (classification) or float targets (regression). */
  y: Y;
  count: number;
}

interface TabularCommon {
  kind: 'tabular';
  /** Absolute path of the CSV file. */
  source: string;
  /** Feature column names, in the order of x's columns. */
  features: string[];
  /** The label column name. */
  label: string;
  /**
   * Per-feature statistics of the training split: mean, and std = the divisor standardisation uses
   * (population std; 1 for a feature constant on the training split). Apply (x - mean) / std to new data.
   */
  stats: { mean: number[]; std: number[] };
  /** Whether x holds standardised values (true) or the file's values (false). */
  standardized: boolean;
  /** The delimiter used (given or detected). */
  delimiter: CsvDelimiter;
  /** Things the user should know that are not errors: constant features, decimal commas, encoding. */
  notes: string[];
}

/** A CSV dataset: float features (not the uint8 images of Dataset) and class-index or float targets. */
export type TabularDataset =
  | (TabularCommon & {
      task: 'classification';
      /** Class names (the label strings); y holds indices into this list. */
      classes: string[];
      train: TabularSplit<Uint8Array>;
      validation?: TabularSplit<Uint8Array>;
    })
  | (TabularCommon & {
      task: 'regression';
      classes?: undefined;
      train: TabularSplit<Float32Array>;
      validation?: TabularSplit<Float32Array>;
    });

export const MAX_CLASSES = 256;
const FLOAT32_MAX = 3.4028234663852886e38;
const CHUNK_BYTES = 1 << 20;
const SNIFF_CHARS = 64 * 1024;
const SNIFF_RECORDS = 20;
const DELIMITERS: readonly CsvDelimiter[] = [',', ';', '\t'];
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const DECIMAL_COMMA = /^[+-]?\d*,\d+$/;

// ---------------------------------------------------------------------------------------------------------------
// The parser

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

function isBlank(fields: string[]): boolean {
  return fields.length === 1 && fields[0].trim() === '';
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

/** Reads a CSV file into a TabularDataset (see the module comment for every rule). */
export async function loadCsv(file: string, options: CsvOptions): Promise<TabularDataset> {
  const opts = checkOptions(options);
  const source = path.resolve(file);
  const name = path.basename(source);
  let handle: FileHandle;
  let size: number;
  try {
    ({ handle, size } = await openUserFile(source));
  } catch (e) {
    if (e instanceof NetloomError) throw e;
    if ((e as NodeJS.ErrnoException)?.code === 'EISDIR') throw new NetloomError('NL_DATASET_MISSING', `${source} is not a file`, 'Choose a .csv file, not a folder.');
    throw ioError(e, source);
  }

  const notes: string[] = [];
  let table: TableBuilder | undefined;
  let parser: CsvParser | undefined;
  let delimiter: CsvDelimiter | undefined = opts.delimiter;
  let pending = '';
  let replaced = false;
  let read = 0;
  let decoder: InstanceType<typeof TextDecoder> | undefined;

  const start = (final: boolean) => {
    delimiter ??= detectDelimiter(pending, final);
    table = new TableBuilder(name, opts, delimiter, notes);
    parser = new CsvParser(delimiter, (fields, line) => table!.record(fields, line), name);
    parser.push(pending);
    pending = '';
  };

  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      if (decoder === undefined) decoder = new TextDecoder(encodingOf(chunk));
      read += chunk.length;
      const text = decoder.decode(chunk, { stream: true });
      if (!replaced && text.includes('\uFFFD')) replaced = true;
      if (parser) {
        parser.push(text);
      } else {
        pending += text;
        if (pending.length >= SNIFF_CHARS) start(false);
      }
      opts.onProgress?.(read, size);
    }
  } catch (e) {
    if (e instanceof NetloomError) throw e;
    throw ioError(e, source);
  } finally {
    await handle.close().catch(() => undefined);
  }
  if (decoder) pending += decoder.decode();
  if (!parser) start(true);
  else parser.push(pending);
  parser!.end();
  if (replaced) {
    notes.push(`${name} is not valid UTF-8: some characters were replaced with "\uFFFD". Save the file as UTF-8 if names or labels look wrong.`);
  }
  return table!.finish(source);
}

interface CheckedOptions extends Required<Omit<CsvOptions, 'delimiter' | 'onProgress' | 'keepRaw'>> {
  keepRaw: boolean;
  delimiter?: CsvDelimiter;
  onProgress?: CsvOptions['onProgress'];
}

function checkOptions(o: CsvOptions): CheckedOptions {
  const bad = (what: string, hint: string) => new NetloomError('NL_INVALID_ARGUMENT', what, hint);
  if (o.task !== 'classification' && o.task !== 'regression') {
    throw bad(`The CSV task must be "classification" or "regression", got ${JSON.stringify(o.task)}`, 'Use classification for categories, regression for numbers to predict.');
  }
  if (typeof o.label !== 'string' || o.label === '') {
    throw bad('The CSV label column is not set', 'Name the column that holds the value to predict.');
  }
  if (o.features !== 'all-but-label') {
    if (!Array.isArray(o.features) || o.features.length === 0 || o.features.some((f) => typeof f !== 'string')) {
      throw bad('The CSV feature columns must be a non-empty list of column names or "all-but-label"', 'Pick at least one input column.');
    }
    const dup = o.features.find((f, i) => o.features.indexOf(f) !== i);
    if (dup !== undefined) throw bad(`Feature column ${JSON.stringify(dup)} is listed twice`, 'List each input column once.');
    if (o.features.includes(o.label)) {
      throw bad(`Column ${JSON.stringify(o.label)} is both the label and a feature`, 'Remove the label column from the features: the model must not see the answer.');
    }
  }
  if (o.delimiter !== undefined && !DELIMITERS.includes(o.delimiter)) {
    throw bad(`The CSV delimiter must be ",", ";" or a tab, got ${JSON.stringify(o.delimiter)}`, 'Leave it unset to detect it from the file.');
  }
  const seed = o.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw bad(`The split seed must be an integer, got ${String(seed)}`, 'Use a whole number such as 0.');
  return {
    features: o.features,
    label: o.label,
    task: o.task,
    standardize: o.standardize === true,
    delimiter: o.delimiter,
    header: o.header ?? true,
    validationFraction: checkValidationFraction(o.validationFraction ?? 0),
    seed,
    onProgress: o.onProgress,
    keepRaw: o.keepRaw === true,
  };
}

function encodingOf(first: Buffer): string {
  if (first.length >= 2 && first[0] === 0xff && first[1] === 0xfe) return 'utf-16le';
  if (first.length >= 2 && first[0] === 0xfe && first[1] === 0xff) return 'utf-16be';
  return 'utf-8'; // TextDecoder drops a UTF-8 BOM (and the UTF-16 ones above) itself.
}

function ioError(e: unknown, file: string): NetloomError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') {
    return new NetloomError('NL_DATASET_MISSING', `CSV file ${file} does not exist`, 'Check the path, or choose the file again.', { cause: e });
  }
  return new NetloomError('NL_IO', `Could not read ${file}: ${(e as Error)?.message ?? String(e)}`, 'Check that the file is readable and not locked by another program.', { cause: e });
}

/** Growable float64 storage. */
class Floats {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
}

/** Collects records into columns as they stream in. */
class TableBuilder {
  private columns: string[] | undefined;
  private labelCol = -1;
  private featureCols: number[] = [];
  private featureNames: string[] = [];
  private readonly x = new Floats();
  private readonly yNum = new Floats();
  private readonly classIds = new Map<string, number>();
  private rows = 0;
  private decimalComma = false;

  constructor(
    private readonly file: string,
    private readonly opts: CheckedOptions,
    private readonly delimiter: CsvDelimiter,
    private readonly notes: string[],
  ) {}

  record(fields: string[], line: number): void {
    if (isBlank(fields)) return;
    if (this.columns === undefined) {
      this.columns = this.opts.header ? headerNames(fields, this.file) : fields.map((_, i) => String(i));
      this.resolve();
      if (this.opts.header) return;
    }
    const cols = this.columns;
    if (fields.length !== cols.length) {
      throw new NetloomError(
        'NL_BAD_DATASET',
        `${this.file}, line ${line}: ${fields.length} fields, but ${this.opts.header ? 'the header has' : 'the first row has'} ${cols.length}`,
        `Every row needs one value per column, separated by ${delimiterName(this.delimiter)}. ` +
          'A value that contains the delimiter must be wrapped in double quotes; a missing value still needs its delimiter.',
      );
    }
    for (let j = 0; j < this.featureCols.length; j++) {
      const c = this.featureCols[j];
      this.x.push(this.number(fields[c], line, c));
    }
    if (this.opts.task === 'regression') {
      this.yNum.push(this.number(fields[this.labelCol], line, this.labelCol));
    } else {
      const label = fields[this.labelCol].trim();
      if (label === '') {
        throw new NetloomError(
          'NL_BAD_DATASET',
          `${this.file}, line ${line}, column ${this.where(this.labelCol)}: the label is empty`,
          'Every row needs a class label. Remove unlabelled rows, or label them.',
        );
      }
      let id = this.classIds.get(label);
      if (id === undefined) {
        id = this.classIds.size;
        if (id >= MAX_CLASSES) {
          throw new NetloomError(
            'NL_BAD_DATASET',
            `${this.file}, line ${line}, column ${this.where(this.labelCol)}: label ${show(label)} is distinct value number ${id + 1}; classification supports at most ${MAX_CLASSES} classes`,
            'Check that this is the right label column (an id or a measurement has a different value in almost every row). ' +
              'To predict a number, choose the regression task instead.',
          );
        }
        this.classIds.set(label, id);
      }
      this.yNum.push(id);
    }
    this.rows++;
  }

  private resolve(): void {
    const cols = this.columns!;
    const find = (name: string, role: string): number => {
      const i = cols.indexOf(name);
      if (i >= 0) return i;
      const near = cols.find((c) => c.trim().toLowerCase() === name.trim().toLowerCase());
      throw new NetloomError(
        'NL_INVALID_ARGUMENT',
        `${this.file} has no ${role} column ${show(name)}; its columns are ${cols.map(show).join(', ')}`,
        near !== undefined
          ? `Column names are matched exactly: did you mean ${show(near)}?`
          : this.opts.header
            ? 'Pick one of the listed columns, or check that the first line of the file is the header.'
            : 'Without a header row, columns are named by position from "0".',
      );
    };
    this.labelCol = find(this.opts.label, 'label');
    if (this.opts.features === 'all-but-label') {
      this.featureCols = cols.map((_, i) => i).filter((i) => i !== this.labelCol);
      if (this.featureCols.length === 0) {
        throw new NetloomError(
          'NL_BAD_DATASET',
          `${this.file} has only one column (${show(cols[0])}, read with ${delimiterName(this.delimiter)} as the delimiter), so there are no features`,
          'A tabular dataset needs feature columns besides the label. If the file uses another delimiter, choose it explicitly.',
        );
      }
    } else {
      this.featureCols = this.opts.features.map((f) => find(f, 'feature'));
    }
    this.featureNames = this.featureCols.map((i) => cols[i]);
  }

  private where(col: number): string {
    return `${show(this.columns![col])} (column ${col + 1})`;
  }

  private number(cell: string, line: number, col: number): number {
    const text = cell.trim();
    let v = NUMBER.test(text) ? Number(text) : NaN;
    if (Number.isNaN(v) && this.delimiter !== ',' && DECIMAL_COMMA.test(text)) {
      v = Number(text.replace(',', '.'));
      this.decimalComma = true;
    }
    if (Number.isFinite(v) && Math.abs(v) <= FLOAT32_MAX) return v;
    const at = `${this.file}, line ${line}, column ${this.where(col)}`;
    const role = col === this.labelCol ? 'regression target' : 'feature';
    if (text === '') {
      throw new NetloomError(
        'NL_BAD_DATASET',
        `${at}: empty cell (a missing value) in a ${role} column`,
        'Netloom does not guess missing values: fill them in (for example with the column mean) or remove those rows' +
          (role === 'feature' ? ', or leave this column out of the features.' : '.'),
      );
    }
    if (Number.isFinite(v) || /^[+-]?inf(inity)?$/i.test(text)) {
      throw new NetloomError('NL_BAD_DATASET', `${at}: ${show(cell)} is outside the float32 range (about ±3.4e38)`, 'Rescale this column (for example take its logarithm) before training.');
    }
    throw new NetloomError(
      'NL_BAD_DATASET',
      `${at}: ${show(cell)} is not a number`,
      role === 'feature'
        ? 'Feature columns must hold numbers such as 3, -0.5 or 1e-3. Leave this column out of the features, encode its categories as numbers (for example one column per category), or fix the value.'
        : 'A regression target must be a number. If this column holds categories, choose the classification task.',
    );
  }

  finish(source: string): TabularDataset {
    const { file, opts, notes } = this;
    if (this.columns === undefined || this.rows === 0) {
      throw new NetloomError(
        'NL_BAD_DATASET',
        `${file} has no data rows${this.columns !== undefined ? ' (only a header)' : ''}`,
        'Choose a CSV file with one row per sample' + (opts.header ? ' below a header line naming the columns.' : '.'),
      );
    }
    if (this.decimalComma) {
      notes.push(`${file}: some numbers use a decimal comma (3,5); they were read as decimal points (3.5).`);
    }
    const n = this.rows;
    const f = this.featureCols.length;
    const x = this.x.data;
    const yRaw = this.yNum.data;

    // Classification: renumber first-appearance ids into the sorted class order.
    let classes: string[] | undefined;
    let yClass: Uint8Array | undefined;
    if (opts.task === 'classification') {
      const byId = [...this.classIds.keys()];
      classes = sortLabels(byId);
      const rank = new Map(classes.map((c, i) => [c, i]));
      const remap = byId.map((c) => rank.get(c)!);
      yClass = new Uint8Array(n);
      for (let r = 0; r < n; r++) yClass[r] = remap[yRaw[r]];
      if (classes.length === 1) {
        notes.push(`The label column ${show(opts.label)} has only one class (${show(classes[0])}); a classifier cannot learn anything from it.`);
      }
    }

    const { train, val } = splitTrainVal(n, opts.validationFraction, opts.seed, yClass);

    // Statistics on the training rows only, in float64: two passes (mean, then squared deviations).
    const mean = new Array<number>(f).fill(0);
    const std = new Array<number>(f).fill(0);
    for (let j = 0; j < f; j++) {
      let sum = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (let t = 0; t < train.length; t++) {
        const v = x[train[t] * f + j];
        sum += v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (lo === hi) {
        mean[j] = lo;
        std[j] = 1;
        notes.push(
          `Feature ${show(this.featureNames[j])} has the same value (${lo}) in every training row` +
            (opts.standardize ? '; it was centred to 0 but not scaled.' : '; it carries no information.'),
        );
        continue;
      }
      const m = sum / train.length;
      let ss = 0;
      for (let t = 0; t < train.length; t++) {
        const dv = x[train[t] * f + j] - m;
        ss += dv * dv;
      }
      const s = Math.sqrt(ss / train.length);
      mean[j] = m;
      // A spread that is float rounding noise on the mean counts as constant (sklearn guards the same way).
      if (s <= 10 * Number.EPSILON * Math.abs(m)) {
        std[j] = 1;
        notes.push(`Feature ${show(this.featureNames[j])} is constant on the training split up to rounding; it was ${opts.standardize ? 'centred but not scaled' : 'left as it is'}.`);
      } else {
        std[j] = s;
      }
    }

    const take = (rows: Int32Array, standardize = opts.standardize) => {
      const out = new Float32Array(rows.length * f);
      for (let i = 0; i < rows.length; i++) {
        const src = rows[i] * f;
        for (let j = 0; j < f; j++) {
          const v = x[src + j];
          out[i * f + j] = standardize ? (v - mean[j]) / std[j] : v;
        }
      }
      return out;
    };
    // x, plus the file's values when asked for (x already is them without standardisation).
    const features = (rows: Int32Array) => {
      const xs = take(rows);
      return opts.keepRaw ? { x: xs, raw: opts.standardize ? take(rows, false) : xs } : { x: xs };
    };
    const common = {
      kind: 'tabular' as const,
      source,
      features: this.featureNames,
      label: opts.label,
      stats: { mean, std },
      standardized: opts.standardize,
      delimiter: this.delimiter,
      notes,
    };
    if (opts.task === 'classification') {
      const ys = (rows: Int32Array) => Uint8Array.from(rows, (r) => yClass![r]);
      return {
        ...common,
        task: 'classification',
        classes: classes!,
        train: { ...features(train), y: ys(train), count: train.length },
        ...(val.length > 0 ? { validation: { ...features(val), y: ys(val), count: val.length } } : {}),
      };
    }
    const ys = (rows: Int32Array) => Float32Array.from(rows, (r) => yRaw[r]);
    return {
      ...common,
      task: 'regression',
      train: { ...features(train), y: ys(train), count: train.length },
      ...(val.length > 0 ? { validation: { ...features(val), y: ys(val), count: val.length } } : {}),
    };
  }
}

function headerNames(fields: string[], file: string): string[] {
  const names = fields.map((h, i) => (h.trim() === '' ? `Unnamed: ${i}` : h.trim()));
  const dup = names.find((h, i) => names.indexOf(h) !== i);
  if (dup !== undefined) {
    throw new NetloomError(
      'NL_BAD_DATASET',
      `${file}, line 1: the header names column ${show(dup)} twice (columns ${names.indexOf(dup) + 1} and ${names.lastIndexOf(dup) + 1})`,
      'Give every column a distinct name in the header line, or turn off "first row is a header" if the file has none.',
    );
  }
  return names;
}

/**
 * The class order: numeric when every label is a number, natural otherwise (digit runs compare as integers,
 * the rest by code point), ties broken by plain code-point order so the order is total.
 */
export function sortLabels(labels: readonly string[]): string[] {
  const allNumeric = labels.every((l) => NUMBER.test(l));
  return [...labels].sort(allNumeric ? (a, b) => Number(a) - Number(b) || codePointCompare(a, b) : naturalCompare);
}

export function naturalCompare(a: string, b: string): number {
  const ca = chunks(a);
  const cb = chunks(b);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i];
    const y = cb[i];
    const dx = isDigit(x.charCodeAt(0));
    const dy = isDigit(y.charCodeAt(0));
    let c: number;
    if (dx && dy) {
      const xs = x.replace(/^0+(?=\d)/, '');
      const ys = y.replace(/^0+(?=\d)/, '');
      c = xs.length - ys.length || codePointCompare(xs, ys);
    } else {
      c = codePointCompare(x, y);
    }
    if (c !== 0) return c;
  }
  return ca.length - cb.length || codePointCompare(a, b);
}

function chunks(s: string): string[] {
  return s.match(/\d+|\D+/g) ?? [];
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Orders strings by Unicode code point (Python's str order), not UTF-16 code unit. */
export function codePointCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function delimiterName(d: CsvDelimiter): string {
  return d === '\t' ? 'tabs' : d === ';' ? 'semicolons' : 'commas';
}

function show(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
