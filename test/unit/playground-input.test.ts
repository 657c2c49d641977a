/**
 * The playground's and the dataset view's pure logic (renderer/state/playground.ts, imageResize.ts,
 * datasetView.ts). A dropped picture must reach the model as training read the image folder, so the browser's
 * resize and grey conversion are checked byte for byte against the engine's (engine/data/images.ts).
 */
import { describe, expect, it } from 'vitest';
import { luma, resizeBilinear, toPlanar } from '../../engine/data/images.js';
import { METHODS, type DatasetInfoDto } from '../../engine/contract/api.js';
import { defaultChoice, infoRequest, viewChoices } from '../../renderer/state/datasetView';
import { resizeChw } from '../../renderer/state/imageResize';
import { DEFAULT_INPUT, padView, parseFeature, parseFeatureRow, pickRow, pilLuma, placeImage, playgroundInput, rgbaToChw, rowLabel } from '../../renderer/state/playground';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('a dropped picture becomes the sample training would have made', () => {
  it('resizeChw equals the engine\'s Pillow bilinear resize, byte for byte, down and up, 1 and 3 channels', () => {
    const r = rng(5);
    const cases: [number, number, number, number, number][] = [
      [3, 40, 40, 14, 10], [1, 28, 28, 28, 28], [3, 640, 480, 32, 32], [1, 7, 5, 28, 28], [3, 33, 17, 10, 30], [1, 100, 3, 9, 9],
    ];
    for (const [c, inW, inH, outW, outH] of cases) {
      const src = Uint8Array.from({ length: c * inW * inH }, () => Math.floor(r() * 256));
      expect([...resizeChw(src, c, inW, inH, outW, outH)], `${c}x${inH}x${inW} -> ${outH}x${outW}`).toEqual([...resizeBilinear(src, c, inW, inH, outW, outH)]);
    }
  });

  it('rgbaToChw equals the engine\'s RGB -> planar (alpha dropped) and PIL grey', () => {
    const r = rng(9);
    const w = 13;
    const h = 6;
    const rgba = Uint8Array.from({ length: w * h * 4 }, () => Math.floor(r() * 256));
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => rgba[Math.floor(i / 3) * 4 + (i % 3)]);
    expect([...rgbaToChw(rgba, 3)]).toEqual([...toPlanar({ width: w, height: h, rgb }, 'rgb')]);
    expect([...rgbaToChw(rgba, 1)]).toEqual([...toPlanar({ width: w, height: h, rgb }, 'grey')]);
    for (let i = 0; i < 2000; i++) {
      const [a, b, c] = [r(), r(), r()].map((v) => Math.floor(v * 256));
      expect(pilLuma(a, b, c)).toBe(luma(a, b, c));
    }
  });

  it('placeImage stretches over the box, or fits inside it centred keeping the aspect', () => {
    expect(placeImage(40, 20, 14, 10, false)).toEqual({ x: 0, y: 0, w: 14, h: 10 });
    const fit = placeImage(40, 20, 28, 28, true);
    expect(fit.w / fit.h).toBeCloseTo(2, 9);
    expect(fit.w).toBe(28);
    expect(fit.y * 2 + fit.h).toBeCloseTo(28, 9);
    expect(padView(10, 14)).toEqual({ width: 196, height: 140 });
    expect(padView(28, 28)).toEqual({ width: 196, height: 196 });
  });
});

const info = (o: Partial<DatasetInfoDto>): DatasetInfoDto => ({
  kind: 'builtin', name: 'mnist', title: 'MNIST', sampleShape: [1, 28, 28], classes: [], counts: { train: [], test: [] }, totals: { train: 0, test: 0 },
  testSplit: 'test', samples: [], source: '', notes: [], ...o,
});

describe('what the playground offers for a run\'s dataset', () => {
  it('a pad for 1 channel (MNIST-style only for built-ins), an image drop for 3, a form for a CSV', () => {
    expect(playgroundInput(info({}))).toEqual(DEFAULT_INPUT);
    expect(playgroundInput(info({ kind: 'image-folder', sampleShape: [1, 12, 20] }))).toEqual({ mode: 'pad', height: 12, width: 20, mnistStyle: false });
    expect(playgroundInput(info({ name: 'cifar10', sampleShape: [3, 32, 32] }))).toEqual({ mode: 'image', height: 32, width: 32, channels: 3, mnistStyle: false });
    expect(playgroundInput(info({ kind: 'image-folder', sampleShape: [3, 10, 14] }))?.mode).toBe('image');
    const table = { task: 'regression' as const, features: ['a', 'b'], label: 'y', standardized: true, stats: { mean: [0, 0], std: [1, 1] }, rows: [], testRows: [] };
    expect(playgroundInput(info({ kind: 'csv', sampleShape: [2], table }))).toEqual({ mode: 'tabular', features: ['a', 'b'], task: 'regression' });
    expect(playgroundInput(info({ kind: 'image-folder', sampleShape: [4, 8, 8] }))).toBeNull();
  });

  it('feature fields take decimal numbers (a decimal comma too), nothing else', () => {
    for (const [text, v] of [['5.1', 5.1], [' -0.5 ', -0.5], ['.5', 0.5], ['1e-3', 0.001], ['3,5', 3.5], ['7', 7], ['+2.', 2]] as const) expect(parseFeature(text)).toBe(v);
    for (const text of ['', 'abc', '1.2.3', 'NaN', 'Infinity', '1e999', '0x10', '1,2,3', '5 kg']) expect(parseFeature(text), text).toBeNull();
    expect(parseFeatureRow(['1', '2'])).toEqual({ values: [1, 2], bad: [false, false] });
    expect(parseFeatureRow(['1', 'x'])).toEqual({ values: null, bad: [false, true] });
  });

  it('a random test row is never the one shown, and every other row can come up', () => {
    const seen = new Set<number>();
    for (let k = 0; k < 1000; k++) {
      const i = pickRow(5, 2, k / 1000)!;
      expect(i).not.toBe(2);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(i).toBeLessThan(5);
      seen.add(i);
    }
    expect([...seen].sort()).toEqual([0, 1, 3, 4]);
    expect(pickRow(0, null, 0.5)).toBeNull();
    expect(pickRow(1, 0, 0.99)).toBe(0);
    expect(pickRow(4, null, 0.999999)).toBe(3);
    expect(rowLabel(['setosa', 'versicolor'], 'classification', { values: [], label: 1 })).toBe('versicolor');
    expect(rowLabel([], 'regression', { values: [], label: 12.5 })).toBe('12.5');
  });
});

describe('the dataset view\'s choice', () => {
  const csv = { type: 'csv', path: 'iris.csv', label: 'species' };

  it('opens on the project\'s dataset: a built-in by name, a description as "this project"', () => {
    expect(defaultChoice('mnist')).toBe('mnist');
    expect(defaultChoice(undefined)).toBe('fashion-mnist');
    expect(defaultChoice(csv)).toBe('project');
    expect(viewChoices('mnist').map((c) => c.value)).toEqual(['fashion-mnist', 'mnist', 'kmnist', 'cifar10']);
    expect(viewChoices(csv).at(-1)).toEqual({ value: 'project', label: 'this project: CSV iris.csv' });
  });

  it('asks datasetInfo with params its schema accepts (the project file for relative paths)', () => {
    const a = infoRequest('project', csv, '/p/iris.netloom.json', { perClass: 8, rows: 12 });
    expect(a).toEqual({ dataset: csv, path: '/p/iris.netloom.json', perClass: 8, rows: 12 });
    expect(infoRequest('project', csv, null, { perClass: 8, rows: 12, fresh: true })).toEqual({ dataset: csv, perClass: 8, rows: 12, fresh: true });
    const b = infoRequest('kmnist', csv, null, { perClass: 8, rows: 12 });
    expect(b).toEqual({ name: 'kmnist', perClass: 8, rows: 12 });
    for (const p of [a, b]) expect(METHODS.datasetInfo.params.safeParse(p).success).toBe(true);
    // exactly one of name, dataset, runId
    expect(METHODS.datasetInfo.params.safeParse({ name: 'mnist', dataset: csv }).success).toBe(false);
    expect(METHODS.datasetInfo.params.safeParse({}).success).toBe(false);
    expect(METHODS.datasetInfo.params.safeParse({ runId: 'run-1' }).success).toBe(true);
  });
});
