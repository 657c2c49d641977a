/**
 * TrainingRun: one training run of a project, as the app drives it: train + test epochs on the
 * native runtime, started, paused, resumed (optionally with edited hyper-parameters), stopped,
 * evaluated and checkpointed, with throttled events for the charts.
 *
 *   const run = await TrainingRun.create(project, source, { epochs: 3 });
 *   run.onEvent((e) => ...);          // 'progress' (throttled, ~10/s), 'epoch', 'state'
 *   run.start();
 *   await run.pause();                // after the current batch; position remembered
 *   await run.resume({ hyper: { lr: 1e-3 } });
 *   await run.finished();             // resolves when the run stops running (any reason)
 *
 * Exactness: a pause stops the native epoch after its current batch and records the epoch, the
 * next batch, the per-batch losses so far and (in the Session) the step counter. resume() runs
 * the same epoch with the same order, the same lr/momentum tables and startBatch = that next
 * batch, so a paused-and-resumed run ends with bit-identical weights and losses to an
 * uninterrupted one. A pause during the test pass re-runs that test pass on resume (eval changes
 * nothing). Evaluating or predicting while paused does not disturb this: eval-mode forward passes
 * write only activations.
 *
 * Editing hyper-parameters recompiles the program with the new optimizer settings and moves the
 * weights and the optimizer state across (by torch's state names, program.states), the step
 * counter and the RNG seed; the change is recorded in history.changes with the step it applies
 * from, for chart markers. With an LR scheduler, a new lr becomes the schedule's base lr.
 *
 * Non-finite loss or gradients, or an optimizer step that would make a weight or its optimizer
 * state non-finite, end the run as 'failed' (NL_NON_FINITE) with the weights from before the
 * failing batch, still usable for evaluation and checkpoints.
 *
 * `netloom train` drives the same object: it prints the 'phase' and 'epoch' events, and on Ctrl-C
 * calls finishEarly() (the epoch's test pass still runs, then the run ends 'stopped').
 *
 * The parts live beside this file: run-types.ts (what a run reports), run-hyper.ts (editing the
 * optimizer), run-checkpoints.ts (training checkpoints), evaluation.ts (test pass, evaluation, predict).
 *
 * Data: images (uint8 pixels) or CSV rows (job.dataset.kind). Everything facing the user speaks the
 * dataset's own values: samples() shows a CSV row's features as the file has them, predict() and
 * predictOutput() take such a row and standardise it with the training split's statistics, and a
 * model trained on a regression CSV's targets is evaluated by MAE, RMSE and R^2 instead of accuracy.
 */
import { NetloomError, isNetloomError } from '../errors.js';
import type { ProjectDoc } from '../graph/document.js';
import type { OptimizerDoc } from '../contract/optimizers.js';
import { batchCount, epochOrder } from '../data/loader.js';
import type { NativeProgress } from '../runtime/binding.js';
import type { Session } from '../runtime/session.js';
import { keepBest, type BestEpoch } from './best.js';
import { isResumable, loadReport, mismatchError, readCheckpoint, requireFinite, saveCheckpoint, splitCheckpoint, type LoadReport, type ReadCheckpoint } from './checkpoints.js';
import type { PyDict } from '../io/pyvalue.js';
import {
  confusionCellSamples, evaluateTestSplit, finiteOutput, forwardOne, requireConfusionCells, sampleInput, softmax, testPass,
  type EvaluatedSplit, type Evaluation, type SampleView, type TestReport,
} from './evaluation.js';
import { prepareJob, type Job } from './job.js';
import { baseMomentum, epochTables } from './lr-tables.js';
import { checkResumable, restoreOptimizerState, torchResumeState, torchTrainingCheckpoint, trainingState } from './run-checkpoints.js';
import { STANDARDIZE_FIELD, standardizeField, standardizeNotes } from '../io/standardize.js';
import { writeTorchFile } from '../io/torch-file.js';
import { editedOptimizer, switchOptimizer } from './run-hyper.js';
import type { HyperChange, HyperEdit, Position, RunCreateOptions, RunEpoch, RunError, RunEvent, RunProgress, RunState } from './run-types.js';
import { lrSchedule, type LrSchedule } from './schedules.js';

export type { HyperChange, HyperEdit, RunCreateOptions, RunEpoch, RunError, RunEvent, RunOverrides, RunProgress, RunState } from './run-types.js';
export type { Evaluation, SampleView, TestReport } from './evaluation.js';
export { MAX_EVALUATED_CLASSES, float32Text } from './evaluation.js';

const sumInOrder = (xs: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
};

function toRunError(e: unknown): RunError {
  if (isNetloomError(e)) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  return { code: 'NL_INTERNAL', message: `internal error: ${(e as Error)?.message ?? String(e)}`, hint: 'This is a bug in Netloom: please report it with the project file.' };
}

export class TrainingRun {
  readonly job: Job;
  private stateValue: RunState = 'ready';
  private errorValue: RunError | undefined;
  /** what ended a failed run, as thrown (RunError is its message for clients) */
  private failure: unknown;
  private pos: Position = { epoch: 0, batch: 0, phase: 'train' };
  private optimizer: OptimizerDoc;
  private schedule: LrSchedule | undefined;
  /** losses of the current epoch's batches so far (exact, in order) */
  private epochLosses: number[] = [];
  private epochTrainSeconds = 0;
  /** correct predictions and samples of the current epoch's training batches so far */
  private epochCorrect = 0;
  private epochSamples = 0;
  /** the current epoch's training was cut short by finishEarly() */
  private epochEndedEarly = false;
  private lastTestSeconds = 0;
  private closed = false;
  private pauseRequested = false;
  private stopRequested = false;
  private finishRequested = false;
  private loopDone: Promise<void> = Promise.resolve();
  /** serialises everything that uses the session (the loop, evaluations, predictions, loads) */
  private chain: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(e: RunEvent) => void>();
  private best: BestEpoch | undefined;
  /** bumped whenever the weights change; evaluation caches key on it */
  private paramsVersion = 0;
  /** what the last loadCheckpoint noticed (DataParallel's prefix, other standardisation statistics) */
  private notes: string[] = [];
  private evalCache: ({ version: number } & EvaluatedSplit) | undefined;

  /** Everything the charts and the run record need, kept for the whole run. */
  readonly history: {
    progress: RunProgress[];
    epochs: RunEpoch[];
    changes: HyperChange[];
    /** per-batch training losses of each finished epoch (exact) */
    batchLosses: Float32Array[];
    states: { state: RunState; at: number; error?: RunError }[];
  } = { progress: [], epochs: [], changes: [], batchLosses: [], states: [] };

  private readonly eventIntervalMs: number;

  private constructor(job: Job, eventIntervalMs = 100) {
    this.job = job;
    this.eventIntervalMs = eventIntervalMs;
    this.optimizer = job.optimizer;
    this.schedule = job.schedule;
    this.history.states.push({ state: 'ready', at: Date.now() });
  }

  /**
   * Validates the project, loads the dataset, compiles and initialises (prepareJob; the starting weights
   * come from overrides.weights when given, strictly loaded); does not start.
   */
  static async create(project: ProjectDoc, source: string, overrides: RunCreateOptions = {}): Promise<TrainingRun> {
    const { eventIntervalMs, ...job } = overrides;
    if (eventIntervalMs !== undefined && !(eventIntervalMs >= 0))
      throw new NetloomError('NL_INVALID_ARGUMENT', `eventIntervalMs must be a non-negative number, got ${eventIntervalMs}`, 'Use 100 (ten events a second).');
    return new TrainingRun(await prepareJob(project, source, job), eventIntervalMs);
  }

  get session(): Session {
    return this.job.session;
  }
  get state(): RunState {
    return this.stateValue;
  }
  get error(): RunError | undefined {
    return this.errorValue;
  }
  /** What ended a failed run, as it was thrown: for a caller in the same process that reports it itself (the CLI). */
  get failureCause(): unknown {
    return this.failure;
  }
  /** epoch (0-based), next batch, phase */
  get position(): Readonly<Position> {
    return { ...this.pos };
  }
  get batchesPerEpoch(): number {
    return batchCount(this.job.trainCount, this.job.loader.batchSize, this.job.loader.dropLast);
  }
  get bestEpoch(): number | null {
    return this.best?.epoch ?? null;
  }
  get currentOptimizer(): OptimizerDoc {
    return this.optimizer;
  }
  /** What the last loadCheckpoint() noticed, for the user: "the keys had DataParallel's 'module.' prefix; loaded without it". */
  get lastLoadNotes(): readonly string[] {
    return this.notes;
  }

  onEvent(listener: (e: RunEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private emit(e: RunEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        process.stderr.write(`netloom: a run event listener failed: ${(err as Error)?.stack ?? String(err)}\n`);
      }
    }
  }

  private setState(state: RunState, error?: RunError): void {
    this.stateValue = state;
    this.errorValue = error;
    this.history.states.push({ state, at: Date.now(), ...(error ? { error } : {}) });
    this.emit({ kind: 'state', state, ...(error ? { error } : {}) });
  }

  /** Runs fn after everything queued before it (session users never overlap). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private requireNotRunning(what: string): void {
    if (this.stateValue === 'running')
      throw new NetloomError('NL_INVALID_ARGUMENT', `cannot ${what} while the run is training`, 'Pause the run (or wait for it to finish) first.');
  }

  // ---- control ----------------------------------------------------------------------------------

  /** Starts training (state 'ready' only). Returns at once; finished() waits for the end. */
  start(): void {
    if (this.stateValue !== 'ready')
      throw new NetloomError('NL_INVALID_ARGUMENT', `the run is ${this.stateValue}; only a new run starts`, 'Use resume() to continue a paused run.');
    this.launch();
  }

  private launch(): void {
    this.pauseRequested = false;
    this.stopRequested = false;
    this.finishRequested = false;
    this.setState('running');
    this.loopDone = this.serial(() => this.loop());
  }

  /** Resolves when the run is no longer running (paused, stopped, finished or failed). */
  finished(): Promise<void> {
    return this.loopDone;
  }

  /** Stops after the current batch and remembers the position; resolves once paused. */
  async pause(): Promise<void> {
    if (this.stateValue !== 'running') return;
    this.pauseRequested = true;
    this.session.stop();
    await this.loopDone;
  }

  /** Continues a paused run exactly where it stopped; `hyper` edits optimizer settings first. */
  async resume(o: { hyper?: HyperEdit } = {}): Promise<HyperChange | null> {
    if (this.stateValue !== 'paused')
      throw new NetloomError('NL_INVALID_ARGUMENT', `the run is ${this.stateValue}; only a paused run can resume`,
        this.stateValue === 'running' ? 'It is already running.' : 'Start a new run instead.');
    let change: HyperChange | null = null;
    if (o.hyper && Object.keys(o.hyper).length) change = await this.serial(async () => this.applyHyper(o.hyper!));
    this.launch();
    return change;
  }

  /**
   * Ends the run for good (after the current batch); the weights stay usable. A run that never
   * trained ('ready', e.g. one created only to evaluate a checkpoint's weights) ends 'stopped' too.
   */
  async stop(): Promise<void> {
    if (this.stateValue === 'running') {
      this.stopRequested = true;
      this.session.stop();
      await this.loopDone;
      return;
    }
    if (this.stateValue === 'ready' || this.stateValue === 'paused') this.setState('stopped');
  }

  /**
   * Ends training early but keeps the epoch whole, as `netloom train` does on Ctrl-C: training stops
   * after the current batch, the epoch's test pass still runs and is reported (endedEarly), then the
   * run ends 'stopped'. Asked during a test pass, the run ends after it. Only while training.
   */
  finishEarly(): void {
    if (this.stateValue !== 'running' || this.finishRequested) return;
    this.finishRequested = true;
    if (this.pos.phase === 'train') this.session.stop();
  }

  /**
   * Frees the run: its native session (memory, threads) at once, its best-epoch copy, and its hold on
   * the dataset (shared ones stay loaded for the runs still using them). After what is queued on the
   * session; not while training. The run is unusable afterwards.
   */
  async close(): Promise<void> {
    this.requireNotRunning('close the run');
    await this.serial(async () => {
      if (this.closed) return;
      this.closed = true;
      this.session.close();
      this.best = undefined;
      this.evalCache = undefined;
      this.job.releaseDataset();
    });
  }

  // ---- the loop ---------------------------------------------------------------------------------

  private lrAt(epoch: number, batch: number): number {
    return this.schedule ? this.schedule.lrFor(epoch, Math.max(batch, 0), this.batchesPerEpoch) : this.optimizer.lr;
  }

  /** Ends the loop as paused/stopped when asked to; true when it did. */
  private interrupt(): boolean {
    if (this.stopRequested) this.setState('stopped');
    else if (this.pauseRequested) this.setState('paused');
    else return false;
    return true;
  }

  private async loop(): Promise<void> {
    const job = this.job;
    const batches = this.batchesPerEpoch;
    try {
      while (this.pos.epoch < job.epochs) {
        if (this.pos.phase === 'train') {
          if (this.interrupt()) return;
          if (!(await this.trainPart(batches))) return;
          this.pos.phase = 'test';
        }
        if (this.interrupt()) return;
        this.emit({ kind: 'phase', epoch: this.pos.epoch + 1, phase: 'test', batch: 0 });
        let t = await testPass(job);
        // finishEarly's stop reached the session after the last training batch and stopped the test pass instead: run it whole
        if (t.stopped && this.finishRequested && !this.pauseRequested && !this.stopRequested) t = await testPass(job);
        if (t.stopped) {
          if (!this.interrupt()) this.setState('paused');
          return;
        }
        this.lastTestSeconds = t.seconds;
        this.finishEpoch(t);
        if (this.finishRequested) {
          this.setState('stopped');
          return;
        }
      }
      this.setState('finished');
    } catch (e) {
      this.paramsVersion++; // batches before the failing one were applied
      this.failure = e;
      this.setState('failed', toRunError(e));
    }
  }

  /** The current epoch's training batches from the position on; false when the loop ends here (paused or stopped). */
  private async trainPart(batches: number): Promise<boolean> {
    const job = this.job;
    const epoch = this.pos.epoch;
    this.emit({ kind: 'phase', epoch: epoch + 1, phase: 'train', batch: this.pos.batch });
    const order = epochOrder(job.trainCount, job.loader, epoch);
    const tables = this.schedule ? epochTables(this.schedule, epoch, batches) : {};
    const startBatch = this.pos.batch;
    const prevSum = sumInOrder(this.epochLosses);
    const stepBase = this.session.native.steps;
    const r = await this.session.runEpoch(
      'train',
      { count: job.trainCount, batch: job.loader.batchSize, dropLast: job.loader.dropLast, train: true, order, eventIntervalMs: this.eventIntervalMs, startBatch, losses: true, ...tables },
      (p) => this.onProgress(p, startBatch, prevSum, stepBase),
    );
    for (const l of r.losses ?? []) this.epochLosses.push(l);
    this.pos.batch = r.nextBatch;
    this.epochTrainSeconds += r.seconds;
    this.epochCorrect += r.correct;
    this.epochSamples += r.samples;
    if (r.batches > 0) this.paramsVersion++;
    if (r.nextBatch < batches) {
      if (this.finishRequested && !this.pauseRequested && !this.stopRequested) {
        this.epochEndedEarly = true;
        return true;
      }
      if (!this.interrupt()) this.setState('paused'); // stopped from outside (session.stop())
      return false;
    }
    return true;
  }

  private onProgress(p: NativeProgress, startBatch: number, prevSum: number, stepBase: number): void {
    const job = this.job;
    const done = p.batch - startBatch;
    const remainingSamples = job.trainCount - p.samples + (job.epochs - this.pos.epoch - 1) * job.trainCount;
    const remainingTests = job.epochs - this.pos.epoch;
    const etaSeconds = p.samplesPerSec > 0 ? remainingSamples / p.samplesPerSec + remainingTests * this.lastTestSeconds : null;
    const point: RunProgress = {
      epoch: this.pos.epoch + 1,
      batch: p.batch,
      batches: p.batches,
      samples: p.samples,
      step: stepBase + done,
      loss: p.loss,
      meanLoss: (prevSum + p.meanLoss * done) / Math.max(p.batch, 1),
      samplesPerSec: p.samplesPerSec,
      lr: this.lrAt(this.pos.epoch, p.batch - 1),
      etaSeconds,
    };
    this.history.progress.push(point);
    this.emit({ kind: 'progress', ...point });
  }

  private finishEpoch(test: TestReport): void {
    const losses = Float32Array.from(this.epochLosses);
    const trainLoss = sumInOrder(this.epochLosses) / Math.max(this.epochLosses.length, 1);
    const classification = this.session.program.task === 'classification';
    const e: RunEpoch = {
      epoch: this.pos.epoch + 1,
      trainLoss,
      trainAccuracy: classification ? this.epochCorrect / Math.max(this.epochSamples, 1) : null,
      testLoss: test.avgLoss,
      testAccuracy: classification ? test.accuracy : null,
      ...(test.regression ? { testRegression: test.regression } : {}),
      seconds: this.epochTrainSeconds + test.seconds,
      trainSeconds: this.epochTrainSeconds,
      testSeconds: test.seconds,
      trainSamples: this.epochSamples,
      samplesPerSec: this.job.trainCount / Math.max(this.epochTrainSeconds, 1e-9),
      lr: this.lrAt(this.pos.epoch, this.batchesPerEpoch - 1),
      endedEarly: this.epochEndedEarly,
    };
    this.best = keepBest(this.best, e.epoch, test.avgLoss, () => this.session.getParams());
    this.history.epochs.push(e);
    this.history.batchLosses.push(losses);
    this.pos = { epoch: this.pos.epoch + 1, batch: 0, phase: 'train' };
    this.resetEpochTotals();
    this.emit({ kind: 'epoch', ...e });
  }

  private resetEpochTotals(): void {
    this.epochLosses = [];
    this.epochTrainSeconds = 0;
    this.epochCorrect = 0;
    this.epochSamples = 0;
    this.epochEndedEarly = false;
  }

  // ---- hyper-parameters -------------------------------------------------------------------------

  private applyHyper(hyper: HyperEdit): HyperChange | null {
    const edit = editedOptimizer(this.optimizer, hyper);
    if (!edit) return null;
    const job = this.job;
    switchOptimizer(job, edit.next);
    this.optimizer = edit.next;
    if (job.scheduler && 'lr' in edit.changes) this.schedule = job.schedule = lrSchedule(job.scheduler, edit.next.lr, baseMomentum(edit.next));
    const change: HyperChange = { step: this.session.native.steps, epoch: this.pos.epoch + 1, batch: this.pos.batch, changes: edit.changes };
    this.history.changes.push(change);
    return change;
  }

  // ---- weights and checkpoints ------------------------------------------------------------------

  /** The state dict now ('last') or of the epoch with the lowest test loss so far ('best'): copies. */
  getParams(which: 'last' | 'best' = 'last'): Map<string, Float32Array> {
    if (which === 'best') {
      if (!this.best) throw new NetloomError('NL_INVALID_ARGUMENT', 'no epoch has finished yet, so there is no best epoch', 'Wait for the first epoch to end, or use the last weights.');
      return new Map([...this.best.params].map(([k, v]) => [k, Float32Array.from(v)]));
    }
    this.requireNotRunning('read the weights');
    return this.session.getParams();
  }

  /**
   * Saves the state dict (PyTorch's keys): a .pt/.pth path gets torch.save's format, any other
   * safetensors. withOptimizer (last weights only) adds the optimizer state and where training
   * stands, so loadCheckpoint(path, {resume: true}) continues: in a .pt as PyTorch's checkpoint dict
   * (torch.optim's layout, which the exported train.py resumes from too), in safetensors as
   * Netloom's optimizer.state.* tensors. `metadata` goes after the project's name (`netloom train
   * --save` adds the epochs it trained); a CSV project's standardisation always goes in.
   */
  async saveCheckpoint(path: string, o: { which?: 'last' | 'best'; withOptimizer?: boolean; metadata?: Record<string, string> } = {}): Promise<void> {
    const which = o.which ?? 'last';
    if (which === 'best' && o.withOptimizer)
      throw new NetloomError('NL_INVALID_ARGUMENT', 'the optimizer state is kept for the last weights only', "Save the last weights with the optimizer state, or the best weights without it.");
    if (which === 'last') this.requireNotRunning('save the last weights');
    await this.serial(async () => {
      const values = this.getParams(which);
      const metadata: Record<string, string> = { project: this.job.project.name, ...this.standardizeMetadata(), ...o.metadata };
      if (which === 'best') metadata['netloom.best_epoch'] = String(this.best!.epoch);
      let extra = {};
      if (o.withOptimizer && /\.pth?$/i.test(path)) {
        await writeTorchFile(path, this.trainingCheckpointDict(values, metadata));
        return;
      }
      if (o.withOptimizer) {
        const state = trainingState(this.session, { position: this.pos, schedulerStep: this.schedulerStep(), optimizer: this.optimizer });
        Object.assign(metadata, state.metadata);
        extra = state.tensors;
      }
      await saveCheckpoint(path, this.session, metadata, values, extra);
    });
  }

  /** scheduler.step() calls so far: one per epoch, or per optimizer step for interval 'step'. */
  private schedulerStep(): number {
    return this.schedule?.interval === 'step' ? this.pos.epoch * this.batchesPerEpoch + this.pos.batch : this.pos.epoch;
  }

  /** The last weights with the optimizer state as PyTorch's checkpoint dict (what a .pt saved withOptimizer holds). */
  private trainingCheckpointDict(values: Map<string, Float32Array>, metadata: Record<string, string>): PyDict {
    const steps = this.schedulerStep();
    const state = trainingState(this.session, { position: this.pos, schedulerStep: steps, optimizer: this.optimizer });
    const scheduler = this.job.scheduler && this.schedule ? { doc: this.job.scheduler, schedule: this.schedule, steps } : undefined;
    return torchTrainingCheckpoint(this.session, { values, metadata: { producer: 'netloom', ...metadata }, training: state, position: this.pos, optimizer: this.optimizer, scheduler });
  }

  /**
   * The checkpoint dict saveCheckpoint(path.pt, {withOptimizer: true}) writes, without writing it
   * (torch.save's file format is engine/io/torch-file.ts's business).
   */
  async checkpointDict(o: { metadata?: Record<string, string> } = {}): Promise<PyDict> {
    this.requireNotRunning('save the last weights');
    return this.serial(async () =>
      this.trainingCheckpointDict(this.getParams('last'), { project: this.job.project.name, ...this.standardizeMetadata(), ...o.metadata }));
  }

  /** A CSV project's standardisation (the training split's statistics), for every checkpoint it saves. */
  private standardizeMetadata(): Record<string, string> {
    const ds = this.job.dataset;
    return ds.kind === 'tabular' && ds.standardized ? { [STANDARDIZE_FIELD]: standardizeField({ columns: ds.features, mean: ds.stats.mean, std: ds.stats.std }) } : {};
  }

  /** The load's notes: the file's own (DataParallel's prefix) and a standardisation that differs from this dataset's. */
  private notesOf(path: string, file: { notes: string[]; metadata: Record<string, string> }): string[] {
    const ds = this.job.dataset;
    return [...file.notes, ...standardizeNotes(path, file.metadata, ds.kind === 'tabular' ? ds : undefined)];
  }

  /** Per-node comparison of a checkpoint with the model; loads it only when everything matches (unless dryRun). */
  async loadCheckpointReport(path: string, o: { dryRun?: boolean } = {}): Promise<LoadReport & { loaded: boolean; resumable: boolean }> {
    const file = await readCheckpoint(path);
    const { tensors, metadata } = file;
    const report = { ...loadReport(this.job.analysis.flat.graph.nodes, this.session.program.params, tensors, { ...file, notes: this.notesOf(path, file) }), resumable: isResumable(metadata) };
    if (!report.ok || o.dryRun) return { ...report, loaded: false };
    this.requireNotRunning('load weights');
    await this.serial(async () => this.setWeights(splitCheckpoint(tensors).model));
    return { ...report, loaded: true };
  }

  private setWeights(model: Record<string, { data: Float32Array }>): void {
    for (const p of this.session.program.params) this.session.setParam(p.key, model[p.key].data);
    this.paramsVersion++;
  }

  /**
   * Loads a checkpoint (strict: nothing is loaded unless every key matches). A plain state dict
   * loads weights only; with resume, a checkpoint saved withOptimizer also restores the optimizer
   * state, the step counter and the position, so start()/resume() continue the original run.
   */
  async loadCheckpoint(path: string, o: { resume?: boolean } = {}): Promise<Record<string, string>> {
    this.requireNotRunning('load a checkpoint');
    return this.loadCheckpointFile(path, await readCheckpoint(path), o);
  }

  /** loadCheckpoint for a file already read and interpreted (readCheckpoint / interpretCheckpoint); `path` names it in messages. */
  async loadCheckpointFile(path: string, file: ReadCheckpoint, o: { resume?: boolean } = {}): Promise<Record<string, string>> {
    this.requireNotRunning('load a checkpoint');
    const { tensors } = file;
    let { metadata } = file;
    // NaN weights (or, to resume, optimizer state) are the file's problem, said before the key comparison is
    requireFinite(path, o.resume ? tensors : splitCheckpoint(tensors).model);
    const program = this.session.program;
    const report = loadReport(this.job.analysis.flat.graph.nodes, program.params, tensors, file);
    if (!report.ok) throw mismatchError(path, report.problems);
    this.notes = this.notesOf(path, file);
    const split = splitCheckpoint(tensors);
    const model = split.model;
    let optimizer = split.optimizer;
    if (!o.resume) {
      await this.serial(async () => this.setWeights(model));
      return metadata;
    }
    if (file.checkpoint?.entries.has('optimizer_state_dict')) {
      const scheduler = this.job.scheduler && this.schedule ? { doc: this.job.scheduler, schedule: this.schedule } : undefined;
      ({ optimizer, metadata } = torchResumeState(path, file.checkpoint, metadata, { program, optimizer: this.optimizer, scheduler, batchesPerEpoch: this.batchesPerEpoch }));
      requireFinite(path, optimizer);
    }
    const { epoch, batch, step, phase } = checkResumable(path, { metadata, optimizer, report },
      { program, optimizer: this.optimizer, epochs: this.job.epochs, batchesPerEpoch: this.batchesPerEpoch });
    await this.serial(async () => {
      this.setWeights(model);
      restoreOptimizerState(this.session, optimizer, step);
      this.pos = { epoch, batch, phase };
      this.resetEpochTotals();
    });
    if (this.stateValue !== 'ready' && this.stateValue !== 'paused') this.setState('paused');
    return metadata;
  }

  // ---- evaluation -------------------------------------------------------------------------------

  /** The quickstart's test() with the current weights: accuracy, average loss (regression metrics for a regression CSV). */
  async test(): Promise<TestReport> {
    this.requireNotRunning('test');
    return this.serial(() => testPass(this.job));
  }

  /** The test split with the current weights: accuracy, loss, confusion matrix (rows = true class). */
  async evaluate(): Promise<Evaluation> {
    this.requireNotRunning('evaluate');
    return (await this.evaluated()).evaluation;
  }

  private async evaluated(): Promise<EvaluatedSplit> {
    return this.serial(async () => {
      if (this.evalCache && this.evalCache.version === this.paramsVersion) return this.evalCache;
      this.evalCache = { version: this.paramsVersion, ...(await evaluateTestSplit(this.job)) };
      return this.evalCache;
    });
  }

  /** Up to `limit` test samples with true class `actual` predicted as `predicted` (one confusion cell). */
  async samples(o: { actual: number; predicted: number; limit: number }): Promise<{ sampleShape: number[]; samples: SampleView[] }> {
    this.requireNotRunning('look at test samples');
    requireConfusionCells(this.job);
    return confusionCellSamples(this.job, await this.evaluated(), o);
  }

  /** The model's raw output row for one sample, eval mode, after what is queued on the session. */
  private forward(sample: ArrayLike<number>): Promise<Float32Array> {
    const x = sampleInput(this.job, sample);
    return this.serial(async () => forwardOne(this.job, x));
  }

  /** Class probabilities for one sample (image pixels, or a CSV row's feature values as in the file), eval mode. */
  async predict(sample: ArrayLike<number>): Promise<number[]> {
    this.requireNotRunning('predict');
    const program = this.session.program;
    if (program.task !== 'classification' || program.io.logits < 0)
      throw new NetloomError('NL_INVALID_ARGUMENT', 'predictions need a classification model (a CrossEntropyLoss or NLLLoss at the end)', 'Use predictOutput() (the model\'s output values) for regression models.');
    return softmax(finiteOutput(await this.forward(sample)));
  }

  /** The model's output values for one sample (a regression model's prediction, in the target's units), eval mode. */
  async predictOutput(sample: ArrayLike<number>): Promise<number[]> {
    this.requireNotRunning('predict');
    if (this.session.program.io.logits < 0)
      throw new NetloomError('NL_INVALID_ARGUMENT', 'this model has no output to predict with', 'Connect a loss to the model\'s last layer.');
    return Array.from(finiteOutput(await this.forward(sample)));
  }

  /** A summary line for run lists. */
  summary(): {
    state: RunState; epoch: number; epochs: number; batch: number; batches: number; bestEpoch: number | null; error?: RunError;
  } {
    return {
      state: this.stateValue,
      epoch: this.pos.epoch + (this.pos.epoch < this.job.epochs ? 1 : 0),
      epochs: this.job.epochs,
      batch: this.pos.batch,
      batches: this.batchesPerEpoch,
      bestEpoch: this.best?.epoch ?? null,
      ...(this.errorValue ? { error: this.errorValue } : {}),
    };
  }
}
