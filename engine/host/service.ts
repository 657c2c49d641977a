/**
 * EngineService: the one object behind both hosts. `netloom serve` (serve.ts) and Electron
 * (electron/ipc.ts) validate each request with api.ts, call the method of the same name here,
 * and send back its result or its error. No transport code lives here: methods take validated
 * params and return plain data matching METHODS[m].result; user problems throw NetloomError
 * (the transports turn it into ApiError {code, message, hint}).
 *
 * Events (e.g. recent.changed after a save) go to every onEvent listener; a host forwards them
 * to its clients.
 *
 * Training runs (startRun ... checkpointReport) live in one Map keyed by runId; each TrainingRun's
 * events become run.progress / run.epoch / run.state events for every client.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { NetloomError } from '../errors.js';
import { analyzeForTraining, analyzeGraph } from '../graph/analyze.js';
import { diffCheckpoint, diffGraphs } from '../graph/diff.js';
import { flattenGroups } from '../graph/groups.js';
import { compileGraph } from '../compile/compile.js';
import { isResumable, loadReport, readCheckpoint, splitCheckpoint } from '../train/checkpoints.js';
import { CATALOG } from '../graph/catalog.js';
import { TrainingSchema, type GraphDoc, type ProjectDoc } from '../graph/document.js';
import { DEFAULT_OPTIMIZER, OptimizerSchema } from '../contract/optimizers.js';
import { batchCount } from '../data/loader.js';
import { previewCsv } from '../data/csv-preview.js';
import type { LoadOptions } from '../data/datasets.js';
import { loadBinding } from '../runtime/binding.js';
import { deviceLabel, deviceProblemFor, machineDevices } from '../runtime/devices.js';
import { deviceFitOf } from './device-fit.js';
import { parseDevice } from '../contract/settings.js';
import { validateScheduler } from '../train/schedules.js';
import { SchedulerSchema } from '../contract/schedulers.js';
import { downloadReporter } from './download-events.js';
import { layerDto } from './catalog-dto.js';
import { netloomRoot, netloomVersion } from './install.js';
import { paramForms } from './settings-forms.js';
import { listTemplates, readTemplate } from './templates.js';
import { batchShape, paramCount, summarize } from '../graph/summary.js';
import { groupInfos } from '../graph/group-info.js';
import * as projectIo from '../io/project.js';
import { FILE_KINDS, checkRead, checkWrite, hasKind } from '../io/file-kinds.js';
import { TrainingRun, type HyperEdit } from '../train/run.js';
import { buildExportInput } from '../train/export-input.js';
import { writeModelExport } from '../io/model-export.js';
import { checkExportRequest, exportTarget, importOnnxProject, removeImportedWeights } from './model-files.js';
import { DatasetCache, datasetBytes } from '../train/dataset-cache.js';
import { RUN_IDLE_MS, RunKeeper, SYSTEM_TIMERS, type RunClient, type Timers } from './run-keeper.js';
import { withAbsoluteDataPaths } from '../train/job-dataset.js';
import { describeDataset } from '../train/dataset-info.js';
import { datasetFingerprint, loadDescribed, locateDataset, parseDatasetDoc, type DescribedDataset } from '../train/dataset-load.js';
import { API_VERSION, AppStateDto, RecoveryDto, type EngineApi, type HostInfoDto, type EngineEvent, type LayerDto, type Params, type Result, type RunSummaryDto, type TrainingIssueDto } from '../contract/api.js';
import { BUILTIN_DATASETS, isBuiltinDataset, type BuiltinDatasetName } from '../contract/datasets.js';

/**
 * The project with its dataset paths made absolute against the project file's folder. An unsaved project has no
 * folder: a relative path there would silently mean the engine's working directory, so it is refused instead.
 */
function locateDataPaths(doc: ProjectDoc, file: string | undefined): ProjectDoc {
  if (file !== undefined) return withAbsoluteDataPaths(doc, file);
  const ds = doc.training.dataset;
  const rel = typeof ds === 'string' ? undefined : ds.type === 'torchvision' ? ds.root : ds.path;
  if (rel !== undefined && !path.isAbsolute(rel))
    throw new NetloomError('NL_INVALID_ARGUMENT', `The dataset path "${rel}" is relative, but this project has not been saved yet, so there is no folder to resolve it against`,
      'Save the project first (relative paths are read from the project file\'s folder), or choose the dataset again with its full path.');
  return doc;
}

/** A CSV dataset is read only from a file of the CSV kind (file-kinds.ts); folders are listed by their loaders' own rules. */
async function checkDatasetFile(dataset: ProjectDoc['training']['dataset']): Promise<void> {
  if (typeof dataset !== 'string' && dataset.type === 'csv') await checkRead('csv', dataset.path);
}

/** Training samples per epoch of a built-in dataset (its train split), for checking a schedule's length. */
function builtinTrainSamples(dataset: unknown): number | undefined {
  const name = dataset && typeof dataset === 'object' && (dataset as { type?: unknown }).type === 'torchvision' ? (dataset as { name?: unknown }).name : dataset;
  return isBuiltinDataset(name) ? BUILTIN_DATASETS[name].trainSize : undefined;
}

// ---- the service ---------------------------------------------------------------------------------

export interface EngineServiceOptions {
  /** folder of template projects (default: <install>/assets/templates) */
  templatesDir?: string;
  /** dataset download settings for every run: other mirrors or files (tests, private set-ups), transport limits */
  datasetLoad?: Pick<LoadOptions, 'remote' | 'http'>;
  /** the desktop shell's part of the API (native dialogs, menus, window); absent: a browser host */
  host?: HostBridge;
  /** how long a run whose last client went stays before it is closed (default RUN_IDLE_MS; see run-keeper.ts) */
  runIdleMs?: number;
  /** the clock for that (tests pass their own) */
  timers?: Timers;
  /** where File ▸ Import ▸ ONNX Model puts the imported weights (default: <os temp>/netloom-imports) */
  importsDir?: string;
}

/**
 * What a desktop host adds to the engine: it answers hostInfo / pickPath / setAppState / closeWindow.
 * The Electron main process implements it (electron/host-bridge.ts); `netloom serve` has none, so
 * the renderer keeps its web dialogs there.
 */
export interface HostBridge {
  info(): HostInfoDto;
  pickPath(req: Params<'pickPath'>): Promise<string | null>;
  setAppState(state: AppStateDto): void;
  /** the answer to a close request: close now, or (cancel) keep the window and call off a pending quit */
  closeWindow(cancel: boolean): void;
}

type Listener = (e: EngineEvent) => void;

/** Summaries of described datasets (folders, CSVs) kept by datasetInfo: a few projects' worth. */
const DATASET_INFO_CACHE = 8;

export class EngineService implements EngineApi {
  private readonly listeners = new Set<Listener>();
  private readonly templatesDirOption: string | undefined;
  private catalogCache: LayerDto[] | undefined;
  private rootCache: string | undefined;
  private readonly runs = new Map<string, { run: TrainingRun; name: string }>();
  /** runs still being prepared (dataset load or download, compile): stopRun aborts them */
  private readonly preparing = new Map<string, { name: string; abort: AbortController }>();
  private nextRunId = 1;
  private readonly datasetLoad: Pick<LoadOptions, 'remote' | 'http'> | undefined;
  private readonly host: HostBridge | undefined;
  /** one copy of each dataset for all the runs (and dataset views) that use it */
  private readonly datasetCache = new DatasetCache();
  /** closes the runs whose clients (tabs of `netloom serve`) are gone */
  private readonly keeper: RunKeeper;
  private readonly importsDir: string;
  /** the weights files importOnnx wrote to importsDir: temporary, removed by close() */
  private readonly importedWeights = new Set<string>();

  constructor(opts: EngineServiceOptions = {}) {
    this.templatesDirOption = opts.templatesDir;
    this.importsDir = opts.importsDir ?? path.join(os.tmpdir(), 'netloom-imports');
    this.datasetLoad = opts.datasetLoad;
    this.host = opts.host;
    this.keeper = new RunKeeper({
      idleMs: opts.runIdleMs ?? RUN_IDLE_MS,
      timers: opts.timers ?? SYSTEM_TIMERS,
      training: (runId) => this.runs.get(runId)?.run.state === 'running',
      exists: (runId) => this.runs.has(runId),
      close: (runId) => void this.dropRun(runId),
    });
  }

  /**
   * A client of the runs: a host calls uses(runId) when the client starts a run or names one in a
   * call, and close() when it goes (a WebSocket closing). A run whose last client has gone is closed
   * a while later (run-keeper.ts). Hosts with no clients (the desktop app) keep every run.
   */
  openClient(): RunClient {
    return this.keeper.client();
  }

  /** What the runs hold, for tests and diagnostics: each run's dataset bytes (shared or its own), the shared datasets, live native sessions. */
  memory(): { runs: { runId: string; clients: number | null; datasetBytes: number; sharedDataset: boolean }[]; datasets: ReturnType<DatasetCache['stats']>; sessions: number } {
    const datasets = this.datasetCache.stats();
    return {
      runs: [...this.runs].map(([runId, { run }]) => ({
        runId,
        clients: this.keeper.clientCount(runId) ?? null,
        datasetBytes: datasetBytes(run.job.dataset),
        sharedDataset: this.datasetCache.holds(run.job.dataset),
      })),
      datasets,
      sessions: loadBinding().liveSessions(),
    };
  }

  /** Forgets a run and frees what it holds (not while training: callers check). */
  private async dropRun(runId: string): Promise<void> {
    const entry = this.runs.get(runId);
    if (!entry) return;
    this.runs.delete(runId);
    this.keeper.forget(runId);
    try {
      await entry.run.close();
    } catch (e) {
      process.stderr.write(`netloom: could not free run ${runId}: ${(e as Error)?.message ?? String(e)}\n`);
    }
  }

  onEvent(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Sends an event to every client: the engine's own, and the host's (app.command from menus and drops). */
  emit(e: EngineEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        process.stderr.write(`netloom: an event listener failed: ${(err as Error)?.stack ?? String(err)}\n`);
      }
    }
  }

  private root(): string {
    this.rootCache ??= netloomRoot();
    return this.rootCache;
  }

  private templatesDir(): string {
    return this.templatesDirOption ?? path.join(this.root(), 'assets', 'templates');
  }

  async hello(_params: Params<'hello'>): Promise<Result<'hello'>> {
    return { apiVersion: API_VERSION, version: netloomVersion(this.root()) };
  }

  // ---- the host ----------------------------------------------------------------------------------

  async hostInfo(_params: Params<'hostInfo'>): Promise<Result<'hostInfo'>> {
    return this.host?.info() ?? { kind: 'browser', platform: process.platform, home: os.homedir(), nativeDialogs: false };
  }

  async pickPath(params: Params<'pickPath'>): Promise<Result<'pickPath'>> {
    if (!this.host)
      throw new NetloomError('NL_UNSUPPORTED', 'the operating system\'s file dialogs exist in the desktop app only',
        'Use the app\'s own file dialog: browse to the file or type its path on the engine\'s machine.');
    return { path: await this.host.pickPath(params) };
  }

  async setAppState(state: Params<'setAppState'>): Promise<Result<'setAppState'>> {
    // A browser tab has no native menus: the state is only the desktop window's business.
    this.host?.setAppState(AppStateDto.parse(state));
    return {};
  }

  async closeWindow({ cancel }: Params<'closeWindow'>): Promise<Result<'closeWindow'>> {
    if (!this.host) throw new NetloomError('NL_UNSUPPORTED', 'a browser tab is closed by the browser', 'Close the tab; `netloom serve` keeps running until you stop it with Ctrl-C.');
    this.host.closeWindow(cancel === true);
    return {};
  }

  /** Stops every run that is training or preparing (the desktop app quitting); resolves when they have stopped. */
  async stopAllRuns(): Promise<void> {
    for (const { abort } of this.preparing.values()) abort.abort(new Error('the app is quitting'));
    const busy = [...this.runs.keys()].filter((id) => {
      const state = this.runs.get(id)!.run.summary().state;
      return state === 'running' || state === 'paused';
    });
    await Promise.all(busy.map((runId) => this.stopRun({ runId }).catch(() => undefined)));
  }

  /** Whether a run is training, paused or preparing (the close guard asks first). */
  hasActiveRuns(): boolean {
    if (this.preparing.size > 0) return true;
    for (const { run } of this.runs.values()) {
      const state = run.summary().state;
      if (state === 'running' || state === 'paused') return true;
    }
    return false;
  }

  async getCatalog(_params: Params<'getCatalog'>): Promise<Result<'getCatalog'>> {
    this.catalogCache ??= [...CATALOG.values()].map(layerDto);
    return this.catalogCache;
  }

  async analyze({ graph, batchSize }: Params<'analyze'>): Promise<Result<'analyze'>> {
    const analysis = analyzeGraph(graph as GraphDoc, { batchSize });
    // The flat graph keeps the drawn nodes and edges in place (their copies come after): index k is copy 0 of k.
    const flat = analysis.flat.graph;
    const nodes = graph.nodes.map((doc, k) => {
      const n = analysis.byId.get(doc.id);
      // A node that did not parse (unknown type, bad params, duplicate id) has no shape.
      if (!n || n.doc !== flat.nodes[k]) return { id: doc.id, outShape: null, paramCount: 0, resolved: { ...doc.params } };
      const resolved = Object.fromEntries(Object.entries(n.params).filter(([k]) => !k.startsWith('_')));
      return { id: doc.id, outShape: batchShape(n, batchSize), paramCount: paramCount(analysis, n), resolved };
    });
    // An edge leaving a repeated group leaves from its last copy: the flat edge (same id, or same place) knows.
    const edges = graph.edges.map((e, k) => {
      const src = analysis.byId.get(flat.edges[k].source);
      return { id: e.id ?? `edge #${k}`, shape: src ? batchShape(src, batchSize) : null };
    });
    const issues = analysis.issues.map((i) => ({
      code: i.code,
      message: i.message,
      hint: i.hint,
      ...(i.nodeId !== undefined ? { nodeId: i.nodeId } : {}),
      ...(i.edgeId !== undefined ? { edgeId: i.edgeId } : {}),
      ...(i.fix !== undefined ? { fix: i.fix } : {}),
    }));
    const groups = groupInfos(graph as GraphDoc, analysis, batchSize);
    return { batchSize, nodes, edges, ...(groups.length ? { groups } : {}), issues, summary: summarize(analysis, batchSize) };
  }

  async listTemplates(_params: Params<'listTemplates'>): Promise<Result<'listTemplates'>> {
    return listTemplates(this.templatesDir());
  }

  async getTemplate({ id }: Params<'getTemplate'>): Promise<Result<'getTemplate'>> {
    return readTemplate(this.templatesDir(), id);
  }

  async openProject({ path: file }: Params<'openProject'>): Promise<Result<'openProject'>> {
    const opened = await projectIo.openProjectFile(await checkRead('project', file));
    await this.remember(opened.path);
    return opened;
  }

  async saveProject({ path: file, project, overwrite }: Params<'saveProject'>): Promise<Result<'saveProject'>> {
    const saved = await projectIo.saveProjectFile(await checkWrite('project', file, { overwrite }), project);
    await this.remember(saved.path);
    return { path: saved.path };
  }

  /** Puts a file at the top of the recent list; a settings folder that cannot be written only logs. */
  private async remember(file: string): Promise<void> {
    try {
      const recent = await projectIo.addRecent(file);
      this.emit({ type: 'recent.changed', recent });
    } catch (e) {
      process.stderr.write(`netloom: could not update the recent files list: ${(e as Error).message}\n`);
    }
  }

  /** Empties the recent list (File > Open Recent > Clear in the desktop app). */
  async clearRecentProjects(): Promise<void> {
    this.emit({ type: 'recent.changed', recent: await projectIo.clearRecent() });
  }

  async recentProjects(_params: Params<'recentProjects'>): Promise<Result<'recentProjects'>> {
    return projectIo.readRecent();
  }

  async listDir({ path: dir, kind }: Params<'listDir'>): Promise<Result<'listDir'>> {
    // only the extensions of Netloom's own file kinds are ever listed: a client learns no other file's name
    return projectIo.listDir(dir, kind === 'folders' ? [] : FILE_KINDS[kind ?? 'project'].extensions);
  }

  async writeRecovery({ project, path: file }: Params<'writeRecovery'>): Promise<Result<'writeRecovery'>> {
    await projectIo.writeRecovery(project, file);
    return {};
  }

  async readRecovery(_params: Params<'readRecovery'>): Promise<Result<'readRecovery'>> {
    const r = await projectIo.readRecovery();
    if (!r) return null;
    // A recovery file from another version that no longer fits the contract is dropped, not an error.
    const parsed = RecoveryDto.safeParse(r);
    return parsed.success ? parsed.data : null;
  }

  async clearRecovery(_params: Params<'clearRecovery'>): Promise<Result<'clearRecovery'>> {
    await projectIo.clearRecovery();
    return {};
  }

  // ---- training runs ---------------------------------------------------------------------------

  private getRunEntry(runId: string): { run: TrainingRun; name: string } {
    const entry = this.runs.get(runId);
    if (!entry)
      throw new NetloomError('NL_INVALID_ARGUMENT', `there is no run "${runId}"`,
        this.runs.size ? `Known runs: ${[...this.runs.keys()].join(', ')}.` : 'Start one with startRun first.');
    return entry;
  }

  private runSummary(runId: string): RunSummaryDto {
    const { run, name } = this.getRunEntry(runId);
    return { runId, name, ...run.summary() };
  }

  async startRun({ project, overrides, checkpoint, evaluateOnly, tag, path: file }: Params<'startRun'>): Promise<Result<'startRun'>> {
    const doc = locateDataPaths(projectIo.loadProjectJson(project, `project "${project.name}"`), file);
    await checkDatasetFile(doc.training.dataset);
    if (checkpoint) await checkRead('weights', checkpoint.path);
    // This service is an interactive host's (the desktop app, netloom serve): its training yields the CPU to the
    // host's event loop and the UI. The command line trains at normal priority.
    loadBinding().setBackgroundPriority(true);
    // The id exists from the start, so download events can name the run and stopRun can abandon it while it prepares.
    const runId = `run-${this.nextRunId++}`;
    const abort = new AbortController();
    this.preparing.set(runId, { name: doc.name, abort });
    let run: TrainingRun;
    try {
      run = await TrainingRun.create(doc, `project "${project.name}"`, {
        ...overrides,
        datasets: this.datasetCache,
        datasetLoad: { ...this.datasetLoad, signal: abort.signal },
        onDownloadProgress: downloadReporter(runId, tag, (e) => this.emit(e)),
      });
      if (checkpoint) await run.loadCheckpoint(checkpoint.path, { resume: checkpoint.resume });
    } finally {
      this.preparing.delete(runId);
    }
    // Stopped after the download (while compiling or loading): the run never starts.
    if (abort.signal.aborted) throw new NetloomError('NL_STOPPED', `the run of "${doc.name}" was stopped before it started`, 'Start it again when you are ready.');
    this.runs.set(runId, { run, name: doc.name });
    run.onEvent((e) => {
      if (e.kind === 'progress') {
        const { kind: _k, step: _s, ...rest } = e;
        this.emit({ type: 'run.progress', runId, ...rest });
      } else if (e.kind === 'epoch') {
        this.emit({ type: 'run.epoch', runId, epoch: e.epoch, trainLoss: e.trainLoss, trainAccuracy: e.trainAccuracy, testLoss: e.testLoss, testAccuracy: e.testAccuracy, seconds: e.seconds });
      } else if (e.kind === 'state') {
        this.emit({ type: 'run.state', runId, state: e.state, ...(e.error ? { error: e.error } : {}) });
        if (e.state !== 'running') this.keeper.settled(runId);
      }
    });
    if (evaluateOnly) await run.stop(); // weights only: 'stopped' (evaluate, predict, save), never trained
    else if (run.state === 'paused') await run.resume(); // resumed from a checkpoint's position
    else run.start();
    // what the load of the checkpoint said (DataParallel's prefix dropped, other CSV statistics): the user sees it
    return { runId, notes: [...run.lastLoadNotes], device: deviceLabel(run.job.device, machineDevices().cpu, run.session.threads) };
  }

  async pauseRun({ runId }: Params<'pauseRun'>): Promise<Result<'pauseRun'>> {
    await this.getRunEntry(runId).run.pause();
    return this.runSummary(runId);
  }

  async resumeRun({ runId, hyper }: Params<'resumeRun'>): Promise<Result<'resumeRun'>> {
    const change = await this.getRunEntry(runId).run.resume({ hyper: hyper as HyperEdit | undefined });
    return { run: this.runSummary(runId), change };
  }

  async stopRun({ runId }: Params<'stopRun'>): Promise<Result<'stopRun'>> {
    const preparing = this.preparing.get(runId);
    if (preparing) {
      preparing.abort.abort(new Error('stopped by the user'));
      return { runId, name: preparing.name, state: 'stopped', epoch: 0, epochs: 0, batch: 0, batches: 0, bestEpoch: null };
    }
    await this.getRunEntry(runId).run.stop();
    return this.runSummary(runId);
  }

  async listRuns(_params: Params<'listRuns'>): Promise<Result<'listRuns'>> {
    return [...this.runs.keys()].map((id) => this.runSummary(id));
  }

  async getRun({ runId }: Params<'getRun'>): Promise<Result<'getRun'>> {
    const { run } = this.getRunEntry(runId);
    return {
      ...this.runSummary(runId),
      progress: run.history.progress.map((p) => ({ ...p })),
      epochsDone: run.history.epochs.map((e) => ({ epoch: e.epoch, trainLoss: e.trainLoss, trainAccuracy: e.trainAccuracy, testLoss: e.testLoss, testAccuracy: e.testAccuracy, seconds: e.seconds })),
      changes: run.history.changes,
    };
  }

  async closeRun({ runId }: Params<'closeRun'>): Promise<Result<'closeRun'>> {
    const { run } = this.getRunEntry(runId);
    if (run.state === 'running') throw new NetloomError('NL_INVALID_ARGUMENT', `run "${runId}" is training`, 'Stop it first (stopRun).');
    await this.dropRun(runId);
    return {};
  }

  async evaluateRun({ runId }: Params<'evaluateRun'>): Promise<Result<'evaluateRun'>> {
    return this.getRunEntry(runId).run.evaluate();
  }

  async runSamples({ runId, actual, predicted, limit }: Params<'runSamples'>): Promise<Result<'runSamples'>> {
    return this.getRunEntry(runId).run.samples({ actual, predicted, limit });
  }

  async predict({ runId, pixels, features }: Params<'predict'>): Promise<Result<'predict'>> {
    const { run } = this.getRunEntry(runId);
    const sample = features ?? pixels ?? [];
    if (run.session.program.task !== 'classification') return { probabilities: [], predicted: -1, output: await run.predictOutput(sample) };
    const probabilities = await run.predict(sample);
    let predicted = 0;
    for (let c = 1; c < probabilities.length; c++) if (probabilities[c] > probabilities[predicted]) predicted = c;
    return { probabilities, predicted };
  }

  async saveRunCheckpoint({ runId, path: file, which, withOptimizer, overwrite }: Params<'saveRunCheckpoint'>): Promise<Result<'saveRunCheckpoint'>> {
    const { run } = this.getRunEntry(runId);
    // a .pt/.pth name is PyTorch's format (run.saveCheckpoint writes by the extension); any other name gets .safetensors
    const abs = await checkWrite(hasKind('torch', file) ? 'torch' : 'checkpoint', file, { overwrite });
    await run.saveCheckpoint(abs, { which: which ?? 'last', withOptimizer: withOptimizer ?? false });
    return { path: abs };
  }

  async checkpointReport({ runId, path: file, dryRun }: Params<'checkpointReport'>): Promise<Result<'checkpointReport'>> {
    const { run } = this.getRunEntry(runId);
    return run.loadCheckpointReport(await checkRead('weights', file), { dryRun });
  }

  /** The per-node report against a graph as drawn: its state-dict keys come from compiling it (no data, no run). */
  async graphCheckpointReport({ graph, path: file }: Params<'graphCheckpointReport'>): Promise<Result<'graphCheckpointReport'>> {
    const analysis = analyzeForTraining(graph as GraphDoc, 'the canvas', { batchSize: 1 });
    const program = compileGraph(analysis, { batchSize: 1, optimizer: OptimizerSchema.parse({ type: DEFAULT_OPTIMIZER }), train: false });
    const read = await readCheckpoint(await checkRead('weights', file));
    // the read file's notes (DataParallel's 'module.' prefix dropped) and its checkpoint dict go into the report
    return { ...loadReport(analysis.flat.graph.nodes, program.params, read.tensors, read), resumable: isResumable(read.metadata) };
  }

  /**
   * The graph diff (engine/graph/diff.ts). A project file is read as Open reads it (migrated; nothing written, not
   * added to the recent list); a checkpoint is compared by state-dict keys and shapes with the graph as compiled.
   */
  async diffGraph({ graph, against }: Params<'diffGraph'>): Promise<Result<'diffGraph'>> {
    const current = graph as GraphDoc;
    if (against.kind === 'graph') return diffGraphs(current, against.graph as GraphDoc);
    if (against.kind === 'project') {
      const { project } = await projectIo.openProjectFile(await checkRead('project', against.path));
      return diffGraphs(current, project.graph as GraphDoc);
    }
    // the checkpoint's keys are the flat graph's full names (`encoder.conv1.weight`)
    const flat = current.groups && current.groups.length > 0 ? flattenGroups(current).graph : current;
    const analysis = analyzeForTraining(flat, 'the canvas', { batchSize: 1 });
    const program = compileGraph(analysis, { batchSize: 1, optimizer: OptimizerSchema.parse({ type: DEFAULT_OPTIMIZER }), train: false });
    const read = await readCheckpoint(await checkRead('weights', against.path));
    const report = loadReport(flat.nodes, program.params, read.tensors, read);
    const diff = diffCheckpoint(report, splitCheckpoint(read.tensors).model, new Map(program.params.map((p) => [p.key, p.shape])));
    return { ...diff, notes: [...diff.notes, ...report.notes] };
  }

  /**
   * File ▸ Export. A run's project is exported with its weights (they fit it by construction, whatever the canvas
   * shows now); safetensors and .pt go through the run's own checkpoint writer, so a resumable file (withOptimizer)
   * is written exactly as Save checkpoint and `netloom train --save` write it. Without a run, PyTorch code only.
   */
  async exportModel(p: Params<'exportModel'>): Promise<Result<'exportModel'>> {
    const which = p.which ?? 'last';
    const withOptimizer = p.withOptimizer ?? false;
    const run = p.runId !== undefined ? this.getRunEntry(p.runId).run : undefined;
    checkExportRequest(p.format, { hasRun: run !== undefined, withOptimizer });
    const out = await exportTarget(p.format, p.path, p.overwrite);
    if (run && (p.format === 'safetensors' || p.format === 'pt')) {
      await run.saveCheckpoint(out, { which, withOptimizer });
      return { files: [out] };
    }
    // a run's project has absolute dataset paths already (startRun located them); a project sent alone is located here.
    // Either way nothing relative is left to resolve, so an unsaved project's missing file can stand in as home/untitled.json
    const project = run ? run.job.project : locateDataPaths(projectIo.loadProjectJson(p.project, `project "${p.project!.name}"`), p.projectPath);
    const projectFile = p.projectPath ?? path.join(os.homedir(), 'untitled.json');
    const input = await buildExportInput(project, projectFile, run ? { weights: run.getParams(which) } : {});
    return { files: await writeModelExport(p.format, input, out) };
  }

  /** File ▸ Import ▸ ONNX Model: a new project and its weights (written to a file of their own, see model-files.ts). */
  async importOnnx({ path: file }: Params<'importOnnx'>): Promise<Result<'importOnnx'>> {
    const imported = await importOnnxProject(file, this.importsDir);
    this.importedWeights.add(imported.weights);
    return imported;
  }

  /**
   * The host is shutting down (the app quits, `netloom serve` stops): removes the temporary weights files of the
   * ONNX imports. They are kept until then, not dropped when a document is replaced: another window or tab of the
   * same engine may still be looking at one. Runs are the host's to stop first (stopAllRuns).
   */
  async close(): Promise<void> {
    const files = [...this.importedWeights];
    this.importedWeights.clear();
    await removeImportedWeights(files);
  }

  // ---- training settings -----------------------------------------------------------------------

  async devices(_params: Params<'devices'>): Promise<Result<'devices'>> {
    return machineDevices();
  }

  async deviceFit({ project, batchSize }: Params<'deviceFit'>): Promise<Result<'deviceFit'>> {
    const doc = projectIo.loadProjectJson(project, `project "${project.name}"`);
    return deviceFitOf(doc, batchSize ?? doc.training.batch_size, machineDevices());
  }

  async trainingSchema(_params: Params<'trainingSchema'>): Promise<Result<'trainingSchema'>> {
    return { optimizers: paramForms(OptimizerSchema.options), schedulers: paramForms(SchedulerSchema.options) };
  }

  /** The checks prepareJob makes before any data is read: the schema, the scheduler against the run's length, the device. */
  async checkTraining({ training, trainSamples }: Params<'checkTraining'>): Promise<Result<'checkTraining'>> {
    const parsed = TrainingSchema.safeParse(training);
    if (!parsed.success)
      return { issues: parsed.error.issues.map((i) => ({ path: i.path.filter((p): p is string | number => typeof p !== 'symbol'), message: i.message })), warnings: [] };
    const t = parsed.data;
    const issues: TrainingIssueDto[] = [];
    const warnings: string[] = [];
    // only a GPU request needs the probe (auto and cpu always resolve)
    const device = parseDevice(t.device)?.kind === 'cuda' ? deviceProblemFor(t.device, machineDevices()) : undefined;
    if (device) issues.push({ path: ['device'], message: device.message, hint: device.hint });
    // a training-sample limit above the dataset's size trains on the whole split
    const known = builtinTrainSamples(t.dataset);
    const samples = trainSamples !== undefined && known !== undefined ? Math.min(trainSamples, known) : (trainSamples ?? known);
    if (t.scheduler && samples !== undefined) {
      try {
        warnings.push(...validateScheduler(t.scheduler, { epochs: t.epochs, stepsPerEpoch: Math.max(1, batchCount(samples, t.batch_size, t.drop_last)), optimizer: t.optimizer.type }).warnings);
      } catch (e) {
        if (!(e instanceof NetloomError)) throw e;
        issues.push({ path: ['scheduler'], message: e.message, hint: e.hint });
      }
    }
    return { issues, warnings };
  }

  // ---- datasets --------------------------------------------------------------------------------

  async csvPreview({ path: file, delimiter, header }: Params<'csvPreview'>): Promise<Result<'csvPreview'>> {
    return previewCsv(await checkRead('csv', file), { delimiter, header });
  }

  /**
   * A built-in's summary: from the copy the runs share when one holds it, else loaded for the moment
   * (and let go: only the summary is kept, in datasetInfos, as for described datasets).
   */
  private async describeBuiltin(name: BuiltinDatasetName, opts: { perClass: number; rows: number }): Promise<Result<'datasetInfo'>> {
    const { loadDataset } = await import('../data/datasets.js');
    const lease = await this.datasetCache.acquire({ doc: { type: 'torchvision', name, download: false } }, async () => ({ kind: 'image', ...(await loadDataset(name)) }));
    try {
      return describeDataset(lease.dataset, opts);
    } finally {
      lease.release();
    }
  }

  /**
   * Summaries of the datasets projects describe (folders, image folders, CSVs), newest last. Only the summary
   * is kept, not the data: a 100 MB CSV is read again only when its size or time stamp changes (or on `fresh`).
   */
  private readonly datasetInfos = new Map<string, Promise<Result<'datasetInfo'>>>();

  async datasetInfo({ name, dataset, path: file, runId, perClass, rows, fresh }: Params<'datasetInfo'>): Promise<Result<'datasetInfo'>> {
    const opts = { perClass: perClass ?? 8, rows: rows ?? 12 };
    if (runId !== undefined) return describeDataset(this.getRunEntry(runId).run.job.dataset, opts);
    const doc = parseDatasetDoc(name ?? dataset);
    // a built-in (or a torchvision description of the bundled copy): the bundled files never change
    const builtin = typeof doc === 'string' ? doc : doc.type === 'torchvision' && doc.root === undefined && !doc.download ? doc.name : undefined;
    const located = builtin === undefined ? locateDataset(doc as DescribedDataset, file) : undefined;
    if (located) await checkDatasetFile(located);
    const key = located ? JSON.stringify([located, opts, await datasetFingerprint(located)]) : JSON.stringify([builtin, opts]);
    let pending = fresh ? undefined : this.datasetInfos.get(key);
    if (!pending) {
      pending = located ? loadDescribed(located, this.datasetLoad).then((ds) => describeDataset(ds, opts)) : this.describeBuiltin(builtin!, opts);
      const mine = pending;
      pending.catch(() => this.datasetInfos.get(key) === mine && this.datasetInfos.delete(key));
    }
    // (re-)inserted: the most recently used last, the least recently used dropped first
    this.datasetInfos.delete(key);
    this.datasetInfos.set(key, pending);
    for (const old of this.datasetInfos.keys()) if (this.datasetInfos.size > DATASET_INFO_CACHE) this.datasetInfos.delete(old);
    return pending;
  }
}
