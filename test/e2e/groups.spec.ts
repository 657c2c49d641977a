/**
 * Groups are PyTorch submodules (issue 13), in a real browser against a real `netloom serve`: select two
 * layers of the quickstart MLP, group them as `block` (the name checked as it is typed), nest a group in it
 * and undo that, collapse it to one node showing its shapes and parameters, expand it, repeat it ×3, train
 * a few batches, save the checkpoint (its keys are block.0.fc.weight ... block.2.fc.weight) and the project,
 * reload the page and open the project: the group comes back collapsed, as it was saved.
 * Screenshots: test-results/issue13/group-expanded.png and group-collapsed.png.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp, submitPathDialog } from './helpers';

const SHOTS = join(process.cwd(), 'test-results', 'issue13');
mkdirSync(SHOTS, { recursive: true });

/** 512 -> 512 Linear: weight and bias */
const BLOCK_PARAMS = 512 * 512 + 512;
const MLP_PARAMS = 784 * 512 + 512 + BLOCK_PARAMS + 512 * 10 + 10;

async function rename(page: Page, from: string, to: string) {
  await page.getByTestId(`node-${from}`).click();
  await page.getByTestId('node-name').fill(to);
  await expect(page.getByTestId(`node-${to}`)).toBeVisible();
}

/** Ctrl+G on the selection, then the name; returns the dialog for more checks. */
async function groupAs(page: Page, name: string): Promise<Locator> {
  await page.keyboard.press('Control+g');
  const dialog = page.getByTestId('group-name-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('group-name-input').fill(name);
  await expect(dialog.getByTestId('group-name-ok')).toBeEnabled();
  await dialog.getByTestId('group-name-ok').click();
  await expect(dialog).toBeHidden();
  return dialog;
}

async function fileDialog(page: Page, button: 'btn-open' | 'btn-save-as', path: string) {
  await page.getByTestId(button).click();
  const dialog = page.getByTestId(button === 'btn-open' ? 'dialog-open' : 'dialog-save');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('dialog-listing')).toBeVisible();
  await submitPathDialog(dialog, path);
}

/** The tensor names in a safetensors file, read independently of the engine: 8-byte header length, JSON header. */
function safetensorsKeys(path: string): string[] {
  const buf = readFileSync(path);
  const len = Number(buf.readBigUInt64LE(0));
  return Object.keys(JSON.parse(buf.subarray(8, 8 + len).toString('utf8'))).filter((k) => k !== '__metadata__');
}

/** The canvas, fitted and zoomed in one step so the group's header is readable, saved under test-results/issue13/. */
async function shot(page: Page, name: string) {
  await page.getByTestId('btn-fit').click();
  await page.locator('.react-flow__controls-zoomin').click();
  await page.waitForTimeout(400); // the zoom animates
  await page.getByTestId('canvas').screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** The canvas zoomed in around `target` (the wheel zooms at the pointer), saved under test-results/issue13/. */
async function shotAt(page: Page, target: Locator, name: string, steps = 4) {
  await page.getByTestId('btn-fit').click();
  await page.waitForTimeout(300);
  const b = (await target.boundingBox())!;
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
  for (let i = 0; i < steps; i++) {
    await page.mouse.wheel(0, -240);
    await page.waitForTimeout(120);
  }
  await page.waitForTimeout(300);
  await page.getByTestId('canvas').screenshot({ path: join(SHOTS, `${name}.png`) });
}

const params = (page: Page) => page.getByTestId('summary-total-params').textContent().then((t) => Number(t!.replace(/\D/g, '')));

test('groups: create, nest, collapse and expand, repeat ×3, train, checkpoint keys, save and open', async ({ page, server }) => {
  test.setTimeout(120_000);
  await page.addLocatorHandler(page.getByTestId('dialog-recover'), async (d) => {
    await d.getByTestId('dialog-discard').click();
  });
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await rename(page, 'linear_relu_stack.2', 'fc');
  await rename(page, 'linear_relu_stack.3', 'act');
  await expect.poll(() => params(page)).toBe(MLP_PARAMS);

  // select fc and act, Ctrl+G: the name is checked as it is typed
  await page.getByTestId('node-fc').click();
  await page.getByTestId('node-act').click({ modifiers: ['Shift'] });
  await page.keyboard.press('Control+g');
  const dialog = page.getByTestId('group-name-dialog');
  await expect(dialog).toBeVisible();
  const input = dialog.getByTestId('group-name-input');
  await input.fill('a.b');
  await expect(dialog.getByTestId('group-name-error')).toContainText('no dots');
  await expect(dialog.getByTestId('group-name-ok')).toBeDisabled();
  await input.fill('flatten');
  await expect(dialog.getByTestId('group-name-error')).toContainText('already used');
  await dialog.getByTestId('group-name-cancel').click();
  await groupAs(page, 'block');

  // a frame around the two layers; their names stay, their keys get the prefix
  const frame = page.getByTestId('group-frame-block');
  await expect(frame).toBeVisible();
  await expect(page.getByTestId('group-inspector')).toBeVisible();
  await expect(page.getByTestId('group-path')).toContainText('block');
  await page.getByTestId('node-fc').click();
  await expect(page.getByTestId('node-full-path')).toHaveText('block.fc');
  // the engine sees the same model: same parameters, the group analysed
  await expect(page.getByTestId('group-params-block')).toHaveText(BLOCK_PARAMS.toLocaleString('en-US'));
  await expect.poll(() => params(page)).toBe(MLP_PARAMS);
  // the summary nests it like torchinfo: the group's row, its layers one level in
  await expect(page.getByTestId('summary-row-block')).toHaveAttribute('data-depth', '0');
  await expect(page.getByTestId('summary-row-block.fc')).toHaveAttribute('data-depth', '1');
  await page.getByTestId('summary-depth').selectOption('1');
  await expect(page.getByTestId('summary-row-block.fc')).toHaveCount(0);
  await page.getByTestId('summary-depth').selectOption('all');

  // nest: act alone, grouped again, lands inside block; one undo takes the nesting back
  await page.getByTestId('node-act').click();
  await groupAs(page, 'post');
  await expect(page.getByTestId('group-frame-post')).toBeVisible();
  await expect(page.getByTestId('group-path')).toContainText('block.post');
  await page.getByTestId('node-act').click();
  await expect(page.getByTestId('node-full-path')).toHaveText('block.post.act');
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('group-frame-post')).toHaveCount(0);
  await page.getByTestId('node-act').click();
  await expect(page.getByTestId('node-full-path')).toHaveText('block.act');

  // collapse: one node with the shapes in and out and the parameter count; the layers are hidden
  await page.getByTestId('group-collapse-block').click();
  const node = page.getByTestId('group-node-block');
  await expect(node).toBeVisible();
  await expect(page.getByTestId('node-fc')).toHaveCount(0);
  await expect(page.getByTestId('group-in-block')).toHaveText('64×512');
  await expect(page.getByTestId('group-out-block')).toHaveText('64×512');
  await expect(page.getByTestId('group-node-params-block')).toHaveText(BLOCK_PARAMS.toLocaleString('en-US'));
  await shot(page, 'group-collapsed');
  // drag the collapsed group: expanded, its layers have moved with it
  const before = (await node.boundingBox())!;
  await page.mouse.move(before.x + before.width / 2, before.y + 12);
  await page.mouse.down();
  await page.mouse.move(before.x + before.width / 2 + 160, before.y + 12, { steps: 8 });
  await page.mouse.up();
  await expect.poll(async () => (await node.boundingBox())!.x - before.x).toBeGreaterThan(100);
  await page.getByTestId('group-expand-block').click();
  await expect(page.getByTestId('node-fc')).toBeVisible();
  await expect(frame).toBeVisible();
  expect((await page.getByTestId('node-fc').boundingBox())!.x).toBeGreaterThan(before.x + 100);
  // one undo takes the expand back, the next the drag
  await page.keyboard.press('Control+z');
  await expect(node).toBeVisible();
  await page.keyboard.press('Control+z');
  await expect.poll(async () => Math.abs((await node.boundingBox())!.x - before.x)).toBeLessThan(4);
  await page.getByTestId('group-expand-block').click();
  await expect(page.getByTestId('node-fc')).toBeVisible();

  // repeat ×3: three chained copies, each with its own weights
  await page.getByTestId('group-header-block').click();
  await page.getByTestId('group-repeat').fill('3');
  await expect(page.getByTestId('group-repeat-block')).toHaveText('×3');
  await expect(page.getByTestId('group-copies')).toContainText('block.0., block.1., block.2.');
  await expect(page.getByTestId('group-header-block')).toHaveAttribute('title', /block\.0\., block\.1\., block\.2\./);
  await expect(page.getByTestId('group-params-block')).toHaveText((3 * BLOCK_PARAMS).toLocaleString('en-US'));
  await expect.poll(() => params(page)).toBe(MLP_PARAMS + 2 * BLOCK_PARAMS);
  await page.getByTestId('node-fc').click();
  await expect(page.getByTestId('node-full-path')).toHaveText('block.0.fc');
  await shot(page, 'group-expanded');

  // train a few batches
  await page.getByTestId('summary-toggle').click();
  await page.getByTestId('training-toggle').click();
  await page.getByTestId('limit-train').fill('256');
  await page.getByTestId('train-epochs').fill('1');
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 60_000);

  // the checkpoint's keys are the submodule's: block.<copy>.fc.weight
  const ckpt = join(server.workDir, 'grouped.safetensors');
  await page.getByTestId('btn-checkpoint-save').click();
  await submitPathDialog(page.getByTestId('dialog-checkpoint'), ckpt);
  await expect(page.getByTestId('toast').filter({ hasText: 'Checkpoint saved' })).toBeVisible();
  const keys = safetensorsKeys(ckpt);
  for (const k of ['block.0.fc.weight', 'block.1.fc.bias', 'block.2.fc.weight', 'linear_relu_stack.0.weight', 'linear_relu_stack.4.bias']) expect(keys).toContain(k);
  expect(keys.some((k) => k.startsWith('fc.'))).toBe(false);

  // save collapsed, reload, open: the group comes back as it was saved
  await page.getByTestId('group-collapse-block').click();
  await expect(node).toBeVisible();
  const file = join(server.workDir, 'grouped.netloom.json');
  await fileDialog(page, 'btn-save-as', file);
  await expect(page.getByTestId('dirty-indicator')).toHaveCount(0);
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { graph: { groups: { id: string; name: string; repeat?: number; collapsed?: boolean }[]; nodes: { name: string; group?: string }[] } };
  expect(saved.graph.groups).toHaveLength(1);
  expect(saved.graph.groups[0]).toMatchObject({ name: 'block', repeat: 3, collapsed: true });
  expect(saved.graph.nodes.find((n) => n.name === 'fc')?.group).toBe(saved.graph.groups[0].id);

  await page.reload();
  await expect(page.getByTestId('btn-open')).toBeEnabled();
  await fileDialog(page, 'btn-open', file);
  await expect(page.getByTestId('group-node-block')).toBeVisible();
  await expect(page.getByTestId('group-node-params-block')).toHaveText((3 * BLOCK_PARAMS).toLocaleString('en-US'));
  await page.getByTestId('group-expand-block').click();
  await expect(page.getByTestId('group-repeat-block')).toHaveText('×3');
  await expect(page.getByTestId('node-fc')).toBeVisible();
});

test('groups: suggested name, copy and paste as a new group, delete and undo, ungroup keeps the keys, layout keeps the group together', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  // the whole nn.Sequential: a part of it could not be the submodule linear_relu_stack while
  // linear_relu_stack.2 ... stay outside it (one attribute cannot be two modules)
  await page.getByTestId('node-linear_relu_stack.0').click();
  for (const i of [1, 2, 3, 4]) await page.getByTestId(`node-linear_relu_stack.${i}`).click({ modifiers: ['Shift'] });
  await page.getByTestId('btn-group').click();
  // the shared prefix is offered, and the names lose it: the keys stay linear_relu_stack.0.weight
  await expect(page.getByTestId('group-name-input')).toHaveValue('linear_relu_stack');
  await page.getByTestId('group-name-ok').click();
  await expect(page.getByTestId('group-frame-linear_relu_stack')).toBeVisible();
  await expect(page.getByTestId('node-0')).toBeVisible();
  await page.getByTestId('node-0').click();
  await expect(page.getByTestId('node-full-path')).toHaveText('linear_relu_stack.0');
  await expect.poll(() => params(page)).toBe(MLP_PARAMS);

  // copy the group (its header selects it) and paste: a second group with a unique name
  await page.getByTestId('group-header-linear_relu_stack').click();
  await page.keyboard.press('Control+c');
  await page.keyboard.press('Control+v');
  await expect(page.getByTestId('group-frame-linear_relu_stack_1')).toBeVisible();
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('group-frame-linear_relu_stack_1')).toHaveCount(0);

  // delete the selected group: it goes with its layers, the chain is reconnected; undo brings all back
  await page.getByTestId('group-header-linear_relu_stack').click();
  await page.keyboard.press('Delete');
  await expect(page.getByTestId('group-frame-linear_relu_stack')).toHaveCount(0);
  await expect(page.getByTestId('node-0')).toHaveCount(0);
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('group-frame-linear_relu_stack')).toBeVisible();
  await expect(page.getByTestId('node-0')).toBeVisible();

  // ungroup: the layers get their full names back
  await page.getByTestId('group-header-linear_relu_stack').click();
  await page.keyboard.press('Control+Shift+g');
  await expect(page.getByTestId('group-frame-linear_relu_stack')).toHaveCount(0);
  await expect(page.getByTestId('node-linear_relu_stack.0')).toBeVisible();
  await expect(page.getByTestId('node-linear_relu_stack.4')).toBeVisible();
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('group-frame-linear_relu_stack')).toBeVisible();

  // layout: the group's frame holds its layers and no other layer
  await page.getByTestId('btn-layout').click();
  await page.getByTestId('btn-fit').click();
  // read frame and layers in one go (the view may still be moving into place after the fit)
  const inside = () =>
    page.evaluate(() => {
      const box = (sel: string) => document.querySelector(sel)!.getBoundingClientRect();
      const f = box('[data-testid="group-frame-linear_relu_stack"]');
      const within = (name: string) => {
        const n = box(`[data-testid="node-${name}"]`);
        return n.left < f.right && f.left < n.right && n.top < f.bottom && f.top < n.bottom;
      };
      return ['0', '1', '2', '3', '4', 'input', 'flatten', 'loss_fn'].filter(within).join(',');
    });
  await expect.poll(inside).toBe('0,1,2,3,4');
});

test('the ResNet-8 template: its stages drawn as groups (downsample nested), one collapsed to a node with its shapes and parameters', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'resnet8');
  // laid out and fitted (projectOps.ts marks the canvas aria-busy meanwhile)
  await expect(page.getByTestId('canvas')).toHaveAttribute('aria-busy', 'false');
  for (const name of ['layer1', 'layer2', 'layer3']) await expect(page.getByTestId(`group-frame-${name}`)).toBeVisible();
  await expect(page.getByTestId('group-frame-downsample')).toHaveCount(2);
  await expect(page.getByTestId('group-repeat-layer2')).toHaveText('×1');
  // the template's layout keeps each stage's layers in its own frame: the stages' frames do not overlap
  const boxes = await Promise.all(['layer1', 'layer2', 'layer3'].map(async (n) => (await page.getByTestId(`group-frame-${n}`).boundingBox())!));
  for (let i = 0; i < 2; i++) expect(boxes[i].y + boxes[i].height).toBeLessThanOrEqual(boxes[i + 1].y + 1);
  await page.getByTestId('summary-depth').selectOption('2');
  await expect(page.getByTestId('summary-row-layer2.0')).toHaveAttribute('data-depth', '1');
  await expect(page.getByTestId('summary-row-layer2.0.conv1')).toHaveCount(0);
  await page.getByTestId('group-header-layer2').click();
  await expect(page.getByTestId('group-path')).toContainText('layer2');
  await shotAt(page, page.getByTestId('group-frame-layer2'), 'resnet8-groups-expanded');

  await page.getByTestId('group-collapse-layer2').click();
  await expect(page.getByTestId('group-node-layer2')).toBeVisible();
  // the template's batch is 128; layer2 halves the 28×28 map and doubles the channels (torchvision's stage 2)
  await expect(page.getByTestId('group-in-layer2')).toHaveText('128×16×28×28');
  await expect(page.getByTestId('group-out-layer2')).toHaveText('128×32×14×14');
  await expect(page.getByTestId('group-node-params-layer2')).toHaveText('14,528');
  await expect(page.getByTestId('group-frame-downsample')).toHaveCount(1); // layer2's is hidden with it
  await shotAt(page, page.getByTestId('group-node-layer2'), 'resnet8-groups-collapsed');
});

test("the group inspector's fields: a bad name is said and reverts on leaving the field, a good one renames; a bad Repeat stays in view with its error", async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('node-linear_relu_stack.0').click();
  for (const i of [1, 2, 3, 4]) await page.getByTestId(`node-linear_relu_stack.${i}`).click({ modifiers: ['Shift'] });
  await page.getByTestId('btn-group').click();
  await page.getByTestId('group-name-ok').click();
  await page.getByTestId('group-header-linear_relu_stack').click();
  const inspector = page.getByTestId('group-inspector');
  const name = inspector.getByTestId('group-name');
  await name.fill('bad.name');
  await expect(inspector.getByTestId('group-name-field-error')).toContainText('no dots');
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('group-frame-linear_relu_stack')).toBeVisible();
  await inspector.screenshot({ path: join(SHOTS, 'group-inspector-bad-name.png') });
  await name.blur();
  await expect(name).toHaveValue('linear_relu_stack');
  await expect(inspector.getByTestId('group-name-field-error')).toHaveCount(0);
  await name.fill('stack');
  await expect(page.getByTestId('group-frame-stack')).toBeVisible();
  await expect(name).toHaveAttribute('aria-invalid', 'false');

  const repeat = inspector.getByTestId('group-repeat');
  await repeat.fill('99');
  await expect(inspector.getByRole('alert')).toContainText('Repeat must be a whole number from 1 to 64');
  await repeat.blur();
  await expect(repeat).toHaveValue('99');
  await expect(inspector.getByRole('alert')).toBeVisible();
  await repeat.fill('2');
  await expect(page.getByTestId('group-repeat-stack')).toHaveText('×2');
  await expect(inspector.getByRole('alert')).toHaveCount(0);
  // an undo (the app's, from outside the field) is a new committed value: the field follows it
  await repeat.blur();
  await page.keyboard.press('Control+z');
  await expect(repeat).toHaveValue('');
});
