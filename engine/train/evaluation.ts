/**
 * Measuring a job's model on its test split, and running it on one sample: the quickstart's test()
 * (accuracy and average loss, the numbers every epoch reports and `netloom eval` prints), the app's
 * evaluation (a confusion matrix and per-class accuracy, with the samples of one cell), and predictions
 * for a sample the user gives. Everything facing the user speaks the dataset's own values: a CSV row
 * is shown as the file has it and standardised here with the training split's statistics, and a model
 * trained on a regression CSV's targets is measured by MAE, RMSE and R^2 instead of accuracy.
 *
 * These functions use the job's session directly; TrainingRun serialises them with training.
 */
import { NetloomError } from '../errors.js';
import { native } from '../runtime/session.js';
import type { Job } from './job.js';
import { regressionMetrics, type RegressionMetrics } from './metrics.js';

/** The quickstart's test(): Accuracy = correct / samples, Avg loss = sum of batch mean losses / batches. */
export interface TestReport {
  /** NaN for regression losses (no classes to be right about) */
  accuracy: number;
  avgLoss: number;
  samples: number;
  seconds: number;
  /** MAE, RMSE and R^2 over the test split, for models trained on a dataset's regression targets */
  regression?: RegressionMetrics;
  /** the pass was stopped (session.stop()) before its last batch: its numbers cover part of the split */
  stopped: boolean;
}

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

/** An evaluation with the per-sample results it was made from (for listing one confusion cell's samples). */
export interface EvaluatedSplit {
  predictions: Int32Array;
  probabilities: Float32Array;
  evaluation: Evaluation;
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

/** The most classes an evaluation's confusion matrix covers (about a million cells). */
export const MAX_EVALUATED_CLASSES = 1024;

/** The quickstart's test(): no updates, in order, same batch size. Stoppable by session.stop(). */
export async function testPass(job: Job): Promise<TestReport> {
  const program = job.session.program;
  const regression = program.io.targets >= 0;
  const r = await job.session.runEpoch('test', { count: job.testCount, batch: job.loader.batchSize, dropLast: false, train: false, outputs: regression });
  const accuracy = program.task === 'classification' ? r.correct / Math.max(r.samples, 1) : Number.NaN;
  return {
    accuracy, avgLoss: r.lossSum / Math.max(r.batches, 1), samples: r.samples, seconds: r.seconds, stopped: r.stopped,
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

/**
 * An evaluation holds a confusion matrix of the model's classes squared: a last layer with 65536 outputs
 * (for a dataset of 10) would need 4.3e9 cells, more than the JavaScript heap holds. Refused instead.
 */
export function checkEvaluable(job: Job): void {
  const C = job.session.program.task === 'classification' ? job.session.program.classes : 0;
  const K = job.dataset.classes.length;
  if (C > MAX_EVALUATED_CLASSES)
    throw new NetloomError('NL_UNSUPPORTED', `The model scores ${C} classes; an evaluation covers models of up to ${MAX_EVALUATED_CLASSES} classes (its confusion matrix has a row and a column per class), and ${job.dataset.title} has ${K}`,
      `Set out_features of the model's last layer to ${K}, the dataset's class count.`);
}

/** The test split with the current weights: accuracy, loss, confusion matrix (rows = true class), per-sample predictions. */
export async function evaluateTestSplit(job: Job): Promise<EvaluatedSplit> {
  checkEvaluable(job);
  const program = job.session.program;
  const classification = program.task === 'classification';
  const regression = program.io.targets >= 0;
  const r = await job.session.runEpoch('test', {
    count: job.testCount, batch: job.loader.batchSize, dropLast: false, train: false, predictions: classification, probabilities: classification, outputs: regression,
  });
  const C = program.classes;
  const confusion = Array.from({ length: classification ? C : 0 }, () => new Array<number>(C).fill(0));
  const labels = testLabels(job);
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
  return { predictions, probabilities: r.probabilities ?? new Float32Array(0), evaluation };
}

/** The test split's class labels (empty for regression data). */
function testLabels(job: Job): Uint8Array {
  const ds = job.dataset;
  if (ds.kind === 'image') return ds.test.labels;
  return ds.test.y instanceof Uint8Array ? ds.test.y : new Uint8Array(0);
}

/** Test samples are listed by confusion-matrix cell, which only a classification model has. */
export function requireConfusionCells(job: Job): void {
  if (job.session.program.task !== 'classification')
    throw new NetloomError('NL_INVALID_ARGUMENT', 'test samples are listed by confusion-matrix cell, which only a classification model has',
      'For a regression model, evaluate() reports MAE, RMSE and R² over the test split.');
}

/** Up to `limit` test samples with true class `actual` predicted as `predicted` (one confusion cell of `split`). */
export function confusionCellSamples(job: Job, split: EvaluatedSplit, o: { actual: number; predicted: number; limit: number }): { sampleShape: number[]; samples: SampleView[] } {
  const { predictions, probabilities } = split;
  const C = job.session.program.classes;
  const ds = job.dataset;
  const S = ds.sampleShape.reduce((a, b) => a * b, 1);
  const labels = testLabels(job);
  const out: SampleView[] = [];
  for (let k = 0; k < predictions.length && out.length < o.limit; k++) {
    if (labels[k] !== o.actual || predictions[k] !== o.predicted) continue;
    const view = { index: k, label: labels[k], predicted: predictions[k], probabilities: Array.from(probabilities.subarray(k * C, (k + 1) * C)) };
    if (ds.kind === 'image') out.push({ ...view, pixels: Buffer.from(ds.test.images.buffer, ds.test.images.byteOffset + k * S, S).toString('base64') });
    else out.push({ ...view, pixels: '', features: Array.from(ds.test.raw.subarray(k * S, (k + 1) * S), float32Text) });
  }
  return { sampleShape: [...ds.sampleShape], samples: out };
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
 * One sample as the model's input: uint8 pixels (image datasets; scaled by 1/255 as the native
 * loader does) or a CSV row's feature values as in the file (standardised here with the training
 * split's statistics, exactly as the loader standardised the training data).
 */
export function sampleInput(job: Job, sample: ArrayLike<number>): Float32Array {
  const ds = job.dataset;
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
export function forwardOne(job: Job, x: Float32Array): Float32Array {
  const session = job.session;
  const io = session.program.io;
  native(() => session.native.setBuffer(io.input, x));
  if (io.labels >= 0) native(() => session.native.setBuffer(io.labels, new Int32Array(1)));
  if (io.targets >= 0) native(() => session.native.setBuffer(io.targets, new Float32Array(session.program.buffers[io.targets].elems)));
  native(() => session.native.runStep(1, false));
  return native(() => session.native.getBuffer(io.logits, 1)) as Float32Array;
}

/**
 * The model's output for one sample, if every value is a number. Huge (finite) inputs or non-finite weights
 * overflow it; NaN cannot be shown or sent (it is no JSON number), so say so instead of returning it.
 */
export function finiteOutput(out: Float32Array): Float32Array {
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new NetloomError('NL_NON_FINITE', `the model's output for this sample is ${Number.isNaN(out[bad]) ? 'NaN' : 'infinite'} (output ${bad}): the sample's values are too large for the model, or its weights hold NaN or infinite values`,
      'Send values of the size the training data has, or load other weights.');
  return out;
}

export function softmax(logits: ArrayLike<number>): number[] {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]);
  const e = Array.from(logits, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
