/**
 * CSV datasets end to end (training.dataset = { type: 'csv', ... }): Fisher's Iris through prepareJob /
 * TrainingRun, the `netloom` CLI and the app's service (New from template -> startRun -> evaluateRun);
 * a regression CSV (y = a linear function of 3 features + Gaussian noise) trained down to the noise
 * level; a TrainingRun's evaluation (regression metrics; file values in the confusion-cell samples;
 * predict on a raw feature row); and every bad input ending in a clear error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseProjectText, type ProjectDoc } from '../../engine/graph/document.js';
import { METHODS } from '../../engine/contract/api.js';
import { EngineService } from '../../engine/host/service.js';
import { prepareJob } from '../../engine/train/job.js';
import { TrainingRun } from '../../engine/train/run.js';

const ROOT = process.cwd();
const CLI = join(ROOT, 'dist', 'engine', 'host', 'cli.js');
const IRIS_TEMPLATE = join(ROOT, 'assets', 'templates', 'iris-mlp.json');
const IRIS_CSV = join(ROOT, 'assets', 'samples', 'iris.csv');
const tmp = mkdtempSync(join(tmpdir(), 'netloom-csv-'));
const NOISE = 0.1;

function netloom(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Resolves when a run of `service` leaves the running state: call before startRun, await with its runId. */
function runEnds(service: EngineService): (runId: string) => Promise<void> {
  const ended = new Set<string>();
  const waiting = new Map<string, () => void>();
  service.onEvent((e) => {
    if (e.type === 'run.state' && e.state !== 'running') {
      ended.add(e.runId);
      waiting.get(e.runId)?.();
    }
  });
  return (runId) => new Promise((resolve) => (ended.has(runId) ? resolve() : waiting.set(runId, resolve)));
}

const irisTemplate = () => parseProjectText(readFileSync(IRIS_TEMPLATE, 'utf8'), IRIS_TEMPLATE);

/** Input [features] -> Linear(hidden) -> ReLU -> Linear(out) -> loss, trained with Adam. */
function project(dataset: unknown, o: { features?: number; out?: number; loss?: string; epochs?: number; batch?: number } = {}): ProjectDoc {
  const node = (id: string, type: string, params: object) => ({ id, type, name: id, params });
  return parseProjectText(JSON.stringify({
    format: 'netloom-project', version: 1, name: 'csv test',
    graph: {
      nodes: [
        node('input', 'Input', { shape: [o.features ?? 3] }),
        node('fc1', 'Linear', { in_features: 'auto', out_features: 16 }),
        node('relu', 'ReLU', {}),
        node('fc2', 'Linear', { in_features: 'auto', out_features: o.out ?? 1 }),
        node('loss', o.loss ?? 'MSELoss', {}),
      ],
      edges: [
        { id: 'e1', source: 'input', target: 'fc1' }, { id: 'e2', source: 'fc1', target: 'relu' },
        { id: 'e3', source: 'relu', target: 'fc2' }, { id: 'e4', source: 'fc2', target: 'loss' },
      ],
    },
    training: { dataset, batch_size: o.batch ?? 16, shuffle: true, epochs: o.epochs ?? 30, seed: 3, optimizer: { type: 'Adam', lr: 0.01 } },
  }), 'csv test');
}

/** 600 rows of y = 2 a - 3 b + 0.5 c + 1 + N(0, NOISE^2), the features on different scales; a Box-Muller LCG, seeded. */
function writeRegressionCsv(file: string): void {
  let s = 12345;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const lines = ['id,a,b,c,y'];
  for (let i = 0; i < 600; i++) {
    const a = 4 * u() - 2;
    const b = 40 * u() - 20;
    const c = 0.2 * u();
    const y = 2 * a - 0.15 * b + 5 * c + 1 + NOISE * gauss();
    lines.push(`row${i},${a.toFixed(5)},${b.toFixed(4)},${c.toFixed(6)},${y.toFixed(6)}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

const REG_CSV = join(tmp, 'linear.csv');
const regression = (extra: object = {}) => ({ type: 'csv', path: REG_CSV, label: 'y', features: ['a', 'b', 'c'], task: 'regression', ...extra });

beforeAll(() => {
  writeRegressionCsv(REG_CSV);
  writeFileSync(join(tmp, 'bad.csv'), 'a,b,c,y\n1,2,3,4\n2,3,4,5\n3,abc,5,6\n');
});

describe('Iris (assets/samples/iris.csv, the iris-mlp template)', () => {
  it('a TrainingRun reaches >= 90% test accuracy on the held-out rows', async () => {
    const run = await TrainingRun.create(irisTemplate(), IRIS_TEMPLATE, { threads: 1 });
    const job = run.job;
    expect(job.dataset).toMatchObject({ kind: 'tabular', title: 'iris.csv', classes: ['setosa', 'versicolor', 'virginica'], sampleShape: [4], standardized: true });
    expect(job.trainCount).toBe(120);
    expect(job.testCount).toBe(30);
    run.start();
    await run.finished();
    const reports = run.history.epochs;
    expect(reports).toHaveLength(job.epochs);
    expect(reports.at(-1)!.testAccuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('`netloom train` on the template prints the quickstart lines and reaches >= 90%', () => {
    expect(existsSync(CLI), 'run `npm run build:ts` first').toBe(true);
    const r = netloom('train', IRIS_TEMPLATE);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`iris.csv: 120 training / 30 test samples from ${IRIS_CSV}`);
    expect(r.out).toContain('4 features (sepal_length, sepal_width, petal_length, petal_width), standardised; label species (3 classes: setosa, versicolor, virginica)');
    const acc = [...r.out.matchAll(/^Test Error: Accuracy: ([\d.]+)%, Avg loss: \d+\.\d{6}$/gm)].map((m) => Number(m[1]));
    expect(acc).toHaveLength(40);
    expect(acc.at(-1)).toBeGreaterThanOrEqual(90);
  });

  it('the app: New from template (no project file yet) -> startRun -> evaluateRun finds the CSV beside the template', async () => {
    const service = new EngineService();
    const doc = await service.getTemplate({ id: 'iris-mlp' });
    const ended = runEnds(service);
    const { runId } = await service.startRun({ project: doc, overrides: { epochs: 25 } });
    await ended(runId);
    expect((await service.getRun({ runId })).state).toBe('finished');
    const ev = await service.evaluateRun({ runId });
    expect(METHODS.evaluateRun.result.safeParse(ev).success).toBe(true);
    expect(ev.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(ev.regression).toBeUndefined();
    expect(ev.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    // a raw row as in the file predicts through the API (setosa: short petals)
    const pred = await service.predict({ runId, features: [5.1, 3.5, 1.4, 0.2] });
    expect(METHODS.predict.result.safeParse(pred).success).toBe(true);
    expect(pred.predicted).toBe(0);
    await service.closeRun({ runId });
  });

  it('the app: a saved project with a relative CSV path trains from its file; the same project unsaved is refused clearly', async () => {
    const service = new EngineService();
    const dir = mkdtempSync(join(tmp, 'saved-'));
    writeFileSync(join(dir, 'flowers.csv'), readFileSync(IRIS_CSV));
    const doc = irisTemplate();
    const relative = { ...doc, training: { ...doc.training, dataset: { ...(doc.training.dataset as object), path: 'flowers.csv' } } };
    const ended = runEnds(service);
    const { runId } = await service.startRun({ project: relative, path: join(dir, 'flowers.netloom.json'), overrides: { epochs: 2 } });
    await ended(runId);
    expect((await service.getRun({ runId })).state).toBe('finished');
    await service.closeRun({ runId });
    await expect(service.startRun({ project: relative })).rejects.toMatchObject({
      code: 'NL_INVALID_ARGUMENT',
      message: expect.stringContaining('"flowers.csv" is relative, but this project has not been saved yet'),
    });
  });
});

describe('regression on a generated CSV', () => {
  it('trains y = linear(3 features) + noise down to the noise level (test MSE, MAE, RMSE, R^2)', async () => {
    const run = await TrainingRun.create(project(regression()), join(tmp, 'p.json'), { threads: 1 });
    const job = run.job;
    expect(job.dataset).toMatchObject({ kind: 'tabular', task: 'regression', classes: [], features: ['a', 'b', 'c'], label: 'y' });
    expect(job.session.program.io.targets).toBeGreaterThanOrEqual(0);
    run.start();
    await run.finished();
    const last = run.history.epochs.at(-1)!;
    expect(last.testAccuracy).toBeNull();
    // the noise variance is 0.01: the fit must be within a few times it, never better than the noise allows by much
    expect(last.testLoss).toBeLessThan(3 * NOISE ** 2);
    expect(last.testLoss).toBeGreaterThan(0.4 * NOISE ** 2);
    // RMSE is over samples, the loss a mean of batch means (the short last batch weighs more): close, not equal
    expect(Math.abs(last.testRegression!.rmse - Math.sqrt(last.testLoss)) / last.testRegression!.rmse).toBeLessThan(0.05);
    expect(last.testRegression!.mae).toBeLessThan(1.5 * NOISE);
    expect(last.testRegression!.r2).toBeGreaterThan(0.99);
    expect(last.testRegression!.samples).toBe(job.testCount);
  });

  it('`netloom train --csv ... --regression` prints loss, MAE, RMSE and R^2 per epoch', () => {
    const p = join(tmp, 'reg-project.json');
    writeFileSync(p, JSON.stringify({ ...project(regression()), training: { ...project(regression()).training, dataset: 'mnist' } }));
    const flags = ['--csv', REG_CSV, '--label', 'y', '--features', 'a,b,c', '--regression', '--validation-fraction', '0.25'];
    const weights = join(tmp, 'reg.safetensors');
    const r = netloom('train', p, ...flags, '--epochs', '20', '--save', weights);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('linear.csv: 450 training / 150 test samples');
    expect(r.out).toContain('3 features (a, b, c), standardised; regression target y');
    const lines = [...r.out.matchAll(/^Test Error: Avg loss: (\d+\.\d{6}), MAE: ([\d.e-]+), RMSE: ([\d.e-]+), R\^2: ([\d.]+)$/gm)];
    expect(lines).toHaveLength(20);
    const [, loss, , rmse, r2] = lines.at(-1)!.map(Number);
    expect(loss).toBeLessThan(3 * NOISE ** 2);
    expect(Math.abs(rmse - Math.sqrt(loss)) / rmse).toBeLessThan(0.05);
    expect(r2).toBeGreaterThan(0.99);
    // eval of the saved weights on the same rows prints the same line
    const e = netloom('eval', p, ...flags, '--weights', weights);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toContain(lines.at(-1)![0]);
  });

  it('a TrainingRun evaluates with regression metrics (no accuracy, no confusion matrix) and predicts in the target units', async () => {
    const run = await TrainingRun.create(project(regression(), { epochs: 20 }), join(tmp, 'p.json'), { threads: 1 });
    run.start();
    await run.finished();
    expect(run.state, JSON.stringify(run.error)).toBe('finished');
    const ev = await run.evaluate();
    expect(ev).toMatchObject({ accuracy: null, confusion: [], perClass: [], classNames: [], samples: run.job.testCount });
    expect(ev.regression!.targets).toEqual(['y']);
    // the same metrics, recomputed from one-row predictions on the test rows as the file has them
    const ds = run.job.dataset;
    if (ds.kind !== 'tabular') throw new Error('expected a tabular dataset');
    let abs = 0;
    let sq = 0;
    for (let k = 0; k < run.job.testCount; k++) {
      const [out] = await run.predictOutput(Array.from(ds.test.raw.subarray(3 * k, 3 * k + 3)));
      abs += Math.abs(out - ds.test.y[k]);
      sq += (out - ds.test.y[k]) ** 2;
    }
    expect(ev.regression!.mae).toBeCloseTo(abs / run.job.testCount, 4);
    expect(ev.regression!.rmse).toBeCloseTo(Math.sqrt(sq / run.job.testCount), 4);
    expect(ev.regression!.r2).toBeGreaterThan(0.99);
    expect(ev.avgLoss).toBeLessThan(3 * NOISE ** 2);
    // a row far from the standardisation's mean: the model extrapolates the linear law
    const [out] = await run.predictOutput([1, -10, 0.1]);
    expect(out).toBeCloseTo(2 * 1 - 0.15 * -10 + 5 * 0.1 + 1, 0);
    await expect(run.samples({ actual: 0, predicted: 0, limit: 5 })).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: /classification model/ });
    await expect(run.predict([1, 2, 3])).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: /classification model/ });
  });
});

describe('a classification TrainingRun on a CSV', () => {
  it("confusion-cell samples show each row's feature values as the file has them; predict on those values agrees", async () => {
    const run = await TrainingRun.create(irisTemplate(), IRIS_TEMPLATE, { threads: 1, epochs: 15 });
    run.start();
    await run.finished();
    const ev = await run.evaluate();
    expect(ev.confusion.flat().reduce((a, b) => a + b, 0)).toBe(30);
    const fileRows = new Set(readFileSync(IRIS_CSV, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 4).map(Number).join(',')));
    let seen = 0;
    for (let c = 0; c < 3; c++) {
      const { sampleShape, samples } = await run.samples({ actual: c, predicted: c, limit: 100 });
      expect(sampleShape).toEqual([4]);
      for (const s of samples) {
        expect(s.pixels).toBe('');
        expect(fileRows.has(s.features!.join(',')), `${s.features} is a row of iris.csv`).toBe(true);
        const probs = await run.predict(s.features!);
        expect(probs.indexOf(Math.max(...probs))).toBe(c);
        seen++;
      }
    }
    expect(seen).toBe(ev.confusion.reduce((a, row, c) => a + row[c], 0));
    await expect(run.predict([1, 2, 3])).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: /has 4 feature values \(sepal_length, sepal_width, petal_length, petal_width\), got 3/ });
    await expect(run.predict([1, 2, NaN, 4])).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: /petal_length is NaN/ });
  });
});

describe('bad inputs end in one clear error', () => {
  const prepare = (p: ProjectDoc) => prepareJob(p, join(tmp, 'p.json'), { threads: 1 });

  it('a label column the file does not have: the columns are listed', async () => {
    await expect(prepare(project(regression({ label: 'price' })))).rejects.toMatchObject({
      code: 'NL_INVALID_ARGUMENT', message: expect.stringContaining('linear.csv has no label column "price"; its columns are "id", "a", "b", "c", "y"'),
    });
  });

  it("text in a feature column: the loader's message names the file, line, column and value", async () => {
    await expect(prepare(project(regression({ path: 'bad.csv', features: 'all-but-label' })))).rejects.toMatchObject({
      code: 'NL_BAD_DATASET', message: 'bad.csv, line 4, column "b" (column 2): "abc" is not a number', hint: expect.stringContaining('Feature columns must hold numbers'),
    });
  });

  it('a text id column among "all-but-label" features is refused the same way', async () => {
    await expect(prepare(project(regression({ features: 'all-but-label' }), { features: 4 }))).rejects.toMatchObject({
      code: 'NL_BAD_DATASET', message: expect.stringContaining('line 2, column "id" (column 1): "row0" is not a number'),
    });
  });

  it('an Input shape other than [number of features]', async () => {
    await expect(prepare(project(regression(), { features: 5 }))).rejects.toMatchObject({
      code: 'NL_BAD_GRAPH',
      message: 'Input at node input: its shape [5] does not match linear.csv samples [3] (one value per feature column: a, b, c)',
      hint: 'Set the Input shape to [3].',
    });
  });

  it('CrossEntropyLoss on a regression CSV, and an output width other than the targets', async () => {
    await expect(prepare(project(regression(), { loss: 'CrossEntropyLoss', out: 4 }))).rejects.toMatchObject({
      code: 'NL_BAD_GRAPH', message: expect.stringContaining('CrossEntropyLoss at node loss: linear.csv is a regression dataset'), hint: expect.stringContaining('MSELoss'),
    });
    await expect(prepare(project(regression(), { out: 3 }))).rejects.toMatchObject({
      code: 'NL_BAD_GRAPH', message: 'MSELoss at node loss: the model outputs 3 values per sample but linear.csv has 1 target column (y)',
    });
  });

  it('too few classes in the model for the CSV', async () => {
    const p = irisTemplate();
    p.graph.nodes.find((n) => n.id === 'fc2')!.params.out_features = 2;
    await expect(prepareJob(p, IRIS_TEMPLATE)).rejects.toMatchObject({ code: 'NL_BAD_GRAPH', message: 'CrossEntropyLoss at node loss_fn: the model scores 2 classes but iris.csv has 3', hint: 'Set out_features of the last Linear layer to 3.' });
  });

  it('a missing file, and a relative path resolved beside the project file', async () => {
    await expect(prepareJob(project(regression({ path: 'nope.csv' })), join(tmp, 'p.json'))).rejects.toMatchObject({
      code: 'NL_DATASET_MISSING', message: `CSV file ${join(tmp, 'nope.csv')} does not exist`,
    });
  });

  it('a batch this machine cannot hold is refused before anything is allocated (NL_OOM, with the sizes)', async () => {
    // Hidden activations of 0.6 x this machine's memory per buffer: at least three of them (ReLU's output and
    // the two gradients around it) are live at once in training, so the estimate is past the machine.
    const perBuffer = 0.6 * totalmem();
    let hidden = 4096;
    let batch = Math.ceil(perBuffer / (4 * hidden));
    if (batch > 1 << 20) {
      batch = 1 << 20;
      hidden = Math.ceil(perBuffer / (4 * batch));
    }
    const p = project(regression(), { batch });
    p.graph.nodes.find((n) => n.id === 'fc1')!.params.out_features = hidden;
    await expect(prepare(p)).rejects.toMatchObject({
      code: 'NL_OOM', message: expect.stringMatching(new RegExp(`(Training needs about [\\d.]+ GiB more \\(activations at batch ${batch}: .* but only [\\d.]+ GiB is available \\(.*\\)|more than the 64.0 GiB one training session can hold): lower the batch size\\.`)),
    });
  });

  it('CLI flags: --label without --csv, --csv without --label, two datasets at once', () => {
    const expectUserError = (r: ReturnType<typeof netloom>, pattern: RegExp) => {
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(pattern);
      expect(r.err).not.toMatch(/internal error/);
    };
    expectUserError(netloom('train', IRIS_TEMPLATE, '--label', 'species'), /--label, --features, --regression and --no-standardize apply to --csv only/);
    expectUserError(netloom('train', IRIS_TEMPLATE, '--no-standardize'), /apply to --csv only/);
    expectUserError(netloom('train', IRIS_TEMPLATE, '--csv', IRIS_CSV), /--csv needs --label <column>/);
    expectUserError(netloom('train', IRIS_TEMPLATE, '--csv', IRIS_CSV, '--label', 'species', '--dataset', 'mnist'), /--dataset and --csv both choose the dataset/);
    expectUserError(netloom('train', IRIS_TEMPLATE, '--csv', IRIS_CSV, '--label', 'species', '--validation-fraction', '1.5'), /--validation-fraction takes a number above 0 and below 1/);
  });

  it('--no-standardize feeds the raw values (and still trains)', () => {
    const r = netloom('train', IRIS_TEMPLATE, '--csv', IRIS_CSV, '--label', 'species', '--no-standardize', '--epochs', '2');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('4 features (sepal_length, sepal_width, petal_length, petal_width); label species');
  });
});
