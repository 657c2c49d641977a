/**
 * The "Done when", as one browser flow against a real `netloom serve`: choose the
 * quickstart template and MNIST, train one epoch, see the loss chart gain points while training
 * runs, pause and resume, stop mid-epoch, open the confusion matrix and a cell's gallery, save a
 * checkpoint, reload the page, load the checkpoint, and get the same test accuracy (an
 * evaluate-only run: the weights loaded, nothing trained).
 *
 * No fixed sleeps: after a pause or a stop the test asks the engine (its own API connection) how
 * many progress points the run sent, and waits for the chart to show that many; "nothing moves
 * while paused" is the engine's position and the chart unchanged after that. The epoch is all
 * 60,000 images at batch size 1, so that the pause and the stop (each lands within a second) fall
 * mid-epoch on any machine: that is over a minute of training here (about 850 batches a second).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, screenshot, test } from './fixture';
import { connectApi, type ApiClient } from '../integration/ws-client';
import { expectTrainState, newFromTemplate, openApp, pauseTraining, plotted, pollGrowingLoss, setTrainingFields, startTraining, submitPathDialog } from './helpers';

const BATCHES = 60_000;

/** The quickstart MLP on MNIST, all 60,000 training images, one epoch, batch size 1 (a run long enough to watch). */
async function quickstartOnMnist(page: Page): Promise<void> {
  await newFromTemplate(page, 'quickstart', { discardAfter: true }); // discarding the current graph if asked
  // the panels are as they were left (remembered across a reload): the summary folded for room, Training open
  const summary = page.getByTestId('summary-toggle');
  if ((await summary.getAttribute('aria-expanded')) === 'true') await summary.click();
  const training = page.getByTestId('training-toggle');
  if ((await training.getAttribute('aria-expanded')) !== 'true') await training.click();
  await expect(page.getByTestId('training-panel')).toBeVisible();
  await setTrainingFields(page, { dataset: 'mnist', limitTrain: String(BATCHES), epochs: '1', batchSize: '1' });
}

/** The engine's view of the page's one run: its summary, and how many progress points it has sent. */
async function engineRun(api: ApiClient): Promise<{ state: string; epoch: number; batch: number; batches: number; points: number }> {
  const runs = (await api.call('listRuns')).result as { runId: string }[];
  expect(runs).toHaveLength(1);
  const run = (await api.call('getRun', { runId: runs[0].runId })).result;
  return { state: run.state, epoch: run.epoch, batch: run.batch, batches: run.batches, points: run.progress.length };
}

/** Waits until the loss chart shows every progress point the run has sent (the chart redraws at most 5 times a second). */
async function chartCaughtUp(page: Page, api: ApiClient): Promise<Awaited<ReturnType<typeof engineRun>>> {
  const run = await engineRun(api);
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-points', String(run.points));
  return run;
}

/** "batch 1234/6000" of the progress line */
const batchText = async (page: Page) => {
  const span = page.getByTestId('train-progress').locator('span', { hasText: /^batch \d+\/\d+$/ });
  const m = (await span.textContent())!.match(/^batch (\d+)\/(\d+)$/);
  return m ? { batch: Number(m[1]), batches: Number(m[2]) } : null;
};
const matrixCounts = (page: Page) =>
  page.getByTestId('confusion-matrix').locator('[data-testid^="cm-cell-"]').evaluateAll((els) => els.map((e) => Number(e.textContent)));

test('done when: quickstart on MNIST, live chart, pause / resume, stop mid-epoch, confusion matrix and gallery, checkpoint, reload, load: same accuracy', async ({ page, server }) => {
  // A recovery prompt after the reload (autosave of the unsaved template) is declined.
  await page.addLocatorHandler(page.getByTestId('dialog-recover'), async (dialog) => {
    await dialog.getByTestId('dialog-discard').click();
  });
  await openApp(page, server);
  const api = await connectApi({ port: Number(new URL(server.origin).port), token: server.token });
  await quickstartOnMnist(page);
  expect(await plotted(page)).toBe(0);

  // train: the loss chart gains points while the run runs
  await startTraining(page);
  const readings = await pollGrowingLoss(page, 50);
  expect(readings[1]).toBeGreaterThan(readings[0]);

  // pause and resume
  await pauseTraining(page);
  const pausedRun = await chartCaughtUp(page, api); // the last points have landed
  expect(pausedRun).toMatchObject({ state: 'paused', epoch: 1, batches: BATCHES });
  expect(pausedRun.batch).toBeLessThan(BATCHES);
  const atPause = await plotted(page);
  const paused = (await batchText(page))!;
  expect(paused.batches).toBe(BATCHES);
  expect(paused.batch).toBeLessThanOrEqual(pausedRun.batch); // the last progress point, at or before the position
  // nothing moves while paused: the engine's position, its points and the chart are where they were
  expect(await engineRun(api)).toEqual(pausedRun);
  expect(await plotted(page)).toBe(atPause);
  await page.getByTestId('btn-train-resume').click();
  await expectTrainState(page, 'running');
  await expect.poll(() => plotted(page), { intervals: [20] }).toBeGreaterThan(atPause);
  // train on to batch 1500 (a state, not a time: enough plain SGD to beat chance), then stop, far before the epoch's end
  await expect.poll(async () => (await batchText(page))?.batch ?? 0, { intervals: [20], timeout: 20_000 }).toBeGreaterThanOrEqual(1500);

  // stop mid-epoch
  await page.getByTestId('btn-train-stop').click();
  await expectTrainState(page, 'stopped');
  const stoppedRun = await chartCaughtUp(page, api);
  expect(stoppedRun).toMatchObject({ state: 'stopped', epoch: 1 });
  expect(stoppedRun.batch).toBeLessThan(BATCHES); // mid-epoch: the epoch never finished
  const stopped = (await batchText(page))!;
  expect(stopped.batch).toBeGreaterThan(paused.batch);
  expect(stopped.batch).toBeLessThanOrEqual(stoppedRun.batch);
  await expect(page.getByTestId('chart-accuracy')).toHaveAttribute('data-points', '0');
  api.close();

  // the stopped run evaluates: confusion matrix over the test split, a cell's gallery
  await page.getByTestId('btn-evaluate').click();
  // a pass over the 10,000 test images: seconds on a loaded machine, so wait for the state, not the default 5 s
  await expect(page.getByTestId('confusion-matrix')).toBeVisible({ timeout: 60_000 });
  expect(Number(await page.getByTestId('eval-samples').textContent())).toBe(10_000);
  const accuracyText = (await page.getByTestId('eval-accuracy').textContent())!;
  expect(Number(accuracyText.replace('%', ''))).toBeGreaterThan(10); // part of an epoch of plain SGD: better than chance
  const headText = await page.locator('.eval-head').textContent(); // accuracy, avg loss, samples
  const counts = await matrixCounts(page);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
  await page.getByTestId('cm-cell-7-7').click();
  await expect(page.getByTestId('gallery').getByTestId('gallery-item').first()).toBeVisible();

  // save a checkpoint
  const file = join(server.workDir, 'done-when.safetensors');
  await page.getByTestId('btn-checkpoint-save').click();
  const saveDialog = page.getByTestId('dialog-checkpoint');
  await expect(saveDialog).toBeVisible();
  await submitPathDialog(saveDialog, file);
  await expect(page.getByTestId('toast').filter({ hasText: 'Checkpoint saved' })).toBeVisible();
  expect(existsSync(file)).toBe(true);

  // reload the page: a fresh app, no run
  await page.reload();
  await expect(page.getByTestId('palette-item-Input')).toBeVisible();
  await expect(page.getByTestId('btn-open')).toBeEnabled();
  await quickstartOnMnist(page);
  await expect(page.getByTestId('evaluation')).toHaveCount(0);

  // load the checkpoint: it fits the graph; evaluate its weights
  await page.getByTestId('btn-checkpoint-load').click();
  const loadDialog = page.getByTestId('dialog-checkpoint-load');
  await expect(loadDialog).toBeVisible();
  await submitPathDialog(loadDialog, file);
  await expect(page.getByTestId('ckpt-report')).toHaveAttribute('data-ok', 'true');
  await page.getByTestId('btn-checkpoint-evaluate').click();
  // the same 10,000-image pass as above: the same allowance
  await expect(page.getByTestId('eval-accuracy')).toHaveText(accuracyText, { timeout: 60_000 });
  await expect(page.locator('.eval-head')).toHaveText(headText!); // the same loss too
  expect(await matrixCounts(page)).toEqual(counts);
  await expect(page.getByTestId('train-state')).toHaveText('stopped'); // nothing trained
  expect(await plotted(page)).toBe(0);
  await page.getByTestId('evaluation').scrollIntoViewIfNeeded();
  await screenshot(page, 'done-when-evaluated');
});
