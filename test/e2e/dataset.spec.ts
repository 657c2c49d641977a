/**
 * The dataset view, in a real browser against a real `netloom serve`: MNIST's first training samples of
 * each class drawn on canvases, its class counts, and "Use this dataset", which sets the project's
 * training dataset and the Input node's shape as one undo step.
 */
import type { Page } from '@playwright/test';
import { expect, screenshot, test } from './fixture';
import { newFromTemplate, openApp } from './helpers';

/** Types a value into the Input node's shape field in the inspector (retried: the template's layout may move the node). */
async function setInputShape(page: Page, value: string): Promise<void> {
  await expect(async () => {
    await page.getByTestId('node-input').locator('.layer-name').click();
    await expect(page.getByTestId('node-name')).toHaveValue('input', { timeout: 1000 });
  }).toPass();
  const field = page.getByTestId('param-shape');
  await field.fill(value);
  await expect(field).toHaveValue(value);
  await expect(page.getByTestId('param-shape-error')).toHaveCount(0);
}

test('dataset view: MNIST samples and counts; "Use this dataset" sets the dataset and the input shape, one undo step', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart'); // trains on FashionMNIST, input 1×28×28
  await page.getByTestId('summary-toggle').click(); // room for the panels
  // an Input shape that MNIST does not have, so that using MNIST visibly changes it
  await setInputShape(page, '1, 32, 32');
  await expect(page.getByTestId('shape-input')).toHaveText('64\u00d71\u00d732\u00d732');

  await page.getByTestId('btn-dataset').click();
  const panel = page.getByTestId('dataset-panel');
  await expect(panel).toBeVisible();
  await panel.getByTestId('dataset-select').selectOption('mnist');
  await expect(panel.getByTestId('dataset-sample')).toHaveCount(80);
  await expect(panel.getByTestId('dataset-shape')).toHaveText('1\u00d728\u00d728');
  await expect(panel.getByTestId('dataset-train-total')).toHaveText('60,000');
  await expect(panel.getByTestId('dataset-test-total')).toHaveText('10,000');
  const rows = panel.getByTestId('dataset-count');
  await expect(rows).toHaveCount(10);
  let train = 0;
  let test = 0;
  for (const row of await rows.all()) {
    train += Number(await row.getAttribute('data-train'));
    test += Number(await row.getAttribute('data-test'));
  }
  expect([train, test]).toEqual([60000, 10000]);
  // the canvases hold pictures: a digit has dark background and bright strokes
  const lit = await panel.getByTestId('dataset-sample').first().evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++;
    return { w: c.width, h: c.height, n };
  });
  expect(lit.w).toBe(28);
  expect(lit.h).toBe(28);
  expect(lit.n).toBeGreaterThan(20);
  expect(lit.n).toBeLessThan(500);
  await screenshot(page, 'dataset-view');

  await panel.getByTestId('btn-use-dataset').click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Training on MNIST' })).toBeVisible();
  await expect(page.getByTestId('shape-input')).toHaveText('64\u00d71\u00d728\u00d728');
  await page.getByTestId('training-toggle').click();
  await expect(page.getByTestId('train-dataset')).toHaveValue('mnist');

  // one undo step restores both
  await page.getByTestId('btn-undo').click();
  await expect(page.getByTestId('shape-input')).toHaveText('64\u00d71\u00d732\u00d732');
  await expect(page.getByTestId('train-dataset')).toHaveValue('fashion-mnist');
  // and redo brings both back
  await page.getByTestId('btn-redo').click();
  await expect(page.getByTestId('shape-input')).toHaveText('64\u00d71\u00d728\u00d728');
  await expect(page.getByTestId('train-dataset')).toHaveValue('mnist');
});
