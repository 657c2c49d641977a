/**
 * A training job: the PyTorch quickstart's loop, run natively.
 *
 *   for t in range(epochs): train(train_dataloader, model, loss_fn, optimizer); test(test_dataloader, ...)
 *
 * Each epoch runs whole on native threads (no JS per batch); the test pass reports exactly the
 * quickstart's numbers: Accuracy = correct / samples, Avg loss = sum of batch mean losses / batches.
 *
 * Data (JobDataset): a built-in dataset, an image folder (uint8 pixels) or a CSV file (float features
 * with class labels, or regression targets that a point loss compares with; the test pass then also
 * reports MAE, RMSE and R^2). Before the session allocates anything, checkMemory (memory.ts) refuses a
 * run this machine cannot hold.
 */
import * as path from 'node:path';
import { NetloomError } from '../errors.js';
import { analyzeForTraining, type Analysis } from '../graph/analyze.js';
import { OptimizerSchema, type CsvDatasetDoc, type DatasetDoc, type ImageFolderDatasetDoc, type OptimizerDoc, type ProjectDoc } from '../graph/document.js';
import { compileGraph } from '../compile/compile.js';
import type { TargetSpec } from '../compile/ir.js';
import { REGISTRY } from '../data/registry.js';
import { loadDataset, type DatasetDownloadProgress, type DatasetName, type LoadOptions, type Split } from '../data/datasets.js';
import { loadCsv, type TabularSplit, type TabularTask } from '../data/csv.js';
import { loadImageFolder } from '../data/images.js';
import { epochOrder, validateLoaderConfig, type LoaderConfig } from '../data/loader.js';
import type { NativeProgress } from '../runtime/binding.js';
import { Session } from '../runtime/session.js';
import { initTensor } from './init.js';
import { lrSchedule, validateScheduler, type LrSchedule, type SchedulerDoc } from './schedules.js';
import { LR_MAX, settingHint, settingProblem, type SettingName } from './settings.js';
import { batchCount } from '../data/loader.js';
import { loadCheckpoint } from './checkpoints.js';
import { openProjectFile } from '../io/project.js';
import { checkRead } from '../io/file-kinds.js';
import { checkMemory } from './memory.js';
import { datasetBytes, limitDataset, type DatasetCache } from './dataset-cache.js';
import type { DescribedDataset } from './dataset-load.js';
import { regressionMetrics, type RegressionMetrics } from './metrics.js';

export interface JobOptions {
  /** overrides of the project's training section (CLI flags) */
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad';
  /** a built-in dataset's name or a dataset description: image folder, CSV (replaces the project's training.dataset) */
  dataset?: DatasetName | DatasetDoc;
  dataRoot?: string;
  seed?: number;
  threads?: number;
  /** start from these weights instead of a fresh initialisation */
  weights?: string;
  /** use only the first N samples of each split (quick runs, tests) */
  limitTrain?: number;
  limitTest?: number;

  // -- dataset download (--download): fetch missing files from the official source into dataRoot or the user's data folder
  download?: boolean;
  onDownloadProgress?: (p: DatasetDownloadProgress) => void;
  /** passed on to loadDataset: an AbortSignal that stops a download (Stop while preparing), other mirrors or files (tests) */
  datasetLoad?: Pick<LoadOptions, 'signal' | 'remote' | 'http'>;
  /** an interactive host's datasets, shared by its runs (default: this job loads its own) */
  datasets?: DatasetCache;
}

export interface EpochReport {
  epoch: number;
  trainLoss: number;
  /** correct / samples of the training batches, before each step (NaN for regression) */
  trainAccuracy: number;
  trainSeconds: number;
  samplesPerSec: number;
  testLoss: number;
  testAccuracy: number;
  /** MAE, RMSE and R^2 of the test pass, for models trained on a dataset's regression targets */
  testRegression?: RegressionMetrics;
  stopped: boolean;
}

export interface TestReport {
  /** NaN for regression losses (no classes to be right about) */
  accuracy: number;
  avgLoss: number;
  samples: number;
  seconds: number;
  /** MAE, RMSE and R^2 over the test split, for models trained on a dataset's regression targets */
  regression?: RegressionMetrics;
}

export interface Job {
  project: ProjectDoc;
  /** the analysed graph the program was compiled from (recompiling with other hyper-parameters reuses it) */
  analysis: Analysis;
  /** the optimizer in effect (project + overrides) */
  optimizer: OptimizerDoc;
  clipGradNorm: number | null;
  /** the validated scheduler document, when the project has one */
  scheduler?: SchedulerDoc;
  threads: number;
  /** the LR schedule, when the project has a scheduler */
  schedule?: LrSchedule;
  /** notes for the user about the set-up (e.g. scheduler milestones after the end of the run) */
  warnings: string[];
  dataset: JobDataset;
  session: Session;
  loader: LoaderConfig;
  epochs: number;
  trainCount: number;
  testCount: number;
  /** lets go of the dataset: a shared one (JobOptions.datasets) stays loaded while another run uses it */
  releaseDataset(): void;
}

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
  name: DatasetName | 'image-folder';
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

/**
 * The CLI's project: read by the app's reader with the app's file-kind rule (checkRead, then
 * openProjectFile), so both give a file the same verdict.
 */
export async function readProject(path: string): Promise<ProjectDoc> {
  return (await openProjectFile(await checkRead('project', path))).project;
}

/** The project's optimizer, with the CLI's --optimizer / --lr applied (other settings reset to torch's defaults on a type change). */
function optimizerFrom(base: OptimizerDoc, o: JobOptions): OptimizerDoc {
  const TYPES = { sgd: 'SGD', adam: 'Adam', adamw: 'AdamW', rmsprop: 'RMSprop', adagrad: 'Adagrad' } as const;
  let opt = base;
  if (o.optimizer && TYPES[o.optimizer] !== opt.type) opt = OptimizerSchema.parse({ type: TYPES[o.optimizer], lr: o.lr ?? opt.lr });
  if (o.lr !== undefined) opt = { ...opt, lr: o.lr };
  return opt;
}

/** A number of JobOptions within its declared range (train/settings.ts); the message names the setting and the value. */
function checkOption(name: SettingName, value: number | undefined): void {
  const problem = value === undefined ? undefined : settingProblem(name, value);
  if (problem) throw new NetloomError('NL_INVALID_ARGUMENT', problem, settingHint(name));
}

/** The momentum a scheduler may cycle: SGD/RMSprop momentum, Adam's beta1 (none for Adagrad). */
export function baseMomentum(opt: OptimizerDoc): number | undefined {
  if (opt.type === 'SGD' || opt.type === 'RMSprop') return opt.momentum;
  if (opt.type === 'Adam' || opt.type === 'AdamW') return opt.betas[0];
  return undefined;
}

/**
 * Per-batch learning rates (and momenta, when the schedule cycles them) for one epoch. A schedule
 * that drives the lr past LR_MAX (an ExponentialLR with gamma > 1, say) stops here, naming the
 * scheduler and the epoch: in float32 the table would soon hold infinity, which the native side
 * can only call "lr values must be finite".
 */
export function epochTables(schedule: LrSchedule, epoch: number, batches: number): { lr: Float32Array; momentum?: Float32Array } {
  const lr = new Float32Array(batches);
  const mom = new Float32Array(batches);
  let cycles = false;
  for (let b = 0; b < batches; b++) {
    const k = schedule.interval === 'epoch' ? epoch : epoch * batches + b;
    const v = schedule.lrAt(k);
    if (!(v >= 0 && v <= LR_MAX))
      throw new NetloomError('NL_INVALID_ARGUMENT',
        `${schedule.type} sets the learning rate to ${String(v).replace('e+', 'e')} in epoch ${epoch + 1}${schedule.interval === 'step' ? ` (batch ${b + 1})` : ''}, above the largest Netloom trains with (${LR_MAX})`,
        'Make the schedule end lower: a smaller gamma (below 1 lowers the lr), fewer epochs, or a smaller starting lr.');
    lr[b] = v;
    const m = schedule.momentumAt(k);
    if (m !== undefined) mom[b] = m;
    cycles ||= m !== undefined && m !== schedule.momentumAt(0);
  }
  return cycles ? { lr, momentum: mom } : { lr };
}

/** Builds everything a run needs: validated graph, dataset, compiled program, initial weights. */
export async function prepareJob(project: ProjectDoc, source: string, o: JobOptions = {}): Promise<Job> {
  // The API checked these on arrival and the CLI as it parsed its flags; a caller in process (tests, scripts) is checked here.
  checkOption('epochs', o.epochs);
  checkOption('batch_size', o.batchSize);
  checkOption('threads', o.threads);
  checkOption('lr', o.lr);
  checkOption('seed', o.seed);
  checkOption('limit', o.limitTrain);
  checkOption('limit', o.limitTest);
  const t = project.training;
  const loader = validateLoaderConfig({
    batchSize: o.batchSize ?? t.batch_size,
    shuffle: t.shuffle,
    dropLast: t.drop_last,
    seed: o.seed ?? t.seed,
  });
  if (t.device === 'cuda')
    throw new NetloomError('NL_INVALID_ARGUMENT', 'training.device is "cuda" but this build of Netloom has no CUDA support',
      'Set the device to "auto" or "cpu" (auto picks CUDA by itself once a CUDA build finds a GPU); `netloom devices` lists what this machine has.');
  const analysis = analyzeForTraining(project.graph, source, { batchSize: loader.batchSize });
  const wanted = o.dataset ?? t.dataset;
  const input = analysis.byId.get(analysis.inputId!)!;
  const shape = input.outShape!;
  const checkShape = (title: string, sampleShape: readonly number[], what = '') => {
    if (shape.length !== sampleShape.length || shape.some((d, i) => d !== sampleShape[i]))
      throw new NetloomError('NL_BAD_GRAPH', `Input at node ${input.doc.name}: its shape [${shape.join(', ')}] does not match ${title} samples [${sampleShape.join(', ')}]${what}`,
        `Set the Input shape to [${sampleShape.join(', ')}].`);
  };
  // Built-in datasets declare their sample shape: a mismatch is reported before any download.
  const builtin = typeof wanted === 'string' ? wanted : wanted.type === 'torchvision' ? wanted.name : undefined;
  if (builtin !== undefined && REGISTRY[builtin]) checkShape(REGISTRY[builtin].title, REGISTRY[builtin].sampleShape);
  // CLI flags (--data, --download) win over the project's folder and download setting
  const located: DescribedDataset =
    typeof wanted === 'string' ? { type: 'torchvision', name: wanted, root: o.dataRoot, download: o.download ?? false }
      : wanted.type === 'torchvision' ? { ...wanted, root: o.dataRoot ?? (wanted.root === undefined ? undefined : resolveBeside(source, wanted.root)), download: o.download ?? wanted.download }
        : { ...wanted, path: resolveBeside(source, wanted.path) };
  const load = async (): Promise<JobDataset> => {
    if (located.type === 'torchvision')
      return { kind: 'image', ...(await loadDataset(located.name, { ...o.datasetLoad, root: located.root, download: located.download, onProgress: o.onDownloadProgress })) };
    return located.type === 'image-folder' ? loadImageFolderDataset(located, source) : loadCsvDataset(located, source);
  };
  // A host's runs share one copy of a dataset (DatasetCache); the CLI's one run loads its own.
  const lease = o.datasets ? await o.datasets.acquire({ doc: located, remote: located.type === 'torchvision' && located.download ? o.datasetLoad?.remote : undefined }, load) : undefined;
  let dataset = lease ? lease.dataset : await load();
  let release = () => lease?.release();
  let session: Session | undefined;
  try {
    checkShape(dataset.title, dataset.sampleShape, dataset.kind === 'tabular' ? ` (one value per feature column: ${dataset.features.join(', ')})` : '');

    const optimizer = optimizerFrom(t.optimizer, o);
    const program = compileGraph(analysis, { batchSize: loader.batchSize, optimizer, clipGradNorm: t.clip_grad_norm, targets: datasetTargets(dataset) });
    if (program.classes > 0 && program.classes < dataset.classes.length) {
      const loss = analysis.byId.get(analysis.lossId!)!;
      throw new NetloomError('NL_BAD_GRAPH', `${loss.doc.type} at node ${loss.doc.name}: the model scores ${program.classes} classes but ${dataset.title} has ${dataset.classes.length}`,
        `Set out_features of the last Linear layer to ${dataset.classes.length}.`);
    }

    const trainCount = Math.min(o.limitTrain ?? Infinity, dataset.train.count);
    const testCount = Math.min(o.limitTest ?? Infinity, dataset.test.count);
    // A limited run keeps a copy of its samples only, and lets the whole dataset go (to the other runs using it, if any).
    const limited = limitDataset(dataset, trainCount, testCount);
    if (limited !== dataset) {
      dataset = limited;
      release();
      release = () => {};
    }
    // Before the session allocates anything: an impossible size is an error now, not the OOM killer later.
    // The session reads the dataset in place (no copy of its own); a limited run's samples are
    // already copied (limitDataset), so they count as loaded.
    checkMemory(program, { loadedBytes: datasetBytes(dataset), copyBytes: 0 }, { threads: o.threads });
    session = new Session(program, o.threads ?? 0);
    session.native.seed = loader.seed;
    if (o.weights) await loadCheckpoint(o.weights, session);
    else for (const p of program.params) session.setParam(p.key, initTensor(p.key, p.shape.reduce((a, b) => a * b, 1), p.init, loader.seed));

    const epochs = o.epochs ?? t.epochs;
    const warnings: string[] = [...(dataset.notes ?? [])];
    let schedule: LrSchedule | undefined;
    let scheduler: SchedulerDoc | undefined;
    if (t.scheduler) {
      const stepsPerEpoch = batchCount(trainCount, loader.batchSize, loader.dropLast);
      const v = validateScheduler(t.scheduler, { epochs, stepsPerEpoch, optimizer: optimizer.type });
      warnings.push(...v.warnings);
      scheduler = v.scheduler;
      schedule = lrSchedule(v.scheduler, optimizer.lr, baseMomentum(optimizer));
    }
    uploadDataset(session, dataset, trainCount, testCount);
    return {
      project, analysis, optimizer, clipGradNorm: t.clip_grad_norm, scheduler, threads: o.threads ?? 0,
      dataset, session, loader, epochs, trainCount, testCount, schedule, warnings, releaseDataset: release,
    };
  } catch (e) {
    session?.close();
    release();
    throw e;
  }
}

/** The quickstart's test(): no updates, in order, same batch size. */
export async function testPass(job: Job, onProgress?: (p: NativeProgress) => void): Promise<TestReport> {
  const regression = job.session.program.io.targets >= 0;
  const r = await job.session.runEpoch('test', { count: job.testCount, batch: job.loader.batchSize, dropLast: false, train: false, outputs: regression }, onProgress);
  const accuracy = job.session.program.task === 'classification' ? r.correct / Math.max(r.samples, 1) : Number.NaN;
  return {
    accuracy, avgLoss: r.lossSum / Math.max(r.batches, 1), samples: r.samples, seconds: r.seconds,
    ...(regression ? { regression: testRegression(job, r.outputs) } : {}),
  };
}

/** MAE, RMSE and R^2 of a test pass's output rows against the test split's targets (a regression CSV). */
export function testRegression(job: Job, outputs: Float32Array | undefined): RegressionMetrics {
  const ds = job.dataset;
  const targets = job.session.program.io.targets;
  if (ds.kind !== 'tabular' || targets < 0)
    throw new NetloomError('NL_INTERNAL', 'regression metrics need a dataset with regression targets', 'This is a bug in Netloom: please report it with the project file.');
  const width = job.session.program.buffers[targets].elems;
  return regressionMetrics(outputs ?? new Float32Array(0), ds.test.y, job.testCount, width);
}

export interface TrainEvents {
  onEpochStart?(epoch: number): void;
  onBatch?(epoch: number, p: NativeProgress): void;
  onTestStart?(epoch: number): void;
  onEpoch?(r: EpochReport): void;
}

/** Runs job.epochs epochs of train + test. Stops early (after reporting) if session.stop() was called. */
export async function runTraining(job: Job, ev: TrainEvents = {}): Promise<EpochReport[]> {
  const reports: EpochReport[] = [];
  for (let epoch = 1; epoch <= job.epochs; epoch++) {
    ev.onEpochStart?.(epoch);
    const order = epochOrder(job.trainCount, job.loader, epoch - 1);
    const batches = batchCount(job.trainCount, job.loader.batchSize, job.loader.dropLast);
    const tables = job.schedule ? epochTables(job.schedule, epoch - 1, batches) : {};
    const r = await job.session.runEpoch(
      'train',
      { count: job.trainCount, batch: job.loader.batchSize, dropLast: job.loader.dropLast, train: true, order, eventIntervalMs: 100, ...tables },
      ev.onBatch ? (p) => ev.onBatch!(epoch, p) : undefined,
    );
    ev.onTestStart?.(epoch);
    const test = await testPass(job);
    const report: EpochReport = {
      epoch,
      trainLoss: r.lossSum / Math.max(r.batches, 1),
      trainAccuracy: job.session.program.task === 'classification' ? r.correct / Math.max(r.samples, 1) : Number.NaN,
      trainSeconds: r.seconds,
      samplesPerSec: r.samples / Math.max(r.seconds, 1e-9),
      testLoss: test.avgLoss,
      testAccuracy: test.accuracy,
      ...(test.regression ? { testRegression: test.regression } : {}),
      stopped: r.stopped,
    };
    reports.push(report);
    ev.onEpoch?.(report);
    if (r.stopped) break;
  }
  return reports;
}
