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
 * Non-finite loss or gradients end the run as 'failed' (NL_NON_FINITE) with the weights from
 * before the failing batch, still usable for evaluation and checkpoints.
 *
 * Data: images (uint8 pixels) or CSV rows (job.dataset.kind). Everything facing the user speaks the
 * dataset's own values: samples() shows a CSV row's features as the file has them, predict() and
 * predictOutput() take such a row and standardise it with the training split's statistics, and a
 * model trained on a regression CSV's targets is evaluated by MAE, RMSE and R^2 instead of accuracy.
 */
import { NetloomError, isNetloomError } from '../errors.js';
import { compileGraph } from '../compile/compile.js';
import type { ProjectDoc } from '../graph/document.js';
import { OptimizerSchema, hasOptimizerParam, type OptimizerDoc } from '../contract/optimizers.js';
import type { HyperDto } from '../contract/api.js';
import { batchCount, epochOrder } from '../data/loader.js';
import { saveSafetensors, type TensorF32 } from '../io/safetensors.js';
import type { NativeProgress } from '../runtime/binding.js';
import { Session, native } from '../runtime/session.js';
import { keepBest, type BestEpoch } from './best.js';
import { OPTIMIZER_PREFIX, loadReport, readCheckpoint, requireFinite, resumePosition, splitCheckpoint, type LoadReport } from './checkpoints.js';
import { baseMomentum, datasetTargets, epochTables, prepareJob, testRegression, uploadDataset, type Job, type JobOptions } from './job.js';
import { lrSchedule, type LrSchedule } from './schedules.js';

export type RunState = 'ready' | 'running' | 'paused' | 'stopped' | 'finished' | 'failed';

export interface RunError {
  code: string;
  message: string;
  hint?: string;
}

/** A throttled progress point (epoch 1-based; batch = batches done in the epoch). */
export interface RunProgress {
  epoch: number;
  batch: number;
  batches: number;
  samples: number;
  /** global optimizer step after this batch */
  step: number;
  loss: number;
  /** mean batch loss of the epoch so far */
  meanLoss: number;
  samplesPerSec: number;
  lr: number;
  /** seconds until the run ends at this speed (null until there is a speed to go by) */
  etaSeconds: number | null;
}

export interface RunEpoch {
  epoch: number;
  trainLoss: number;
  /** correct / samples over the epoch's training batches, measured before each batch's step (null for regression) */
  trainAccuracy: number | null;
  testLoss: number;
  /** null for regression */
  testAccuracy: number | null;
  /** train + test seconds of this epoch (time spent paused excluded) */
  seconds: number;
  trainSeconds: number;
  testSeconds: number;
  samplesPerSec: number;
  /** lr of the epoch's last batch */
  lr: number;
}

/** A hyper-parameter edit made on resume: applies from `step` (epoch 1-based, batch = next batch). */
export interface HyperChange {
  step: number;
  epoch: number;
  batch: number;
  changes: Record<string, { from: unknown; to: unknown }>;
}

export type RunEvent =
  | ({ kind: 'progress' } & RunProgress)
  | ({ kind: 'epoch' } & RunEpoch)
  | { kind: 'state'; state: RunState; error?: RunError };

/** Optimizer settings that may change between pauses (torch's names): the API's HyperDto, declared in the contract. */
export type HyperEdit = HyperDto;

export interface Evaluation {
  /** correct / samples (null for regression) */
  accuracy: number | null;
  avgLoss: number;
  samples: number;
  /** confusion[true class][predicted class] (empty for regression) */
  confusion: number[][];
  perClass: { accuracy: number; count: number }[];
  classNames: string[];
  /**
   * Models trained on a dataset's regression targets (a regression CSV): MAE, RMSE and R^2 of the
   * outputs over the test split, in the target's units, and the target column names.
   */
  regression?: { mae: number; rmse: number; r2: number | null; targets: string[] };
}

export interface SampleView {
  index: number;
  label: number;
  predicted: number;
  /** the sample's uint8 pixels, base64 (shape: Evaluation's dataset sampleShape); empty for a CSV row */
  pixels: string;
  /** a CSV row: its feature values as the file has them (not standardised), in the Input's order */
  features?: number[];
  probabilities: number[];
}

export type RunOverrides = Omit<JobOptions, 'weights'> & {
  /** least time between progress events (default 100 ms; 0 = every batch) */
  eventIntervalMs?: number;
};

/** Where training stands: epoch (0-based), next batch in it, and whether its train part is done. */
interface Position {
  epoch: number;
  batch: number;
  phase: 'train' | 'test';
}

const sumInOrder = (xs: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
};

function softmax(logits: ArrayLike<number>): number[] {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]);
  const e = Array.from(logits, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** The shortest decimal that reads back as the same float32: 5.1 for Math.fround(5.1), as the CSV had it. */
export function float32Text(v: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const d = Number(v.toPrecision(digits));
    if (Math.fround(d) === v) return d;
  }
  return v;
}

/**
 * The model's output for one sample, if every value is a number. Huge (finite) inputs or non-finite weights
 * overflow it; NaN cannot be shown or sent (it is no JSON number), so say so instead of returning it.
 */
function finiteOutput(out: Float32Array): Float32Array {
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new NetloomError('NL_NON_FINITE', `the model's output for this sample is ${Number.isNaN(out[bad]) ? 'NaN' : 'infinite'} (output ${bad}): the sample's values are too large for the model, or its weights hold NaN or infinite values`,
      'Send values of the size the training data has, or load other weights.');
  return out;
}

/** The most classes an evaluation's confusion matrix covers (about a million cells). */
export const MAX_EVALUATED_CLASSES = 1024;

function toRunError(e: unknown): RunError {
  if (isNetloomError(e)) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  return { code: 'NL_INTERNAL', message: `internal error: ${(e as Error)?.message ?? String(e)}`, hint: 'This is a bug in Netloom: please report it with the project file.' };
}

export class TrainingRun {
  readonly job: Job;
  private stateValue: RunState = 'ready';
  private errorValue: RunError | undefined;
  private pos: Position = { epoch: 0, batch: 0, phase: 'train' };
  private optimizer: OptimizerDoc;
  private schedule: LrSchedule | undefined;
  /** losses of the current epoch's batches so far (exact, in order) */
  private epochLosses: number[] = [];
  private epochTrainSeconds = 0;
  /** correct predictions and samples of the current epoch's training batches so far */
  private epochCorrect = 0;
  private epochSamples = 0;
  private lastTestSeconds = 0;
  private closed = false;
  private pauseRequested = false;
  private stopRequested = false;
  private loopDone: Promise<void> = Promise.resolve();
  /** serialises everything that uses the session (the loop, evaluations, predictions, loads) */
  private chain: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(e: RunEvent) => void>();
  private best: BestEpoch | undefined;
  /** bumped whenever the weights change; evaluation caches key on it */
  private paramsVersion = 0;
  private evalCache: { version: number; predictions: Int32Array; probabilities: Float32Array; evaluation: Evaluation } | undefined;

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

  /** Validates the project, loads the dataset, compiles and initialises (prepareJob); does not start. */
  static async create(project: ProjectDoc, source: string, overrides: RunOverrides = {}): Promise<TrainingRun> {
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
    const train = { count: job.trainCount, batch: job.loader.batchSize, dropLast: job.loader.dropLast, train: true };
    try {
      while (this.pos.epoch < job.epochs) {
        const epoch = this.pos.epoch;
        if (this.pos.phase === 'train') {
          if (this.interrupt()) return;
          const order = epochOrder(job.trainCount, job.loader, epoch);
          const tables = this.schedule ? epochTables(this.schedule, epoch, batches) : {};
          const startBatch = this.pos.batch;
          const prevSum = sumInOrder(this.epochLosses);
          const stepBase = this.session.native.steps;
          const r = await this.session.runEpoch('train', { ...train, order, eventIntervalMs: this.eventIntervalMs, startBatch, losses: true, ...tables }, (p) =>
            this.onProgress(p, startBatch, prevSum, stepBase),
          );
          for (const l of r.losses ?? []) this.epochLosses.push(l);
          this.pos.batch = r.nextBatch;
          this.epochTrainSeconds += r.seconds;
          this.epochCorrect += r.correct;
          this.epochSamples += r.samples;
          if (r.batches > 0) this.paramsVersion++;
          if (r.nextBatch < batches) {
            if (!this.interrupt()) this.setState('paused'); // stopped from outside (session.stop())
            return;
          }
          this.pos.phase = 'test';
        }
        if (this.interrupt()) return;
        const t = await this.session.runEpoch('test', { count: job.testCount, batch: job.loader.batchSize, dropLast: false, train: false });
        if (t.stopped) {
          if (!this.interrupt()) this.setState('paused');
          return;
        }
        this.lastTestSeconds = t.seconds;
        this.finishEpoch(t.lossSum / Math.max(t.batches, 1), t.correct / Math.max(t.samples, 1), t.seconds);
      }
      this.setState('finished');
    } catch (e) {
      this.paramsVersion++; // batches before the failing one were applied
      this.setState('failed', toRunError(e));
    }
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

  private finishEpoch(testLoss: number, accuracy: number, testSeconds: number): void {
    const losses = Float32Array.from(this.epochLosses);
    const trainLoss = sumInOrder(this.epochLosses) / Math.max(this.epochLosses.length, 1);
    const e: RunEpoch = {
      epoch: this.pos.epoch + 1,
      trainLoss,
      trainAccuracy: this.session.program.task === 'classification' ? this.epochCorrect / Math.max(this.epochSamples, 1) : null,
      testLoss,
      testAccuracy: this.session.program.task === 'classification' ? accuracy : null,
      seconds: this.epochTrainSeconds + testSeconds,
      trainSeconds: this.epochTrainSeconds,
      testSeconds,
      samplesPerSec: this.job.trainCount / Math.max(this.epochTrainSeconds, 1e-9),
      lr: this.lrAt(this.pos.epoch, this.batchesPerEpoch - 1),
    };
    this.best = keepBest(this.best, e.epoch, testLoss, () => this.session.getParams());
    this.history.epochs.push(e);
    this.history.batchLosses.push(losses);
    this.pos = { epoch: this.pos.epoch + 1, batch: 0, phase: 'train' };
    this.epochLosses = [];
    this.epochTrainSeconds = 0;
    this.epochCorrect = 0;
    this.epochSamples = 0;
    this.emit({ kind: 'epoch', ...e });
  }

  // ---- hyper-parameters -------------------------------------------------------------------------

  private applyHyper(hyper: HyperEdit): HyperChange | null {
    const current = this.optimizer as Record<string, unknown>;
    for (const k of Object.keys(hyper))
      if (!hasOptimizerParam(this.optimizer.type, k))
        throw new NetloomError('NL_INVALID_ARGUMENT', `${this.optimizer.type} has no setting "${k}"`,
          `Its settings: ${Object.keys(current).filter((x) => x !== 'type').join(', ')}.`);
    const parsed = OptimizerSchema.safeParse({ ...current, ...hyper });
    if (!parsed.success)
      throw new NetloomError('NL_INVALID_ARGUMENT', `invalid optimizer settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        'Learning rates and eps must be positive; momentum and weight decay non-negative; betas in [0, 1).');
    const next = parsed.data;
    const changes: HyperChange['changes'] = {};
    for (const k of Object.keys(hyper)) {
      const from = current[k];
      const to = (next as Record<string, unknown>)[k];
      if (JSON.stringify(from) !== JSON.stringify(to)) changes[k] = { from: from ?? null, to };
    }
    if (!Object.keys(changes).length) return null;

    // Recompile with the new settings and move everything that carries training across.
    const job = this.job;
    const old = job.session;
    const program = compileGraph(job.analysis, { batchSize: job.loader.batchSize, optimizer: next, clipGradNorm: job.clipGradNorm, targets: datasetTargets(job.dataset) });
    const fresh = new Session(program, job.threads);
    fresh.native.seed = old.native.seed;
    fresh.native.steps = old.native.steps;
    const values = old.getParams();
    for (const p of program.params) fresh.setParam(p.key, values.get(p.key)!);
    const oldStates = new Map(old.program.states.map((s) => [`${s.param}\u0000${s.key}`, s.buffer]));
    for (const s of program.states) {
      const from = oldStates.get(`${s.param}\u0000${s.key}`);
      if (from !== undefined) native(() => fresh.native.setBuffer(s.buffer, old.native.getBuffer(from)));
    }
    uploadDataset(fresh, job.dataset, job.trainCount, job.testCount);
    job.session = fresh;
    old.close(); // its memory and threads now, not whenever the garbage collector gets to them
    job.optimizer = next;
    this.optimizer = next;
    if (job.scheduler && 'lr' in changes) this.schedule = job.schedule = lrSchedule(job.scheduler, next.lr, baseMomentum(next));
    const change: HyperChange = { step: fresh.native.steps, epoch: this.pos.epoch + 1, batch: this.pos.batch, changes };
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
   * Saves a safetensors state dict (PyTorch's keys). withOptimizer (last weights only) adds the
   * optimizer state and where training stands, so loadCheckpoint(path, {resume: true}) continues.
   */
  async saveCheckpoint(path: string, o: { which?: 'last' | 'best'; withOptimizer?: boolean } = {}): Promise<void> {
    const which = o.which ?? 'last';
    if (which === 'best' && o.withOptimizer)
      throw new NetloomError('NL_INVALID_ARGUMENT', 'the optimizer state is kept for the last weights only', "Save the last weights with the optimizer state, or the best weights without it.");
    if (which === 'last') this.requireNotRunning('save the last weights');
    await this.serial(async () => {
      const program = this.session.program;
      const values = this.getParams(which);
      const tensors: Record<string, TensorF32> = {};
      for (const p of program.params) tensors[p.key] = { shape: [...p.shape], data: values.get(p.key)!, dtype: p.dtype === 'i64' ? 'I64' : 'F32' };
      const metadata: Record<string, string> = { format: 'pt', producer: 'netloom', project: this.job.project.name };
      if (which === 'best') metadata['netloom.best_epoch'] = String(this.best!.epoch);
      if (o.withOptimizer) {
        for (const s of program.states)
          tensors[`${OPTIMIZER_PREFIX}${s.param}.${s.key}`] = { shape: [...s.shape], data: Float32Array.from(native(() => this.session.native.getBuffer(s.buffer))) };
        const stepIndex = this.schedule?.interval === 'step' ? this.pos.epoch * this.batchesPerEpoch + this.pos.batch : this.pos.epoch;
        Object.assign(metadata, {
          'netloom.step': String(this.session.native.steps),
          'netloom.epoch': String(this.pos.epoch),
          'netloom.batch': String(this.pos.batch),
          'netloom.phase': this.pos.phase,
          'netloom.scheduler_step': String(stepIndex),
          'netloom.seed': String(this.session.native.seed),
          'netloom.optimizer': JSON.stringify(this.optimizer),
        });
      }
      await saveSafetensors(path, tensors, metadata);
    });
  }

  /** Per-node comparison of a checkpoint with the model; loads it only when everything matches (unless dryRun). */
  async loadCheckpointReport(path: string, o: { dryRun?: boolean } = {}): Promise<LoadReport & { loaded: boolean; resumable: boolean }> {
    const { tensors, metadata } = await readCheckpoint(path);
    const report = { ...loadReport(this.job.project.graph.nodes, this.session.program.params, tensors), resumable: 'netloom.step' in metadata };
    if (!report.ok || o.dryRun) return { ...report, loaded: false };
    this.requireNotRunning('load weights');
    await this.serial(async () => this.setWeights(splitCheckpoint(tensors).model));
    return { ...report, loaded: true };
  }

  private setWeights(model: Record<string, TensorF32>): void {
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
    const { tensors, metadata } = await readCheckpoint(path);
    // NaN weights (or, to resume, optimizer state) are the file's problem, said before the key comparison is
    requireFinite(path, o.resume ? tensors : splitCheckpoint(tensors).model);
    const program = this.session.program;
    const report = loadReport(this.job.project.graph.nodes, program.params, tensors);
    if (!report.ok)
      throw new NetloomError('NL_CHECKPOINT_MISMATCH', `Error(s) in loading state_dict from ${path}:\n  ${report.problems.join('\n  ')}`,
        'The checkpoint was saved from a different network: load it onto the graph it came from, or rename nodes so their names match the keys.');
    const { model, optimizer } = splitCheckpoint(tensors);
    if (!o.resume) {
      await this.serial(async () => this.setWeights(model));
      return metadata;
    }
    const need = ['netloom.step', 'netloom.epoch', 'netloom.batch', 'netloom.phase'];
    if (need.some((k) => !(k in metadata)) || (!report.hasOptimizerState && program.states.length))
      throw new NetloomError('NL_BAD_CHECKPOINT', `${path} holds weights only: it was saved without the optimizer state`, 'Load it as weights, or save a checkpoint with the optimizer state to resume from.');
    const want = new Map(program.states.map((s) => [`${s.param}.${s.key}`, s]));
    const missing = [...want.keys()].filter((k) => !(k in optimizer));
    const unexpected = Object.keys(optimizer).filter((k) => !want.has(k));
    const wrong = [...want].filter(([k, s]) => k in optimizer && optimizer[k].data.length !== s.shape.reduce((a, b) => a * b, 1)).map(([k]) => k);
    if (missing.length || unexpected.length || wrong.length)
      throw new NetloomError('NL_CHECKPOINT_MISMATCH',
        `the optimizer state in ${path} does not fit this run's ${this.optimizer.type}:` +
          (missing.length ? ` missing ${missing.join(', ')};` : '') + (unexpected.length ? ` unexpected ${unexpected.join(', ')};` : '') + (wrong.length ? ` wrong size ${wrong.join(', ')};` : ''),
        `It was saved with ${(() => { try { return (JSON.parse(metadata['netloom.optimizer'] ?? '{}') as { type?: string }).type ?? 'another optimizer'; } catch { return 'another optimizer'; } })()}: resume with the same optimizer, or load the weights only.`);
    const { epoch, batch, step, phase } = resumePosition(metadata, path, { epochs: this.job.epochs, batchesPerEpoch: this.batchesPerEpoch });
    await this.serial(async () => {
      this.setWeights(model);
      for (const s of program.states) native(() => this.session.native.setBuffer(s.buffer, optimizer[`${s.param}.${s.key}`].data));
      this.session.native.steps = step;
      this.pos = { epoch, batch, phase };
      this.epochLosses = [];
      this.epochTrainSeconds = 0;
      this.epochCorrect = 0;
      this.epochSamples = 0;
    });
    if (this.stateValue !== 'ready' && this.stateValue !== 'paused') this.setState('paused');
    return metadata;
  }

  // ---- evaluation -------------------------------------------------------------------------------

  /** The test split with the current weights: accuracy, loss, confusion matrix (rows = true class). */
  async evaluate(): Promise<Evaluation> {
    this.requireNotRunning('evaluate');
    return (await this.evaluated()).evaluation;
  }

  /**
   * An evaluation holds a confusion matrix of the model's classes squared: a last layer with 65536 outputs
   * (for a dataset of 10) would need 4.3e9 cells, more than the JavaScript heap holds. Refused instead.
   */
  private checkEvaluable(): void {
    const C = this.session.program.task === 'classification' ? this.session.program.classes : 0;
    const K = this.job.dataset.classes.length;
    if (C > MAX_EVALUATED_CLASSES)
      throw new NetloomError('NL_UNSUPPORTED', `The model scores ${C} classes; an evaluation covers models of up to ${MAX_EVALUATED_CLASSES} classes (its confusion matrix has a row and a column per class), and ${this.job.dataset.title} has ${K}`,
        `Set out_features of the model's last layer to ${K}, the dataset's class count.`);
  }

  private async evaluated(): Promise<NonNullable<TrainingRun['evalCache']>> {
    this.checkEvaluable();
    return this.serial(async () => {
      if (this.evalCache && this.evalCache.version === this.paramsVersion) return this.evalCache;
      const job = this.job;
      const program = this.session.program;
      const classification = program.task === 'classification';
      const regression = program.io.targets >= 0;
      const r = await this.session.runEpoch('test', {
        count: job.testCount, batch: job.loader.batchSize, dropLast: false, train: false, predictions: classification, probabilities: classification, outputs: regression,
      });
      const C = program.classes;
      const confusion = Array.from({ length: classification ? C : 0 }, () => new Array<number>(C).fill(0));
      const labels = this.testLabels();
      const predictions = r.predictions ?? new Int32Array(0);
      let diag = 0;
      for (let k = 0; k < predictions.length; k++) {
        confusion[labels[k]][predictions[k]]++;
        if (labels[k] === predictions[k]) diag++;
      }
      const perClass = confusion.map((row, c) => {
        const count = row.reduce((a, b) => a + b, 0);
        return { accuracy: count ? row[c] / count : 0, count };
      });
      const evaluation: Evaluation = {
        accuracy: classification ? diag / Math.max(r.samples, 1) : null,
        avgLoss: r.lossSum / Math.max(r.batches, 1),
        samples: r.samples,
        confusion,
        perClass,
        classNames: classification ? Array.from({ length: C }, (_, c) => job.dataset.classes[c] ?? String(c)) : [],
      };
      if (regression && job.dataset.kind === 'tabular') {
        const m = testRegression(job, r.outputs);
        evaluation.regression = { mae: m.mae, rmse: m.rmse, r2: m.r2, targets: [job.dataset.label] };
      }
      this.evalCache = { version: this.paramsVersion, predictions, probabilities: r.probabilities ?? new Float32Array(0), evaluation };
      return this.evalCache;
    });
  }

  /** The test split's class labels (empty for regression data). */
  private testLabels(): Uint8Array {
    const ds = this.job.dataset;
    if (ds.kind === 'image') return ds.test.labels;
    return ds.test.y instanceof Uint8Array ? ds.test.y : new Uint8Array(0);
  }

  /** Up to `limit` test samples with true class `actual` predicted as `predicted` (one confusion cell). */
  async samples(o: { actual: number; predicted: number; limit: number }): Promise<{ sampleShape: number[]; samples: SampleView[] }> {
    this.requireNotRunning('look at test samples');
    if (this.session.program.task !== 'classification')
      throw new NetloomError('NL_INVALID_ARGUMENT', 'test samples are listed by confusion-matrix cell, which only a classification model has',
        'For a regression model, evaluate() reports MAE, RMSE and R² over the test split.');
    const { predictions, probabilities } = await this.evaluated();
    const C = this.session.program.classes;
    const ds = this.job.dataset;
    const S = ds.sampleShape.reduce((a, b) => a * b, 1);
    const labels = this.testLabels();
    const out: SampleView[] = [];
    for (let k = 0; k < predictions.length && out.length < o.limit; k++) {
      if (labels[k] !== o.actual || predictions[k] !== o.predicted) continue;
      const view = { index: k, label: labels[k], predicted: predictions[k], probabilities: Array.from(probabilities.subarray(k * C, (k + 1) * C)) };
      if (ds.kind === 'image') out.push({ ...view, pixels: Buffer.from(ds.test.images.buffer, ds.test.images.byteOffset + k * S, S).toString('base64') });
      else out.push({ ...view, pixels: '', features: Array.from(ds.test.raw.subarray(k * S, (k + 1) * S), float32Text) });
    }
    return { sampleShape: [...ds.sampleShape], samples: out };
  }

  /**
   * One sample as the model's input: uint8 pixels (image datasets; scaled by 1/255 as the native
   * loader does) or a CSV row's feature values as in the file (standardised here with the training
   * split's statistics, exactly as the loader standardised the training data).
   */
  private sampleInput(sample: ArrayLike<number>): Float32Array {
    const ds = this.job.dataset;
    const S = ds.sampleShape.reduce((a, b) => a * b, 1);
    if (ds.kind === 'tabular') {
      if (sample.length !== S)
        throw new NetloomError('NL_INVALID_ARGUMENT', `a row of ${ds.title} has ${S} feature values (${ds.features.join(', ')}), got ${sample.length}`,
          'Send one value per feature column, in that order, as the CSV file has them.');
      const x = new Float32Array(S);
      for (let j = 0; j < S; j++) {
        const v = sample[j];
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw new NetloomError('NL_INVALID_ARGUMENT', `feature ${ds.features[j]} is ${String(v)}; features must be finite numbers`, 'Send the row\'s numbers as the CSV file has them.');
        x[j] = ds.standardized ? (v - ds.stats.mean[j]) / ds.stats.std[j] : v;
      }
      return x;
    }
    if (sample.length !== S)
      throw new NetloomError('NL_INVALID_ARGUMENT', `a sample has ${S} pixels (${ds.sampleShape.join('x')}), got ${sample.length}`, 'Send one image of the dataset\'s size, values 0..255.');
    const x = new Float32Array(S);
    for (let i = 0; i < S; i++) {
      const v = sample[i];
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new NetloomError('NL_INVALID_ARGUMENT', `pixel ${i} is ${v}; pixels are whole numbers 0..255`, 'Send uint8 pixel values.');
      x[i] = v / 255; // rounds to float exactly as the native loader's (float)v / 255.f
    }
    return x;
  }

  /** The model's raw output row (io.logits) for one input row, eval mode. */
  private forwardOne(x: Float32Array): Promise<Float32Array> {
    return this.serial(async () => {
      const io = this.session.program.io;
      native(() => this.session.native.setBuffer(io.input, x));
      if (io.labels >= 0) native(() => this.session.native.setBuffer(io.labels, new Int32Array(1)));
      if (io.targets >= 0) native(() => this.session.native.setBuffer(io.targets, new Float32Array(this.session.program.buffers[io.targets].elems)));
      native(() => this.session.native.runStep(1, false));
      return native(() => this.session.native.getBuffer(io.logits, 1)) as Float32Array;
    });
  }

  /** Class probabilities for one sample (image pixels, or a CSV row's feature values as in the file), eval mode. */
  async predict(sample: ArrayLike<number>): Promise<number[]> {
    this.requireNotRunning('predict');
    const program = this.session.program;
    if (program.task !== 'classification' || program.io.logits < 0)
      throw new NetloomError('NL_INVALID_ARGUMENT', 'predictions need a classification model (a CrossEntropyLoss or NLLLoss at the end)', 'Use predictOutput() (the model\'s output values) for regression models.');
    return softmax(finiteOutput(await this.forwardOne(this.sampleInput(sample))));
  }

  /** The model's output values for one sample (a regression model's prediction, in the target's units), eval mode. */
  async predictOutput(sample: ArrayLike<number>): Promise<number[]> {
    this.requireNotRunning('predict');
    if (this.session.program.io.logits < 0)
      throw new NetloomError('NL_INVALID_ARGUMENT', 'this model has no output to predict with', 'Connect a loss to the model\'s last layer.');
    return Array.from(finiteOutput(await this.forwardOne(this.sampleInput(sample))));
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
