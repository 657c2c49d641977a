import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvParser, detectDelimiter, parseCsv } from '../../engine/data/csv-parse.js';
import { naturalCompare, sortLabels } from '../../engine/data/csv-table.js';
import { loadCsv, type CsvOptions } from '../../engine/data/csv.js';
import { splitTrainVal } from '../../engine/data/split.js';
import { NetloomError } from '../../engine/errors.js';
import { netloomRejection } from '../support/rejection.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-csv-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let fileNo = 0;
function csvFile(content: string | Uint8Array, name = `data${++fileNo}.csv`): string {
  const file = path.join(tmp, name);
  writeFileSync(file, content);
  return file;
}

const base: CsvOptions = { features: 'all-but-label', label: 'y', task: 'classification', standardize: false };

function failure(file: string, opts: Partial<CsvOptions> = {}): Promise<NetloomError> {
  return netloomRejection(loadCsv(file, { ...base, ...opts }));
}

describe('parseCsv (RFC 4180)', () => {
  it('reads quoted fields with delimiters, escaped quotes and line breaks inside', () => {
    const { records, lines } = parseCsv('a,b,c\n"x,1","say ""hi""","two\nlines"\nlast,,\n', ',');
    expect(records).toEqual([
      ['a', 'b', 'c'],
      ['x,1', 'say "hi"', 'two\nlines'],
      ['last', '', ''],
    ]);
    expect(lines).toEqual([1, 2, 4]); // the quoted line break moves the next record to line 4
  });

  it('accepts CRLF, lone CR, a BOM, no final line break, and skips blank lines', () => {
    const { records, lines } = parseCsv('\uFEFFa,b\r\n1,2\r\n\r\n3,4\r5,6', ',');
    expect(records).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
      ['5', '6'],
    ]);
    expect(lines).toEqual([1, 2, 4, 5]);
  });

  it('keeps a quote inside an unquoted field and allows spaces after a closing quote', () => {
    expect(parseCsv('5" pipe,"q"  ,z\n', ',').records).toEqual([['5" pipe', 'q', 'z']]);
  });

  it('detects comma, semicolon and tab delimiters', () => {
    expect(parseCsv('a,b,c\n1,2,3\n').delimiter).toBe(',');
    expect(parseCsv('a;b;c\n1,5;2,5;3\n').delimiter).toBe(';'); // decimal commas do not fool it
    expect(parseCsv('a\tb\n"x;y"\t2\n').delimiter).toBe('\t');
    expect(parseCsv('"a,b";c\n"1,2";3\n').delimiter).toBe(';'); // commas inside quotes do not count
    expect(detectDelimiter('single\n1\n2\n', true)).toBe(',');
  });

  it('gives the same records whichever way the text is cut into chunks', () => {
    const text = 'a;"b\r\nc";"d""e"\r\n1;2;3\r\n"";x;"y"\r\n';
    const whole = parseCsv(text, ';');
    for (const step of [1, 2, 3, 5]) {
      const got: string[][] = [];
      const lines: number[] = [];
      const p = new CsvParser(';', (f, l) => {
        got.push(f);
        lines.push(l);
      });
      for (let i = 0; i < text.length; i += step) p.push(text.slice(i, i + step));
      p.end();
      expect(got).toEqual(whole.records);
      expect(lines).toEqual(whole.lines);
    }
    expect(whole.records[0]).toEqual(['a', 'b\r\nc', 'd"e']);
    expect(whole.lines).toEqual([1, 3, 4]);
  });

  it('reports an unterminated quote and text after a closing quote with line and column', () => {
    expect(() => parseCsv('a,b\n1,"open\n', ',')).toThrow(/line 2: a quoted field starting at column 3 is never closed/);
    const e = (() => {
      try {
        parseCsv('a,b\n1,2\n3,"x"y\n', ',');
      } catch (err) {
        return err as NetloomError;
      }
    })();
    expect(e?.code).toBe('NL_BAD_DATASET');
    expect(e?.message).toBe('CSV text, line 3, column 6: unexpected "y" after the closing quote of a quoted field');
    expect(e?.hint).toMatch(/two quotes/);
  });
});

describe('label order', () => {
  it('sorts numeric labels by value and others naturally', () => {
    expect(sortLabels(['10', '2', '1', '-1'])).toEqual(['-1', '1', '2', '10']);
    expect(sortLabels(['class10', 'class2', 'class1', 'Class3'])).toEqual(['Class3', 'class1', 'class2', 'class10']);
    expect(sortLabels(['b', 'a', 'c'])).toEqual(['a', 'b', 'c']);
    expect(naturalCompare('img007', 'img7')).not.toBe(0); // equal numbers, still a total order
  });
});

describe('loadCsv', () => {
  it('maps classification labels to sorted class indices', async () => {
    const file = csvFile('x1,x2,y\n1,2,versicolor\n3,4,setosa\n5,6,virginica\n7,8,setosa\n');
    const ds = await loadCsv(file, base);
    expect(ds.kind).toBe('tabular');
    expect(ds.task).toBe('classification');
    expect(ds.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(ds.features).toEqual(['x1', 'x2']);
    expect(ds.delimiter).toBe(',');
    expect(ds.train.count).toBe(4);
    expect(Array.from(ds.train.y)).toEqual([1, 0, 2, 0]);
    expect(ds.train.y).toBeInstanceOf(Uint8Array);
    expect(Array.from(ds.train.x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ds.validation).toBeUndefined();
    expect(ds.source).toBe(file);
  });

  it('orders integer labels numerically and picks listed features in the given order', async () => {
    const file = csvFile('id,a,b,y\nr1,1,10,10\nr2,2,20,2\nr3,3,30,1\n');
    const ds = await loadCsv(file, { ...base, features: ['b', 'a'] });
    expect(ds.classes).toEqual(['1', '2', '10']);
    expect(Array.from(ds.train.y)).toEqual([2, 1, 0]);
    expect(Array.from(ds.train.x)).toEqual([10, 1, 20, 2, 30, 3]); // the text id column is never parsed
  });

  it('reads regression targets as floats', async () => {
    const file = csvFile('x;y\n1;0.5\n2;-1.25e1\n');
    const ds = await loadCsv(file, { ...base, task: 'regression' });
    expect(ds.task).toBe('regression');
    expect(ds.delimiter).toBe(';');
    expect(ds.train.y).toBeInstanceOf(Float32Array);
    expect(Array.from(ds.train.y)).toEqual([0.5, -12.5]);
    expect(ds.classes).toBeUndefined();
  });

  it('reads quoted numbers, CRLF, a BOM and semicolons with decimal commas', async () => {
    const file = csvFile('\uFEFF"x";"y"\r\n"1,5";a\r\n 2 ;b\r\n');
    const ds = await loadCsv(file, base);
    expect(ds.features).toEqual(['x']);
    expect(Array.from(ds.train.x)).toEqual([1.5, 2]);
    expect(ds.notes.join('\n')).toMatch(/decimal comma/);
  });

  it('reads a UTF-16 file with a BOM (Excel "Unicode text")', async () => {
    const text = '\uFEFFx\ty\n1\tä\n2\tö\n';
    const buf = Buffer.from(text, 'utf16le');
    const ds = await loadCsv(csvFile(buf), base);
    expect(ds.classes).toEqual(['ä', 'ö']);
    expect(ds.delimiter).toBe('\t');
  });

  it('names columns 0, 1, ... without a header', async () => {
    const ds = await loadCsv(csvFile('1,2,a\n3,4,b\n'), { ...base, header: false, label: '2' });
    expect(ds.features).toEqual(['0', '1']);
    expect(ds.train.count).toBe(2);
  });

  it('reports a text cell with file, line, column name and value', async () => {
    const file = csvFile('a,b,y\n1,2,x\n3,abc,x\n', 'bad-text.csv');
    const e = await failure(file);
    expect(e.code).toBe('NL_BAD_DATASET');
    expect(e.message).toBe('bad-text.csv, line 3, column "b" (column 2): "abc" is not a number');
    expect(e.hint).toMatch(/Leave this column out of the features/);
  });

  it('reports an empty cell as a missing value, past a multi-line quoted label', async () => {
    const file = csvFile('a,b,y\n1,2,"two\nlines"\n3,,x\n', 'bad-empty.csv');
    const e = await failure(file);
    expect(e.message).toBe('bad-empty.csv, line 4, column "b" (column 2): empty cell (a missing value) in a feature column');
    expect(e.hint).toMatch(/does not guess missing values/);
  });

  it('reports NaN, infinities and out-of-range values', async () => {
    expect((await failure(csvFile('a,y\nNaN,1\n', 'nan.csv'))).message).toBe('nan.csv, line 2, column "a" (column 1): "NaN" is not a number');
    expect((await failure(csvFile('a,y\n-inf,1\n', 'inf.csv'))).message).toMatch(/"-inf" is outside the float32 range/);
    expect((await failure(csvFile('a,y\n1e39,1\n', 'big.csv'))).message).toMatch(/"1e39" is outside the float32 range/);
    const e = await failure(csvFile('a,y\n1,high\n', 'reg.csv'), { task: 'regression' });
    expect(e.message).toBe('reg.csv, line 2, column "y" (column 2): "high" is not a number');
    expect(e.hint).toMatch(/choose the classification task/);
  });

  it('reports rows with the wrong number of fields', async () => {
    const e = await failure(csvFile('a,b,y\n1,2,x\n1,2,3,x\n', 'ragged.csv'));
    expect(e.message).toBe('ragged.csv, line 3: 4 fields, but the header has 3');
    expect(e.hint).toMatch(/double quotes/);
  });

  it('reports unknown columns with the list and a near miss', async () => {
    const e = await failure(csvFile('Sepal,Label\n1,a\n', 'cols.csv'), { label: 'label' });
    expect(e.code).toBe('NL_INVALID_ARGUMENT');
    expect(e.message).toBe('cols.csv has no label column "label"; its columns are "Sepal", "Label"');
    expect(e.hint).toMatch(/did you mean "Label"/);
    expect((await failure(csvFile('a,a,y\n1,2,3\n', 'dup.csv'))).message).toMatch(/names column "a" twice \(columns 1 and 2\)/);
    expect((await failure(csvFile('a,y\n', 'empty.csv'))).message).toBe('empty.csv has no data rows (only a header)');
  });

  it('refuses more than 256 classes', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `${i},id${i}`).join('\n');
    const e = await failure(csvFile(`x,y\n${rows}\n`, 'ids.csv'));
    expect(e.message).toBe('ids.csv, line 258, column "y" (column 2): label "id256" is distinct value number 257; classification supports at most 256 classes');
    expect(e.hint).toMatch(/regression/);
  });

  it('standardises with population mean and std: x = 1, 2, 3, 4 -> mean 2.5, std sqrt(1.25)', async () => {
    const ds = await loadCsv(csvFile('x,c,y\n1,7,0\n2,7,1\n3,7,0\n4,7,1\n'), { ...base, standardize: true });
    expect(ds.stats.mean).toEqual([2.5, 7]);
    expect(ds.stats.std[0]).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(ds.stats.std[1]).toBe(1); // constant: only centred
    const s = Math.sqrt(1.25);
    const expected = [-1.5 / s, 0, -0.5 / s, 0, 0.5 / s, 0, 1.5 / s, 0];
    Array.from(ds.train.x).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    expect(ds.train.x[0]).toBeCloseTo(-1.3416408, 6);
    expect(ds.notes.join('\n')).toMatch(/Feature "c" has the same value \(7\) in every training row; it was centred to 0 but not scaled/);
    expect(ds.standardized).toBe(true);
  });

  it('computes the statistics on the training split only and applies them to validation', async () => {
    // Rows x = 1, 2, 3, 4, 100 (target = row number); find the seed that puts row 4 (x = 100) in validation.
    let seed = 0;
    while (splitTrainVal(5, 0.2, seed).val[0] !== 4) seed++;
    const ds = await loadCsv(csvFile('x,y\n1,0\n2,1\n3,2\n4,3\n100,4\n'), { ...base, task: 'regression', standardize: true, validationFraction: 0.2, seed });
    expect(Array.from(ds.validation!.y)).toEqual([4]);
    expect(Array.from(ds.train.y)).toEqual([0, 1, 2, 3]);
    expect(ds.stats.mean).toEqual([2.5]); // 100 is not in the mean
    expect(ds.stats.std[0]).toBeCloseTo(1.1180339887, 9);
    expect(ds.validation!.x[0]).toBeCloseTo((100 - 2.5) / Math.sqrt(1.25), 4); // 87.2067
    expect(ds.train.x[3]).toBeCloseTo(1.3416408, 6);
  });

  it('leaves values raw without standardize but still reports the training statistics', async () => {
    const ds = await loadCsv(csvFile('x,y\n2,a\n4,b\n'), base);
    expect(Array.from(ds.train.x)).toEqual([2, 4]);
    expect(ds.stats).toEqual({ mean: [3], std: [1] });
    expect(ds.standardized).toBe(false);
  });

  it('splits classification data stratified by class', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i},${i % 4 === 0 ? 'rare' : 'common'}`).join('\n');
    const ds = await loadCsv(csvFile(`x,y\n${rows}\n`), { ...base, validationFraction: 0.25, seed: 3 });
    expect(ds.classes).toEqual(['common', 'rare']);
    expect(ds.validation!.count).toBe(10);
    // Targets 10 * 30/40 = 7.5 (common) and 10 * 10/40 = 2.5 (rare): floors 7 + 2, the tied remainder goes to class 0.
    expect(Array.from(ds.validation!.y).filter((y) => y === 1).length).toBe(2);
    expect(ds.train.count + ds.validation!.count).toBe(40);
  });

  it('streams a multi-megabyte file across chunk boundaries', async () => {
    const n = 120_000;
    const parts = ['a,b,"label"\r\n'];
    for (let i = 0; i < n; i++) parts.push(`${i},${(i * 0.5).toFixed(1)},"c${i % 3}"\r\n`);
    const file = csvFile(parts.join(''));
    const progress: number[] = [];
    const ds = await loadCsv(file, { ...base, label: 'label', onProgress: (read) => progress.push(read) });
    expect(ds.train.count).toBe(n);
    expect(ds.classes).toEqual(['c0', 'c1', 'c2']);
    expect(ds.train.x[2 * 99_999]).toBe(99_999);
    expect(ds.train.x[2 * 99_999 + 1]).toBe(49_999.5);
    expect(ds.train.y[n - 1]).toBe((n - 1) % 3);
    expect(progress.length).toBeGreaterThan(1);
  });

  it('reports a missing file', async () => {
    const e = await failure(path.join(tmp, 'nope.csv'));
    expect(e.code).toBe('NL_DATASET_MISSING');
    expect(e.message).toBe(`CSV file ${path.join(tmp, 'nope.csv')} does not exist`);
  });

  it('rejects inconsistent options', async () => {
    const file = csvFile('a,y\n1,2\n');
    await expect(loadCsv(file, { ...base, features: ['y'] })).rejects.toThrow(/both the label and a feature/);
    await expect(loadCsv(file, { ...base, validationFraction: 1 })).rejects.toThrow(/validation fraction/);
  });
});
