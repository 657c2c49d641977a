/**
 * Training in the app, in a real browser against a real `netloom serve`: the quickstart MLP on
 * MNIST (6,000 training samples, one epoch, batch size 1 so the run lasts long enough to watch),
 * live loss chart, pause / resume, then evaluation: the confusion matrix covers the test split
 * and a cell's gallery shows its samples; the weights save as a safetensors checkpoint.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, screenshot, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp, pauseTraining, plotted, pollGrowingLoss, setTrainingFields, startTraining, submitPathDialog } from './helpers';

test('train the quickstart MLP on MNIST: live loss chart, pause / resume, evaluate, confusion matrix and gallery', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('summary-toggle').click(); // room for the charts
  await page.getByTestId('training-toggle').click();
  const panel = page.getByTestId('training-panel');
  await expect(panel).toBeVisible();
  // the project's training section is the default
  await expect(page.getByTestId('train-dataset')).toHaveValue('fashion-mnist');

  await setTrainingFields(page, { dataset: 'mnist', limitTrain: '6000', epochs: '1', batchSize: '1' });
  await expect(page.getByTestId('btn-train-pause')).toBeDisabled();
  await expect(page.getByTestId('btn-evaluate')).toBeDisabled();
  expect(await plotted(page)).toBe(0);

  await startTraining(page);
  // the loss chart grows while the run is running: two increasing readings
  const readings = await pollGrowingLoss(page, 100);
  expect(readings[1]).toBeGreaterThan(readings[0]);
  await expect(page.getByTestId('train-progress')).toContainText('epoch 1/1');
  await expect(page.getByTestId('train-progress')).toContainText('samples/s');

  await pauseTraining(page);
  await expect(page.getByTestId('train-progress')).toHaveAttribute('data-state', 'paused');
  await expect(page.getByTestId('btn-train-resume')).toBeEnabled();
  await expect(page.getByTestId('btn-train-start')).toBeDisabled();
  const atPause = await plotted(page);

  await page.getByTestId('btn-train-resume').click();
  await expectTrainState(page, 'finished', 30_000);
  await expect.poll(() => plotted(page)).toBeGreaterThan(atPause);
  await expect(page.getByTestId('chart-accuracy')).toHaveAttribute('data-points', '1'); // one epoch
  await screenshot(page, 'training-charts');

  await page.getByTestId('btn-evaluate').click();
  const matrix = page.getByTestId('confusion-matrix');
  await expect(matrix).toBeVisible();
  const total = Number(await page.getByTestId('eval-samples').textContent());
  expect(total).toBe(10_000); // MNIST's test split
  const cells = await matrix.locator('[data-testid^="cm-cell-"]').evaluateAll((els) => els.map((e) => Number(e.textContent)));
  expect(cells).toHaveLength(100);
  expect(cells.reduce((a, b) => a + b, 0)).toBe(total);
  const accuracy = Number((await page.getByTestId('eval-accuracy').textContent())!.replace('%', ''));
  expect(accuracy).toBeGreaterThan(50);

  // a diagonal cell (correct 7s) has samples: the gallery draws them
  await page.getByTestId('cm-cell-7-7').click();
  const gallery = page.getByTestId('gallery');
  await expect(gallery.getByTestId('gallery-item').first()).toBeVisible();
  const items = await gallery.getByTestId('gallery-item').count();
  expect(items).toBeGreaterThan(0);
  expect(items).toBeLessThanOrEqual(24);
  // the first image has ink on it (drawn from the uint8 pixels)
  const ink = await gallery.locator('canvas').first().evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 128) lit++;
    return { w: c.width, h: c.height, lit };
  });
  expect(ink.w).toBe(28);
  expect(ink.h).toBe(28);
  expect(ink.lit).toBeGreaterThan(20);
  await page.getByTestId('evaluation').scrollIntoViewIfNeeded();
  await screenshot(page, 'confusion-matrix');

  // save the run's last weights
  const file = join(server.workDir, 'mnist-mlp.safetensors');
  await page.getByTestId('btn-checkpoint-save').click();
  const dialog = page.getByTestId('dialog-checkpoint');
  await expect(dialog).toBeVisible();
  await submitPathDialog(dialog, file);
  await expect(page.getByTestId('toast').filter({ hasText: 'Checkpoint saved' })).toBeVisible();
  expect(existsSync(file) && statSync(file).size).toBeGreaterThan(669_706 * 4); // float32 weights + header
});
