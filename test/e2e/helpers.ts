/**
 * Helpers shared by the browser tests (not a spec file: Playwright only runs *.spec.ts).
 */
import type { Locator, Page } from '@playwright/test';
import { expect, type Server } from './fixture';

/** Opens the app with its token and waits until the engine's layer catalog is in the palette. */
export async function openApp(page: Page, server: Server): Promise<void> {
  await page.goto(server.url);
  await expect(page.getByTestId('palette-item-Input')).toBeVisible();
  await expect(page.getByTestId('btn-open')).toBeEnabled(); // connected
}

export interface NewFromTemplateOptions {
  /** the document may be dirty: confirm the "discard changes?" prompt New shows first */
  discardFirst?: boolean;
  /** discard the current graph if asked after choosing the template */
  discardAfter?: boolean;
}

/** New → a template. */
export async function newFromTemplate(page: Page, id: string, opts: NewFromTemplateOptions = {}): Promise<void> {
  await page.getByTestId('btn-new').click();
  const dialog = page.getByTestId('dialog-new');
  if (opts.discardFirst) {
    // a finished run is kept in the project (its `runs`): the document is dirty, New asks first
    const discardFirst = page.getByTestId('dialog-confirm-discard');
    await expect(dialog.or(discardFirst)).toBeVisible();
    if (await discardFirst.isVisible()) await discardFirst.getByTestId('dialog-confirm').click();
  }
  await expect(dialog).toBeVisible();
  await dialog.getByTestId(`template-${id}`).click();
  await dialog.getByTestId('dialog-confirm').click();
  if (opts.discardAfter) {
    const discard = page.getByTestId('dialog-discard');
    if (await discard.isVisible().catch(() => false)) await discard.click();
  }
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('summary-total-params')).not.toHaveText('0');
}

export interface TrainingFields {
  dataset: string;
  limitTrain: string;
  epochs: string;
  batchSize: string;
}

/** Fills the training panel's dataset, training-sample limit, epochs and batch size. */
export async function setTrainingFields(page: Page, f: TrainingFields): Promise<void> {
  await page.getByTestId('train-dataset').selectOption(f.dataset);
  await page.getByTestId('limit-train').fill(f.limitTrain);
  await page.getByTestId('train-epochs').fill(f.epochs);
  await page.getByTestId('train-batch-size').fill(f.batchSize);
}

/** Points on the loss chart. */
export const plotted = async (page: Page) => Number(await page.getByTestId('chart-loss').getAttribute('data-points'));

/** Waits for the run's state (running, paused, finished, stopped). */
export async function expectTrainState(page: Page, state: string, timeout?: number): Promise<void> {
  await expect(page.getByTestId('train-state')).toHaveText(state, timeout === undefined ? undefined : { timeout });
}

/** Start → waits until the run is running. */
export async function startTraining(page: Page): Promise<void> {
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'running');
}

/** Pause → waits until the run is paused. */
export async function pauseTraining(page: Page): Promise<void> {
  await page.getByTestId('btn-train-pause').click();
  await expectTrainState(page, 'paused');
}

/** Polls the loss chart until it has grown twice while the run runs; returns the readings. */
export async function pollGrowingLoss(page: Page, interval: number): Promise<number[]> {
  const readings: number[] = [];
  await expect
    .poll(async () => {
      const n = await plotted(page);
      if (n > (readings.at(-1) ?? 0)) readings.push(n);
      return readings.length;
    }, { intervals: [interval], timeout: 15_000 })
    .toBeGreaterThanOrEqual(2);
  return readings;
}

/**
 * Selects a node by clicking its name line. Retried: right after a template loads, its automatic
 * layout may move the node between Playwright's stability check and the click.
 */
export async function selectNode(page: Page, node: string): Promise<void> {
  await expect(async () => {
    await page.getByTestId(`node-${node}`).locator('.layer-name').click();
    await expect(page.getByTestId('node-name')).toHaveValue(node, { timeout: 1000 });
  }).toPass();
}

/** Selects a node, then types a value into the inspector's param field, which must take it without an error. */
export async function setParam(page: Page, node: string, param: string, value: string): Promise<void> {
  await selectNode(page, node);
  const field = page.getByTestId(`param-${param}`);
  await field.fill(value);
  await expect(field).toHaveValue(value);
  await expect(page.getByTestId(`param-${param}-error`)).toHaveCount(0);
}

/** A dialog with a path field: types the path, confirms, waits for it to close. */
export async function submitPathDialog(dialog: Locator, path: string, hiddenTimeout?: number): Promise<void> {
  await dialog.getByTestId('dialog-path').fill(path);
  await dialog.getByTestId('dialog-confirm').click();
  await expect(dialog).toBeHidden(hiddenTimeout === undefined ? undefined : { timeout: hiddenTimeout });
}

/** Drops one file on `selector` as the operating system would (dragover, then drop, with a DataTransfer holding it). */
export async function dropFile(page: Page, selector: string, file: { name: string; type: string; data: Buffer }): Promise<void> {
  const dt = await page.evaluateHandle(({ name, type, b64 }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const t = new DataTransfer();
    t.items.add(new File([bytes], name, { type }));
    return t;
  }, { name: file.name, type: file.type, b64: file.data.toString('base64') });
  await page.dispatchEvent(selector, 'dragover', { dataTransfer: dt });
  await page.dispatchEvent(selector, 'drop', { dataTransfer: dt });
}

/** A black "7" on white paper, 100x100, as a PNG made by the page's canvas. */
export async function sevenPng(page: Page): Promise<Buffer> {
  const b64 = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = c.height = 100;
    const g = c.getContext('2d')!;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, 100, 100);
    g.strokeStyle = '#000';
    g.lineWidth = 12;
    g.beginPath();
    g.moveTo(20, 20);
    g.lineTo(80, 20);
    g.lineTo(40, 90);
    g.stroke();
    return c.toDataURL('image/png').split(',')[1]!;
  });
  return Buffer.from(b64, 'base64');
}
