/**
 * The inference playground and checkpoint loading, in a real browser against a real `netloom
 * serve`: a short quickstart run on MNIST, a stroke drawn on the pad gives ten class
 * probabilities; its checkpoint, loaded onto LeNet-5, is reported key by key and marks the nodes.
 */
import { join } from 'node:path';
import { expect, screenshot, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp, setTrainingFields, sevenPng, submitPathDialog } from './helpers';

test('playground: draw on the pad, see class probabilities; load the checkpoint onto LeNet-5 and see the per-node report', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart', { discardFirst: true, discardAfter: true });
  await page.getByTestId('summary-toggle').click(); // room for the panel
  await page.getByTestId('training-toggle').click();
  await setTrainingFields(page, { dataset: 'mnist', limitTrain: '2000', epochs: '1', batchSize: '64' });
  await page.getByTestId('train-optimizer').selectOption('adam'); // learns more in 32 batches than the template's SGD

  const pad = page.getByTestId('playground-pad');
  await expect(page.getByTestId('playground')).toHaveClass(/disabled/); // no run yet

  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 30_000);
  await expect(page.getByTestId('playground')).not.toHaveClass(/disabled/);

  // a "1": a vertical stroke down the middle of the pad
  await pad.scrollIntoViewIfNeeded();
  const box = (await pad.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * (0.5 - i * 0.004), box.y + box.height * (0.2 + i * 0.06));
  await page.mouse.up();
  const ink = await pad.evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 128) lit++;
    return lit;
  });
  expect(ink).toBeGreaterThan(10);

  const bars = page.getByTestId('playground-bars').getByTestId('playground-bar');
  await expect(bars).toHaveCount(10);
  const ps = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-p'))));
  expect(ps.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
  await expect(page.getByTestId('playground-bars')).toContainText('%');
  await page.getByTestId('playground').scrollIntoViewIfNeeded();
  await screenshot(page, 'playground');

  // Clear empties the pad and the answer
  await page.getByTestId('playground-clear').click();
  await expect(page.getByTestId('playground-bars')).toHaveCount(0);

  // an image file: a black "7" on white paper, 100x100 -> inverted, greyed, 28x28
  const png = await sevenPng(page);
  await page.getByTestId('playground-file').setInputFiles({ name: 'seven.png', mimeType: 'image/png', buffer: png });
  await expect(bars).toHaveCount(10);
  const corner = await pad.evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, 1, 1).data));
  expect(corner.slice(0, 3)).toEqual([0, 0, 0]); // white paper became the black background

  // save the run's weights
  const file = join(server.workDir, 'quickstart.safetensors');
  await page.getByTestId('btn-checkpoint-save').click();
  const save = page.getByTestId('dialog-checkpoint');
  await submitPathDialog(save, file);

  // the quickstart's own checkpoint fits its graph: "Start from these weights" is offered
  await page.getByTestId('btn-checkpoint-load').click();
  let load = page.getByTestId('dialog-checkpoint-load');
  await submitPathDialog(load, file);
  await expect(page.getByTestId('ckpt-report')).toHaveAttribute('data-ok', 'true');
  await expect(page.getByTestId('btn-checkpoint-start')).toBeEnabled();
  await expect(page.locator('[data-testid^="ckpt-issue-"]')).toHaveCount(0);

  // LeNet-5: none of its keys are in the file, and the MLP's keys are unexpected
  await newFromTemplate(page, 'lenet5', { discardFirst: true, discardAfter: true });
  await expect(page.getByTestId('ckpt-report')).toHaveCount(0);
  await page.getByTestId('btn-checkpoint-load').click();
  load = page.getByTestId('dialog-checkpoint-load');
  await submitPathDialog(load, file, 20_000);
  const report = page.getByTestId('ckpt-report');
  await expect(report).toHaveAttribute('data-ok', 'false');
  await expect(page.getByTestId('btn-checkpoint-start')).toHaveCount(0);
  await expect(report).toContainText('missing');
  await expect(report).toContainText('conv1.weight');
  await expect(report).toContainText('unexpected');
  await expect(report).toContainText('linear_relu_stack.0.weight');
  await expect(page.getByTestId('ckpt-issue-conv1')).toBeVisible();
  await expect(page.getByTestId('ckpt-issue-conv1')).toHaveText('2'); // weight and bias
  expect(await page.locator('[data-testid^="ckpt-issue-"]').count()).toBeGreaterThanOrEqual(5);
  await screenshot(page, 'checkpoint-report');

  await page.getByTestId('btn-checkpoint-dismiss').click();
  await expect(page.locator('[data-testid^="ckpt-issue-"]')).toHaveCount(0);
});
