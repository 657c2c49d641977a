/**
 * The workspace's pure parts (issue 13): the readable fit (canvas/fit.ts), the dock's wanted height and the
 * remembered dock panels (state/workspacePanes.ts), toast lifetimes, and the dataset chooser's download rules
 * (state/datasetOnDisk.ts), whose descriptions the project schema must accept.
 */
import { describe, expect, it } from 'vitest';
import { DatasetSchema } from '../../engine/graph/document.js';
import { MIN_READABLE_ZOOM, readableViewport } from '../../renderer/canvas/fit.js';
import { builtinInDataDir, datasetValueFor, onDiskFrom, probeRequest } from '../../renderer/state/datasetOnDisk.js';
import { toastLifetimeMs } from '../../renderer/state/toasts.js';
import { dockWanted, loadPanels, savePanels } from '../../renderer/state/workspacePanes.js';

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  };
}

describe('readableViewport', () => {
  const pane = { width: 728, height: 380 };
  it('fits a small graph whole, centred, at no more than 1.1', () => {
    const v = readableViewport({ x: 0, y: 0, width: 220, height: 200 }, pane);
    expect(v.zoom).toBeCloseTo(1.1);
    expect(v.x).toBeCloseTo((728 - 220 * 1.1) / 2);
    expect(v.y).toBeCloseTo((380 - 200 * 1.1) / 2);
  });
  it('never goes below the readable zoom: a long column shows its top, centred across', () => {
    const v = readableViewport({ x: 100, y: 50, width: 220, height: 1900 }, pane);
    expect(v.zoom).toBe(MIN_READABLE_ZOOM);
    expect(13 * v.zoom).toBeGreaterThanOrEqual(9); // a layer title (13 px) stays legible
    expect(v.y).toBeCloseTo(24 - 50 * MIN_READABLE_ZOOM); // the first layer at the top edge
    expect(v.x).toBeCloseTo((728 - 220 * MIN_READABLE_ZOOM) / 2 - 100 * MIN_READABLE_ZOOM);
  });
  it('a long row (left to right) shows its left end, centred down', () => {
    const v = readableViewport({ x: -40, y: 0, width: 3000, height: 90 }, pane);
    expect(v.zoom).toBe(MIN_READABLE_ZOOM);
    expect(v.x).toBeCloseTo(24 + 40 * MIN_READABLE_ZOOM);
    expect(v.y).toBeCloseTo((380 - 90 * MIN_READABLE_ZOOM) / 2);
  });
  it('fits in between when that is readable', () => {
    const v = readableViewport({ x: 0, y: 0, width: 900, height: 300 }, pane);
    expect(v.zoom).toBeCloseTo((728 - 48) / 900);
    expect(v.zoom).toBeGreaterThan(MIN_READABLE_ZOOM);
  });
});

describe('the dock and its panels', () => {
  it('wants the open panels whole and the folded ones as headers', () => {
    expect(dockWanted({ summary: false, training: false, dataset: false })).toBe(3 * 38 + 3);
    expect(dockWanted({ summary: true, training: false, dataset: false })).toBe(208 + 2 * 38 + 3);
    expect(dockWanted({ summary: true, training: true, dataset: true })).toBe(208 + 430 + 400 + 3);
  });
  it('remembers which panels are open, and falls back to the defaults on nothing or garbage', () => {
    const s = memoryStorage();
    expect(loadPanels(s)).toEqual({ summary: true, training: false, dataset: false });
    savePanels({ summary: false, training: true, dataset: true }, s);
    expect(loadPanels(s)).toEqual({ summary: false, training: true, dataset: true });
    s.setItem('netloom.workspace.panels', '{"summary": "yes", "training": true}');
    expect(loadPanels(s)).toEqual({ summary: true, training: true, dataset: false });
    s.setItem('netloom.workspace.panels', 'not json');
    expect(loadPanels(s)).toEqual({ summary: true, training: false, dataset: false });
    expect(loadPanels(undefined)).toEqual({ summary: true, training: false, dataset: false });
  });
});

describe('toasts', () => {
  it('go by themselves: an error later, one with a button later than a plain note', () => {
    const note = toastLifetimeMs({ kind: 'info' });
    const withUndo = toastLifetimeMs({ kind: 'info', action: { label: 'Undo', perform: () => {} } });
    expect(note).toBeLessThanOrEqual(4000);
    expect(withUndo).toBeGreaterThan(note);
    expect(toastLifetimeMs({ kind: 'error' })).toBeGreaterThan(withUndo);
  });
});

describe('datasets to download', () => {
  it('writes a bundled built-in by name and one to download as a description that downloads, which the project schema accepts', () => {
    expect(datasetValueFor('mnist')).toBe('mnist');
    const kmnist = datasetValueFor('kmnist');
    expect(kmnist).toEqual({ type: 'torchvision', name: 'kmnist', download: true });
    expect(DatasetSchema.safeParse(kmnist).success).toBe(true);
    expect(DatasetSchema.safeParse(datasetValueFor('cifar10')).success).toBe(true);
    expect(DatasetSchema.safeParse(probeRequest('kmnist').dataset).success).toBe(true);
  });
  it('knows which built-in a value reads from the user data folder', () => {
    expect(builtinInDataDir('cifar10')).toBe('cifar10');
    expect(builtinInDataDir({ type: 'torchvision', name: 'kmnist', download: true })).toBe('kmnist');
    expect(builtinInDataDir({ type: 'torchvision', name: 'kmnist', root: '/data' })).toBeNull();
    expect(builtinInDataDir({ type: 'csv', path: '/a.csv' })).toBeNull();
    expect(builtinInDataDir('imagenet')).toBeNull();
  });
  it('reads "not downloaded" only from NL_DATASET_MISSING', () => {
    expect(onDiskFrom({ ok: true })).toBe('present');
    expect(onDiskFrom({ ok: false, code: 'NL_DATASET_MISSING' })).toBe('missing');
    expect(onDiskFrom({ ok: false, code: 'NL_IO' })).toBe('unknown');
  });
});
