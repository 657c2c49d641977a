/**
 * Runs in the app: pause, edit the lr, resume (the change is marked on the loss chart); finished
 * runs are kept in the project's `runs` (saved with the file) and listed in the panel, where their
 * loss curves overlay the chart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, screenshot, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp, pauseTraining, plotted, setTrainingFields, startTraining, submitPathDialog } from './helpers';

test('pause, change the lr, resume: the change is marked; runs are kept in the project and overlay the loss chart', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('summary-toggle').click(); // room for the charts
  await page.getByTestId('training-toggle').click();
  await setTrainingFields(page, { dataset: 'mnist', limitTrain: '2000', epochs: '1', batchSize: '1' });
  await expect(page.getByTestId('runs-list')).toHaveCount(0);

  await startTraining(page);
  await expect(page.getByTestId('train-lr')).toBeDisabled();
  await expect.poll(() => plotted(page), { intervals: [50] }).toBeGreaterThan(0);
  await pauseTraining(page);

  // while paused the lr is editable (the rest is not)
  const lr = page.getByTestId('train-lr');
  await expect(lr).toBeEnabled();
  await expect(page.getByTestId('train-epochs')).toBeDisabled();
  const before = await lr.inputValue();
  await lr.fill('0.01');
  await page.getByTestId('btn-train-resume').click();
  const change = page.getByTestId('hyper-change');
  await expect(change).toHaveCount(1);
  await expect(change).toHaveText(new RegExp(`lr ${before.replace('.', '\\.')} → 0\\.01 at step \\d+`));
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-changes', '1');

  await expectTrainState(page, 'finished', 60_000);
  const items = page.getByTestId('run-item');
  await expect(items).toHaveCount(1);
  await expect(items).toContainText('lr 0.001→0.01');
  await expect.poll(async () => Number(await page.getByTestId('chart-throughput').getAttribute('data-points'))).toBeGreaterThan(0);
  await screenshot(page, 'hyper-change');
  await expect(page.getByTestId('dirty-indicator')).toBeVisible();

  // saved with the project: runs[0] with its settings, metrics and curve
  const file = join(server.workDir, 'runs.netloom.json');
  await page.getByTestId('btn-save-as').click();
  const dialog = page.getByTestId('dialog-save');
  await expect(dialog.getByTestId('dialog-listing')).toBeVisible();
  await submitPathDialog(dialog, file);
  await expect
    .poll(() => {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')).runs ?? []).length;
      } catch {
        return -1;
      }
    })
    .toBe(1);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  const rec = saved.runs[0];
  expect(rec.settings).toMatchObject({ dataset: 'mnist', epochs: 1, batchSize: 1, limitTrain: 2000 });
  expect(rec.epochs).toHaveLength(1);
  expect(rec.epochs[0].testLoss).toBeGreaterThan(0);
  expect(rec.final.testAccuracy).toBeGreaterThan(0.3);
  expect(rec.loss.length).toBeGreaterThan(2); // progress events are throttled (50 ms): a 2,000-sample run gives few
  expect(rec.loss.length).toBeLessThanOrEqual(500);
  expect(rec.changes).toHaveLength(1);
  expect(rec.changes[0].changes.lr.to).toBe(0.01);
  expect(Date.parse(rec.startedAt)).toBeGreaterThan(0);

  // a second run, then both curves over the chart
  await page.getByTestId('btn-train-start').click();
  await expect(page.getByTestId('hyper-change')).toHaveCount(0); // a new run starts unmarked
  await expectTrainState(page, 'finished', 60_000);
  await expect(items).toHaveCount(2);
  const boxes = page.getByTestId('run-overlay');
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-overlays', '2');
  await page.getByTestId('runs-list').scrollIntoViewIfNeeded();
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))); // a frame drawn with both overlays
  await screenshot(page, 'runs-overlay');
  await boxes.nth(0).uncheck();
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-overlays', '1');
});
