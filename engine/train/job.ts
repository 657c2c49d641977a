/**
 * A training job: everything one run needs, prepared once (prepareJob) from a project and the
 * caller's overrides (CLI flags, API overrides): the validated graph, the dataset (job-dataset.ts),
 * the compiled program, a native session holding the initial weights, the loader settings and the
 * learning-rate schedule. Before the session allocates anything, checkMemory (memory.ts) refuses a
 * run this machine cannot hold.
 *
 * Running it is TrainingRun's job (run.ts): the app and `netloom train` both drive a job through it.
 */
import { NetloomError } from '../errors.js';
import { analyzeForTraining, type Analysis } from '../graph/analyze.js';
import type { DatasetDoc, ProjectDoc } from '../graph/document.js';
import { OptimizerSchema, optimizerTypeOf, type OptimizerDoc, type OptimizerFlag } from '../contract/optimizers.js';
import { compileGraph } from '../compile/compile.js';
import { REGISTRY } from '../data/registry.js';
import { loadDataset, type DatasetDownloadProgress, type LoadOptions } from '../data/datasets.js';
import type { BuiltinDatasetName } from '../contract/datasets.js';
import { validateLoaderConfig, type LoaderConfig } from '../data/loader.js';
import { Session } from '../runtime/session.js';
import { initTensor } from './init.js';
import { lrSchedule, validateScheduler, type LrSchedule } from './schedules.js';
import type { SchedulerDoc } from '../contract/schedulers.js';
import { settingHint, settingProblem, type SettingName } from '../contract/settings.js';
import { batchCount } from '../data/loader.js';
import { loadWeights } from './checkpoints.js';
import { standardizeNotes } from '../io/standardize.js';
import { openProjectFile } from '../io/project.js';
import { checkRead } from '../io/file-kinds.js';
import { checkMemory } from './memory.js';
import { datasetBytes, limitDataset, type DatasetCache } from './dataset-cache.js';
import type { DescribedDataset } from './dataset-load.js';
import { datasetTargets, loadCsvDataset, loadImageFolderDataset, resolveBeside, uploadDataset, type JobDataset } from './job-dataset.js';
import { baseMomentum } from './lr-tables.js';
import { machineDevices, nativeDeviceOptions, resolveDevice, type MachineDevices, type ResolvedDevice } from '../runtime/devices.js';
import { deviceDatasetBytes, fitText, gpuFit, type GpuFit } from '../runtime/gpu-fit.js';
import type { CompiledProgram } from '../compile/ir.js';
import { formatBytes } from '../bytes.js';

export interface JobOptions {
  /** overrides of the project's training section (CLI flags) */
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: OptimizerFlag;
  /** a built-in dataset's name or a dataset description: image folder, CSV (replaces the project's training.dataset) */
  dataset?: BuiltinDatasetName | DatasetDoc;
  dataRoot?: string;
  seed?: number;
  threads?: number;
  /** where to train (--device): auto, cpu, cuda, cuda:N; default the project's training.device */
  device?: string;
  /** TF32 tensor cores on a GPU (--no-tf32 sets false); default the project's training.allow_tf32 */
  tf32?: boolean;
  /** the machine's devices as probed (default: the native probe's); tests describe a machine with a GPU here */
  machine?: MachineDevices;
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

export interface Job {
  project: ProjectDoc;
  /** where it trains, and why there (auto's fallback reason) */
  device: ResolvedDevice;
  /** on a GPU: what the run takes in its memory, and the largest batch that fits */
  gpuFit?: GpuFit;
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

/**
 * The CLI's project: read by the app's reader with the app's file-kind rule (checkRead, then
 * openProjectFile), so both give a file the same verdict.
 */
export async function readProject(path: string): Promise<ProjectDoc> {
  return (await openProjectFile(await checkRead('project', path))).project;
}

/** The project's optimizer, with the CLI's --optimizer / --lr applied (other settings reset to torch's defaults on a type change). */
function optimizerFrom(base: OptimizerDoc, o: JobOptions): OptimizerDoc {
  let opt = base;
  if (o.optimizer && optimizerTypeOf(o.optimizer) !== opt.type) opt = OptimizerSchema.parse({ type: optimizerTypeOf(o.optimizer), lr: o.lr ?? opt.lr });
  if (o.lr !== undefined) opt = { ...opt, lr: o.lr };
  return opt;
}

/** A number of JobOptions within its declared range (contract/settings.ts); the message names the setting and the value. */
function checkOption(name: SettingName, value: number | undefined): void {
  const problem = value === undefined ? undefined : settingProblem(name, value);
  if (problem) throw new NetloomError('NL_INVALID_ARGUMENT', problem, settingHint(name));
}

/** The samples of `ds` a run uploads to its device (`count` of both splits together). */
function deviceDataset(ds: JobDataset, program: CompiledProgram, count: number) {
  const sampleSize = ds.sampleShape.reduce((a, b) => a * b, 1);
  const targets = program.io.targets >= 0 ? program.buffers[program.io.targets].elems : 0;
  const labels = ds.kind === 'image' || ds.train.y instanceof Uint8Array;
  return { count, sampleSize, float: ds.kind === 'tabular', labels, targetWidth: labels ? 0 : targets };
}

/** The out-of-memory hint of a run on a GPU: the largest batch that fits its free memory. */
function gpuOomHint(d: ResolvedDevice, fit: GpuFit): string {
  return fit.maxBatch > 0
    ? `Lower the batch size: at most ${fit.maxBatch} fits ${d.id}'s ${formatBytes(fit.freeBytes)} free memory (by Netloom's estimate); or close other programs using the GPU, or train on the CPU (--device cpu).`
    : `The model does not fit ${d.id}'s ${formatBytes(fit.freeBytes)} free memory even at batch 1: close other programs using the GPU, or train on the CPU (--device cpu).`;
}

/** Refuses a run whose estimate does not fit the GPU's free memory (NL_OOM with the largest batch that does); the estimate otherwise. */
function checkGpuFit(program: CompiledProgram, d: ResolvedDevice, ds: JobDataset, count: number): GpuFit {
  const fit = gpuFit(program, { batch: program.maxBatch, datasetBytes: deviceDatasetBytes(deviceDataset(ds, program, count)), freeBytes: d.gpu!.freeBytes });
  if (!fit.fits) throw new NetloomError('NL_OOM', `the run does not fit on ${d.id} (${d.gpu!.name}): ${fitText(fit)}`, gpuOomHint(d, fit));
  return fit;
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
  // Before any data is read: a GPU this machine lacks is refused with the probe's reason.
  const device = resolveDevice(o.device ?? t.device, o.machine ?? machineDevices(), o.tf32 ?? t.allow_tf32);
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
    const fit = device.gpu ? checkGpuFit(program, device, dataset, trainCount + testCount) : undefined;
    if (!device.gpu) checkMemory(program, { loadedBytes: datasetBytes(dataset), copyBytes: 0 }, { threads: o.threads });
    session = new Session(program, o.threads ?? 0, { device: nativeDeviceOptions(device), oomHint: fit && gpuOomHint(device, fit) });
    session.native.seed = loader.seed;
    // what loading the weights noticed (DataParallel's prefix, other standardisation statistics) is printed with the notes
    const loadNotes: string[] = [];
    if (o.weights) {
      const loaded = await loadWeights(o.weights, session);
      loadNotes.push(...loaded.notes, ...standardizeNotes(o.weights, loaded.metadata, dataset.kind === 'tabular' ? dataset : undefined));
    } else for (const p of program.params) session.setParam(p.key, initTensor(p.key, p.shape.reduce((a, b) => a * b, 1), p.init, loader.seed));

    const epochs = o.epochs ?? t.epochs;
    const warnings: string[] = [...(dataset.notes ?? []), ...loadNotes];
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
      project, device, gpuFit: fit, analysis, optimizer, clipGradNorm: t.clip_grad_norm, scheduler, threads: o.threads ?? 0,
      dataset, session, loader, epochs, trainCount, testCount, schedule, warnings, releaseDataset: release,
    };
  } catch (e) {
    session?.close();
    release();
    throw e;
  }
}

