/**
 * datasetInfo over the real WebSocket of `netloom serve`, for the user's own data made here: an RGB image folder
 * (resized, with a file in a format Netloom skips), a classification CSV and a regression CSV, all named relative
 * to a project file. Each answer is compared with what the engine's loaders give for the same description (the
 * data a run trains on); then the errors (a relative path with no project file, a bad description, two datasets at
 * once), the cache (unchanged files are not read again; a changed file is), and a run's own dataset, answered from
 * memory after its file is gone.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METHODS } from '../../engine/contract/api.js';
import { startServer, type RunningServer } from '../../engine/host/serve.js';
import { loadCsvDataset, loadImageFolderDataset } from '../../engine/train/job-dataset.js';
import { connectApi, type ApiClient } from './ws-client.js';

const tmp = mkdtempSync(join(tmpdir(), 'netloom-dataset-info-'));
const PROJECT = join(tmp, 'project', 'own.netloom.json'); // never written: only its folder matters
const DATA = join(tmp, 'project', 'data');
let server: RunningServer;
let c: ApiClient;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** A w x h PNG around one colour. */
function png(w: number, h: number, rgb: number[], r: () => number): Buffer {
  const img = new pngjs.PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) {
    for (let k = 0; k < 3; k++) img.data[i * 4 + k] = Math.max(0, Math.min(255, Math.round(rgb[k] + (r() - 0.5) * 80)));
    img.data[i * 4 + 3] = 255;
  }
  return pngjs.PNG.sync.write(img);
}

/** 3 classes of 10 PNGs of assorted sizes, plus a .bmp that is skipped (and noted). */
function writeImageFolder(root: string): void {
  const r = rng(1);
  const colours: Record<string, number[]> = { green: [40, 200, 60], red: [210, 40, 40], blue: [40, 60, 210] };
  for (const [cls, rgb] of Object.entries(colours)) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < 10; i++) writeFileSync(join(root, cls, `${cls}${i}.png`), png(16 + i, 12 + (i % 3), rgb, r));
  }
  writeFileSync(join(root, 'red', 'old.bmp'), 'BM');
}

/** 90 rows: an id, 3 measurements and a class (classification) or a value (regression). */
function writeCsv(file: string): void {
  const r = rng(2);
  const lines = ['id,a,b,c,kind,value'];
  for (let i = 0; i < 90; i++) {
    const [a, b, cc] = [r() * 4, r() * 100 - 50, r()];
    lines.push(`r${i},${a.toFixed(3)},${b.toFixed(2)},${cc.toFixed(4)},${['x', 'y', 'z'][i % 3]},${(2 * a - 0.1 * b + cc).toFixed(4)}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** A CSV's records after its header, split at commas (the files here have no quotes). */
const csvLines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));

const IMAGES = { type: 'image-folder', path: 'data/colours', size: [8, 6], mode: 'rgb', validation_fraction: 0.2 } as const;
const CLASSES = { type: 'csv', path: 'data/table.csv', label: 'kind', features: ['a', 'b', 'c'], task: 'classification' } as const;
const REGRESSION = { type: 'csv', path: 'data/table.csv', label: 'value', features: ['a', 'b', 'c'], task: 'regression', validation_fraction: 0.25 } as const;

/** A successful call's result, checked against the api.ts schema. */
async function info(params: object): Promise<any> {
  const reply = await c.call('datasetInfo', params);
  expect(reply.error, JSON.stringify(reply.error)).toBeUndefined();
  const r = METHODS.datasetInfo.result.safeParse(reply.result);
  expect(r.success, r.success ? '' : r.error.message).toBe(true);
  return reply.result;
}

beforeAll(async () => {
  mkdirSync(DATA, { recursive: true });
  writeImageFolder(join(DATA, 'colours'));
  writeCsv(join(DATA, 'table.csv'));
  server = await startServer({ host: '127.0.0.1', port: 0, rendererDir: tmp, log: () => {} });
  c = await connectApi(server);
});

afterAll(async () => {
  c?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('datasetInfo: the project\'s own data', () => {
  it('an image folder: classes, split counts, the first images of each class resized as training resizes them, the loader\'s notes', async () => {
    const got = await info({ dataset: IMAGES, path: PROJECT, perClass: 3 });
    const ref = await loadImageFolderDataset({ ...IMAGES, size: [8, 6], path: join(DATA, 'colours') }, PROJECT);
    expect(got).toMatchObject({ kind: 'image-folder', name: 'image-folder', title: 'colours', sampleShape: [3, 8, 6], classes: ['blue', 'green', 'red'], testSplit: 'validation' });
    expect(got.source).toBe(join(DATA, 'colours'));
    expect(got.totals).toEqual({ train: 24, test: 6 });
    expect(got.counts).toEqual({ train: [8, 8, 8], test: [2, 2, 2] });
    expect(got.notes.join(' ')).toMatch(/Skipped image files in formats Netloom does not read yet \(1 \.bmp\)/);
    expect(got.samples).toHaveLength(9);
    if (ref.kind !== 'image') throw new Error('an image folder loads as images');
    const size = 3 * 8 * 6;
    for (let cls = 0; cls < 3; cls++) {
      const first = [...ref.train.labels.keys()].filter((i) => ref.train.labels[i] === cls).slice(0, 3);
      const mine = got.samples.filter((s: any) => s.label === cls);
      expect(mine.map((s: any) => [...Buffer.from(s.pixels, 'base64')])).toEqual(first.map((i) => [...ref.train.images.subarray(i * size, (i + 1) * size)]));
    }
  });

  it('a CSV for classification: the columns used, the rows as in the file, the standardisation statistics, class counts', async () => {
    const got = await info({ dataset: CLASSES, path: PROJECT, rows: 5 });
    const ref = await loadCsvDataset({ ...CLASSES, features: [...CLASSES.features], path: join(DATA, 'table.csv'), standardize: true, validation_fraction: 0.2, header: true }, PROJECT);
    expect(got).toMatchObject({ kind: 'csv', name: 'csv', title: 'table.csv', sampleShape: [3], classes: ['x', 'y', 'z'], testSplit: 'validation', samples: [] });
    expect(got.totals).toEqual({ train: 72, test: 18 });
    expect(got.counts).toEqual({ train: [24, 24, 24], test: [6, 6, 6] });
    expect(got.table).toMatchObject({ task: 'classification', features: ['a', 'b', 'c'], label: 'kind', standardized: true, stats: ref.stats });
    expect(got.table.rows).toHaveLength(5);
    expect(got.table.testRows).toHaveLength(5);
    // each row is the training split's, written as the file writes it (3 decimals in the file: 0.270 -> 0.27)
    const fileRows = csvLines(join(DATA, 'table.csv')).map((f) => [Number(f[1]), Number(f[2]), Number(f[3])]);
    got.table.rows.forEach((row: any, r: number) => {
      expect(row.label).toBe(ref.train.y[r]);
      row.values.forEach((v: number, j: number) => expect(Math.fround(v)).toBe(ref.train.raw[r * 3 + j]));
      expect(fileRows.some((f) => f.every((v, j) => v === row.values[j])), `${row.values} is a row of the file`).toBe(true);
    });
    expect(got.table.target).toBeUndefined();
  });

  it('a CSV for regression: the target\'s range and a histogram of both splits', async () => {
    const got = await info({ dataset: REGRESSION, path: PROJECT });
    const ref = await loadCsvDataset({ ...REGRESSION, features: [...REGRESSION.features], path: join(DATA, 'table.csv'), standardize: true, header: true }, PROJECT);
    expect(got.classes).toEqual([]);
    expect(got.totals).toEqual({ train: ref.train.count, test: ref.test.count });
    const all = [...ref.train.y, ...ref.test.y];
    const t = got.table.target;
    expect([t.min, t.max]).toEqual([Math.min(...all), Math.max(...all)]);
    expect(t.mean).toBeCloseTo(all.reduce((a, b) => a + b, 0) / all.length, 6);
    expect(t.bins.reduce((n: number, b: any) => n + b.train, 0)).toBe(ref.train.count);
    expect(t.bins.reduce((n: number, b: any) => n + b.test, 0)).toBe(ref.test.count);
    expect(got.table.rows).toHaveLength(12); // the default
  });

  it('a built-in still answers by name (and as a training.dataset value)', async () => {
    const byName = await info({ name: 'mnist', perClass: 1 });
    expect(byName).toMatchObject({ kind: 'builtin', title: 'MNIST', totals: { train: 60000, test: 10000 }, testSplit: 'test' });
    expect(await info({ dataset: 'mnist', perClass: 1 })).toEqual(byName);
  });
});

describe('datasetInfo: errors', () => {
  it('a relative path with no project file says to save the project first or use an absolute path', async () => {
    const reply = await c.call('datasetInfo', { dataset: CLASSES });
    expect(reply.error.code).toBe('NL_INVALID_ARGUMENT');
    expect(reply.error.message).toContain('"data/table.csv" is relative');
    expect(reply.error.hint).toMatch(/Save the project first or use an absolute path/);
    // an absolute path needs no project file
    expect((await info({ dataset: { ...CLASSES, path: join(DATA, 'table.csv') } })).totals.train).toBe(72);
  });

  it('a file that is not there, a bad description, two datasets at once: clear errors, and the connection keeps serving', async () => {
    const missing = await c.call('datasetInfo', { dataset: { ...CLASSES, path: 'data/nope.csv' }, path: PROJECT });
    expect(missing.error.message).toContain(join(DATA, 'nope.csv'));
    const bad = await c.call('datasetInfo', { dataset: { type: 'csv', path: 'x.csv' }, path: PROJECT });
    expect(bad.error.code).toBe('NL_INVALID_ARGUMENT');
    expect(bad.error.message).toMatch(/label/);
    const two = await c.call('datasetInfo', { name: 'mnist', dataset: CLASSES });
    expect(two.error.code).toBe('NL_BAD_REQUEST');
    expect(two.error.message).toContain('exactly one of name, dataset or runId');
    expect((await c.call('hello')).result.apiVersion).toBeGreaterThan(0);
  });
});

describe('datasetInfo: what is read again, and a run\'s own data', () => {
  it('unchanged files are answered from the cache; fresh, or a changed size or time stamp, reads them again', async () => {
    const file = join(tmp, 'cached.csv');
    const T = 1_700_000_000; // a fixed time stamp, so that it can be put back exactly
    writeCsv(file);
    utimesSync(file, T, T);
    const doc = { ...CLASSES, path: file };
    const first = await info({ dataset: doc });
    expect(first.counts.train.concat(first.counts.test)).toEqual([24, 24, 24, 6, 6, 6]);
    // the same bytes' count and time stamp, another content (a row of class x becomes y): the cache does not see it,
    // which shows the file was not read again ...
    writeFileSync(file, readFileSync(file, 'utf8').replace(',x,', ',y,'));
    utimesSync(file, T, T);
    expect(await info({ dataset: doc })).toEqual(first);
    // ... until asked to (Reload)
    const fresh = await info({ dataset: doc, fresh: true });
    expect(fresh.counts.train.concat(fresh.counts.test)).not.toEqual([24, 24, 24, 6, 6, 6]);
    expect(fresh.counts.train[0] + fresh.counts.test[0]).toBe(29);
    // a file that grows is read again by itself
    appendFileSync(file, 'r90,1,2,0.5,x,3\nr91,1,2,0.5,y,3\nr92,1,2,0.5,z,3\n');
    const grown = await info({ dataset: doc });
    expect(grown.totals.train + grown.totals.test).toBe(93);
  });

  it('a run\'s dataset is answered from the run\'s memory: the same summary, even with its file gone', async () => {
    const file = join(tmp, 'run.csv');
    writeCsv(file);
    const doc = { ...REGRESSION, path: file };
    const project = {
      format: 'netloom-project', version: 1, name: 'own data run',
      graph: {
        nodes: [
          { id: 'input', type: 'Input', name: 'input', params: { shape: [3] } },
          { id: 'fc', type: 'Linear', name: 'fc', params: { in_features: 'auto', out_features: 1 } },
          { id: 'loss', type: 'MSELoss', name: 'loss', params: {} },
        ],
        edges: [{ source: 'input', target: 'fc' }, { source: 'fc', target: 'loss' }],
      },
      training: { dataset: doc, batch_size: 16, epochs: 1, optimizer: { type: 'SGD', lr: 0.01 } },
    };
    const described = await info({ dataset: doc, rows: 4 });
    const started = await c.call('startRun', { project, overrides: { eventIntervalMs: 0 } });
    expect(started.error).toBeUndefined();
    const runId = started.result.runId;
    rmSync(file);
    expect(await info({ runId, rows: 4 })).toEqual(described);
    await c.until((e) => e.type === 'run.state' && e.runId === runId && e.state === 'finished');
    const unknown = await c.call('datasetInfo', { runId: 'run-999' });
    expect(unknown.error.code).toBe('NL_INVALID_ARGUMENT');
    await c.call('closeRun', { runId });
  });
});
