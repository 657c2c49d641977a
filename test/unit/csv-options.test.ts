/**
 * csv.ts around the parser: the options a caller can get wrong, the file's encoding, the errors
 * about the file and its header in their own words, and the order of class labels. (csv.test.ts
 * covers the parser and the columns' values.)
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codePointCompare, naturalCompare, sortLabels } from '../../engine/data/csv-table.js';
import { loadCsv, type CsvOptions } from '../../engine/data/csv.js';
import { NetloomError } from '../../engine/errors.js';
import { tempFiles } from '../support/temp-files.js';

const files = tempFiles('netloom-csv-options-');
const csvFile = files.write;
const base: CsvOptions = { features: 'all-but-label', label: 'y', task: 'classification', standardize: false };
const GOOD = 'a,b,y\n1,2,p\n3,4,q\n';

async function refusal(file: string, opts: Partial<CsvOptions>): Promise<{ code?: string; message: string; hint?: string; cause?: unknown }> {
  try {
    await loadCsv(file, { ...base, ...opts });
  } catch (e) {
    const x = e as NetloomError;
    return { code: x.code, message: x.message, hint: x.hint, cause: x.cause };
  }
  throw new Error('expected loadCsv to fail');
}

describe('loadCsv: options it refuses, before reading the file', () => {
  const file = path.join(files.dir, 'never-read.csv'); // does not exist: the options are checked first

  it('a task, a label, features, a delimiter or a seed that cannot be', async () => {
    const cases: [Partial<CsvOptions>, string, string][] = [
      [{ task: 'ranking' as 'regression' }, 'The CSV task must be "classification" or "regression", got "ranking"', 'Use classification for categories, regression for numbers to predict.'],
      [{ label: '' }, 'The CSV label column is not set', 'Name the column that holds the value to predict.'],
      [{ label: 3 as unknown as string }, 'The CSV label column is not set', 'Name the column that holds the value to predict.'],
      [{ features: [] }, 'The CSV feature columns must be a non-empty list of column names or "all-but-label"', 'Pick at least one input column.'],
      [{ features: 'all' as 'all-but-label' }, 'The CSV feature columns must be a non-empty list of column names or "all-but-label"', 'Pick at least one input column.'],
      [{ features: ['a', 2 as unknown as string] }, 'The CSV feature columns must be a non-empty list of column names or "all-but-label"', 'Pick at least one input column.'],
      [{ features: ['a', 'b', 'a'] }, 'Feature column "a" is listed twice', 'List each input column once.'],
      [{ features: ['a', 'y'] }, 'Column "y" is both the label and a feature', 'Remove the label column from the features: the model must not see the answer.'],
      [{ delimiter: '|' as ',' }, 'The CSV delimiter must be ",", ";" or a tab, got "|"', 'Leave it unset to detect it from the file.'],
      [{ seed: 0.5 }, 'The split seed must be an integer, got 0.5', 'Use a whole number such as 0.'],
    ];
    for (const [opts, message, hint] of cases) {
      const e = await refusal(file, opts);
      expect({ code: e.code, message: e.message, hint: e.hint }, JSON.stringify(opts)).toEqual({ code: 'NL_INVALID_ARGUMENT', message, hint });
    }
  });

  it('the options it accepts', async () => {
    const f = csvFile(GOOD);
    for (const opts of [{ features: ['b', 'a'] }, { task: 'regression' as const, label: 'a', features: ['b'] }, { delimiter: ',' as const }, { seed: -3 }])
      await expect(loadCsv(f, { ...base, ...opts }), JSON.stringify(opts)).resolves.toBeDefined();
  });

  it('keepRaw keeps the file\'s values beside the standardised ones, only when asked (true, not truthy)', async () => {
    const f = csvFile('a,y\n1,p\n3,q\n');
    const raw = await loadCsv(f, { ...base, standardize: true, keepRaw: true });
    expect(Array.from(raw.train.raw!)).toEqual([1, 3]);
    expect(Array.from(raw.train.x)).toEqual([-1, 1]);
    expect((await loadCsv(f, { ...base, standardize: true })).train.raw).toBeUndefined();
    expect((await loadCsv(f, { ...base, standardize: true, keepRaw: 1 as unknown as boolean })).train.raw).toBeUndefined();
  });
});

describe('loadCsv: the file', () => {
  it('missing, a folder: what is wrong and what to do', async () => {
    const missing = path.join(files.dir, 'nope.csv');
    const e = await refusal(missing, {});
    expect({ code: e.code, message: e.message, hint: e.hint }).toEqual({ code: 'NL_DATASET_MISSING', message: `CSV file ${missing} does not exist`, hint: 'Check the path, or choose the file again.' });
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    const folder = path.join(files.dir, 'folder.csv');
    mkdirSync(folder);
    const f = await refusal(folder, {});
    expect({ code: f.code, message: f.message, hint: f.hint }).toEqual({ code: 'NL_DATASET_MISSING', message: `${folder} is not a file`, hint: 'Choose a .csv file, not a folder.' });
    const through = path.join(csvFile(GOOD), 'x.csv');
    const g = await refusal(through, {});
    expect({ code: g.code, message: g.message, hint: g.hint }).toEqual({
      code: 'NL_IO', message: `Could not read ${through}: ENOTDIR: not a directory, open '${through}'`, hint: 'Check that the file is readable and not locked by another program.',
    });
  });

  it('UTF-16 in either byte order by its byte order mark; anything else is UTF-8', async () => {
    const text = 'a,y\n1,ä\n2,ö\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    for (const [name, bytes] of [['LE', le], ['BE', be]] as const) expect((await loadCsv(csvFile(bytes), base)).classes, name).toEqual(['ä', 'ö']);
    // half a mark is no mark: the file is read as UTF-8, with a note about the byte it could not read
    for (const first of [0xff, 0xfe]) {
      const f = csvFile(Buffer.concat([Buffer.from([first]), Buffer.from(text)]));
      const ds = await loadCsv(f, base);
      expect(ds.features, first.toString(16)).toEqual(['\uFFFDa']);
      expect(ds.notes).toContain(`${path.basename(f)} is not valid UTF-8: some characters were replaced with "\uFFFD". Save the file as UTF-8 if names or labels look wrong.`);
    }
  });
});

describe('loadCsv: the header', () => {
  it('blank names become "Unnamed: <index>", others are trimmed', async () => {
    const ds = await loadCsv(csvFile(' a ,,y\n1,2,p\n3,4,q\n'), base);
    expect(ds.features).toEqual(['a', 'Unnamed: 1']);
  });

  it('a name given twice is refused with both columns', async () => {
    const f = csvFile('a,b, a,y\n1,2,3,p\n');
    const e = await refusal(f, {});
    expect({ code: e.code, message: e.message, hint: e.hint }).toEqual({
      code: 'NL_BAD_DATASET', message: `${path.basename(f)}, line 1: the header names column "a" twice (columns 1 and 3)`,
      hint: 'Give every column a distinct name in the header line, or turn off "first row is a header" if the file has none.',
    });
  });

  it('a long name is quoted up to 40 characters', async () => {
    const long = 'n'.repeat(41);
    const e = await refusal(csvFile(`${long},${long},y\n1,2,p\n`), {});
    expect(e.message).toContain(`column "${'n'.repeat(40)}…" twice`);
    const forty = 'm'.repeat(40);
    expect((await refusal(csvFile(`${forty},${forty},y\n1,2,p\n`), {})).message).toContain(`column "${forty}" twice`);
  });

  it('the delimiter is named by name in the hints', async () => {
    const hint = async (text: string) => (await refusal(csvFile(text), {})).hint;
    expect(await hint('a,y\n1,p\n1,2,p\n')).toMatch(/^Every row needs one value per column, separated by commas\. /);
    expect(await hint('a;y\n1;p\n1;2;p\n')).toMatch(/separated by semicolons\./);
    expect(await hint('a\ty\n1\tp\n1\t2\tp\n')).toMatch(/separated by tabs\./);
    const one = await refusal(csvFile('y\np\nq\n'), {});
    expect(one.message).toMatch(/has only one column \("y", read with commas as the delimiter\), so there are no features$/);
  });
});

describe('label order', () => {
  it('numeric labels by value (ties by spelling); any other label makes the order natural', () => {
    expect(sortLabels(['10', '9', '1e1', '-2', '010'])).toEqual(['-2', '9', '010', '10', '1e1']);
    expect(sortLabels(['10', '9', 'x'])).toEqual(['9', '10', 'x']);
    expect(sortLabels(['b10', 'b9', 'a'])).toEqual(['a', 'b9', 'b10']);
  });

  it('naturalCompare: digit runs by value (leading zeros aside), text by code point, then the shorter, then the spelling', () => {
    const sorted = (xs: string[]) => [...xs].sort(naturalCompare);
    expect(sorted(['x10', 'x9', 'x010', 'x0', 'x00'])).toEqual(['x0', 'x00', 'x9', 'x010', 'x10']);
    expect(sorted(['a2b', 'a2', 'a10', 'a2a'])).toEqual(['a2', 'a2a', 'a2b', 'a10']);
    expect(sorted(['b', 'a1', '1a', '10'])).toEqual(['1a', '10', 'a1', 'b']);
    expect(sorted(['a', '', 'A'])).toEqual(['', 'A', 'a']);
    expect(naturalCompare('007', '7')).toBeLessThan(0);
    expect(naturalCompare('7', '007')).toBeGreaterThan(0);
    expect(naturalCompare('v1.10', 'v1.9')).toBeGreaterThan(0);
    expect(naturalCompare('same', 'same')).toBe(0);
    expect(Math.sign(naturalCompare('/', '0'))).toBe(-1); // "/" is not a digit (the code point before "0")
    expect(Math.sign(naturalCompare(':', '9'))).toBe(1); // nor ":" (the one after "9")
    expect(sorted(['9a', ':a', '/a'])).toEqual(['/a', '9a', ':a']);
  });

  it('codePointCompare orders by code point, so characters beyond U+FFFF sort after the rest', () => {
    const sorted = (xs: string[]) => [...xs].sort(codePointCompare);
    // UTF-16 order would put U+1F600 (a surrogate pair, 0xD83D...) before U+FF5E
    expect(sorted(['\u{1F600}', '\uFF5E', 'a'])).toEqual(['a', '\uFF5E', '\u{1F600}']);
    expect(sorted(['\u{1F600}b', '\u{1F600}a', '\u{1F600}'])).toEqual(['\u{1F600}', '\u{1F600}a', '\u{1F600}b']);
    expect(codePointCompare('ab', 'abc')).toBeLessThan(0);
    expect(codePointCompare('abc', 'ab')).toBeGreaterThan(0);
    expect(codePointCompare('x', 'x')).toBe(0);
    expect(codePointCompare('\uFFFF', '\u{10000}')).toBeLessThan(0);
  });
});
