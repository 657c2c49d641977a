/**
 * Ports follow the layout direction (issue 13): laid out left to right, every edge leaves its source's
 * right side and enters its target's left side (read from the drawn path and the handle boxes), for
 * layers and a collapsed group alike; flipped back to top to bottom, bottom and top again. Screenshots:
 * test-results/issue13/lenet5-left-to-right.png and resnet8-left-to-right.png (with its groups).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { expect, screenshot, test } from './fixture';
import { newFromTemplate, openApp } from './helpers';

const SHOTS = join(process.cwd(), 'test-results', 'issue13');
mkdirSync(SHOTS, { recursive: true });

interface EdgeEnds {
  label: string;
  /** data-handlepos of the handle the path starts on / ends on, '' when none is within 2 px */
  from: string;
  to: string;
  /** where the path starts and ends, relative to the source's / target's node box (px) */
  startFromRight: number;
  endFromLeft: number;
  startFromBottom: number;
  endFromTop: number;
}

/** Every drawn edge's ends: which handle (and which side of its node) the path starts and ends on. */
function edgeEnds(page: Page): Promise<EdgeEnds[]> {
  return page.evaluate(() => {
    const dist = (p: DOMPoint, r: DOMRect) => Math.hypot(Math.max(r.left - p.x, 0, p.x - r.right), Math.max(r.top - p.y, 0, p.y - r.bottom));
    const handles = [...document.querySelectorAll<HTMLElement>('.react-flow__handle')];
    const nearest = (p: DOMPoint, kind: 'source' | 'target') => {
      let best: HTMLElement | null = null;
      let d = Infinity;
      for (const h of handles.filter((x) => x.classList.contains(kind))) {
        const k = dist(p, h.getBoundingClientRect());
        if (k < d) [best, d] = [h, k];
      }
      return d <= 2 ? best : null;
    };
    return [...document.querySelectorAll<SVGGElement>('.react-flow__edge')].map((g) => {
      const path = g.querySelector<SVGPathElement>('.react-flow__edge-path')!;
      const m = path.getScreenCTM()!;
      const start = new DOMPoint(path.getPointAtLength(0).x, path.getPointAtLength(0).y).matrixTransform(m);
      const len = path.getTotalLength();
      const end = new DOMPoint(path.getPointAtLength(len).x, path.getPointAtLength(len).y).matrixTransform(m);
      const from = nearest(start, 'source');
      const to = nearest(end, 'target');
      const nodeBox = (h: HTMLElement | null) => (h ? h.closest('.react-flow__node')!.getBoundingClientRect() : new DOMRect(NaN, NaN, NaN, NaN));
      const s = nodeBox(from);
      const t = nodeBox(to);
      return {
        label: g.getAttribute('aria-label') ?? g.dataset.id ?? '',
        from: from?.dataset.handlepos ?? '',
        to: to?.dataset.handlepos ?? '',
        startFromRight: start.x - s.right,
        endFromLeft: end.x - t.left,
        startFromBottom: start.y - s.bottom,
        endFromTop: end.y - t.top,
      };
    });
  });
}

/** Every edge leaves the right (or bottom) side of its source and enters the left (or top) side of its target. */
async function expectPorts(page: Page, direction: 'right' | 'down'): Promise<void> {
  await expect
    .poll(async () => {
      const ends = await edgeEnds(page);
      const bad = ends.filter((e) =>
        direction === 'right'
          ? e.from !== 'right' || e.to !== 'left' || Math.abs(e.startFromRight) > 8 || Math.abs(e.endFromLeft) > 8
          : e.from !== 'bottom' || e.to !== 'top' || Math.abs(e.startFromBottom) > 8 || Math.abs(e.endFromTop) > 8,
      );
      return ends.length === 0 ? ['no edges drawn'] : bad.map((e) => `${e.label}: ${e.from} -> ${e.to}`);
    })
    .toEqual([]);
}

/** Every node with several inputs (Add's in0, in1) has them on one side, spread along it. */
async function expectSpreadInputs(page: Page, direction: 'right' | 'down'): Promise<number> {
  const nodes = await page.locator('.react-flow__node').evaluateAll((ns) =>
    ns.map((n) => [...n.querySelectorAll('.port-in')].map((h) => h.getBoundingClientRect()).map((r) => ({ x: r.x, y: r.y }))).filter((ps) => ps.length > 1),
  );
  for (const ins of nodes) {
    const [along, across] = direction === 'right' ? (['y', 'x'] as const) : (['x', 'y'] as const);
    for (let i = 1; i < ins.length; i++) {
      expect(Math.abs(ins[i][across] - ins[0][across])).toBeLessThan(1);
      expect(ins[i][along] - ins[i - 1][along]).toBeGreaterThan(10);
    }
  }
  return nodes.length;
}

async function layOut(page: Page, direction: 'right' | 'down'): Promise<void> {
  const button = page.getByTestId('btn-layout-direction');
  if ((await button.getAttribute('data-direction')) !== direction) await button.click();
  await expect(button).toHaveAttribute('data-direction', direction);
  await expect(page.getByTestId('canvas')).not.toHaveAttribute('aria-busy', 'true');
  await page.waitForTimeout(300); // the layout's fit
}

/** Drags the canvas (on its empty top strip) until the element's left edge is `left` px into the pane. */
async function panTo(page: Page, el: Locator, left: number): Promise<void> {
  const canvas = (await page.locator('.canvas').boundingBox())!;
  const dx = canvas.x + left - (await el.boundingBox())!.x;
  const y = canvas.y + 20;
  const x = dx < 0 ? canvas.x + canvas.width - 60 : canvas.x + 60;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx, y, { steps: 10 });
  await page.mouse.up();
  await expect.poll(async () => Math.abs((await el.boundingBox())!.x - canvas.x - left)).toBeLessThan(20);
}

async function shot(page: Page, name: string): Promise<void> {
  copyFileSync(await screenshot(page, name), join(SHOTS, `${name}.png`));
}

test('LeNet-5 left to right: edges leave the right side and enter the left side, and flip back top to bottom', async ({ page, server }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await openApp(page, server);
  await newFromTemplate(page, 'lenet5', { discardAfter: true });
  await expect(page.getByTestId('canvas')).not.toHaveAttribute('aria-busy', 'true');
  await expectPorts(page, 'down');
  await layOut(page, 'right');
  await expectPorts(page, 'right');
  await shot(page, 'lenet5-left-to-right');
  await layOut(page, 'down');
  await expectPorts(page, 'down');
});

test('ResNet-8 left to right with its groups: frames hold their layers, a collapsed group has its ports on the sides', async ({ page, server }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await openApp(page, server);
  await newFromTemplate(page, 'resnet8', { discardAfter: true });
  await expect(page.getByTestId('canvas')).not.toHaveAttribute('aria-busy', 'true');
  await layOut(page, 'right');
  await expectPorts(page, 'right');
  // the residual Adds' two inputs sit on their left side, one above the other
  expect(await expectSpreadInputs(page, 'right')).toBeGreaterThan(0);
  // each stage's frame still lies around its own layers, and the stages run left to right
  const frames = await Promise.all(['layer1', 'layer2', 'layer3'].map(async (n) => (await page.getByTestId(`group-frame-${n}`).boundingBox())!));
  for (let i = 0; i < 2; i++) expect(frames[i].x + frames[i].width).toBeLessThanOrEqual(frames[i + 1].x + 1);
  // the readable fit shows the chain's start; pan along it to show the first stages
  await panTo(page, page.getByTestId('group-frame-layer1'), 40);
  await shot(page, 'resnet8-left-to-right');
  // a residual Add up close: its two inputs on its left side, named (in0, in1), clear of the edges' labels
  const add = page.locator('.react-flow__node:has([data-type="Add"])').first();
  await panTo(page, add, 300);
  const a = (await add.boundingBox())!;
  await page.screenshot({ path: join(SHOTS, 'resnet8-left-to-right-add.png'), clip: { x: a.x - 220, y: a.y - 80, width: a.width + 300, height: a.height + 160 } });
  await page.getByTestId('group-collapse-layer2').click();
  await expect(page.getByTestId('group-node-layer2')).toBeVisible();
  await expectPorts(page, 'right');
  await panTo(page, page.getByTestId('group-node-layer2'), 300);
  await shot(page, 'resnet8-left-to-right-collapsed');
  await layOut(page, 'down');
  await expectPorts(page, 'down');
  expect(await expectSpreadInputs(page, 'down')).toBeGreaterThan(0);
});
