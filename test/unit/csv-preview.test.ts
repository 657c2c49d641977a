/**
 * csvPreview (engine/data/csv-preview.ts): columns, delimiter and first rows of a CSV file, whether
 * each column can be a numeric feature (and the first cell that says no), the task a label column
 * suggests, and that only the start of a big file is read. Judged by the dataset loader's own parser.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PREVIEW_ROWS, previewCsv } from '../../engine/data/csv-preview.js';
import { loadCsv } from '../../engine/data/csv.js';
import { CsvPreviewDto } from '../../engine/contract/api.js';
import { NetloomError } from '../../engine/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'netloom-csv-preview-'));
const write = (name: string, text: string | Buffer) => {
  const f = join(tmp, name);
  writeFileSync(f, text);
  return f;
};

describe('previewCsv', () => {
  it('describes the columns: numeric or not (and why), distinct values, the task a label suggests', async () => {
    const f = write('iris.csv', 'id,"sepal length",petals,grade,species\n' + Array.from({ length: 30 }, (_, i) => `r${i},${(5 + i / 10).toFixed(1)},${i % 4},${i % 3},${['setosa', 'virginica'][i % 2]}`).join('\n') + '\n');
    const p = await previewCsv(f);
    expect(CsvPreviewDto.parse(p)).toEqual(p); // what the API sends
    expect(p).toMatchObject({ delimiter: ',', header: true, complete: true, sampledRows: 30 });
    expect(p.columns.map((c) => c.name)).toEqual(['id', 'sepal length', 'petals', 'grade', 'species']);
    const [id, sepal, petals, grade, species] = p.columns;
    expect(id).toMatchObject({ numeric: false, reason: '"r0" on line 2 is not a number', task: 'classification' });
    expect(sepal).toMatchObject({ numeric: true, reason: null, integer: false, task: 'regression', distinct: 30 });
    expect(petals).toMatchObject({ numeric: true, integer: true, distinct: 4, task: 'classification' }); // few whole numbers: classes
    expect(grade.task).toBe('classification');
    expect(species).toMatchObject({ numeric: false, task: 'classification', distinct: 2 });
    expect(p.rows).toHaveLength(PREVIEW_ROWS);
    expect(p.rows[0]).toEqual(['r0', '5.0', '0', '0', 'setosa']);
  });

  it('agrees with the loader: the columns it calls numeric load as features', async () => {
    const f = write('mixed.csv', 'a;b;c;label\n1,5;2;x;yes\n2,5;3;y;no\n3;4;z;yes\n');
    const p = await previewCsv(f);
    expect(p.delimiter).toBe(';'); // detected; a decimal comma counts as a number with ;
    const features = p.columns.filter((c) => c.numeric && c.name !== 'label').map((c) => c.name);
    expect(features).toEqual(['a', 'b']);
    const ds = await loadCsv(f, { features, label: 'label', task: 'classification', standardize: false });
    expect(Array.from(ds.train.x)).toEqual([1.5, 2, 2.5, 3, 3, 4]);
    await expect(loadCsv(f, { features: ['c'], label: 'label', task: 'classification', standardize: false })).rejects.toThrow(/not a number/);
  });

  it('reports empty cells and short rows, and names columns like the loader without a header', async () => {
    const f = write('gaps.csv', 'x,y,z\n1,2,3\n4,,6\n7,8\n');
    const p = await previewCsv(f);
    expect(p.columns.map((c) => c.reason)).toEqual([null, 'empty cell on line 3', 'line 4 has only 2 of 3 columns']);
    const h = await previewCsv(f, { header: false });
    expect(h.columns.map((c) => c.name)).toEqual(['0', '1', '2']);
    expect(h.rows[0]).toEqual(['x', 'y', 'z']);
    expect(h.columns[0]).toMatchObject({ numeric: false, reason: '"x" on line 1 is not a number' });
  });

  it('reads only the start of a big file and never shows a half record', async () => {
    const row = '1.25,2.5,3.75,text label\n';
    const f = write('big.csv', `a,b,c,d\n${row.repeat(200_000)}`); // ~5 MB
    const p = await previewCsv(f, { maxBytes: 64 * 1024 });
    expect(p.complete).toBe(false);
    expect(p.bytes).toBeGreaterThan(4_000_000);
    expect(p.sampledRows).toBeLessThan(64 * 1024 / row.length + 1);
    expect(p.columns.map((c) => c.numeric)).toEqual([true, true, true, false]); // the cut last line did not count
  });

  it('refuses what is not a readable CSV with a message that says what to do', async () => {
    await expect(previewCsv(join(tmp, 'missing.csv'))).rejects.toMatchObject({ code: 'NL_DATASET_MISSING' });
    await expect(previewCsv(tmp)).rejects.toThrow(/is not a file/);
    await expect(previewCsv(write('empty.csv', '\n\n'))).rejects.toThrow(/has no rows/);
    const dup = previewCsv(write('dup.csv', 'a,a\n1,2\n'));
    await expect(dup).rejects.toBeInstanceOf(NetloomError);
    await expect(dup).rejects.toThrow(/names column "a" twice/);
    // UTF-16 with a BOM, as Excel's "Unicode text" writes it
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a\tb\n1\t2\n', 'utf16le')]);
    const p = await previewCsv(write('u16.txt', utf16));
    expect(p).toMatchObject({ delimiter: '\t', rows: [['1', '2']] });
  });
});
