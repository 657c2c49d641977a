/**
 * The user's own data in a real browser against a real `netloom serve`:
 * - the Iris template (a CSV file) in the dataset view (its rows, the standardisation statistics, three classes
 *   and their train / validation counts), then trained, and its playground: a random test row gives class
 *   probabilities, typing another value changes them;
 * - an RGB image folder (made here) of a size that is not 28x28: the dataset view's samples at the resized shape,
 *   and a playground with no pad that classifies a dropped picture resized to the model's input.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import pngjs from 'pngjs';
import { expect, screenshot, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp } from './helpers';

/** A w x h RGB PNG of one colour with some noise (a seeded LCG). */
function colourPng(w: number, h: number, rgb: [number, number, number], seed: number): Buffer {
  const img = new pngjs.PNG({ width: w, height: h });
  let r = (seed * 2654435761) >>> 0;
  const noise = () => ((r = (r * 1664525 + 1013904223) >>> 0) % 50) - 25;
  for (let i = 0; i < w * h; i++) {
    for (let k = 0; k < 3; k++) img.data[i * 4 + k] = Math.max(0, Math.min(255, rgb[k] + noise()));
    img.data[i * 4 + 3] = 255;
  }
  return pngjs.PNG.sync.write(img);
}

/** <root>/blue and <root>/red, 30 pictures each, 24 wide and 16 high. */
function colourFolder(): string {
  const root = join(mkdtempSync(join(tmpdir(), 'netloom-e2e-rgb-')), 'colours');
  for (const [cls, rgb] of [['blue', [40, 60, 210]], ['red', [210, 50, 40]]] as const) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(join(root, cls, `c${String(i).padStart(2, '0')}.png`), colourPng(24, 16, [...rgb], i + (cls === 'red' ? 100 : 0)));
  }
  return root;
}

/** Dismisses the toasts (they sit over the panels in a screenshot). */
async function dismissToasts(page: Page): Promise<void> {
  for (const close of await page.getByTestId('toast').getByLabel('dismiss').all()) await close.click();
  await expect(page.getByTestId('toast')).toHaveCount(0);
}

/** The probabilities the playground's bars show. */
const probabilities = (bars: Locator) => bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-p'))));

test('own data: the Iris CSV in the dataset view; trained, its playground predicts a test row and follows edits', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'iris-mlp');
  await page.getByTestId('summary-toggle').click(); // room for the panels

  // the dataset view opens on the project's own dataset: the CSV as a table
  await page.getByTestId('btn-dataset').click();
  const panel = page.getByTestId('dataset-panel');
  await expect(panel.getByTestId('dataset-select')).toHaveValue('project');
  await expect(panel.getByTestId('dataset-table')).toBeVisible();
  await expect(panel.getByTestId('dataset-shape')).toHaveText('4');
  await expect(panel.getByTestId('dataset-describe')).toContainText('4 features · 3 classes');
  await expect(panel.getByTestId('dataset-row')).toHaveCount(12);
  // the file's first row, as the file has it (iris.csv starts with a setosa of 5.1, 3.5, 1.4, 0.2)
  await expect(panel.getByTestId('dataset-row').first()).toContainText('5.1');
  await expect(panel.getByTestId('dataset-row').first()).toContainText('setosa');
  await expect(panel.getByTestId('dataset-stat')).toHaveCount(4);
  const rows = panel.getByTestId('dataset-count');
  await expect(rows).toHaveCount(3);
  const counts = await rows.evaluateAll((els) => els.map((e) => [e.getAttribute('data-class'), Number(e.getAttribute('data-train')), Number(e.getAttribute('data-test'))]));
  // 150 flowers, 50 per species; validation_fraction 0.2 holds out 10 of each (stratified)
  expect(counts).toEqual([['setosa', 40, 10], ['versicolor', 40, 10], ['virginica', 40, 10]]);
  await expect(panel.getByTestId('dataset-train-total')).toHaveText('120');
  await expect(panel.getByTestId('dataset-test-total')).toHaveText('30');
  await expect(panel.getByTestId('dataset-error')).toHaveCount(0);
  await dismissToasts(page);
  await screenshot(page, 'dataset-csv');

  // train it: a few epochs of 8 batches
  await page.getByTestId('btn-dataset').click(); // fold the view: room for the training panel
  await page.getByTestId('training-toggle').click();
  await page.getByTestId('train-epochs').fill('15');
  const playground = page.getByTestId('playground');
  await expect(playground).toHaveClass(/disabled/);
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 30_000);
  await expect(playground).not.toHaveClass(/disabled/);
  await expect(playground).toHaveAttribute('data-mode', 'tabular');
  await expect(playground.getByTestId('playground-pad')).toHaveCount(0); // no pad for a CSV model

  // a random test row: its values in the fields, its true class, three probabilities
  await playground.getByTestId('playground-random-row').click();
  const truth = playground.getByTestId('playground-true');
  await expect(truth).toHaveAttribute('data-edited', 'false');
  await expect(truth).toContainText(/setosa|versicolor|virginica/);
  const bars = playground.getByTestId('playground-bars').getByTestId('playground-bar');
  await expect(bars).toHaveCount(3);
  await expect(bars.nth(0)).toHaveAttribute('data-class', 'setosa');
  const petal = playground.getByTestId('playground-feature-petal_length');
  const row = Number(await truth.getAttribute('data-row'));
  const before = await probabilities(bars);
  expect(before.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
  await playground.scrollIntoViewIfNeeded();

  // typing another petal length (a short one is setosa's, a long one virginica's) changes the answer
  const length = Number(await petal.inputValue());
  await petal.fill(length < 3 ? '6.5' : '1.2');
  await expect(truth).toHaveAttribute('data-edited', 'true');
  await expect.poll(async () => JSON.stringify(await probabilities(bars))).not.toBe(JSON.stringify(before));
  const after = await probabilities(bars);
  expect(after.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
  expect(Number(await truth.getAttribute('data-row'))).toBe(row);
  await dismissToasts(page);
  await screenshot(page, 'playground-csv');

  // a value that is not a number: marked, and no request made with it
  await petal.fill('abc');
  await expect(petal).toHaveClass(/invalid/);
  await expect(playground.getByTestId('playground-feature-error')).toContainText('petal_length');
  await expect(playground.getByTestId('playground-error')).toHaveCount(0);
});

test('own data: an RGB image folder resized to 10x14: its samples in the dataset view; the playground classifies a dropped picture, no pad', async ({ page, server }) => {
  const folder = colourFolder();
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart'); // Flatten -> Linear: any input shape
  await page.getByTestId('summary-toggle').click();
  await page.getByTestId('training-toggle').click();
  await page.getByTestId('train-dataset').selectOption('@image-folder');
  const dialog = page.getByTestId('dialog-dataset');
  await dialog.getByTestId('dialog-path').fill(folder);
  await expect(dialog.getByTestId('ds-img-summary')).toContainText('2 class folders: blue, red');
  await dialog.getByTestId('ds-img-h').fill('10');
  await dialog.getByTestId('ds-img-w').fill('14');
  await dialog.getByTestId('ds-img-mode').selectOption('rgb');
  await dialog.getByTestId('ds-val-fraction').fill('0.2');
  await dialog.getByTestId('dialog-confirm').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('shape-input')).toHaveText('64\u00d73\u00d710\u00d714');

  // the dataset view shows the project's image folder as training reads it: 3x10x14, 24 / 6 per class
  await page.getByTestId('training-toggle').click();
  await page.getByTestId('btn-dataset').click();
  const panel = page.getByTestId('dataset-panel');
  await expect(panel.getByTestId('dataset-select')).toHaveValue('project');
  await expect(panel.getByTestId('dataset-shape')).toHaveText('3\u00d710\u00d714');
  await expect(panel.getByTestId('dataset-sample')).toHaveCount(16);
  const counts = await panel.getByTestId('dataset-count').evaluateAll((els) => els.map((e) => [e.getAttribute('data-class'), Number(e.getAttribute('data-train')), Number(e.getAttribute('data-test'))]));
  expect(counts).toEqual([['blue', 24, 6], ['red', 24, 6]]);
  const first = await panel.getByTestId('dataset-sample').first().evaluate((c: HTMLCanvasElement) => ({ w: c.width, h: c.height, px: Array.from(c.getContext('2d')!.getImageData(5, 5, 1, 1).data) }));
  expect([first.w, first.h]).toEqual([14, 10]);
  expect(first.px[2]).toBeGreaterThan(first.px[0] + 80); // a blue picture, in colour
  await dismissToasts(page);
  await screenshot(page, 'dataset-rgb');

  // train it, then drop a red picture (another size: resized to 10x14) on the playground
  await page.getByTestId('btn-dataset').click();
  await page.getByTestId('training-toggle').click();
  await page.getByTestId('train-epochs').fill('3');
  await page.getByTestId('train-batch-size').fill('8');
  await page.getByTestId('train-optimizer').selectOption('adam');
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 60_000);
  const playground = page.getByTestId('playground');
  await expect(playground).toHaveAttribute('data-mode', 'image');
  await expect(playground.getByTestId('playground-pad')).toHaveCount(0);
  const area = playground.getByTestId('playground-image');
  await expect(area).toHaveAttribute('data-shape', '3x10x14');
  await playground.getByTestId('playground-file').setInputFiles({ name: 'red.png', mimeType: 'image/png', buffer: colourPng(40, 40, [220, 40, 50], 7) });
  const bars = playground.getByTestId('playground-bars').getByTestId('playground-bar');
  // the quickstart's last Linear scores 10 outputs: the folder's two classes, then outputs 2..9 that no label uses
  await expect(bars).toHaveCount(10);
  const ps = await probabilities(bars);
  expect(ps.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
  await expect(bars.nth(0)).toHaveAttribute('data-class', 'blue');
  await expect(bars.nth(1)).toHaveAttribute('data-class', 'red');
  expect(ps.indexOf(Math.max(...ps))).toBe(1);
  expect(ps[1]).toBeGreaterThan(0.5);
  // the area shows the picture as the model got it: 14x10, red
  const shown = await area.evaluate((c: HTMLCanvasElement) => ({ w: c.width, h: c.height, px: Array.from(c.getContext('2d')!.getImageData(7, 5, 1, 1).data) }));
  expect([shown.w, shown.h]).toEqual([14, 10]);
  expect(shown.px[0]).toBeGreaterThan(shown.px[2] + 80);
  await playground.scrollIntoViewIfNeeded();
  await dismissToasts(page);
  await screenshot(page, 'playground-rgb');
});

test('own data: a saved regression project with a relative CSV path: the target histogram; the playground predicts the value beside the true one', async ({ page, server }) => {
  // y = 3 a - 2 b + 1 (+ small noise), 200 rows, the CSV beside the project file and named relative to it
  const dir = join(server.workDir, 'houses');
  mkdirSync(join(dir, 'data'), { recursive: true });
  let s = 42;
  const u = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const lines = ['a,b,price'];
  for (let i = 0; i < 200; i++) {
    const a = u() * 2;
    const b = u() * 3;
    lines.push(`${a.toFixed(3)},${b.toFixed(3)},${(3 * a - 2 * b + 1 + (u() - 0.5) * 0.05).toFixed(3)}`);
  }
  writeFileSync(join(dir, 'data', 'prices.csv'), `${lines.join('\n')}\n`);
  const node = (id: string, type: string, params: object, y: number) => ({ id, type, name: id, params, position: { x: 0, y } });
  const file = join(dir, 'prices.netloom.json');
  writeFileSync(file, JSON.stringify({
    format: 'netloom-project', version: 1, name: 'Prices',
    graph: {
      nodes: [node('input', 'Input', { shape: [2] }, 0), node('fc', 'Linear', { in_features: 'auto', out_features: 1 }, 100), node('loss', 'MSELoss', {}, 200)],
      edges: [{ id: 'e1', source: 'input', target: 'fc' }, { id: 'e2', source: 'fc', target: 'loss' }],
    },
    training: {
      dataset: { type: 'csv', path: 'data/prices.csv', label: 'price', features: ['a', 'b'], task: 'regression', validation_fraction: 0.2 },
      batch_size: 16, epochs: 30, shuffle: true, optimizer: { type: 'Adam', lr: 0.05 },
    },
  }));

  await openApp(page, server);
  await page.getByTestId('btn-open').click();
  const open = page.getByTestId('dialog-open');
  await expect(open.getByTestId('dialog-listing')).toBeVisible();
  await open.getByTestId('dialog-path').fill(file);
  await open.getByTestId('dialog-confirm').click();
  await expect(open).toBeHidden();
  await page.getByTestId('summary-toggle').click();

  await page.getByTestId('btn-dataset').click();
  const panel = page.getByTestId('dataset-panel');
  await expect(panel.getByTestId('dataset-describe')).toContainText('2 features · regression on price');
  await expect(panel.getByTestId('dataset-count')).toHaveCount(0); // no classes
  const bins = panel.getByTestId('dataset-hist-bin');
  await expect(bins).toHaveCount(16);
  const sums = await bins.evaluateAll((els) => els.reduce((t, e) => [t[0] + Number(e.getAttribute('data-train')), t[1] + Number(e.getAttribute('data-test'))], [0, 0]));
  expect(sums).toEqual([160, 40]);
  const stats = panel.getByTestId('dataset-target-stats');
  const prices = lines.slice(1).map((l) => Number(l.split(',')[2]));
  expect(Number(await stats.getAttribute('data-min'))).toBeCloseTo(Math.min(...prices), 3);
  expect(Number(await stats.getAttribute('data-max'))).toBeCloseTo(Math.max(...prices), 3);
  await dismissToasts(page);
  await screenshot(page, 'dataset-regression');

  await page.getByTestId('btn-dataset').click();
  await page.getByTestId('training-toggle').click();
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 30_000);
  const playground = page.getByTestId('playground');
  await expect(playground).toHaveAttribute('data-mode', 'tabular');
  await playground.getByTestId('playground-random-row').click();
  const truth = Number(await playground.getByTestId('playground-true').getAttribute('data-value'));
  const output = playground.getByTestId('playground-output');
  await expect(output).toBeVisible();
  // a linear model of a linear target: close to the row's true price
  await expect.poll(async () => Math.abs(Number(await output.getAttribute('data-value')) - truth)).toBeLessThan(0.3);
  await expect(playground).toContainText('true');
  // a = 1, b = 1: 3 - 2 + 1 = 2
  await playground.getByTestId('playground-feature-a').fill('1');
  await playground.getByTestId('playground-feature-b').fill('1');
  await expect.poll(async () => Math.abs(Number(await output.getAttribute('data-value')) - 2)).toBeLessThan(0.3);
  await playground.scrollIntoViewIfNeeded();
  await dismissToasts(page);
  await screenshot(page, 'playground-regression');
});
