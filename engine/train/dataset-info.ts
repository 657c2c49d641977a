/**
 * A dataset at a glance, for the dataset view and the inference playground (EngineApi.datasetInfo): what a run
 * of it trains on, summarised from the data a job loads (JobDataset), so the view shows exactly the classes,
 * splits, resized images and standardisation statistics training uses.
 *
 * - Images (built-ins, image folders): per-class counts of both splits and the first `perClass` training
 *   samples of each class (uint8 CHW, base64), class by class.
 * - CSV rows: the columns used, the task, the first `rows` rows of each split as the file has them, the
 *   per-feature mean / std of the training split (what standardisation divides by), per-class counts
 *   (classification) or the target's min / mean / max / std and a histogram of both splits (regression).
 *
 * Pure: nothing here reads files; the caller loads (and caches) the dataset.
 */
import type { JobDataset } from './job-dataset.js';
import { float32Text } from './evaluation.js';

/** Which kind of data: a built-in (also read from a torchvision folder), an image folder, a CSV file. */
export type DatasetInfoKind = 'builtin' | 'image-folder' | 'csv';

/** One CSV row: its feature values as in the file, and its class index (classification) or target value (regression). */
export interface TableRow {
  values: number[];
  label: number;
}

/** A regression target across both splits; bins cover [min, max] in equal widths (the last one closed). */
export interface TargetSummary {
  min: number;
  max: number;
  mean: number;
  /** population standard deviation */
  std: number;
  bins: { from: number; to: number; train: number; test: number }[];
}

export interface TableInfo {
  task: 'classification' | 'regression';
  /** feature columns, in the Input's order */
  features: string[];
  /** the label (classification) or target (regression) column */
  label: string;
  standardized: boolean;
  /** per-feature mean and divisor of the training split (new rows are standardised with them) */
  stats: { mean: number[]; std: number[] };
  /** the first rows of the training split and of the test split, in file order */
  rows: TableRow[];
  testRows: TableRow[];
  target?: TargetSummary;
}

export interface DatasetInfo {
  kind: DatasetInfoKind;
  /** a built-in's name, or 'image-folder' / 'csv' */
  name: string;
  title: string;
  /** one sample's shape: CHW for images, [features] for a CSV */
  sampleShape: number[];
  /** class names, indexed by label; empty for regression */
  classes: string[];
  /** samples per class in each split (empty for regression) */
  counts: { train: number[]; test: number[] };
  /** samples (rows) in each split */
  totals: { train: number; test: number };
  /** 'validation': the test split is a held-out share of the data (image folders, CSVs) */
  testSplit: 'test' | 'validation';
  /** the first perClass training samples of each class, class by class; empty for a CSV */
  samples: { label: number; pixels: string }[];
  source: string;
  /** the loader's notes: skipped files, constant features, decimal commas, ... */
  notes: string[];
  table?: TableInfo;
}

export interface DatasetInfoOptions {
  /** training images shown per class */
  perClass: number;
  /** CSV rows returned per split */
  rows: number;
  /** histogram bins of a regression target (default 16) */
  bins?: number;
}

/** The kind of a job's dataset (its name says which). */
export function datasetInfoKind(ds: JobDataset): DatasetInfoKind {
  return ds.name === 'csv' ? 'csv' : ds.name === 'image-folder' ? 'image-folder' : 'builtin';
}

/** Samples per class of a split (labels beyond the class list are not counted). */
export function classCounts(labels: ArrayLike<number>, count: number, classes: number): number[] {
  const c = new Array<number>(classes).fill(0);
  for (let i = 0; i < count; i++) if (labels[i] < classes) c[labels[i]]++;
  return c;
}

/** Indices of the first `perClass` samples of each class, class by class. */
export function firstPerClass(labels: ArrayLike<number>, count: number, classes: number, perClass: number): number[][] {
  const picked: number[][] = Array.from({ length: classes }, () => []);
  let missing = perClass * classes;
  for (let i = 0; i < count && missing > 0; i++) {
    const bucket = picked[labels[i]];
    if (bucket && bucket.length < perClass) {
      bucket.push(i);
      missing--;
    }
  }
  return picked;
}

/** min / max / mean / std of both splits' targets and a histogram of each split over `bins` equal bins. */
export function targetSummary(train: ArrayLike<number>, trainCount: number, test: ArrayLike<number>, testCount: number, bins = 16): TargetSummary {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  const each = (f: (v: number) => void) => {
    for (let i = 0; i < trainCount; i++) f(train[i]);
    for (let i = 0; i < testCount; i++) f(test[i]);
  };
  each((v) => {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  });
  const n = trainCount + testCount;
  if (n === 0) return { min: 0, max: 0, mean: 0, std: 0, bins: [] };
  const mean = sum / n;
  let sq = 0;
  each((v) => (sq += (v - mean) * (v - mean)));
  // a constant target has one bin holding everything
  const k = max > min ? Math.max(1, Math.floor(bins)) : 1;
  const width = (max - min) / k;
  const out = Array.from({ length: k }, (_, b) => ({ from: min + b * width, to: b === k - 1 ? max : min + (b + 1) * width, train: 0, test: 0 }));
  const bin = (v: number) => (width > 0 ? Math.min(k - 1, Math.floor((v - min) / width)) : 0);
  for (let i = 0; i < trainCount; i++) out[bin(train[i])].train++;
  for (let i = 0; i < testCount; i++) out[bin(test[i])].test++;
  return { min, max, mean, std: Math.sqrt(sq / n), bins: out };
}

/** The first `n` rows of a split: the file's feature values (shortest decimals that round to them) and the label or target. */
function firstRows(raw: Float32Array, y: Uint8Array | Float32Array, count: number, width: number, n: number): TableRow[] {
  const out: TableRow[] = [];
  for (let r = 0; r < Math.min(n, count); r++)
    out.push({ values: Array.from(raw.subarray(r * width, (r + 1) * width), float32Text), label: y instanceof Float32Array ? float32Text(y[r]) : y[r] });
  return out;
}

/** The dataset view's summary of a loaded dataset. */
export function describeDataset(ds: JobDataset, o: DatasetInfoOptions): DatasetInfo {
  const kind = datasetInfoKind(ds);
  const common = {
    kind,
    name: ds.name,
    title: ds.title,
    sampleShape: [...ds.sampleShape],
    classes: [...ds.classes],
    totals: { train: ds.train.count, test: ds.test.count },
    testSplit: kind === 'builtin' ? ('test' as const) : ('validation' as const),
    source: ds.source,
    notes: [...(ds.notes ?? [])],
  };
  if (ds.kind === 'image') {
    const size = ds.sampleShape.reduce((a, b) => a * b, 1);
    const C = ds.classes.length;
    const picked = firstPerClass(ds.train.labels, ds.train.count, C, o.perClass);
    const images = ds.train.images;
    const samples = picked.flatMap((idx, label) =>
      idx.map((i) => ({ label, pixels: Buffer.from(images.buffer, images.byteOffset + i * size, size).toString('base64') })));
    return {
      ...common,
      counts: { train: classCounts(ds.train.labels, ds.train.count, C), test: classCounts(ds.test.labels, ds.test.count, C) },
      samples,
    };
  }
  const width = ds.features.length;
  const table: TableInfo = {
    task: ds.task,
    features: [...ds.features],
    label: ds.label,
    standardized: ds.standardized,
    stats: { mean: [...ds.stats.mean], std: [...ds.stats.std] },
    rows: firstRows(ds.train.raw, ds.train.y, ds.train.count, width, o.rows),
    testRows: firstRows(ds.test.raw, ds.test.y, ds.test.count, width, o.rows),
  };
  if (ds.task === 'regression') table.target = targetSummary(ds.train.y, ds.train.count, ds.test.y, ds.test.count, o.bins);
  const C = ds.classes.length;
  const counts = ds.task === 'classification'
    ? { train: classCounts(ds.train.y, ds.train.count, C), test: classCounts(ds.test.y, ds.test.count, C) }
    : { train: [], test: [] };
  return { ...common, counts, samples: [], table };
}
