import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuiltinDatasetName } from '../../engine/contract/datasets.js';
import { loadDataset } from '../../engine/data/datasets.js';
import { encodeIdx } from '../../engine/data/idx.js';
import { NetloomError } from '../../engine/errors.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-datasets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Fake {
  trainCount?: number;
  testCount?: number;
  gzip?: string[];
  omit?: string[];
  trainLabels?: Uint8Array;
  trainImageDims?: number[];
}

/** A tiny torchvision-layout root: image k of a split is filled with byte k + offset, label k is k % 10. */
function fakeRoot(name: string, folder: string, opts: Fake = {}): string {
  const root = path.join(tmp, name);
  const raw = path.join(root, folder, 'raw');
  mkdirSync(raw, { recursive: true });
  const put = (file: string, bytes: Uint8Array) => {
    if (opts.omit?.includes(file)) return;
    const gz = opts.gzip?.includes(file);
    writeFileSync(path.join(raw, gz ? `${file}.gz` : file), gz ? gzipSync(bytes) : bytes);
  };
  const split = (prefix: string, n: number, offset: number, labels?: Uint8Array, dims?: number[]) => {
    const images = new Uint8Array(n * 784);
    for (let k = 0; k < n; k++) images.fill(k + offset, k * 784, (k + 1) * 784);
    put(`${prefix}-images-idx3-ubyte`, encodeIdx(dims ?? [n, 28, 28], images));
    put(`${prefix}-labels-idx1-ubyte`, encodeIdx([labels?.length ?? n], labels ?? Uint8Array.from({ length: n }, (_, k) => k % 10)));
  };
  split('train', opts.trainCount ?? 12, 0, opts.trainLabels, opts.trainImageDims);
  split('t10k', opts.testCount ?? 5, 100);
  return root;
}

async function failure(name: BuiltinDatasetName, root: string): Promise<NetloomError> {
  try {
    await loadDataset(name, { root });
  } catch (e) {
    expect(e).toBeInstanceOf(NetloomError);
    return e as NetloomError;
  }
  throw new Error('expected loadDataset to fail');
}

describe('loadDataset with a torchvision root', () => {
  it('reads plain and gzipped files from <root>/FashionMNIST/raw', async () => {
    const root = fakeRoot('good', 'FashionMNIST', { gzip: ['train-images-idx3-ubyte', 't10k-labels-idx1-ubyte'] });
    const ds = await loadDataset('fashion-mnist', { root });
    expect(ds.name).toBe('fashion-mnist');
    expect(ds.title).toBe('FashionMNIST');
    expect(ds.sampleShape).toEqual([1, 28, 28]);
    expect(ds.classes).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    expect(ds.source).toBe(path.join(root, 'FashionMNIST', 'raw'));
    expect(ds.train.count).toBe(12);
    expect(ds.train.images.length).toBe(12 * 784);
    expect(ds.train.images[11 * 784 + 783]).toBe(11);
    expect(Array.from(ds.train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(ds.test.count).toBe(5);
    expect(ds.test.images[0]).toBe(100);
    expect(Array.from(ds.test.labels)).toEqual([0, 1, 2, 3, 4]);
  });

  it('uses torchvision class names for MNIST', async () => {
    const ds = await loadDataset('mnist', { root: fakeRoot('mnist', 'MNIST') });
    expect(ds.title).toBe('MNIST');
    expect(ds.classes).toEqual(['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine']);
  });

  it('reports a missing folder with the expected layout, and spots a root chosen one level too deep', async () => {
    const e = await failure('fashion-mnist', path.join(tmp, 'nowhere'));
    expect(e.code).toBe('NL_DATASET_MISSING');
    expect(e.message).toBe(`No FashionMNIST data under ${path.join(tmp, 'nowhere')}: the folder ${path.join(tmp, 'nowhere', 'FashionMNIST', 'raw')} does not exist`);
    expect(e.hint).toMatch(/<root>\/FashionMNIST\/raw\/ holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte/);
    expect(e.hint).toMatch(/download=True/);
    const root = fakeRoot('deep', 'MNIST');
    const deep = await failure('mnist', path.join(root, 'MNIST', 'raw'));
    expect(deep.hint).toContain(`try ${root}.`);
  });

  it('lists every missing file', async () => {
    const root = fakeRoot('partial', 'MNIST', { omit: ['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte'] });
    const e = await failure('mnist', root);
    expect(e.code).toBe('NL_DATASET_MISSING');
    expect(e.message).toBe(`${path.join(root, 'MNIST', 'raw')} is missing train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz]`);
  });

  it('rejects image/label count disagreement', async () => {
    const root = fakeRoot('count', 'MNIST', { trainLabels: new Uint8Array(11) });
    const e = await failure('mnist', root);
    expect(e.code).toBe('NL_BAD_DATASET');
    expect(e.message).toMatch(/train-labels-idx1-ubyte has 11 labels but .*train-images-idx3-ubyte has 12 images/);
  });

  it('rejects images that are not N x 28 x 28', async () => {
    const root = fakeRoot('dims', 'MNIST', { trainImageDims: [12, 784] });
    const e = await failure('mnist', root);
    expect(e.code).toBe('NL_BAD_DATASET');
    expect(e.message).toMatch(/train-images-idx3-ubyte: images have dimensions \[12, 784\], expected \[N, 28, 28\]/);
  });

  it('rejects a label above 9, giving its index and byte offset', async () => {
    const labels = new Uint8Array(12);
    labels[7] = 10;
    const e = await failure('mnist', fakeRoot('label', 'MNIST', { trainLabels: labels }));
    expect(e.code).toBe('NL_BAD_DATASET');
    expect(e.message).toMatch(/label 10 at index 7 \(byte offset 15\) is outside the 10 classes 0\.\.9/);
  });

  it('rejects an unknown dataset name', async () => {
    const e = await failure('svhn' as BuiltinDatasetName, tmp);
    expect(e.code).toBe('NL_INVALID_ARGUMENT');
    expect(e.hint).toBe('Choose one of: fashion-mnist, mnist, kmnist, cifar10.');
  });
});

describe('loadDataset without a root', () => {
  it('builds and reads the built-in MNIST copy (official first labels 5 0 4 1 9 / 7 2 1 0 4)', async () => {
    const saved = process.env.NETLOOM_DATA_DIR;
    process.env.NETLOOM_DATA_DIR = path.join(tmp, 'builtin');
    try {
      const ds = await loadDataset('mnist');
      expect(ds.source).toBe(path.join(tmp, 'builtin', 'MNIST', 'raw'));
      expect(ds.train.count).toBe(60000);
      expect(ds.test.count).toBe(10000);
      expect(Array.from(ds.train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
      expect(Array.from(ds.test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    } finally {
      if (saved === undefined) delete process.env.NETLOOM_DATA_DIR;
      else process.env.NETLOOM_DATA_DIR = saved;
    }
  });
});
