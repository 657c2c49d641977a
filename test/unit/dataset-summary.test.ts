/**
 * The dataset view's summaries (engine/train/dataset-info.ts) and how a project's dataset description is read for
 * it (engine/train/dataset-load.ts): checked against the data the loaders give and against sums computed here
 * the plain way, not against numbers written by hand.
 */
import { appendFileSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isNetloomError } from '../../engine/errors.js';
import { classCounts, describeDataset, firstPerClass, targetSummary } from '../../engine/train/dataset-info.js';
import { datasetFingerprint, locateDataset, parseDatasetDoc } from '../../engine/train/dataset-load.js';
import { loadCsvDataset, type ImageJobDataset } from '../../engine/train/job-dataset.js';

const tmp = mkdtempSync(join(tmpdir(), 'netloom-dataset-summary-'));

/** A seeded LCG in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function imageDataset(): ImageJobDataset {
  const r = rng(7);
  const shape = [3, 4, 5];
  const size = 60;
  const split = (count: number) => {
    const labels = Uint8Array.from({ length: count }, () => Math.floor(r() * 3));
    const images = Uint8Array.from({ length: count * size }, () => Math.floor(r() * 256));
    return { images, labels, count };
  };
  return { kind: 'image', name: 'image-folder', title: 'pics', sampleShape: shape, classes: ['a', 'b', 'c'], train: split(50), test: split(12), source: '/x/pics', notes: ['a note'] };
}

const expectThrows = (f: () => unknown): { code: string; message: string; hint?: string } => {
  try {
    f();
  } catch (e) {
    expect(isNetloomError(e)).toBe(true);
    return e as { code: string; message: string; hint?: string };
  }
  throw new Error('did not throw');
};

describe('describeDataset: images', () => {
  it('per-class counts of both splits, the first perClass training samples of each class with their pixels, the notes', () => {
    const ds = imageDataset();
    const info = describeDataset(ds, { perClass: 4, rows: 12 });
    expect(info).toMatchObject({ kind: 'image-folder', name: 'image-folder', title: 'pics', sampleShape: [3, 4, 5], classes: ['a', 'b', 'c'], testSplit: 'validation', notes: ['a note'] });
    expect(info.totals).toEqual({ train: 50, test: 12 });
    for (const [split, counts] of [[ds.train, info.counts.train], [ds.test, info.counts.test]] as const)
      expect(counts).toEqual([0, 1, 2].map((c) => Array.from(split.labels).filter((l) => l === c).length));
    // the reference: for each class, the indices of its first 4 training samples, class by class
    const expected = [0, 1, 2].flatMap((c) => [...ds.train.labels.keys()].filter((i) => ds.train.labels[i] === c).slice(0, 4).map((i) => ({ c, i })));
    expect(info.samples.map((s) => s.label)).toEqual(expected.map((e) => e.c));
    info.samples.forEach((s, k) => expect([...Buffer.from(s.pixels, 'base64')]).toEqual([...ds.train.images.subarray(expected[k].i * 60, expected[k].i * 60 + 60)]));
    expect(info.table).toBeUndefined();
  });

  it('a class with fewer samples than perClass gives what it has; a built-in is kind builtin with a test split', () => {
    const ds = { ...imageDataset(), name: 'mnist' as const };
    const info = describeDataset(ds, { perClass: 64, rows: 0 });
    expect(info.kind).toBe('builtin');
    expect(info.testSplit).toBe('test');
    expect(info.samples).toHaveLength(50);
    expect(firstPerClass(ds.train.labels, ds.train.count, 3, 0)).toEqual([[], [], []]);
    expect(classCounts(Uint8Array.of(0, 2, 2, 9), 4, 3)).toEqual([1, 0, 2]); // a label beyond the classes is not counted
  });
});

describe('describeDataset: CSV rows', () => {
  const file = join(tmp, 'points.csv');
  const r = rng(3);
  const lines = ['id,x,y,kind,value'];
  for (let i = 0; i < 40; i++) lines.push(`p${i},${(r() * 10).toFixed(3)},${(r() * 2 - 1).toFixed(4)},${['low', 'mid', 'high'][i % 3]},${(r() * 100).toFixed(2)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const fileRows = lines.slice(1).map((l) => l.split(','));

  it('classification: the columns, rows as the file has them in file order, the training statistics, class counts', async () => {
    const ds = await loadCsvDataset({ type: 'csv', path: file, label: 'kind', features: ['x', 'y'], task: 'classification', standardize: true, validation_fraction: 0.25, header: true }, file);
    const info = describeDataset(ds, { perClass: 8, rows: 100 });
    const t = info.table!;
    expect(t).toMatchObject({ task: 'classification', features: ['x', 'y'], label: 'kind', standardized: true });
    expect(t.stats).toEqual(ds.stats);
    expect(info.sampleShape).toEqual([2]);
    expect(info.samples).toEqual([]);
    expect(t.rows).toHaveLength(info.totals.train);
    expect(t.testRows).toHaveLength(info.totals.test);
    expect(info.totals.train + info.totals.test).toBe(40);
    // every row is one of the file's, in file order within its split, and together they are the whole file
    const position = (row: { values: number[]; label: number }) =>
      fileRows.findIndex((f) => Number(f[1]) === row.values[0] && Number(f[2]) === row.values[1] && info.classes[row.label] === f[3]);
    const trainAt = t.rows.map(position);
    const testAt = t.testRows.map(position);
    expect(trainAt.every((p) => p >= 0) && testAt.every((p) => p >= 0)).toBe(true);
    expect(trainAt).toEqual([...trainAt].sort((a, b) => a - b));
    expect(testAt).toEqual([...testAt].sort((a, b) => a - b));
    expect([...trainAt, ...testAt].sort((a, b) => a - b)).toEqual([...fileRows.keys()]);
    expect(info.counts.train.reduce((a, b) => a + b, 0)).toBe(info.totals.train);
    expect(info.counts.test).toEqual(info.classes.map((c) => t.testRows.filter((row) => info.classes[row.label] === c).length));
    // rows limits both splits
    const few = describeDataset(ds, { perClass: 8, rows: 3 }).table!;
    expect([few.rows.length, few.testRows.length]).toEqual([3, 3]);
    expect(few.rows).toEqual(t.rows.slice(0, 3));
  });

  it('regression: the target summary of both splits, no class counts', async () => {
    const ds = await loadCsvDataset({ type: 'csv', path: file, label: 'value', features: ['x', 'y'], task: 'regression', standardize: false, validation_fraction: 0.2, header: true }, file);
    const info = describeDataset(ds, { perClass: 8, rows: 5, bins: 7 });
    expect(info.classes).toEqual([]);
    expect(info.counts).toEqual({ train: [], test: [] });
    const target = info.table!.target!;
    const all = [...ds.train.y, ...ds.test.y];
    expect(target.min).toBe(Math.min(...all));
    expect(target.max).toBe(Math.max(...all));
    expect(target.bins).toHaveLength(7);
    expect(target.bins.reduce((n, b) => n + b.train, 0)).toBe(ds.train.count);
    expect(target.bins.reduce((n, b) => n + b.test, 0)).toBe(ds.test.count);
    expect(info.table!.rows[0].label).toBeCloseTo(ds.train.y[0], 5);
  });
});

describe('targetSummary', () => {
  it('mean and population std; each value counted in the bin whose range holds it', () => {
    const r = rng(11);
    const train = Float32Array.from({ length: 300 }, () => Math.fround(r() ** 2 * 50 - 10));
    const test = Float32Array.from({ length: 70 }, () => Math.fround(r() * 40 - 10));
    const s = targetSummary(train, 300, test, 70, 10);
    const all = [...train, ...test];
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    expect(s.mean).toBeCloseTo(mean, 9);
    expect(s.std).toBeCloseTo(Math.sqrt(all.reduce((a, v) => a + (v - mean) ** 2, 0) / all.length), 9);
    expect(s.bins[0].from).toBe(s.min);
    expect(s.bins.at(-1)!.to).toBe(s.max);
    for (const [values, key] of [[train, 'train'], [test, 'test']] as const)
      s.bins.forEach((b, k) => {
        const last = k === s.bins.length - 1;
        const inside = [...values].filter((v) => v >= b.from && (last ? v <= b.to : v < b.to)).length;
        expect(Math.abs(b[key] - inside)).toBeLessThanOrEqual(1); // a value on an edge may fall either side by rounding
      });
    expect(s.bins.reduce((n, b) => n + b.train + b.test, 0)).toBe(370);
  });

  it('a constant target is one bin; no rows, no bins', () => {
    const s = targetSummary(Float32Array.of(2, 2, 2), 3, Float32Array.of(2), 1, 16);
    expect(s).toEqual({ min: 2, max: 2, mean: 2, std: 0, bins: [{ from: 2, to: 2, train: 3, test: 1 }] });
    expect(targetSummary(new Float32Array(0), 0, new Float32Array(0), 0).bins).toEqual([]);
  });
});

describe('reading a project\'s dataset description', () => {
  it('checks it as a project file would', () => {
    expect(parseDatasetDoc('mnist')).toBe('mnist');
    expect(parseDatasetDoc({ type: 'csv', path: 'a.csv', label: 'y' })).toMatchObject({ features: 'all-but-label', task: 'classification', validation_fraction: 0.2 });
    const e = expectThrows(() => parseDatasetDoc({ type: 'csv', path: 'a.csv' }));
    expect(e.code).toBe('NL_INVALID_ARGUMENT');
    expect(e.hint).toMatch(/built-in name/);
  });

  it('a relative path resolves beside the project file; without one it is refused, saying what to do', () => {
    const doc = { type: 'image-folder' as const, path: 'data/pics', mode: 'grey' as const, validation_fraction: 0.1 };
    expect(locateDataset(doc, '/home/u/proj/p.netloom.json')).toEqual({ ...doc, path: '/home/u/proj/data/pics' });
    expect(locateDataset({ ...doc, path: '/abs/pics' }, undefined)).toMatchObject({ path: '/abs/pics' });
    expect(locateDataset({ type: 'torchvision', name: 'mnist', root: 'data', download: false }, '/p/x.json')).toMatchObject({ root: '/p/data' });
    const e = expectThrows(() => locateDataset(doc, undefined));
    expect(e.code).toBe('NL_INVALID_ARGUMENT');
    expect(e.message).toContain('"data/pics" is relative');
    expect(e.hint).toMatch(/Save the project first or use an absolute path/);
  });

  it('the fingerprint changes when the CSV is rewritten or an image is added to a class folder', async () => {
    const csv = join(tmp, 'fp.csv');
    writeFileSync(csv, 'a,b\n1,2\n');
    const doc = { type: 'csv' as const, path: csv, label: 'b', features: 'all-but-label' as const, task: 'classification' as const, standardize: true, validation_fraction: 0.2, header: true };
    const before = await datasetFingerprint(doc);
    expect(await datasetFingerprint(doc)).toBe(before);
    appendFileSync(csv, '3,4\n');
    expect(await datasetFingerprint(doc)).not.toBe(before);

    const root = join(tmp, 'folder');
    mkdirSync(join(root, 'cat'), { recursive: true });
    writeFileSync(join(root, 'cat', 'a.png'), 'x');
    const img = { type: 'image-folder' as const, path: root, mode: 'grey' as const, validation_fraction: 0.1 };
    // the class folder's time stamp set in the past, so that adding a file surely changes it (no sleep for a later one)
    utimesSync(join(root, 'cat'), 1_600_000_000, 1_600_000_000);
    const f1 = await datasetFingerprint(img);
    writeFileSync(join(root, 'cat', 'b.png'), 'y');
    expect(await datasetFingerprint(img)).not.toBe(f1);
    expect(await datasetFingerprint({ ...img, path: join(tmp, 'nothing-here') })).toBe('absent');
  });
});
