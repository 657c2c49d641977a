/**
 * MNIST and FashionMNIST as torchvision.datasets loads them: a root folder holding <Title>/raw/*-ubyte[.gz].
 *
 * Without a root the built-in offline copies are used (see builtin.ts for how they are made and split).
 * Pixels stay uint8 here; scaling to [0,1] (torchvision's ToTensor) happens where batches are assembled.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { NetloomError } from '../errors.js';
import { ensureBuiltin, RAW_FILES, TORCHVISION_FOLDERS } from './builtin.js';
import { readIdxFile, type IdxArray } from './idx.js';

export type DatasetName = 'mnist' | 'fashion-mnist';

export interface Split {
  /** count * 784 bytes, row-major, one 28x28 image after another. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface Dataset {
  name: DatasetName;
  /** torchvision's class name, which is also its folder name. */
  title: string;
  sampleShape: number[];
  classes: string[];
  train: Split;
  test: Split;
  /** The raw/ folder the files were read from. */
  source: string;
}

const CLASSES: Record<DatasetName, string[]> = {
  mnist: ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'],
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
};

export const DATASET_NAMES: readonly DatasetName[] = ['mnist', 'fashion-mnist'];

export async function loadDataset(name: DatasetName, opts: { root?: string } = {}): Promise<Dataset> {
  if (!DATASET_NAMES.includes(name)) {
    throw new NetloomError(
      'NL_INVALID_ARGUMENT',
      `Unknown dataset ${JSON.stringify(name)}`,
      `Choose one of: ${DATASET_NAMES.join(', ')}.`,
    );
  }
  const title = TORCHVISION_FOLDERS[name];
  const root = path.resolve(opts.root ?? (await ensureBuiltin(name)));
  const rawDir = path.join(root, title, 'raw');
  const files = locateFiles(root, rawDir, title);
  return {
    name,
    title,
    sampleShape: [1, 28, 28],
    classes: [...CLASSES[name]],
    train: await readSplit(files.trainImages, files.trainLabels),
    test: await readSplit(files.testImages, files.testLabels),
    source: rawDir,
  };
}

type RawFiles = Record<keyof typeof RAW_FILES, string>;

function locateFiles(root: string, rawDir: string, title: string): RawFiles {
  const layoutHint =
    `torchvision's layout is <root>/${title}/raw/ holding ${Object.values(RAW_FILES).join(', ')} (each may end in .gz). ` +
    `Download it with torchvision.datasets.${title}(root, download=True), or leave the dataset root empty to use the built-in copy.`;
  if (!existsSync(rawDir)) {
    // The usual slip is choosing the dataset folder or raw/ itself instead of the root above it.
    const base = path.basename(root);
    const nearMiss = base === 'raw' || base === title ? ` It looks like you chose a folder inside the root; try ${path.dirname(base === 'raw' ? path.dirname(root) : root)}.` : '';
    throw new NetloomError('NL_DATASET_MISSING', `No ${title} data under ${root}: the folder ${rawDir} does not exist`, layoutHint + nearMiss);
  }
  const found: Partial<RawFiles> = {};
  const missing: string[] = [];
  for (const [key, file] of Object.entries(RAW_FILES) as [keyof RawFiles, string][]) {
    const plain = path.join(rawDir, file);
    const match = [plain, `${plain}.gz`].find((p) => existsSync(p));
    if (match === undefined) {
      missing.push(`${file}[.gz]`);
    } else {
      found[key] = match;
    }
  }
  if (missing.length > 0) {
    throw new NetloomError('NL_DATASET_MISSING', `${rawDir} is missing ${missing.join(', ')}`, layoutHint);
  }
  return found as RawFiles;
}

async function readSplit(imagesPath: string, labelsPath: string): Promise<Split> {
  const images = await readIdxFile(imagesPath);
  const labels = await readIdxFile(labelsPath);
  const count = checkImages(images, imagesPath);
  checkLabels(labels, labelsPath, count, imagesPath);
  return { images: images.data, labels: labels.data, count };
}

const REFETCH = 'Download the dataset again, or leave the dataset root empty to use the built-in copy.';

function checkImages(images: IdxArray, file: string): number {
  const [count, h, w] = images.dims;
  if (images.dims.length !== 3 || h !== 28 || w !== 28) {
    throw new NetloomError('NL_BAD_DATASET', `${file}: images have dimensions [${images.dims.join(', ')}], expected [N, 28, 28]`, REFETCH);
  }
  return count;
}

function checkLabels(labels: IdxArray, file: string, imageCount: number, imagesFile: string): void {
  if (labels.dims.length !== 1) {
    throw new NetloomError('NL_BAD_DATASET', `${file}: labels have dimensions [${labels.dims.join(', ')}], expected [N]`, REFETCH);
  }
  if (labels.dims[0] !== imageCount) {
    throw new NetloomError(
      'NL_BAD_DATASET',
      `${file} has ${labels.dims[0]} labels but ${imagesFile} has ${imageCount} images`,
      'The image and label files come from different downloads; ' + REFETCH,
    );
  }
  const bad = labels.data.findIndex((v) => v > 9);
  if (bad >= 0) {
    throw new NetloomError(
      'NL_BAD_DATASET',
      `${file}: label ${labels.data[bad]} at index ${bad} (byte offset ${8 + bad}) is outside the 10 classes 0..9`,
      REFETCH,
    );
  }
}
