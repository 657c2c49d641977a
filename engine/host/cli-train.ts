/**
 * `netloom train` and `netloom eval`: clients of the app's run object (TrainingRun), printing what
 * the PyTorch quickstart prints: the device, the data, "Epoch N" with a rule, a progress bar on
 * terminals, the train and "Test Error" lines, the save line and "Done!".
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { NetloomError, isNetloomError } from '../errors.js';
import type { ProjectDoc } from '../graph/document.js';
import { runDeviceLines } from './cli-devices.js';
import type { Job, JobOptions } from '../train/job.js';
import type { RegressionMetrics } from '../train/metrics.js';
import { TrainingRun, type RunEpoch } from '../train/run.js';
import { ProgressLine } from './progress.js';
import { savedLine } from './cli-export.js';


/** A number in 4 significant digits (MAE, RMSE are in the target's units, which may be large or small). */
const sig = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v));

/** The quickstart's test line; for a regression target the loss, then MAE, RMSE and R^2 over the test split. */
const testLine = (acc: number, loss: number, reg?: RegressionMetrics) =>
  reg
    ? `Test Error: Avg loss: ${loss.toFixed(6)}, MAE: ${sig(reg.mae)}, RMSE: ${sig(reg.rmse)}, R^2: ${reg.r2 === null ? 'n/a (constant target)' : reg.r2.toFixed(4)}`
    : Number.isNaN(acc)
      ? `Test Error: Avg loss: ${loss.toFixed(6)}`
      : `Test Error: Accuracy: ${(100 * acc).toFixed(1)}%, Avg loss: ${loss.toFixed(6)}`;

/** What the job trains on, for the header: the CSV's columns, or nothing more for images. */
function datasetLine(job: Job): string | undefined {
  const ds = job.dataset;
  if (ds.kind !== 'tabular') return undefined;
  const target = ds.task === 'regression' ? `regression target ${ds.label}` : `label ${ds.label} (${ds.classes.length} classes: ${ds.classes.join(', ')})`;
  return `${ds.features.length} feature${ds.features.length === 1 ? '' : 's'} (${ds.features.join(', ')})${ds.standardized ? ', standardised' : ''}; ${target}`;
}

/** The CLI's hint for a NaN or infinite loss (or gradients, or a step refused for overflowing the weights): what to change, and what became of --save. */
function nonFiniteHint(f: { lr?: number; save?: string }, saved: string | undefined): string {
  return `Lower the learning rate (try 10× smaller${f.lr !== undefined ? `, --lr ${Number((f.lr / 10).toPrecision(3))}` : ''}), turn on gradient clipping (training.clip_grad_norm in the project, e.g. 1.0), ` +
    `or check the data for extreme values.${saved ? ` ${saved}` : ''}`;
}

/** The header every command prints once its run is prepared: device, dataset, CSV columns, notes. */
function printHeader(run: TrainingRun, samples: string): void {
  const job = run.job;
  for (const line of runDeviceLines(job, run.session.threads)) console.log(line);
  console.log(`${job.dataset.title}: ${samples} from ${job.dataset.source}`);
  const columns = datasetLine(job);
  if (columns) console.log(columns);
  for (const w of job.warnings) console.log(`note: ${w}`);
}

/** The quickstart's two lines after an epoch: the training figures, then the test pass's. */
function printEpoch(e: RunEpoch): void {
  const samplesPerSec = e.trainSamples / Math.max(e.trainSeconds, 1e-9);
  console.log(`train loss: ${e.trainLoss.toFixed(6)}, ${e.trainAccuracy === null ? '' : `accuracy: ${(100 * e.trainAccuracy).toFixed(1)}%, `}${e.trainSeconds.toFixed(2)} s, ${Math.round(samplesPerSec).toLocaleString('en-US')} samples/s${e.endedEarly ? ' (stopped early)' : ''}`);
  console.log(testLine(e.testAccuracy ?? Number.NaN, e.testLoss, e.testRegression) + '\n');
}

/**
 * `netloom train`: the app's run object (TrainingRun) trained to the end, its events printed as the
 * PyTorch quickstart prints (an epoch header, a progress bar on terminals, the train and test lines).
 */
export async function trainProject(project: ProjectDoc, projectPath: string, options: JobOptions, f: { lr?: number; save?: string }): Promise<void> {
  // what a run that ends without saving did to --save
  const unsaved = f.save === undefined ? undefined : `${f.save} was ${existsSync(f.save) ? 'left as it was' : 'not written'}`;
  const run = await TrainingRun.create(project, projectPath, options);
  const job = run.job;
  const out = process.stdout;
  printHeader(run, `${job.trainCount} training / ${job.testCount} test samples`);
  let stopping = false;
  const onSigint = () => {
    if (stopping) {
      process.stderr.write(`\nQuit at once: no test pass, nothing saved${unsaved ? ` (${unsaved})` : ''}.\n`);
      process.exit(130);
    }
    stopping = true;
    out.write(f.save
      ? '\nStopping after the current batch: the test pass still runs and --save still saves; Ctrl-C again to quit now without saving.\n'
      : '\nStopping after the current batch: the test pass still runs; Ctrl-C again to quit now.\n');
    run.finishEarly();
  };
  process.on('SIGINT', onSigint);
  const bar = new ProgressLine(out);
  let epoch = 0;
  run.onEvent((e) => {
    if (e.kind === 'phase' && e.phase === 'train') {
      epoch = e.epoch;
      console.log(`Epoch ${e.epoch}\n-------------------------------`);
    } else if (e.kind === 'progress') {
      bar.update(e.samples / job.trainCount, `loss: ${e.loss.toFixed(6)}  [${String(e.samples).padStart(5)}/${job.trainCount}]  ${Math.round(e.samplesPerSec).toLocaleString('en-US')} samples/s`);
    } else if (e.kind === 'phase') {
      bar.done();
    } else if (e.kind === 'epoch') {
      printEpoch(e);
    }
  });
  run.start();
  await run.finished();
  if (run.state === 'failed') {
    bar.done();
    await trainingFailed(run, run.failureCause, { ...f, epoch, unsaved });
  }
  process.off('SIGINT', onSigint);
  if (f.save) {
    await run.saveCheckpoint(f.save, { metadata: { epochs: String(run.history.epochs.length) } });
    console.log(savedLine(f.save));
  }
  console.log('Done!');
}

/**
 * A run that failed: anything but a NaN or infinite loss is thrown as it came. For that one, the weights
 * now are those from before the failing batch: finite, but already diverging. The best epoch's are the
 * ones worth keeping (--save writes them); without a finished epoch there are none.
 */
async function trainingFailed(run: TrainingRun, e: unknown, f: { lr?: number; save?: string; epoch: number; unsaved?: string }): Promise<never> {
  if (!isNetloomError(e) || e.code !== 'NL_NON_FINITE') throw e;
  // "the loss became NaN", "the gradients became infinite", or for a refused step "training diverged"
  // (the engine's "the weights would become infinite" happened to no weights: the step was not applied).
  const what = /the (loss|gradients) became (NaN|infinite)/.exec(e.message)?.[0] ?? 'training diverged';
  let saved = f.unsaved && `Nothing was saved: no epoch finished before ${what}, so there are no good weights to save; ${f.unsaved}.`;
  const best = run.history.epochs.find((r) => r.epoch === run.bestEpoch);
  if (f.save && best) {
    await run.saveCheckpoint(f.save, { which: 'best', metadata: { epochs: String(best.epoch) } });
    console.log(`Saved the weights of epoch ${best.epoch} (the best epoch: test loss ${best.testLoss.toFixed(6)}) to ${f.save}`);
    saved = `The weights of epoch ${best.epoch} were saved to ${f.save}: go on from them with --weights ${f.save} and a lower --lr.`;
  }
  throw new NetloomError(e.code, `epoch ${f.epoch}: ${e.message}`, nonFiniteHint(f, saved), { cause: e });
}

/** `netloom eval`: a run that never trains, loaded with --weights, tested once (the quickstart's test()). */
export async function evaluateProject(project: ProjectDoc, projectPath: string, options: JobOptions, f: { weights: string }): Promise<void> {
  const run = await TrainingRun.create(project, projectPath, { ...options, weights: f.weights });
  printHeader(run, `${run.job.testCount} test samples`);
  console.log(`Weights: ${path.resolve(f.weights)}`);
  const r = await run.test().catch((e: unknown) => {
    if (!isNetloomError(e) || e.code !== 'NL_NON_FINITE') throw e;
    // Non-finite weights were refused on loading: these are finite but so large that the forward pass overflows.
    const { key, value } = largestWeight(run.session.getParams());
    throw new NetloomError(e.code, `the weights in ${f.weights} give a non-finite loss on the test split (${e.message}): they are finite, but as large as ${String(Number(value.toPrecision(3))).replace('e+', 'e')} (in '${key}'), which overflows in the forward pass`,
      'They come from a run that diverged: evaluate the weights of an earlier or the best epoch, or train again with a lower learning rate.', { cause: e });
  });
  console.log(testLine(r.accuracy, r.avgLoss, r.regression));
}

/** The weight of largest magnitude, and its tensor. */
function largestWeight(params: Map<string, Float32Array>): { key: string; value: number } {
  let best = { key: '', value: 0 };
  for (const [key, data] of params) for (const v of data) if (Math.abs(v) > best.value) best = { key, value: Math.abs(v) };
  return best;
}
