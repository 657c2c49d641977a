/**
 * Choosing one's own data in the Training panel: an image folder (one sub-folder per class, PNGs made
 * here) resized to a chosen size, and a CSV file whose label and feature columns are picked in a
 * preview table. Choosing sets the project's training.dataset and the Input node's shape as one undo
 * step; each then trains an epoch and is evaluated on its held-out validation split.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import pngjs from 'pngjs';
import { expect, screenshot, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp } from './helpers';

/** A 20x20 grey PNG, bright in its top or bottom half, with some noise (a seeded LCG). */
function png(brightTop: boolean, seed: number): Buffer {
  const S = 20;
  const img = new pngjs.PNG({ width: S, height: S });
  let r = (seed * 2654435761) >>> 0;
  const noise = () => (r = (r * 1664525 + 1013904223) >>> 0) % 60;
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const v = (y < S / 2) === brightTop ? 195 + noise() : noise();
      const o = (y * S + x) * 4;
      img.data[o] = img.data[o + 1] = img.data[o + 2] = v;
      img.data[o + 3] = 255;
    }
  return pngjs.PNG.sync.write(img);
}

function imageFolder(): string {
  const root = join(mkdtempSync(join(tmpdir(), 'netloom-e2e-img-')), 'shapes');
  for (const [cls, top] of [['bottom', false], ['top', true]] as const) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < 40; i++) writeFileSync(join(root, cls, `img${String(i).padStart(2, '0')}.png`), png(top, i + (top ? 100 : 0)));
  }
  return root;
}

/** 60 rows: an id (text), four measurements, and a species label (text). */
function csvFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'netloom-e2e-csv-')), 'flowers.csv');
  const species = ['setosa', 'versicolor', 'virginica'];
  const lines = ['id,sepal_length,sepal_width,petal_length,petal_width,species'];
  for (let i = 0; i < 60; i++) {
    const k = i % 3;
    const j = (i * 7919) % 13;
    lines.push(`f${i},${(4.8 + k * 0.9 + j * 0.05).toFixed(2)},${(3.2 - k * 0.2 + j * 0.03).toFixed(2)},${(1.4 + k * 2 + j * 0.04).toFixed(2)},${(0.2 + k * 0.8 + j * 0.02).toFixed(2)},${species[k]}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  const html = page.locator('html');
  if ((await html.getAttribute('data-theme')) !== theme) await page.getByTestId('btn-theme').click();
  await expect(html).toHaveAttribute('data-theme', theme);
}

async function openPanel(page: Page): Promise<void> {
  await page.getByTestId('summary-toggle').click(); // room for the panel
  await page.getByTestId('training-toggle').click();
}

test('image folder: choose it, the Input takes its shape (one undo step), train an epoch, see the test accuracy', async ({ page, server }) => {
  const folder = imageFolder();
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await openPanel(page);
  await expect(page.getByTestId('shape-input')).toHaveText('64\u00d71\u00d728\u00d728');

  await page.getByTestId('train-dataset').selectOption('@image-folder');
  const dialog = page.getByTestId('dialog-dataset');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('dialog-path').fill(folder);
  await expect(dialog.getByTestId('ds-img-summary')).toContainText('2 class folders: bottom, top');
  await dialog.getByTestId('ds-img-h').fill('16');
  await dialog.getByTestId('ds-img-w').fill('16');
  await dialog.getByTestId('ds-val-fraction').fill('0.25');
  await expect(dialog.getByTestId('ds-img-summary')).toContainText('input 1\u00d716\u00d716');
  await dialog.getByTestId('dialog-confirm').click();
  await expect(dialog).toBeHidden();

  await expect(page.getByTestId('shape-input')).toHaveText('64\u00d71\u00d716\u00d716');
  await expect(page.getByTestId('train-dataset')).toHaveValue('custom');
  await expect(page.getByTestId('train-dataset').locator('option:checked')).toHaveText('image folder shapes');
  // one undo step takes back both, one redo brings both
  await page.getByTestId('btn-undo').click();
  await expect(page.getByTestId('shape-input')).toHaveText('64\u00d71\u00d728\u00d728');
  await expect(page.getByTestId('train-dataset')).toHaveValue('fashion-mnist');
  await page.getByTestId('btn-redo').click();
  await expect(page.getByTestId('shape-input')).toHaveText('64\u00d71\u00d716\u00d716');

  // train one epoch on it
  await page.getByTestId('train-epochs').fill('1');
  await page.getByTestId('train-batch-size').fill('4');
  await page.getByTestId('train-lr').fill('0.05');
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 60_000);
  await page.getByTestId('btn-evaluate').click();
  await expect(page.getByTestId('eval-samples')).toHaveText('20'); // 25% of 80 images held out
  await expect(page.getByTestId('eval-accuracy')).toHaveText(/^\d+\.\d\d%$/);
});

test('CSV file: preview, pick the label and the features, the Input takes [features]', async ({ page, server }) => {
  const file = csvFile();
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await openPanel(page);
  await setTheme(page, 'light');

  await page.getByTestId('train-dataset').selectOption('@csv');
  const dialog = page.getByTestId('dialog-dataset');
  await dialog.getByTestId('dialog-path').fill(file);
  await dialog.getByTestId('ds-csv-read').click();
  const table = dialog.getByTestId('csv-preview');
  await expect(table).toBeVisible();
  await expect(dialog.getByTestId('ds-csv-info')).toContainText('6 columns');
  await expect(table.locator('tbody tr')).toHaveCount(8);
  // the last column is the label by default, and it is text: classification
  await expect(dialog.getByTestId('csv-label-species')).toBeChecked();
  await expect(dialog.getByTestId('ds-csv-task')).toHaveValue('classification');
  // a text column cannot be a feature, and says why
  const id = dialog.getByTestId('csv-feature-id');
  await expect(id).toBeDisabled();
  await expect(id.locator('xpath=..')).toHaveAttribute('title', /not numeric: "f0" on line 2 is not a number/);
  for (const c of ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']) await expect(dialog.getByTestId(`csv-feature-${c}`)).toBeChecked();
  // leave one out: three features
  await dialog.getByTestId('csv-feature-sepal_width').uncheck();
  await expect(dialog.getByTestId('ds-csv-summary')).toHaveText('input 3 → species');
  await dialog.getByTestId('ds-val-fraction').fill('0.25');

  await screenshot(page, 'dataset-chooser-csv');

  await dialog.getByTestId('dialog-confirm').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('shape-input')).toHaveText('64\u00d73');
  await expect(page.getByTestId('train-dataset').locator('option:checked')).toHaveText('CSV flowers.csv');

  // "edit" reopens the chooser with the choice made (here in the dark theme)
  await setTheme(page, 'dark');
  await page.getByTestId('train-dataset-edit').click();
  await expect(dialog.getByTestId('csv-preview')).toBeVisible();
  await expect(dialog.getByTestId('csv-feature-sepal_width')).not.toBeChecked();
  await expect(dialog.getByTestId('csv-feature-petal_width')).toBeChecked();
  await expect(dialog.getByTestId('ds-val-fraction')).toHaveValue('0.25');
  await screenshot(page, 'dataset-chooser-csv-dark');
  await dialog.getByTestId('dialog-cancel').click();
  await expect(dialog).toBeHidden();
  await setTheme(page, 'light');

  // and it trains: one epoch, evaluated on the held-out quarter
  await page.getByTestId('train-epochs').fill('1');
  await page.getByTestId('train-batch-size').fill('5');
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 60_000);
  await page.getByTestId('btn-evaluate').click();
  await expect(page.getByTestId('eval-samples')).toHaveText('15'); // 25% of 60 rows
  await expect(page.getByTestId('eval-accuracy')).toHaveText(/^\d+\.\d\d%$/);
});
