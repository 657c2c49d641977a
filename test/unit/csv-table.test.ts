/**
 * csv-table.ts, as a user meets it through loadCsv: which cells are numbers, what each refusal says
 * (code, message and hint: the hint is what the user acts on), what `notes` holds (nothing, for a plain
 * file), the statistics against a direct computation on the training rows, and the order of labels.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codePointCompare, naturalCompare, sortLabels } from '../../engine/data/csv-table.js';
import { loadCsv, type CsvOptions, type TabularDataset } from '../../engine/data/csv.js';
import { splitTrainVal } from '../../engine/data/split.js';
import { NetloomError } from '../../engine/errors.js';
import { tempFiles } from '../support/temp-files.js';

const files = tempFiles('netloom-csv-table-');
const csvFile = files.write;
const classify: CsvOptions = { features: 'all-but-label', label: 'y', task: 'classification', standardize: false };
const regress: CsvOptions = { ...classify, task: 'regression' };
const load = (content: string | Uint8Array, opts: Partial<CsvOptions> = {}) => loadCsv(csvFile(content), { ...classify, ...opts });

async function refusal(content: string, opts: Partial<CsvOptions> = {}): Promise<{ code?: string; message: string; hint?: string }> {
  const file = csvFile(content);
  try {
    await loadCsv(file, { ...classify, ...opts });
  } catch (e) {
    const x = e as NetloomError;
    return { code: x.code, message: x.message.replace(path.basename(file), 'F'), hint: x.hint };
  }
  throw new Error('expected loadCsv to fail');
}
const features = (ds: TabularDataset) => Array.from(ds.train.x);

describe('numbers: what a feature or target cell may hold', () => {
  it('decimal forms are read as numbers; the float32 limit itself is in range', async () => {
    const cells = ['.55', '1e+3', '1E-3', '+2.', '-0.5', '3.4028234663852886e38', '-3.4028234663852886e38'];
    const ds = await load(`a,y\n${cells.map((c) => `${c},p`).join('\n')}\n`);
    expect(features(ds)).toEqual(cells.map((c) => Math.fround(Number(c))));
  });

  it('a decimal comma with ";" or tab, whatever its digits and sign; with "," a quoted 3,5 is text', async () => {
    const ds = await load('a;y\n-3,5;p\n12,5;q\n3,25;p\n,5;q\n', { delimiter: ';' });
    expect(features(ds)).toEqual([-3.5, 12.5, 3.25, 0.5]);
    expect(ds.notes).toEqual([`${files.last()}: some numbers use a decimal comma (3,5); they were read as decimal points (3.5).`]);
    expect((await refusal('a,y\n"3,5",p\n')).message).toBe('F, line 2, column "a" (column 1): "3,5" is not a number');
  });

  it('text that only starts or ends like a number or an infinity is not a number; an infinity is out of range', async () => {
    for (const cell of ['1.5e3x', 'x2', 'info', 'xinf', '1e', '.'])
      expect((await refusal(`a,y\n${cell},p\n`)).message, cell).toBe(`F, line 2, column "a" (column 1): "${cell}" is not a number`);
    for (const cell of ['inf', '+Infinity', '3.5e38'])
      expect(await refusal(`a,y\n${cell},p\n`), cell).toEqual({
        code: 'NL_BAD_DATASET', message: `F, line 2, column "a" (column 1): "${cell}" is outside the float32 range (about ±3.4e38)`,
        hint: 'Rescale this column (for example take its logarithm) before training.',
      });
  });

  it('an empty cell: what to do depends on whether it is a feature or the regression target', async () => {
    expect(await refusal('a,y\n,1\n', regress)).toEqual({
      code: 'NL_BAD_DATASET', message: 'F, line 2, column "a" (column 1): empty cell (a missing value) in a feature column',
      hint: 'Netloom does not guess missing values: fill them in (for example with the column mean) or remove those rows, or leave this column out of the features.',
    });
    expect(await refusal('a,y\n1, \n', regress)).toEqual({
      code: 'NL_BAD_DATASET', message: 'F, line 2, column "y" (column 2): empty cell (a missing value) in a regression target column',
      hint: 'Netloom does not guess missing values: fill them in (for example with the column mean) or remove those rows.',
    });
    expect(await refusal('a,y\n1,abc\n', regress)).toEqual({
      code: 'NL_BAD_DATASET', message: 'F, line 2, column "y" (column 2): "abc" is not a number',
      hint: 'A regression target must be a number. If this column holds categories, choose the classification task.',
    });
  });
});

describe('rows and labels', () => {
  it('blank lines anywhere are skipped; labels are trimmed (" cat" and "cat " are one class)', async () => {
    const ds = await load('a,y\n\n1, cat\n   \n2,cat \n3,dog\n\n');
    expect(ds.classes).toEqual(['cat', 'dog']);
    expect(Array.from(ds.train.y)).toEqual([0, 0, 1]);
    expect(ds.notes).toEqual([]);
  });

  it('an empty label, and a row with the wrong number of fields, each named by line', async () => {
    expect(await refusal('a,y\n1,p\n2,  \n')).toEqual({
      code: 'NL_BAD_DATASET', message: 'F, line 3, column "y" (column 2): the label is empty', hint: 'Every row needs a class label. Remove unlabelled rows, or label them.',
    });
    expect(await refusal('1;2;p\n3;4\n', { header: false, label: '2', delimiter: ';' })).toEqual({
      code: 'NL_BAD_DATASET', message: 'F, line 2: 2 fields, but the first row has 3',
      hint: 'Every row needs one value per column, separated by semicolons. A value that contains the delimiter must be wrapped in double quotes; a missing value still needs its delimiter.',
    });
  });

  it('more than 256 classes: the code and what to check', async () => {
    const rows = Array.from({ length: 257 }, (_, i) => `${i},c${i}`).join('\n');
    const e = await refusal(`a,y\n${rows}\n`);
    expect({ code: e.code, hint: e.hint }).toEqual({
      code: 'NL_BAD_DATASET',
      hint: 'Check that this is the right label column (an id or a measurement has a different value in almost every row). To predict a number, choose the regression task instead.',
    });
  });

  it('one class only: loaded, with a note that a classifier cannot learn from it', async () => {
    const ds = await load('a,y\n1,same\n2,same\n');
    expect(ds.notes).toEqual(['The label column "y" has only one class ("same"); a classifier cannot learn anything from it.']);
  });

  it('a file with no rows, or only a header: what to choose instead', async () => {
    expect(await refusal('')).toEqual({ code: 'NL_BAD_DATASET', message: 'F has no data rows', hint: 'Choose a CSV file with one row per sample below a header line naming the columns.' });
    expect(await refusal('\n\n', { header: false, label: '1' })).toEqual({ code: 'NL_BAD_DATASET', message: 'F has no data rows', hint: 'Choose a CSV file with one row per sample.' });
    expect((await refusal('a,y\n')).message).toBe('F has no data rows (only a header)');
  });

  it('without a header, one row and no line break: the delimiter is found in that row', async () => {
    const ds = await load('1;2', { header: false, label: '1' });
    expect({ delimiter: ds.delimiter, features: ds.features, classes: ds.classes }).toEqual({ delimiter: ';', features: ['0'], classes: ['2'] });
  });
});

describe('columns: names and the errors that name them', () => {
  it('a header cell of spaces is "Unnamed: <i>"', async () => {
    const ds = await load('a,  ,y\n1,2,p\n', {});
    expect(ds.features).toEqual(['a', 'Unnamed: 1']);
  });

  it('an unknown column: the role, the columns, and a near name (case and spaces ignored) or where to look', async () => {
    expect(await refusal('a,Label\n1,p\n', { label: ' label' })).toMatchObject({ code: 'NL_INVALID_ARGUMENT', hint: 'Column names are matched exactly: did you mean "Label"?' });
    expect(await refusal('a,y\n1,p\n', { features: ['b'] })).toEqual({
      code: 'NL_INVALID_ARGUMENT', message: 'F has no feature column "b"; its columns are "a", "y"',
      hint: 'Pick one of the listed columns, or check that the first line of the file is the header.',
    });
    expect(await refusal('1,p\n', { header: false, label: 'y' })).toEqual({
      code: 'NL_INVALID_ARGUMENT', message: 'F has no label column "y"; its columns are "0", "1"', hint: 'Without a header row, columns are named by position from "0".',
    });
  });

  it('only one column: no features, and what to try', async () => {
    expect(await refusal('y\np\n')).toEqual({
      code: 'NL_BAD_DATASET', message: 'F has only one column ("y", read with commas as the delimiter), so there are no features',
      hint: 'A tabular dataset needs feature columns besides the label. If the file uses another delimiter, choose it explicitly.',
    });
  });
});

describe('statistics, standardisation and the validation split', () => {
  /** Mean and population std of each feature over `rows`, straight from the definition (float64). */
  function direct(x: Float32Array, f: number, rows: number[]) {
    const mean = Array.from({ length: f }, (_, j) => rows.reduce((s, r) => s + x[r * f + j], 0) / rows.length);
    const std = mean.map((m, j) => Math.sqrt(rows.reduce((s, r) => s + (x[r * f + j] - m) ** 2, 0) / rows.length));
    return { mean, std };
  }

  it('mean and std are those of the training rows only, per feature; a last value equal to the minimum is not "constant"', async () => {
    const lines = ['a,b,c,y'];
    for (let r = 0; r < 12; r++) lines.push(`${(r * 7) % 5},${10 + ((r * 3) % 4)},${r % 2 === 0 ? 1 : 5},${r % 3}`);
    lines.push('0,10,1,0'); // the last row holds each feature's minimum
    const ds = await load(lines.join('\n') + '\n', { validationFraction: 0.25, seed: 3, task: 'regression' });
    const all = await load(lines.join('\n') + '\n', { task: 'regression' });
    const n = 13;
    // which rows are training rows: the unstratified split (regression has no classes to stratify by)
    const { train, val } = splitTrainVal(n, 0.25, 3);
    expect(Array.from(ds.validation!.y)).toEqual(Array.from(val, (r) => all.train.y[r]));
    const want = direct(all.train.x, 3, Array.from(train));
    for (let j = 0; j < 3; j++) {
      expect(ds.stats.mean[j]).toBeCloseTo(want.mean[j], 12);
      expect(ds.stats.std[j]).toBeCloseTo(want.std[j], 12);
    }
    expect(ds.notes).toEqual([]);
  });

  it('a spread that is rounding noise on a large mean counts as constant', async () => {
    const ds = await load('a,b,y\n1000000,1,p\n1000000.0000000001,2,q\n1000000,3,p\n', { standardize: true });
    expect(ds.stats.std[0]).toBe(1);
    expect(ds.notes).toEqual(['Feature "a" is constant on the training split up to rounding; it was centred but not scaled.']);
    const raw = await load('a,b,y\n1000000,1,p\n1000000.0000000001,2,q\n1000000,3,p\n');
    expect(raw.notes).toEqual(['Feature "a" is constant on the training split up to rounding; it was left as it is.']);
  });

  it('no validation split unless asked for, for either task', async () => {
    for (const opts of [classify, regress]) {
      const ds = await load('a,y\n1,2\n3,4\n', opts);
      expect('validation' in ds, opts.task).toBe(false);
    }
  });

  it('a plain valid file has no notes at all', async () => {
    for (const [content, opts] of [['a,b,y\n1,2.5,p\n3,4,q\n', classify], ['a;b;y\n1;2.5;p\n3;4;q\n', { ...classify, delimiter: ';' as const }], ['a\tb\ty\n1\t2\t3\n4\t5\t6\n', regress]] as const) {
      expect((await load(content, opts)).notes, content).toEqual([]);
    }
  });
});

describe('the file', () => {
  it.runIf(existsSync('/proc/self/fd'))('is closed after loading, whether it loaded or was refused', async () => {
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    await load('a,y\n1,p\n');
    await refusal('a,y\nx,p\n');
    expect(open()).toBe(before);
  });

  it('reports progress as bytes read so far, up to the size of the file', async () => {
    // over two 1 MiB chunks, in two rows: a long quoted note the parser skips with one indexOf
    const content = `note,a,y\n"${'z'.repeat(2_500_000)}",1,p\n"",2,q\n`;
    const seen: [number, number][] = [];
    await loadCsv(csvFile(content), { ...classify, features: ['a'], onProgress: (read, total) => seen.push([read, total]) });
    expect(seen.length).toBeGreaterThan(2);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThan(seen[i - 1][0]);
    expect(seen.at(-1)).toEqual([content.length, content.length]);
  });

  it('a UTF-8 sequence cut off at the end of the file becomes U+FFFD in the last label, and the notes say so', async () => {
    const ds = await load(Buffer.concat([Buffer.from('a,y\n1,p\n2,caf'), Buffer.from([0xc3])]));
    expect(ds.classes).toEqual(['caf\uFFFD', 'p']);
    expect(ds.notes).toEqual([`${files.last()} is not valid UTF-8: some characters were replaced with "\uFFFD". Save the file as UTF-8 if names or labels look wrong.`]);
  });
});

describe('label order', () => {
  it('numeric only when every label is a number; natural otherwise', () => {
    expect(sortLabels(['10', '9', '-1'])).toEqual(['-1', '9', '10']);
    expect(sortLabels(['b', '10', 'a', '9'])).toEqual(['9', '10', 'a', 'b']);
    expect(sortLabels(['a10', '5', 'a2'])).toEqual(['5', 'a2', 'a10']);
  });

  it('digit runs compare as numbers, leading zeros aside, however many zeros they hold', () => {
    expect(naturalCompare('class100', 'class99')).toBeGreaterThan(0);
    expect(naturalCompare('v1000', 'v999')).toBeGreaterThan(0);
    expect(naturalCompare('x007', 'x8')).toBeLessThan(0);
  });

  it('code point order past the last BMP character', () => {
    expect(codePointCompare('\uffffa', '\uffffb')).toBeLessThan(0);
    expect(codePointCompare('\uffff\u{1F600}', '\uffff\u{1F601}')).toBeLessThan(0);
  });
});
