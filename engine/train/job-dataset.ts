/**
 * The data a job trains and tests on (JobDataset): a built-in dataset, an image folder or a CSV file,
 * loaded with paths resolved beside the project file, and handed to a native session in place.
 * Image folders and CSVs have no test split of their own: their held-out validation split
 * (validation_fraction) serves as one.
 */
import * as path from 'node:path';
import { NetloomError } from '../errors.js';
import type { CsvDatasetDoc, DatasetDoc, ImageFolderDatasetDoc, ProjectDoc } from '../graph/document.js';
import type { TargetSpec } from '../compile/ir.js';
import type { Split } from '../data/image-split.js';
import type { BuiltinDatasetName } from '../contract/datasets.js';
import { loadCsv, type TabularSplit, type TabularTask } from '../data/csv.js';
import { loadImageFolder } from '../data/images.js';
import type { Session } from '../runtime/session.js';

interface JobDatasetCommon {
  /** for messages and the CLI's header line: "FashionMNIST", the image folder's or the CSV file's name */
  title: string;
  /** one sample's shape: [C, H, W] for images, [features] for a CSV */
  sampleShape: number[];
  /** class names, indexed by label; empty for a regression dataset */
  classes: string[];
  /** where the data was read from (a raw/ folder, an image folder, a CSV file) */
  source: string;
  /** things the user should know that are not errors (constant features, decimal commas, ...) */
  notes?: string[];
}

/** Images as uint8 pixels (scaled by 1/255 as batches are gathered) with class labels. */
export interface ImageJobDataset extends JobDatasetCommon {
  kind: 'image';
  name: BuiltinDatasetName | 'image-folder';
  train: Split;
  test: Split;
}

/**
 * CSV rows: float features (standardised with the training split's statistics when the project asks
 * for it) and class labels (classification: Uint8Array y) or float targets (regression: Float32Array y,
 * one per row). Each split keeps `raw`, the file's values, for showing rows to the user.
 */
export interface TabularJobDataset extends JobDatasetCommon {
  kind: 'tabular';
  name: 'csv';
  task: TabularTask;
  /** feature column names, in the order of the Input's values */
  features: string[];
  /** the label (classification) or target (regression) column */
  label: string;
  /** per-feature mean and divisor of the training split; new rows are standardised with them */
  stats: { mean: number[]; std: number[] };
  standardized: boolean;
  train: TabularSplit & { raw: Float32Array };
  test: TabularSplit & { raw: Float32Array };
}

/**
 * The data a job trains and tests on: a built-in dataset, an image folder or a CSV file. Image folders and
 * CSVs have no test split of their own: their held-out validation split (validation_fraction) serves as one.
 */
export type JobDataset = ImageJobDataset | TabularJobDataset;

/** A path from the project file, resolved against the project file's folder when relative. */
export function resolveBeside(source: string, p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(path.dirname(path.resolve(source)), p);
}

/**
 * The project with its dataset's relative paths (a CSV's or image folder's path, a torchvision root) made
 * absolute against `source`'s folder: for a project that leaves its file, e.g. a new, unsaved project made
 * from a template, whose data lies beside the template.
 */
export function withAbsoluteDataPaths<P extends ProjectDoc>(project: P, source: string): P {
  const ds = project.training.dataset;
  if (typeof ds === 'string') return project;
  let abs: DatasetDoc;
  if (ds.type === 'torchvision') abs = ds.root === undefined ? ds : { ...ds, root: resolveBeside(source, ds.root) };
  else abs = { ...ds, path: resolveBeside(source, ds.path) };
  return { ...project, training: { ...project.training, dataset: abs } };
}

/** Loads an image-folder dataset; a relative path is resolved against the project file's folder (`source`). */
export async function loadImageFolderDataset(doc: ImageFolderDatasetDoc, source: string): Promise<JobDataset> {
  const root = resolveBeside(source, doc.path);
  const fraction = doc.validation_fraction ?? 0.1;
  if (!(fraction > 0 && fraction < 1))
    throw new NetloomError('NL_INVALID_ARGUMENT', `The image folder's validation_fraction must be above 0 and below 1, got ${fraction}`,
      'Image folders have no test split: a share of the images (e.g. 0.1) is held out and used for test metrics.');
  const ds = await loadImageFolder(root, { mode: doc.mode ?? 'grey', size: doc.size, validationFraction: fraction });
  if (ds.validation === undefined || ds.validation.count === 0)
    throw new NetloomError('NL_BAD_DATASET', `${ds.source} has too few images to hold out a validation split (${ds.train.count} image(s))`,
      'Add images, or raise validation_fraction.');
  return {
    kind: 'image', name: 'image-folder', title: ds.title, sampleShape: [...ds.sampleShape], classes: ds.classes,
    train: ds.train, test: ds.validation, source: ds.source, notes: ds.notes,
  };
}

/**
 * Loads a CSV dataset (engine/data/csv.ts); a relative path is resolved against the project file's folder
 * (`source`). The held-out validation split (a fixed seed, so every run of a project tests on the same rows)
 * is the test split.
 */
export async function loadCsvDataset(doc: CsvDatasetDoc, source: string): Promise<TabularJobDataset> {
  const file = resolveBeside(source, doc.path);
  const ds = await loadCsv(file, {
    features: doc.features, label: doc.label, task: doc.task, standardize: doc.standardize, delimiter: doc.delimiter, header: doc.header,
    validationFraction: doc.validation_fraction, keepRaw: true,
  });
  const title = path.basename(ds.source);
  if (ds.validation === undefined || ds.validation.count === 0)
    throw new NetloomError('NL_BAD_DATASET', `${title} has too few rows to hold out a test split (${ds.train.count} row(s))`,
      'Add rows, or raise validation_fraction: the held-out rows are what test accuracy and loss are measured on.');
  const raw = (split: TabularSplit) => split.raw ?? split.x;
  return {
    kind: 'tabular', name: 'csv', title, sampleShape: [ds.features.length], classes: ds.task === 'classification' ? [...ds.classes] : [],
    source: ds.source, notes: ds.notes, task: ds.task, features: ds.features, label: ds.label, stats: ds.stats, standardized: ds.standardized,
    train: { ...ds.train, raw: raw(ds.train) }, test: { ...ds.validation, raw: raw(ds.validation) },
  };
}

/** The regression targets a dataset supplies (for compileGraph), if it is a regression CSV. */
export function datasetTargets(ds: JobDataset): TargetSpec | undefined {
  return ds.kind === 'tabular' && ds.task === 'regression' ? { width: 1, names: [ds.label], source: ds.title } : undefined;
}

/** Hands the first trainCount / testCount samples of each split to the session, which reads them in place (no copy). */
export function uploadDataset(session: Session, ds: JobDataset, trainCount: number, testCount: number): void {
  if (ds.kind === 'image') {
    session.setDataset('train', ds.train.images, ds.train.labels, trainCount);
    session.setDataset('test', ds.test.images, ds.test.labels, testCount);
  } else {
    session.setFloatDataset('train', ds.train.x, ds.train.y, trainCount);
    session.setFloatDataset('test', ds.test.x, ds.test.y, testCount);
  }
}
