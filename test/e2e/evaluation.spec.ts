/**
 * Evaluation details, best-epoch checkpoints and run errors, in the browser against a real
 * `netloom serve`:
 * - the per-class accuracy column beside the confusion matrix agrees with the matrix (counts are
 *   its row sums, the right answers its diagonal) and with the header's macro average;
 * - Save checkpoint offers the best epoch once one has finished and writes it (metadata says which);
 * - a run that diverges (lr raised to 100 mid-run) fails with the engine's message and hint in an
 *   error box; Evaluate, Save checkpoint and Start stay enabled; the kept weights are finite, and
 *   the best epoch's weights load and evaluate;
 * - a regression model (a CSV with a numeric target) gets avg loss, MAE, RMSE and R² instead.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, screenshot, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp, setTrainingFields, submitPathDialog } from './helpers';

/** A safetensors file read independently of the engine: 8-byte header length, JSON header, data. */
function readSafetensors(file: string): { metadata: Record<string, string>; tensors: Record<string, Float32Array> } {
  const raw = readFileSync(file);
  const n = Number(raw.readBigUInt64LE(0));
  const header = JSON.parse(raw.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] } | Record<string, string>>;
  const data = raw.subarray(8 + n);
  const tensors: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    const t = v as { dtype: string; data_offsets: [number, number] };
    if (t.dtype !== 'F32') continue;
    const bytes = data.subarray(t.data_offsets[0], t.data_offsets[1]);
    tensors[k] = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  return { metadata: (header.__metadata__ ?? {}) as Record<string, string>, tensors };
}

async function quickstartOnMnist(page: Page, fields: { limitTrain: string; epochs: string; batchSize: string }): Promise<void> {
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('summary-toggle').click(); // room for the charts
  await page.getByTestId('training-toggle').click();
  await setTrainingFields(page, { dataset: 'mnist', ...fields });
}

/** confusion[actual][predicted] as the matrix shows it */
async function confusionShown(page: Page, k: number): Promise<number[][]> {
  const cells = await page
    .getByTestId('confusion-matrix')
    .locator('[data-testid^="cm-cell-"]')
    .evaluateAll((els) => els.map((e) => ({ id: e.getAttribute('data-testid')!, n: Number(e.textContent) })));
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const c of cells) {
    const [, i, j] = /^cm-cell-(\d+)-(\d+)$/.exec(c.id)!.map(Number);
    m[i][j] = c.n;
  }
  return m;
}

/** Closes the toasts on screen (the "Training on …" note would cover the progress line in a screenshot). */
async function dismissToasts(page: Page): Promise<void> {
  const close = page.getByTestId('toast').getByRole('button', { name: 'dismiss' });
  while ((await close.count()) > 0) await close.first().click();
}

async function saveCheckpoint(page: Page, file: string, which: 'last' | 'best'): Promise<void> {
  await page.getByTestId('btn-checkpoint-save').click();
  const dialog = page.getByTestId('dialog-checkpoint');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId(`ckpt-which-${which}`).check();
  if (which === 'best') await expect(dialog.getByTestId('ckpt-with-optimizer')).toBeDisabled(); // the engine keeps no optimizer state for it
  else await expect(dialog.getByTestId('ckpt-with-optimizer')).toBeEnabled();
  await submitPathDialog(dialog, file);
  expect(existsSync(file)).toBe(true);
}

test('per-class accuracy beside the confusion matrix agrees with it; the best epoch is marked and saved', async ({ page, server }) => {
  await openApp(page, server);
  await quickstartOnMnist(page, { limitTrain: '3000', epochs: '1', batchSize: '64' });
  await page.getByTestId('train-optimizer').selectOption('adam'); // a model worth looking at after 47 steps

  // before any epoch has finished there is no best epoch to save
  await expect(page.getByTestId('train-best-epoch')).toHaveCount(0);

  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 30_000);
  await expect(page.getByTestId('train-best-epoch')).toHaveAttribute('data-epoch', '1');
  await expect(page.getByTestId('run-best-epoch')).toHaveText(/★ best epoch 1/); // the run kept in the project

  await page.getByTestId('btn-evaluate').click();
  await expect(page.getByTestId('confusion-matrix')).toBeVisible();
  const samples = Number(await page.getByTestId('eval-samples').textContent());
  expect(samples).toBe(10_000);

  const rows = page.getByTestId('per-class-row');
  await expect(rows).toHaveCount(10);
  const shown = await rows.evaluateAll((els) =>
    els.map((e) => ({
      cls: Number(e.getAttribute('data-class')),
      count: Number(e.getAttribute('data-count')),
      correct: Number(e.getAttribute('data-correct')),
      worst: e.getAttribute('data-worst') === 'true',
      text: e.querySelector('.pc-value')!.textContent,
      countText: e.nextElementSibling!.textContent,
    })),
  );
  const confusion = await confusionShown(page, 10);
  expect(shown.map((r) => r.cls)).toEqual([...Array(10).keys()]); // class order
  shown.forEach((r, i) => {
    const rowSum = confusion[i].reduce((a, b) => a + b, 0);
    expect(r.count).toBe(rowSum);
    expect(r.countText).toBe(String(rowSum));
    expect(r.correct).toBe(confusion[i][i]);
    expect(r.text).toBe(`${((confusion[i][i] / rowSum) * 100).toFixed(1)}%`);
  });
  expect(shown.reduce((a, r) => a + r.count, 0)).toBe(samples);
  // the overall accuracy is the diagonal's share; the macro average the mean of the class accuracies
  const accuracies = confusion.map((row, i) => row[i] / row.reduce((a, b) => a + b, 0));
  const macro = accuracies.reduce((a, b) => a + b, 0) / 10;
  const diag = confusion.reduce((a, row, i) => a + row[i], 0);
  await expect(page.getByTestId('eval-accuracy')).toHaveText(`${((diag / samples) * 100).toFixed(2)}%`);
  await expect(page.getByTestId('eval-macro-accuracy')).toHaveText(`${(macro * 100).toFixed(2)}%`);
  // the flagged classes are the (at most 3) least accurate ones below the macro average
  const expectedWorst = accuracies
    .map((a, i) => ({ a, i }))
    .filter((x) => x.a < macro)
    .sort((x, y) => x.a - y.a || x.i - y.i)
    .slice(0, 3)
    .map((x) => x.i)
    .sort((x, y) => x - y);
  expect(shown.filter((r) => r.worst).map((r) => r.cls)).toEqual(expectedWorst);

  await dismissToasts(page);
  await page.getByTestId('evaluation').scrollIntoViewIfNeeded();
  await screenshot(page, 'per-class');
  await page.getByTestId('btn-theme').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.getByTestId('evaluation').scrollIntoViewIfNeeded();
  await screenshot(page, 'per-class-dark');
  await page.getByTestId('btn-theme').click();

  // Save checkpoint → best epoch: the file's metadata names it
  await page.getByTestId('btn-checkpoint-save').click();
  const dialog = page.getByTestId('dialog-checkpoint');
  await expect(dialog.getByTestId('ckpt-best-label')).toHaveText('best epoch (1, lowest test loss)');
  await expect(dialog.getByTestId('ckpt-which-best')).toBeEnabled();
  await dialog.getByTestId('dialog-cancel').click();
  const file = join(server.workDir, 'best.safetensors');
  await saveCheckpoint(page, file, 'best');
  await expect(page.getByTestId('toast').filter({ hasText: "epoch 1's weights (best)" })).toBeVisible();
  const { metadata, tensors } = readSafetensors(file);
  expect(metadata['netloom.best_epoch']).toBe('1');
  expect(metadata['netloom.step']).toBeUndefined(); // weights only: no optimizer state
  expect(Object.keys(tensors).sort()).toEqual(['linear_relu_stack.0.bias', 'linear_relu_stack.0.weight', 'linear_relu_stack.2.bias', 'linear_relu_stack.2.weight', 'linear_relu_stack.4.bias', 'linear_relu_stack.4.weight']);
});

test('a diverging run fails with the engine\'s message in an error box; the good weights stay usable', async ({ page, server }) => {
  await openApp(page, server);
  // Batch size 1 and many epochs (an epoch of 3,000 steps is about half a second here): the run is
  // surely still going when it is paused after its first epoch, whichever epoch that lands in.
  await quickstartOnMnist(page, { limitTrain: '3000', epochs: '50', batchSize: '1' });
  await page.getByTestId('btn-train-start').click();
  await expect(page.getByTestId('train-best-epoch')).toBeVisible({ timeout: 30_000 }); // an epoch has finished
  await page.getByTestId('btn-train-pause').click();
  await expectTrainState(page, 'paused');
  // paused, the best epoch (lowest test loss so far) stays put
  const bestEpoch = Number(await page.getByTestId('train-best-epoch').getAttribute('data-epoch'));
  expect(bestEpoch).toBeGreaterThanOrEqual(1);
  await page.getByTestId('train-lr').fill('100');
  await page.getByTestId('btn-train-resume').click();
  await expectTrainState(page, 'failed', 20_000);

  const box = page.getByTestId('run-error');
  await expect(box).toBeVisible();
  await expect(box).toHaveAttribute('data-code', 'NL_NON_FINITE');
  await expect(page.getByTestId('run-error-message')).toHaveText(/^the ((loss|gradients) became|(weights|optimizer state) would become) (NaN|infinite) at batch \d+ of 3000; training stopped before applying that batch$/);
  await expect(page.getByTestId('run-error-hint')).toContainText('Lower the learning rate');
  await expect(page.getByTestId('run-error-hint')).toContainText('clip_grad_norm');
  await expect(page.getByTestId('run-error-weights')).toContainText('last good weights (from before the failing batch)');
  await expect(page.getByTestId('run-error-weights')).toContainText(`epoch ${bestEpoch}'s, the best so far`);
  // what still makes sense stays enabled
  await expect(page.getByTestId('btn-evaluate')).toBeEnabled();
  await expect(page.getByTestId('btn-checkpoint-save')).toBeEnabled();
  await expect(page.getByTestId('btn-train-start')).toBeEnabled();
  await expect(page.getByTestId('btn-train-resume')).toBeDisabled();
  await expect(page.getByTestId('btn-train-stop')).toBeDisabled();
  await dismissToasts(page);
  await screenshot(page, 'run-error');
  await page.getByTestId('btn-theme').click();
  await screenshot(page, 'run-error-dark');
  await page.getByTestId('btn-theme').click();

  // Evaluate runs on the last good weights. At lr 100 they may already be on the edge (overflowing
  // on the test split too, which it says in the run's terms, pointing at the best epoch) or not
  // (an evaluation like any other): which depends on where the pause landed. Nothing else changes.
  await page.getByTestId('btn-evaluate').click();
  const overflowed = page.getByTestId('toast').filter({ hasText: 'non-finite loss on the test split too' });
  await expect(overflowed.or(page.getByTestId('eval-samples'))).toBeVisible();
  await screenshot(page, 'run-error-evaluate');
  await expect(page.getByTestId('train-state')).toHaveText('failed');
  await expect(box).toBeVisible();

  // the last good weights are finite; the best epoch's are saved without the optimizer state
  const last = join(server.workDir, 'last.safetensors');
  await saveCheckpoint(page, last, 'last');
  for (const [k, v] of Object.entries(readSafetensors(last).tensors)) expect(v.every(Number.isFinite), k).toBe(true);
  const best = join(server.workDir, 'best.safetensors');
  await page.getByTestId('btn-checkpoint-save').click();
  await expect(page.getByTestId('dialog-checkpoint').getByTestId('ckpt-best-label')).toHaveText(`best epoch (${bestEpoch}, lowest test loss)`);
  await page.getByTestId('dialog-checkpoint').getByTestId('dialog-cancel').click();
  await saveCheckpoint(page, best, 'best');
  expect(readSafetensors(best).metadata['netloom.best_epoch']).toBe(String(bestEpoch));

  // the best epoch's weights load onto the graph and evaluate (a new, evaluate-only run)
  await page.getByTestId('btn-checkpoint-load').click();
  const loadDialog = page.getByTestId('dialog-checkpoint-load');
  await submitPathDialog(loadDialog, best);
  await expect(page.getByTestId('ckpt-report')).toHaveAttribute('data-ok', 'true');
  await page.getByTestId('btn-checkpoint-evaluate').click();
  await expect(page.getByTestId('per-class-row')).toHaveCount(10);
  const accuracy = Number((await page.getByTestId('eval-accuracy').textContent())!.replace('%', ''));
  expect(accuracy).toBeGreaterThan(50); // an epoch or more of SGD on 3,000 images: far better than chance
  await expect(page.getByTestId('run-error')).toHaveCount(0); // a new run: the old error is gone
});

/** 200 rows of three features and a numeric target (a seeded, mostly linear relation). */
function regressionCsv(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'netloom-e2e-reg-')), 'houses.csv');
  const lines = ['a,b,c,price'];
  for (let i = 0; i < 200; i++) {
    const a = (i % 17) / 17;
    const b = ((i * 7) % 23) / 23;
    const c = ((i * 13) % 11) / 11;
    lines.push(`${a.toFixed(3)},${b.toFixed(3)},${c.toFixed(3)},${(3 * a - 2 * b + c + 0.05 * ((i * 31) % 7)).toFixed(3)}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

test('a regression model gets a regression summary: loss, MAE, RMSE and R², no confusion matrix', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('summary-toggle').click();
  await page.getByTestId('training-toggle').click();
  // a CSV with a numeric target, an MSELoss and one output
  await page.getByTestId('train-dataset').selectOption('@csv');
  const dialog = page.getByTestId('dialog-dataset');
  await dialog.getByTestId('dialog-path').fill(regressionCsv());
  await dialog.getByTestId('ds-csv-read').click();
  await dialog.getByTestId('csv-label-price').check();
  await dialog.getByTestId('ds-csv-task').selectOption('regression');
  await dialog.getByTestId('dialog-confirm').click();
  await expect(dialog).toBeHidden();
  await page.getByTestId('train-loss').selectOption('MSELoss');
  await page.getByTestId('btn-fit').click();
  await page.getByTestId('node-linear_relu_stack.4').click();
  await page.getByTestId('param-out_features').fill('1');

  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 30_000);
  await page.getByTestId('btn-evaluate').click();
  const ev = page.getByTestId('evaluation');
  await expect(ev).toHaveAttribute('data-kind', 'regression');
  await expect(page.getByTestId('confusion-matrix')).toHaveCount(0);
  await expect(page.getByTestId('per-class-row')).toHaveCount(0);
  await expect(page.getByTestId('eval-targets')).toHaveText('price');
  const num = async (id: string) => Number(await page.getByTestId(id).textContent());
  const [loss, mae, rmse, r2] = [await num('eval-loss'), await num('eval-mae'), await num('eval-rmse'), await num('eval-r2')];
  expect(Number.isFinite(r2)).toBe(true);
  expect(rmse).toBeGreaterThanOrEqual(mae); // always, for any errors
  // the test split (40 rows) is one batch: MSELoss's average is RMSE² (to the 4 decimals shown)
  expect(Math.abs(rmse * rmse - loss)).toBeLessThan(2e-3 * Math.max(1, loss));
  await dismissToasts(page);
  await ev.scrollIntoViewIfNeeded();
  await screenshot(page, 'regression-summary');
});
