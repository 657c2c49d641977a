/**
 * Reading a project's dataset description to look at it (the dataset view), not to train on it: the same loaders
 * a run uses (so classes, splits, resizing and statistics are the run's), with paths resolved the way startRun
 * resolves them, a fingerprint of the files for caching summaries, and no downloading (a run downloads, with
 * progress and Stop; the view only reads what is there).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { NetloomError, isNetloomError } from '../errors.js';
import { CsvDatasetSchema, DatasetSchema, ImageFolderDatasetSchema, TorchvisionDatasetSchema, type DatasetDoc } from '../graph/document.js';
import { loadDataset, type LoadOptions } from '../data/datasets.js';
import { REGISTRY } from '../data/registry.js';
import { loadCsvDataset, loadImageFolderDataset, resolveBeside, type JobDataset } from './job-dataset.js';

/** A dataset description that names files: a torchvision folder, an image folder or a CSV file. */
export type DescribedDataset = Exclude<DatasetDoc, string>;

/** Checks a training.dataset value (a built-in's name or a description) as a project file's would be. */
export function parseDatasetDoc(value: unknown): DatasetDoc {
  // the union alone says only "Invalid input": a description of a known type is checked by its own schema, whose
  // issues name the field (e.g. "label: expected string")
  const type = value !== null && typeof value === 'object' ? (value as { type?: unknown }).type : undefined;
  const schema = typeof type === 'string' && Object.hasOwn(BY_TYPE, type) ? BY_TYPE[type as keyof typeof BY_TYPE] : DatasetSchema;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const where = (p: readonly PropertyKey[]) => (p.length ? `${p.map(String).join('.')}: ` : '');
  throw new NetloomError('NL_INVALID_ARGUMENT', `This is not a dataset Netloom knows: ${r.error.issues.map((i) => `${where(i.path)}${i.message}`).join('; ')}`,
    'A dataset is a built-in name (mnist, fashion-mnist, kmnist, cifar10) or a description {type: "torchvision" | "image-folder" | "csv", ...}; choose it again in the Training panel.');
}

const BY_TYPE = { torchvision: TorchvisionDatasetSchema, 'image-folder': ImageFolderDatasetSchema, csv: CsvDatasetSchema } as const;

/**
 * The description with its path (root) made absolute against the project file `projectFile`. Without a project
 * file a relative path has nothing to be relative to (it would silently mean the engine's working folder).
 */
export function locateDataset(doc: DescribedDataset, projectFile: string | undefined): DescribedDataset {
  const rel = doc.type === 'torchvision' ? doc.root : doc.path;
  if (rel === undefined || path.isAbsolute(rel)) return doc;
  if (projectFile === undefined)
    throw new NetloomError('NL_INVALID_ARGUMENT', `The dataset path "${rel}" is relative, but the project has not been saved, so there is no folder to resolve it against`,
      'Save the project first or use an absolute path: relative dataset paths are read from the project file\'s folder.');
  const abs = resolveBeside(projectFile, rel);
  return doc.type === 'torchvision' ? { ...doc, root: abs } : { ...doc, path: abs };
}

/** Size and time stamp of a file or folder, or a marker when it is not there (the loader then says why). */
async function stamp(p: string): Promise<string> {
  try {
    const st = await fsp.stat(p);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return 'absent';
  }
}

/** The stamps of a folder and of its entries (class folders, raw files): adding, removing or rewriting one changes it. */
async function folderStamp(dir: string): Promise<string> {
  let names: string[];
  try {
    names = (await fsp.readdir(dir)).sort();
  } catch {
    return 'absent';
  }
  const parts = await Promise.all(names.map(async (n) => `${n}=${await stamp(path.join(dir, n))}`));
  return `${await stamp(dir)}[${parts.join(',')}]`;
}

/**
 * What the files of a (located) description look like on disk now: a cached summary is reused while this stays the
 * same. An image folder counts its class folders' stamps (a file added, removed or renamed in one changes it);
 * an image rewritten in place under the same name is not seen, hence datasetInfo's `fresh`.
 */
export async function datasetFingerprint(doc: DescribedDataset): Promise<string> {
  if (doc.type === 'csv') return stamp(doc.path);
  if (doc.type === 'image-folder') return folderStamp(doc.path);
  return doc.root === undefined ? 'bundled' : folderStamp(path.join(doc.root, REGISTRY[doc.name].title, 'raw'));
}

/** Loads a located description as a run would (never downloading). */
export async function loadDescribed(doc: DescribedDataset, load?: Pick<LoadOptions, 'remote' | 'http'>): Promise<JobDataset> {
  if (doc.type === 'image-folder') return loadImageFolderDataset(doc, doc.path);
  if (doc.type === 'csv') return loadCsvDataset(doc, doc.path);
  try {
    return { kind: 'image', ...(await loadDataset(doc.name, { ...load, root: doc.root, download: false })) };
  } catch (e) {
    if (doc.download && isNetloomError(e) && e.code === 'NL_DATASET_MISSING')
      throw new NetloomError('NL_DATASET_MISSING', e.message, 'The project downloads this dataset when a run starts: start training once (the download shows its progress), then look again.', { cause: e });
    throw e;
  }
}
