/**
 * Three findings of issue 13 about the canvas, each driven through the UI of the real app:
 * deleting a layer in the middle of a chain keeps the chain (Shift+Delete does not), problem
 * callouts stay inside their node and are never covered (by neighbours or the minimap), and the
 * inspector's inputs and the edges have accessible names a screen reader can announce.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixture';
import { newFromTemplate, openApp } from './helpers';

const SHOTS = join(process.cwd(), 'test-results', 'issue13');

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Selects a node by clicking its name line (retried: a fresh template may still be moving). */
async function selectNode(page: Page, node: string): Promise<void> {
  await expect(async () => {
    await page.getByTestId(`node-${node}`).locator('.layer-name').click();
    await expect(page.getByTestId('node-name')).toHaveValue(node, { timeout: 1000 });
  }).toPass();
}

/** Waits until the layout engine has placed and fitted the loaded template. */
async function settled(page: Page): Promise<void> {
  await expect(page.getByTestId('canvas')).not.toHaveAttribute('aria-busy', 'true');
}

type Box = { x: number; y: number; width: number; height: number };
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;

/**
 * For every problem callout on the canvas: its box lies inside its node's box, and each sample
 * point of it that is on screen shows the callout itself (not a neighbour, not the minimap).
 */
async function calloutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const pane = document.querySelector('.react-flow')!.getBoundingClientRect();
    for (const c of document.querySelectorAll<HTMLElement>('.layer-issue')) {
      const node = c.closest('.react-flow__node') as HTMLElement;
      const name = node.querySelector('.layer-name')?.textContent ?? '?';
      const cb = c.getBoundingClientRect();
      const nb = node.getBoundingClientRect();
      if (cb.left < nb.left - 0.5 || cb.right > nb.right + 0.5 || cb.top < nb.top - 0.5 || cb.bottom > nb.bottom + 0.5) out.push(`${name}: callout outside its node`);
      for (const fx of [0.05, 0.5, 0.95])
        for (const fy of [0.1, 0.5, 0.9]) {
          const x = cb.left + cb.width * fx;
          const y = cb.top + cb.height * fy;
          if (x < pane.left || x > pane.right || y < pane.top || y > pane.bottom) continue;
          const top = document.elementFromPoint(x, y);
          if (top && !c.contains(top)) out.push(`${name}: covered at (${Math.round(x)},${Math.round(y)}) by ${top.className || top.tagName}`);
        }
    }
    return out;
  });
}

test.describe('workspace canvas (issue 13)', () => {
  test('Delete on a layer in the middle of a chain reconnects its input to its output, as one undo step', async ({ page, server }) => {
    await openApp(page, server);
    await newFromTemplate(page, 'lenet5', { discardAfter: true });
    await settled(page);
    await selectNode(page, 'conv2');
    await page.getByTestId('canvas').press('Delete');

    await expect(page.getByTestId('node-conv2')).toHaveCount(0);
    await expect(page.getByTestId('toast').filter({ hasText: 'Deleted conv2; reconnected pool1 → relu2' })).toBeVisible();
    await expect(page.getByTestId('edge-label-pool1-relu2')).toBeVisible();
    // nothing is left dangling: no amber "not connected / does not lead to the loss" callouts
    await expect(page.locator('.layer-node[data-issue="incomplete"]')).toHaveCount(0);
    // shapes are re-inferred along the new edge: pool1's 6 channels now reach relu2 (fc1 may be red, never refused)
    await expect(page.getByTestId('edge-label-pool1-relu2')).toContainText('6');
    await shot(page, 'deleted-middle-layer');

    // one undo brings back the layer and both of its edges, and drops the new edge
    await page.keyboard.press('Control+z');
    await expect(page.getByTestId('node-conv2')).toBeVisible();
    await expect(page.getByTestId('edge-label-pool1-conv2')).toBeVisible();
    await expect(page.getByTestId('edge-label-conv2-relu2')).toBeVisible();
    await expect(page.getByTestId('edge-label-pool1-relu2')).toHaveCount(0);

    // Shift+Delete deletes without reconnecting: the chain is broken on purpose
    await selectNode(page, 'conv2');
    await page.getByTestId('canvas').press('Shift+Delete');
    await expect(page.getByTestId('node-conv2')).toHaveCount(0);
    await expect(page.getByTestId('edge-label-pool1-relu2')).toHaveCount(0);
    await expect(page.locator('.layer-node[data-issue="incomplete"]').first()).toBeVisible();

    // the help overlay documents both
    await page.keyboard.press('?');
    const help = page.getByTestId('help-overlay');
    await expect(help).toContainText('reconnecting a layer in the middle of a chain');
    await expect(help).toContainText('Shift+Delete');
  });

  test('callouts stay inside their node, never over a neighbour or under the minimap', async ({ page, server }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await openApp(page, server);
    await newFromTemplate(page, 'lenet5', { discardAfter: true });
    await settled(page);
    const heightOf = async (name: string) => (await page.getByTestId(`node-${name}`).boundingBox())!.height;
    const before = await heightOf('relu2');
    // break the chain in two places: many amber callouts, on nodes next to each other
    await selectNode(page, 'conv2');
    await page.getByTestId('canvas').press('Shift+Delete');
    await selectNode(page, 'fc2');
    await page.getByTestId('canvas').press('Shift+Delete');
    await page.getByTestId('canvas').locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await expect(page.locator('.layer-issue').first()).toBeVisible();
    // a problem does not make its node grow (its handles stay where the pointer is)
    await expect(page.getByTestId('issue-relu2')).toBeVisible();
    expect(Math.abs((await heightOf('relu2')) - before)).toBeLessThan(1);
    await page.getByRole('button', { name: /fit view/i }).click();
    await page.waitForTimeout(400); // the fit animates

    const issues = page.locator('.layer-issue');
    expect(await issues.count()).toBeGreaterThan(4);
    expect(await calloutProblems(page)).toEqual([]);
    // no two nodes (with their callouts) overlap
    const boxes = await page.locator('.react-flow__node').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as Box));
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) expect(overlaps(boxes[i], boxes[j]), `nodes ${i} and ${j} overlap`).toBe(false);
    // a long message is clamped on the node; the full text is in its tooltip
    const first = issues.first().locator('.issue-message');
    expect((await first.getAttribute('title'))?.length ?? 0).toBeGreaterThan(10);
    await shot(page, 'callouts-side-by-side');
    // at a readable zoom: still inside their nodes, still uncovered
    for (let i = 0; i < 3; i++) await page.getByRole('button', { name: /zoom in/i }).click();
    await page.waitForTimeout(400);
    expect(await calloutProblems(page)).toEqual([]);
    await shot(page, 'callouts-zoomed');
    for (let i = 0; i < 3; i++) await page.getByRole('button', { name: /zoom in/i }).click();
    await page.waitForTimeout(400);
    await page.getByTestId('node-relu2').screenshot({ path: join(SHOTS, 'callout-node-close-up.png') });
    await page.getByRole('button', { name: /fit view/i }).click();
    await page.waitForTimeout(400);

    // pan a callout into the minimap's corner: the minimap moves out of its way
    const mini = page.locator('.react-flow__minimap');
    await expect(mini).toBeVisible();
    const m = (await mini.boundingBox())!;
    const target = page.getByTestId('issue-relu2');
    const t = (await target.boundingBox())!;
    const pane = page.getByTestId('canvas').locator('.react-flow__pane');
    // drag the empty canvas so that the callout lands in the middle of where the minimap was
    const start = { x: 40, y: 40 };
    const pb = (await pane.boundingBox())!;
    await page.mouse.move(pb.x + start.x, pb.y + start.y);
    await page.mouse.down();
    await page.mouse.move(pb.x + start.x + (m.x + m.width / 2 - (t.x + t.width / 2)), pb.y + start.y + (m.y + m.height / 2 - (t.y + t.height / 2)), { steps: 12 });
    await page.mouse.up();
    await page.waitForTimeout(300);
    expect(await calloutProblems(page)).toEqual([]);
    await shot(page, 'callout-near-minimap');
  });

  test('inspector inputs and edges have accessible names', async ({ page, server }) => {
    await openApp(page, server);
    await newFromTemplate(page, 'quickstart', { discardAfter: true });
    await settled(page);
    await selectNode(page, 'linear_relu_stack.0');
    const inspector = page.getByTestId('inspector');
    // each input is named after its parameter and described by the parameter's doc
    const outFeatures = inspector.getByRole('textbox', { name: 'out_features', exact: true });
    await expect(outFeatures).toBeVisible();
    await expect(outFeatures).toHaveAccessibleDescription(/output|feature/i);
    await expect(inspector.getByLabel('in_features', { exact: true })).toBeVisible();
    await expect(inspector.getByRole('checkbox', { name: 'bias', exact: true })).toBeVisible();
    await expect(inspector.getByRole('textbox', { name: 'name', exact: true })).toHaveValue('linear_relu_stack.0');
    // no unnamed form control anywhere in the inspector
    const unnamed = await inspector.locator('input, select').evaluateAll((els) =>
      els.filter((e) => !(e as HTMLInputElement).labels?.length && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')).map((e) => e.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
    await expect(inspector).toMatchAriaSnapshot(`
      - textbox "out_features"
    `);

    // edges are announced by layer names, types and the shape they carry
    const edge = page.getByRole('group', { name: 'linear_relu_stack.0 (Linear) to linear_relu_stack.1 (ReLU), 64×512' })
      .or(page.locator('.react-flow__edge[aria-label="linear_relu_stack.0 (Linear) to linear_relu_stack.1 (ReLU), 64×512"]'));
    await expect(edge).toHaveCount(1);
    const labels = await page.locator('.react-flow__edge').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    expect(labels.length).toBe(7);
    for (const l of labels) expect(l).not.toMatch(/Edge from|n_[0-9a-f]{6}/);
    expect(labels).toContain('input (Input) to flatten (Flatten), 64×1×28×28');
  });
});
