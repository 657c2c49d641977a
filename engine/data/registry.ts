/**
 * The built-in datasets' files: where they come from and how a torchvision-layout folder is read. What each
 * dataset is (title, classes, shape, sizes, whether it is bundled) is engine/contract/datasets.ts.
 *
 * Every dataset lives in `<root>/<Title>/raw/` (Title = torchvision's class name: MNIST, FashionMNIST, KMNIST,
 * CIFAR10), so a folder torchvision made works as it is. Remote files, mirrors and MD5s are torchvision 0.14's
 * (torchvision/datasets/mnist.py), except:
 *   - MNIST lists the ossci-datasets S3 mirror before yann.lecun.com (the original site now often refuses
 *     downloads; newer torchvision releases order them the same way);
 *   - CIFAR-10 is the BINARY version (cifar-10-binary.tar.gz, md5 as published on the CIFAR page), not the
 *     pickled python version torchvision uses: it needs no unpickler. It sits in <root>/CIFAR10/raw/, a folder
 *     torchvision does not use, either as the archive or extracted (raw/cifar-10-batches-bin/*.bin).
 *
 * An entry's `mirrors` and `files` can be replaced per call (loadDataset's `remote` option): tests serve
 * their own files, and a site can point at a private mirror.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { BUILTIN_DATASETS, type BuiltinDatasetInfo, type BuiltinDatasetName } from '../contract/datasets.js';
import { NetloomError } from '../errors.js';
import { RAW_FILES } from './builtin.js';
import { CIFAR_ARCHIVE, CIFAR_FOLDER, CIFAR_TEST_BATCH, CIFAR_TRAIN_BATCHES, readCifarArchive, readCifarFolder } from './cifar.js';
import type { Split } from './image-split.js';
import { readIdxFile, type IdxArray } from './idx.js';

export interface RemoteFile {
  /** the file's name in raw/, which is also the last part of its URL on every mirror */
  file: string;
  /** MD5 (hex) of the file as downloaded */
  md5: string;
  /** full URLs to use instead of `<mirror><file>` for each mirror */
  urls?: readonly string[];
  /** paths in raw/ that stand in for the file once it has been extracted (torchvision keeps both) */
  extracted?: readonly string[];
}

export interface LoadContext {
  spec: DatasetSpec;
  /** the dataset root (the folder holding <Title>/) */
  root: string;
  /** <root>/<Title>/raw */
  rawDir: string;
  /** read the downloaded archives before any extracted copies (set when --download asked for the official files) */
  preferArchives: boolean;
  /** whether extracted copies may be read at all (not where they could be the bundled copy, see datasets.ts) */
  allowExtracted: boolean;
}

/** A built-in dataset: what it is (the contract's entry: title, classes, shape, bundled, download size) and how to get and read it. */
export interface DatasetSpec extends BuiltinDatasetInfo {
  name: BuiltinDatasetName;
  /** base URLs ending in '/', tried in order */
  mirrors: readonly string[];
  files: readonly RemoteFile[];
  load(ctx: LoadContext): Promise<{ train: Split; test: Split }>;
}

function idxFiles(md5s: [string, string, string, string]): RemoteFile[] {
  const plain = [RAW_FILES.trainImages, RAW_FILES.trainLabels, RAW_FILES.testImages, RAW_FILES.testLabels];
  return plain.map((p, i) => ({ file: `${p}.gz`, md5: md5s[i], extracted: [p] }));
}

export const REGISTRY: Readonly<Record<BuiltinDatasetName, DatasetSpec>> = {
  mnist: {
    ...BUILTIN_DATASETS.mnist,
    name: 'mnist',
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
    files: idxFiles(['f68b3c2dcbeaaa9fbdd348bbdeb94873', 'd53e105ee54ea40749a09fcbcd1e9432', '9fb629c4189551a2d022fa330f9573f3', 'ec29112dd5afa0611ce80d1b7f02629c']),
    load: loadIdx,
  },
  'fashion-mnist': {
    ...BUILTIN_DATASETS['fashion-mnist'],
    name: 'fashion-mnist',
    mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    files: idxFiles(['8d4fb7e6c68d591d4c3dfef9ec88bf0d', '25c81989df183df01b3e8a0aad5dffbe', 'bef4ecab320f06d8554ea6380940ec79', 'bb300cfdad3c16e7a12a480ee83cd310']),
    load: loadIdx,
  },
  kmnist: {
    ...BUILTIN_DATASETS.kmnist,
    name: 'kmnist',
    mirrors: ['http://codh.rois.ac.jp/kmnist/dataset/kmnist/'],
    files: idxFiles(['bdb82020997e1d708af4cf47b453dcf7', 'e144d726b3acfaa3e44228e80efcd344', '5c965bf0a639b31b8f53240b1b52f4d7', '7320c461ea6c1c855c0b718fb2a4b134']),
    load: loadIdx,
  },
  cifar10: {
    ...BUILTIN_DATASETS.cifar10,
    name: 'cifar10',
    mirrors: ['https://www.cs.toronto.edu/~kriz/'],
    files: [
      {
        file: CIFAR_ARCHIVE,
        md5: 'c32a1d4ab5d03f1284b67883e8d87530',
        extracted: [...CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH].map((b) => `${CIFAR_FOLDER}/${b}`),
      },
    ],
    load: loadCifar,
  },
};

/** The URLs to try for one file of a dataset, in order. */
export function urlsFor(spec: DatasetSpec, file: RemoteFile): string[] {
  return file.urls ? [...file.urls] : spec.mirrors.map((m) => (m.endsWith('/') ? m : `${m}/`) + file.file);
}

/** Whether raw/ already satisfies `file` (the file itself, or all of its extracted stand-ins where allowed). */
export function isPresent(ctx: LoadContext, file: RemoteFile): boolean {
  if (existsSync(path.join(ctx.rawDir, file.file))) return true;
  return ctx.allowExtracted && file.extracted !== undefined && file.extracted.length > 0 && file.extracted.every((e) => existsSync(path.join(ctx.rawDir, e)));
}

/** The hint of NL_DATASET_MISSING: the layout, and how to get the files. */
export function missingHint(ctx: LoadContext, layout: string): string {
  const { spec, root } = ctx;
  const fetch = `run with --download to fetch ${spec.title} (${spec.downloadSize}) from ${spec.mirrors[0] ?? 'its official source'} into ${root}`;
  if (spec.bundled) {
    return `${layout} Download it with torchvision.datasets.${spec.title}(root, download=True), or leave the dataset root empty to use the built-in copy, or ${fetch}.`;
  }
  return `${fetch[0].toUpperCase()}${fetch.slice(1)}, or point --data at a folder that holds it (${layout.replace(/\.$/, '')}).`;
}

// ---- MNIST-style IDX files -------------------------------------------------------------------------------

type IdxRole = keyof typeof RAW_FILES;

async function loadIdx(ctx: LoadContext): Promise<{ train: Split; test: Split }> {
  const files = locateIdx(ctx);
  return {
    train: await readIdxSplit(files.trainImages, files.trainLabels),
    test: await readIdxSplit(files.testImages, files.testLabels),
  };
}

function locateIdx(ctx: LoadContext): Record<IdxRole, string> {
  const { root, rawDir, spec } = ctx;
  const title = spec.title;
  const layout = `torchvision's layout is <root>/${title}/raw/ holding ${Object.values(RAW_FILES).join(', ')} (each may end in .gz).`;
  if (!existsSync(rawDir)) {
    // The usual slip is choosing the dataset folder or raw/ itself instead of the root above it.
    const base = path.basename(root);
    const nearMiss = base === 'raw' || base === title ? ` It looks like you chose a folder inside the root; try ${path.dirname(base === 'raw' ? path.dirname(root) : root)}.` : '';
    throw new NetloomError('NL_DATASET_MISSING', `No ${title} data under ${root}: the folder ${rawDir} does not exist`, missingHint(ctx, layout) + nearMiss);
  }
  const found: Partial<Record<IdxRole, string>> = {};
  const missing: string[] = [];
  for (const [role, file] of Object.entries(RAW_FILES) as [IdxRole, string][]) {
    const plain = path.join(rawDir, file);
    const gz = `${plain}.gz`;
    const order = !ctx.allowExtracted ? [gz] : ctx.preferArchives ? [gz, plain] : [plain, gz];
    const match = order.find((p) => existsSync(p));
    if (match === undefined) missing.push(`${file}[.gz]`);
    else found[role] = match;
  }
  if (missing.length > 0) {
    throw new NetloomError('NL_DATASET_MISSING', `${rawDir} is missing ${missing.join(', ')}`, missingHint(ctx, layout));
  }
  return found as Record<IdxRole, string>;
}

async function readIdxSplit(imagesPath: string, labelsPath: string): Promise<Split> {
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

// ---- CIFAR-10 binary -------------------------------------------------------------------------------------

async function loadCifar(ctx: LoadContext): Promise<{ train: Split; test: Split }> {
  const archive = path.join(ctx.rawDir, CIFAR_ARCHIVE);
  const folder = path.join(ctx.rawDir, CIFAR_FOLDER);
  const batches = [...CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH];
  const extracted = ctx.allowExtracted && batches.every((b) => existsSync(path.join(folder, b)));
  const hasArchive = existsSync(archive);
  if (hasArchive && (ctx.preferArchives || !extracted)) return readCifarArchive(archive);
  if (extracted) return readCifarFolder(folder);
  const layout = `the layout is <root>/CIFAR10/raw/ holding ${CIFAR_ARCHIVE} (the binary version from https://www.cs.toronto.edu/~kriz/cifar.html) or its extracted ${CIFAR_FOLDER}/ folder`;
  throw new NetloomError(
    'NL_DATASET_MISSING',
    existsSync(ctx.rawDir)
      ? `${ctx.rawDir} holds neither ${CIFAR_ARCHIVE} nor ${CIFAR_FOLDER}/ with ${batches.join(', ')}`
      : `No CIFAR10 data under ${ctx.root}: the folder ${ctx.rawDir} does not exist`,
    missingHint(ctx, layout),
  );
}
