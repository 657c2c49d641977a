/**
 * The app's code arrives in pieces, compressed: the first document names only the entry script (the
 * canvas); the training charts (chart.js) load when the Training panel opens and the layout engine
 * (elkjs) when Layout is pressed. With the chart chunk held back, the canvas still takes a new
 * layer and a drag; once the chunk arrives the charts replace their placeholders and plot a run.
 */
import type { Page, Request, Route } from '@playwright/test';
import { expect, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp, plotted, setTrainingFields } from './helpers';

const CHART_CHUNK = /\/assets\/TrainingCharts-[\w-]+\.js$/;
const ELK_CHUNK = /\/assets\/elk\.bundled-[\w-]+\.js$/;

/** A node's translate(x, y) on the flow: where it stands, whatever the zoom. */
const flowPosition = (page: Page, id: string) => page.locator(`.react-flow__node[data-id="${id}"]`).evaluate((el) => (el as HTMLElement).style.transform);

test('the canvas works before the chart and layout chunks load; each loads when needed; the scripts come compressed', async ({ page, server }) => {
  test.setTimeout(90_000);
  const scripts: Request[] = [];
  page.on('request', (r) => {
    if (r.resourceType() === 'script' || r.url().endsWith('.js')) scripts.push(r);
  });
  const requested = (re: RegExp) => scripts.filter((r) => re.test(r.url())).length;
  // hold the chart chunk until released
  let held: Route | undefined;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  await page.route(CHART_CHUNK, async (route) => {
    held = route;
    await released;
    await route.continue();
  });

  await openApp(page, server);
  // the document names the entry script (and rolldown's tiny runtime), never the chart or layout chunk
  const named = await page.evaluate(() => [...document.querySelectorAll('script[src], link[rel="modulepreload"]')].map((e) => e.getAttribute('src') ?? e.getAttribute('href')));
  expect(named.some((n) => /assets\/index-[\w-]+\.js$/.test(n ?? ''))).toBe(true);
  expect(named.filter((n) => CHART_CHUNK.test(`/${n}`) || ELK_CHUNK.test(`/${n}`) || /chart|elk/i.test(n ?? ''))).toEqual([]);
  expect(requested(CHART_CHUNK)).toBe(0);
  expect(requested(ELK_CHUNK)).toBe(0);
  // Chromium asks for br; the entry script came brotli-compressed
  const entry = scripts.find((r) => /assets\/index-[\w-]+\.js$/.test(r.url()))!;
  expect(await (await entry.response())!.headerValue('content-encoding')).toBe('br');

  // opening the Training panel asks for the chart chunk (held): placeholders stand in for the charts
  await page.getByTestId('summary-toggle').click(); // room for the panel
  await page.getByTestId('training-toggle').click();
  await expect(page.getByTestId('training-charts-loading')).toBeVisible();
  await expect.poll(() => held !== undefined).toBe(true);
  await expect(page.getByTestId('chart-loss')).toHaveCount(0);

  // meanwhile the canvas works: a layer dropped from the palette, then dragged by the mouse
  const canvas = page.getByTestId('canvas');
  await page.getByTestId('palette-item-Linear').dragTo(canvas, { targetPosition: { x: 200, y: 80 } });
  const node = page.locator('.react-flow__node').first();
  await expect(node).toBeVisible();
  const id = (await node.getAttribute('data-id'))!;
  const before = await flowPosition(page, id);
  const box = (await node.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 10);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 160, box.y + 40, { steps: 8 });
  await page.mouse.up();
  await expect.poll(() => flowPosition(page, id)).not.toBe(before);
  await expect(page.getByTestId('training-charts-loading')).toBeVisible(); // still held
  expect(requested(ELK_CHUNK)).toBe(0);

  // Layout loads the layout engine, and only then
  const elk = page.waitForResponse(ELK_CHUNK);
  await page.getByTestId('btn-layout').click();
  expect((await elk).status()).toBe(200);
  expect(await (await elk).headerValue('content-encoding')).toBe('br');

  // the chart chunk arrives: the charts replace the placeholders and plot a run
  release();
  await expect(page.getByTestId('chart-loss')).toBeVisible();
  await expect(page.getByTestId('training-charts-loading')).toHaveCount(0);
  await newFromTemplate(page, 'quickstart', { discardFirst: true, discardAfter: true });
  await setTrainingFields(page, { dataset: 'mnist', limitTrain: '640', epochs: '1', batchSize: '64' });
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 30_000);
  await expect.poll(() => plotted(page)).toBeGreaterThan(0);
  expect(requested(CHART_CHUNK)).toBe(1);
});
