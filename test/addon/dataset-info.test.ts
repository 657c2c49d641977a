/**
 * EngineService.datasetInfo in process: the dataset view's data (classes, per-class counts, the first
 * samples of each class), checked against its api.ts schema and the dataset itself.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../engine/data/datasets.js';
import { isNetloomError } from '../../engine/errors.js';
import { METHODS } from '../../engine/contract/api.js';
import { EngineService } from '../../engine/host/service.js';
import { invertChanges, trainingAfter, type GraphChange } from '../../renderer/state/graph';

const service = new EngineService();

describe('datasetInfo', () => {
  it('MNIST: classes, counts summing to 60000 / 10000, 8 samples per class of shape [1, 28, 28]', async () => {
    const params = METHODS.datasetInfo.params.parse({ name: 'mnist' });
    expect(params.perClass).toBe(8);
    const info = await service.datasetInfo(params);
    const r = METHODS.datasetInfo.result.safeParse(info);
    expect(r.success, r.success ? '' : r.error.message).toBe(true);
    expect(info).toMatchObject({ name: 'mnist', title: 'MNIST', sampleShape: [1, 28, 28] });
    expect(info.classes).toHaveLength(10);
    expect(info.counts.train).toHaveLength(10);
    expect(info.counts.train.reduce((a, b) => a + b, 0)).toBe(60000);
    expect(info.counts.test.reduce((a, b) => a + b, 0)).toBe(10000);
    expect(info.samples).toHaveLength(80);
    for (let c = 0; c < 10; c++) expect(info.samples.filter((s) => s.label === c)).toHaveLength(8);
    // class by class, and each sample is the dataset's pixels: the first training sample of its class
    expect(info.samples.map((s) => s.label)).toEqual([...Array(10).keys()].flatMap((c) => Array(8).fill(c)));
    const ds = await loadDataset('mnist');
    const first0 = ds.train.labels.indexOf(0);
    const px = Buffer.from(info.samples[0].pixels, 'base64');
    expect(px.length).toBe(784);
    expect([...px]).toEqual([...ds.train.images.subarray(first0 * 784, first0 * 784 + 784)]);
  });

  // The cache is checked by counting loads (EngineService.memory(): DatasetCache's count of load() calls), not by
  // timing a call: a load takes a few hundred milliseconds, and a timed bound passes with the cache switched off.
  it('perClass is honoured; the same request again is answered from the cache, with no second load', async () => {
    const s = new EngineService();
    const loads = () => s.memory().datasets.loads;
    expect(loads()).toBe(0);
    const info = await s.datasetInfo({ name: 'mnist', perClass: 2 });
    expect(info.samples).toHaveLength(20);
    expect(loads()).toBe(1);
    expect(await s.datasetInfo({ name: 'mnist', perClass: 2 })).toEqual(info);
    expect(await s.datasetInfo({ name: 'mnist', perClass: 2, rows: 12 })).toEqual(info); // the default rows, spelled out
    expect(loads()).toBe(1);
    // Reload (fresh) reads the data again
    expect(await s.datasetInfo({ name: 'mnist', perClass: 2, fresh: true })).toEqual(info);
    expect(loads()).toBe(2);
  });

  it('requests made at the same time share one load, whatever each one asks for', async () => {
    const s = new EngineService();
    const [a, b, c] = await Promise.all([
      s.datasetInfo({ name: 'mnist', perClass: 1 }),
      s.datasetInfo({ name: 'mnist', perClass: 3 }),
      s.datasetInfo({ name: 'mnist', perClass: 1 }),
    ]);
    expect([a.samples.length, b.samples.length]).toEqual([10, 30]);
    expect(c).toEqual(a);
    expect(s.memory().datasets.loads).toBe(1);
    // and nothing is held once they are answered (only the summaries are kept)
    expect(s.memory().datasets.datasets).toEqual([]);
  });

  it('a dataset that is not there is an NL_DATASET_MISSING that says how to download it', async () => {
    const prev = process.env.NETLOOM_DATA_DIR;
    process.env.NETLOOM_DATA_DIR = mkdtempSync(join(tmpdir(), 'netloom-empty-data-'));
    try {
      const err = await new EngineService().datasetInfo({ name: 'kmnist' }).then(() => null, (e: unknown) => e);
      expect(isNetloomError(err)).toBe(true);
      expect((err as { code: string }).code).toBe('NL_DATASET_MISSING');
      expect((err as { hint: string }).hint).toMatch(/--download/);
    } finally {
      if (prev === undefined) delete process.env.NETLOOM_DATA_DIR;
      else process.env.NETLOOM_DATA_DIR = prev;
    }
  });
});

describe('the renderer\'s setTraining change (Use this dataset)', () => {
  it('inverts and applies the training section with the graph edits of the same step', () => {
    const before = { dataset: 'fashion-mnist', epochs: 5 };
    const changes: GraphChange[] = [
      { kind: 'updateNode', id: 'n1', before: { params: { shape: [1, 32, 32] } }, after: { params: { shape: [1, 28, 28] } } },
      { kind: 'setTraining', before, after: { ...before, dataset: 'mnist' } },
    ];
    expect(trainingAfter(before, changes)).toEqual({ dataset: 'mnist', epochs: 5 });
    const inverse = invertChanges(changes);
    expect(inverse.map((c) => c.kind)).toEqual(['setTraining', 'updateNode']);
    expect(trainingAfter({ dataset: 'mnist', epochs: 5 }, inverse)).toEqual(before);
    expect(trainingAfter(before, [changes[0]])).toBe(before); // untouched without a setTraining
    expect(trainingAfter({ dataset: 'mnist' }, invertChanges([{ kind: 'setTraining', before: undefined, after: { dataset: 'mnist' } }]))).toBeUndefined();
  });
});
