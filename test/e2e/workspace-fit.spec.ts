/**
 * The canvas's view fits the pane (issue 13 follow-ups), in the browser against a real `netloom serve`:
 * - the zoom controls' fit button fits readably, as F and the toolbar's fit do (a layer title at 9 px or more);
 * - when the pane is resized (the dock opening, the window) a fitted view is fitted again, and a view the
 *   user panned is left where they put it;
 * - the minimap is sized to the pane: at 1280x720 it takes a small corner of the canvas, and none on a tiny pane.
 */
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixture';
import { newFromTemplate, openApp } from './helpers';

type Box = { x: number; y: number; width: number; height: number };
async function box(l: Locator): Promise<Box> {
  const b = await l.boundingBox();
  if (!b) throw new Error('no box: the element is not rendered');
  return b;
}

const zoom = (page: Page) => page.locator('.react-flow__viewport').evaluate((el) => new DOMMatrix(getComputedStyle(el).transform).a);

/** The view's transform (pan and zoom), as React Flow set it. */
const transform = (page: Page) => page.locator('.react-flow__viewport').evaluate((el) => getComputedStyle(el).transform);

/** The nodes' bounding box on screen. */
const graphBox = (page: Page): Promise<Box> =>
  page.locator('.react-flow__node').evaluateAll((ns) => {
    const rs = ns.map((n) => n.getBoundingClientRect());
    const x = Math.min(...rs.map((r) => r.left));
    const y = Math.min(...rs.map((r) => r.top));
    return { x, y, width: Math.max(...rs.map((r) => r.right)) - x, height: Math.max(...rs.map((r) => r.bottom)) - y };
  });

/** How far the graph is from where a readable fit puts it, along one axis: centred, or its start 24 px in. */
function offFit(g: Box, c: Box, axis: 'x' | 'y'): number {
  const [gs, gl, cs, cl] = axis === 'x' ? [g.x, g.width, c.x, c.width] : [g.y, g.height, c.y, c.height];
  const centred = Math.abs(gs + gl / 2 - (cs + cl / 2));
  const atStart = Math.abs(gs - cs - 24);
  return Math.min(centred, atStart);
}

async function settled(page: Page): Promise<void> {
  await expect(page.getByTestId('canvas')).not.toHaveAttribute('aria-busy', 'true');
}

test('the zoom controls’ fit button fits at a readable zoom', async ({ page, server }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await openApp(page, server);
  await newFromTemplate(page, 'lenet5', { discardAfter: true });
  await settled(page);
  // zoom well out, then fit with the button in the zoom controls
  const out = page.locator('.react-flow__controls-zoomout');
  for (let i = 0; i < 6; i++) await out.click();
  await expect.poll(() => zoom(page)).toBeLessThan(0.5);
  await page.locator('.react-flow__controls-fitview').click();
  // the title (13 px) at 9 px or more: zoom 0.7 at least, as the toolbar's fit (canvas/fit.ts)
  await expect.poll(() => zoom(page)).toBeGreaterThanOrEqual(0.69);
});

test('a fitted view refits when the pane is resized; a view the user panned stays where it is', async ({ page, server }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await settled(page);
  const canvas = page.locator('.canvas');
  await page.getByTestId('btn-fit').click();
  await expect.poll(async () => offFit(await graphBox(page), await box(canvas), 'y')).toBeLessThan(4);
  // the dock grows (Training opens): the canvas gets shorter and the graph is fitted to it again
  const before = (await box(canvas)).height;
  await page.getByTestId('training-toggle').click();
  await expect.poll(async () => (await box(canvas)).height).toBeLessThan(before - 40);
  await expect.poll(async () => offFit(await graphBox(page), await box(canvas), 'y')).toBeLessThan(4);
  await expect.poll(async () => offFit(await graphBox(page), await box(canvas), 'x')).toBeLessThan(4);
  // the window shrinks: fitted again
  await page.setViewportSize({ width: 1440, height: 900 });
  await expect.poll(async () => offFit(await graphBox(page), await box(canvas), 'x')).toBeLessThan(4);
  await expect.poll(async () => offFit(await graphBox(page), await box(canvas), 'y')).toBeLessThan(4);

  // the user pans: a resize no longer moves their view
  const c = await box(canvas);
  const fitted = await transform(page);
  // from empty canvas at the top left (the zoom controls are at the bottom left)
  await page.mouse.move(c.x + 60, c.y + 60);
  await page.mouse.down();
  await page.mouse.move(c.x + 160, c.y + 120, { steps: 5 });
  await page.mouse.up();
  const panned = await transform(page);
  expect(panned, 'the drag panned the view').not.toBe(fitted);
  await page.setViewportSize({ width: 1920, height: 1080 });
  await expect.poll(async () => (await box(canvas)).height).toBeGreaterThan(c.height + 40);
  await page.waitForTimeout(300);
  // the same transform: the graph stays where the user put it relative to the pane's corner
  expect(await transform(page)).toBe(panned);
});

test('the minimap at 1280x720 takes a small corner of the canvas, and none of a tiny canvas', async ({ page, server }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await settled(page);
  const canvas = await box(page.locator('.canvas'));
  const map = page.locator('.react-flow__minimap');
  await expect(map).toBeVisible();
  const m = await box(map);
  // in the bottom-right corner, 15 px in
  expect(Math.abs(canvas.x + canvas.width - (m.x + m.width) - 15)).toBeLessThan(3);
  expect(Math.abs(canvas.y + canvas.height - (m.y + m.height) - 15)).toBeLessThan(3);
  // at most 5% of the canvas (React Flow's 200x150 took about 10% of it)
  expect((m.width * m.height) / (canvas.width * canvas.height)).toBeLessThan(0.05);
  expect(m.width).toBeLessThan(200);

  // a small window with the dock grown: the canvas is too small for a minimap
  await page.setViewportSize({ width: 1024, height: 600 });
  const sep = page.getByTestId('sep-dock');
  await sep.focus();
  const small = async () => {
    const b = await box(page.locator('.canvas'));
    return b.width < 480 || b.height < 300;
  };
  for (let i = 0; i < 20 && !(await small()); i++) await sep.press('ArrowUp');
  expect(await small(), `canvas ${JSON.stringify(await box(page.locator('.canvas')))}`).toBe(true);
  await expect(map).toHaveCount(0);
});
