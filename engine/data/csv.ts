/**
 * Tabular datasets from a CSV file: numeric feature columns and one label column, as a user would load them
 * with pandas.read_csv and feed to a torch.nn.Linear stack.
 *
 * This module reads the file: it checks the options, decodes the bytes and streams them in 1 MiB chunks through
 * the tokenizer (engine/data/csv-parse.ts, with the parsing rules) into the table builder
 * (engine/data/csv-table.ts, with the rules for columns, values, classes, validation and standardisation).
 */
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { NetloomError } from '../errors.js';
import { openUserFile } from '../io/read-file.js';
import { CsvParser, DELIMITERS, detectDelimiter, type CsvDelimiter } from './csv-parse.js';
import { TableBuilder, type TableOptions, type TabularDataset, type TabularTask } from './csv-table.js';
import { checkValidationFraction } from './split.js';

// what loadCsv's callers need to name, from the modules that define it
export type { CsvDelimiter } from './csv-parse.js';
export type { TabularDataset, TabularSplit, TabularTask } from './csv-table.js';

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

const CHUNK_BYTES = 1 << 20;
const SNIFF_CHARS = 64 * 1024;

/** Reads a CSV file into a TabularDataset (the rules are in the comments of csv-parse.ts and csv-table.ts). */
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
    // Stryker disable next-line OptionalChaining: what fs throws is always an Error object
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
  } finally /* Stryker disable next-line BlockStatement: belt and braces: the read stream closes the handle itself at its end and when the loop leaves early (autoClose) */ {
    await handle.close().catch(() => undefined);
  }
  if (decoder) {
    // the flush turns bytes cut off at the end of the file into U+FFFD too
    const tail = decoder.decode();
    if (tail.includes('\uFFFD')) replaced = true;
    pending += tail;
  }
  if (!parser) start(true);
  else parser.push(pending);
  parser!.end();
  if (replaced) {
    notes.push(`${name} is not valid UTF-8: some characters were replaced with "\uFFFD". Save the file as UTF-8 if names or labels look wrong.`);
  }
  return table!.finish(source);
}

interface CheckedOptions extends TableOptions {
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
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: the second byte of UTF-8 text is never 0xFE or 0xFF, so only this BOM passes either way (a file of the BOM alone is refused as empty either way)
  if (first.length >= 2 && first[0] === 0xff && first[1] === 0xfe) return 'utf-16le';
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: the second byte of UTF-8 text is never 0xFE or 0xFF, so only this BOM passes either way (a file of the BOM alone is refused as empty either way)
  if (first.length >= 2 && first[0] === 0xfe && first[1] === 0xff) return 'utf-16be';
  return 'utf-8'; // TextDecoder drops a UTF-8 BOM (and the UTF-16 ones above) itself.
}

function ioError(e: unknown, file: string): NetloomError {
  // Stryker disable next-line OptionalChaining: what fs throws is always an Error object
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') {
    return new NetloomError('NL_DATASET_MISSING', `CSV file ${file} does not exist`, 'Check the path, or choose the file again.', { cause: e });
  }
  // Stryker disable next-line OptionalChaining: what fs throws is always an Error object
  return new NetloomError('NL_IO', `Could not read ${file}: ${(e as Error)?.message ?? String(e)}`, 'Check that the file is readable and not locked by another program.', { cause: e });
}
