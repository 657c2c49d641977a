/**
 * The table a CSV file describes, built record by record as the tokenizer (engine/data/csv-parse.ts) hands them
 * over: column names, feature and label columns, numbers, classes, the validation split and standardisation.
 *
 * Columns:
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
import { NetloomError } from '../errors.js';
import { isBlank, type CsvDelimiter } from './csv-parse.js';
import { splitTrainVal } from './split.js';

export type TabularTask = 'classification' | 'regression';

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
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const DECIMAL_COMMA = /^[+-]?\d*,\d+$/;

/** What the table builder needs to know, checked (engine/data/csv.ts checks a user's CsvOptions into this). */
export interface TableOptions {
  /** Feature column names in the order the model sees them, or every column except the label, in file order. */
  features: string[] | 'all-but-label';
  label: string;
  task: TabularTask;
  standardize: boolean;
  /** Whether the first record names the columns. */
  header: boolean;
  /** Share of rows moved to the validation split, in [0, 1). */
  validationFraction: number;
  seed: number;
  /** Also keep the file's values when standardising (TabularSplit.raw). */
  keepRaw: boolean;
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
export class TableBuilder {
  private columns: string[] | undefined;
  // Stryker disable next-line UnaryOperator: resolve() sets it from the header before any row is read
  private labelCol = -1;
  // Stryker disable next-line ArrayDeclaration: resolve() sets it from the header before any row is read
  private featureCols: number[] = [];
  // Stryker disable next-line ArrayDeclaration: resolve() sets it from the header before any row is read
  private featureNames: string[] = [];
  private readonly x = new Floats();
  private readonly yNum = new Floats();
  private readonly classIds = new Map<string, number>();
  private rows = 0;
  private decimalComma = false;

  constructor(
    private readonly file: string,
    private readonly opts: TableOptions,
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
      // Stryker disable next-line EqualityOperator: a typed array ignores a write past its end
      for (let r = 0; r < n; r++) yClass[r] = remap[yRaw[r]];
      if (classes.length === 1) {
        notes.push(`The label column ${show(opts.label)} has only one class (${show(classes[0])}); a classifier cannot learn anything from it.`);
      }
    }

    const { train, val } = splitTrainVal(n, opts.validationFraction, opts.seed, yClass);

    // Statistics on the training rows only, in float64: two passes (mean, then squared deviations).
    // Stryker disable next-line ArrayDeclaration: every entry is assigned below, so an empty start gives the same array
    const mean = new Array<number>(f).fill(0);
    // Stryker disable next-line ArrayDeclaration: every entry is assigned below, so an empty start gives the same array
    const std = new Array<number>(f).fill(0);
    for (let j = 0; j < f; j++) {
      let sum = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (let t = 0; t < train.length; t++) {
        const v = x[train[t] * f + j];
        sum += v;
        // Stryker disable next-line EqualityOperator: on a tie the same value is assigned
        if (v < lo) lo = v;
        // Stryker disable next-line EqualityOperator: on a tie the same value is assigned
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
      // Stryker disable next-line EqualityOperator: one more row writes past the end of the typed array, which ignores it
      for (let i = 0; i < rows.length; i++) {
        const src = rows[i] * f;
        // Stryker disable next-line EqualityOperator: one more column writes the next row's first value, written again right after (past the end for the last row: ignored)
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
    // Stryker disable next-line ConditionalExpression: not skipping: the low surrogates of two equal code points are equal too
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
