/**
 * The graph diff (issue 13): Compare ▸ With the Saved File marks added and changed layers on the canvas and lists
 * every difference (removed layers too) in a panel that follows the graph as it is edited; a stored run's
 * "Compare with current" compares the graph it trained; a checkpoint is compared by state-dict keys and shapes.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp, selectNode, setParam, setTrainingFields, submitPathDialog } from './helpers';

const SHOTS = join(process.cwd(), 'test-results', 'issue13');
mkdirSync(SHOTS, { recursive: true });

async function compareMenu(page: Page, item: 'saved' | 'project' | 'checkpoint'): Promise<void> {
  await page.getByTestId('btn-compare').click();
  await page.getByTestId(`menu-compare-${item}`).click();
}

const entry = (page: Page, name: string): Locator => page.getByTestId(`diff-item-${name}`);

/** Waits until a loaded template has been laid out and fitted (projectOps.ts marks the canvas aria-busy meanwhile). */
async function layoutSettled(page: Page): Promise<void> {
  await expect(page.getByTestId('canvas')).toHaveAttribute('aria-busy', 'false');
}

async function saveAs(page: Page, file: string): Promise<void> {
  await page.getByTestId('btn-save-as').click();
  const dialog = page.getByTestId('dialog-save');
  await expect(dialog.getByTestId('dialog-listing')).toBeVisible();
  await submitPathDialog(dialog, file);
  await expect(page.getByTestId('dirty-indicator')).toHaveCount(0);
}

test('Compare with the saved file: a changed, a deleted and an added layer are marked and listed; the diff follows edits and closes', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  // nothing saved yet: nothing to compare with, and the menu says why
  await page.getByTestId('btn-compare').click();
  await expect(page.getByTestId('menu-compare-saved')).toHaveAttribute('aria-disabled', 'true');
  await page.keyboard.press('Escape');
  await layoutSettled(page);
  const file = join(server.workDir, 'quickstart.netloom.json');
  await saveAs(page, file);

  await setParam(page, 'linear_relu_stack.2', 'out_features', '256');
  await selectNode(page, 'linear_relu_stack.3');
  await page.getByTestId('canvas').press('Delete');
  await expect(page.getByTestId('node-linear_relu_stack.3')).toHaveCount(0);
  await page.getByTestId('palette-item-Dropout').dragTo(page.getByTestId('canvas'), { targetPosition: { x: 110, y: 330 } });
  const dropout = page.locator('.layer-node[data-type="Dropout"]');
  await expect(dropout).toHaveCount(1);
  const dropoutName = (await dropout.getAttribute('data-testid'))!.replace(/^node-/, '');

  await compareMenu(page, 'saved');
  const panel = page.getByTestId('diff-panel');
  await expect(panel).toContainText('Compared with the saved file (quickstart.netloom.json)');
  await expect(entry(page, 'linear_relu_stack.2')).toHaveAttribute('data-status', 'changed');
  await expect(entry(page, 'linear_relu_stack.2')).toContainText('out_features 512 → 256');
  await expect(entry(page, 'linear_relu_stack.3')).toHaveAttribute('data-status', 'removed');
  await expect(entry(page, dropoutName)).toHaveAttribute('data-status', 'added');
  // the next Linear's in_features ("auto") resolves to the new width: its weights change shape too
  await expect(entry(page, 'linear_relu_stack.4')).toContainText('in_features 512 → 256');
  await expect(page.getByTestId('diff-summary')).toContainText('1 added · 1 removed · 2 changed');
  await expect(page.getByTestId('diff-edges')).toContainText('− linear_relu_stack.3 → linear_relu_stack.4');
  // marks on the canvas: added and changed; an unchanged layer has none
  await expect(page.getByTestId('node-linear_relu_stack.2')).toHaveAttribute('data-diff', 'changed');
  await expect(page.getByTestId(`node-${dropoutName}`)).toHaveAttribute('data-diff', 'added');
  await expect(page.getByTestId('diff-badge-linear_relu_stack.2')).toHaveText('changed');
  await expect(page.getByTestId('node-linear_relu_stack.0')).not.toHaveAttribute('data-diff', /./);
  // the deleted layer's ghost sits where the saved file had it
  await expect(page.getByTestId('diff-ghost-linear_relu_stack.3')).toBeAttached();
  await expect(page.getByTestId('diff-ghost-linear_relu_stack.3')).toContainText('ReLU');
  const saved = JSON.parse(readFileSync(file, 'utf8')).graph.nodes.find((n: { name: string }) => n.name === 'linear_relu_stack.3').position;
  await expect(page.getByTestId('diff-ghost-linear_relu_stack.3')).toHaveCSS('transform', `matrix(1, 0, 0, 1, ${saved.x}, ${saved.y})`);
  // the layout had settled before the save: the ghost fills the gap the deleted layer left (measured in one frame)
  const [above, ghost, below] = await page.evaluate(() =>
    ['node-linear_relu_stack.2', 'diff-ghost-linear_relu_stack.3', 'node-linear_relu_stack.4'].map((id) => {
      const r = document.querySelector(`[data-testid="${id}"]`)!.getBoundingClientRect();
      return { x: r.x, y: r.y, height: r.height };
    }),
  );
  expect(ghost.y).toBeGreaterThan(above.y + above.height);
  expect(ghost.y + ghost.height).toBeLessThan(below.y);
  expect(Math.abs(ghost.x - above.x)).toBeLessThan(4);

  // a list entry selects its node
  await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
  await entry(page, 'linear_relu_stack.2').getByRole('button').click();
  await expect(page.getByTestId('node-name')).toHaveValue('linear_relu_stack.2');
  await expect(page.getByTestId('node-linear_relu_stack.2')).toBeInViewport();
  await page.screenshot({ path: join(SHOTS, 'graph-diff.png') });

  // the diff follows the graph: put the width back and that change is gone
  await setParam(page, 'linear_relu_stack.2', 'out_features', '512');
  await expect(entry(page, 'linear_relu_stack.2')).toHaveCount(0);
  await expect(page.getByTestId('node-linear_relu_stack.2')).not.toHaveAttribute('data-diff', /./);
  await expect(entry(page, dropoutName)).toHaveAttribute('data-status', 'added');

  await page.getByTestId('diff-close').click();
  await expect(panel).toHaveCount(0);
  await expect(page.locator('.layer-node[data-diff]')).toHaveCount(0);
  await expect(page.locator('.diff-ghost')).toHaveCount(0);
});

test("a run's Compare with current shows what changed since it trained; a checkpoint of another graph is compared by keys and shapes", async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('summary-toggle').click(); // room for the training panel
  await page.getByTestId('training-toggle').click();
  await setTrainingFields(page, { dataset: 'mnist', limitTrain: '1000', epochs: '1', batchSize: '100' });
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 60_000);
  const run = page.getByTestId('run-item');
  await expect(run).toHaveCount(1);

  // its weights, saved: a checkpoint of the graph as it was
  const ckpt = join(server.workDir, 'trained.safetensors');
  await page.getByTestId('btn-checkpoint-save').click();
  await submitPathDialog(page.getByTestId('dialog-checkpoint'), ckpt);

  await setParam(page, 'linear_relu_stack.0', 'out_features', '128');
  await run.getByTestId('run-compare').click();
  const panel = page.getByTestId('diff-panel');
  await expect(panel).toContainText('Compared with run #1');
  await expect(entry(page, 'linear_relu_stack.0')).toContainText('out_features 512 → 128');
  await expect(page.getByTestId('node-linear_relu_stack.0')).toHaveAttribute('data-diff', 'changed');

  await compareMenu(page, 'checkpoint');
  const dialog = page.getByTestId('dialog-compare');
  await submitPathDialog(dialog, ckpt);
  await expect(panel).toContainText('Compared with trained.safetensors');
  await expect(entry(page, 'linear_relu_stack.0')).toContainText('linear_relu_stack.0.weight [512, 784] → [128, 784]');
  await expect(entry(page, 'linear_relu_stack.2')).toContainText('linear_relu_stack.2.weight [512, 512] → [512, 128]');
  await expect(entry(page, 'linear_relu_stack.4')).toHaveCount(0); // its keys fit: unchanged
  await expect(panel).toContainText('holds weights only');
  await page.screenshot({ path: join(SHOTS, 'graph-diff-checkpoint.png') });

  // a file that is not a checkpoint stays in the dialog with the engine's reason
  await compareMenu(page, 'checkpoint');
  await dialog.getByTestId('dialog-path').fill(join(server.workDir, 'nothing.safetensors'));
  await dialog.getByTestId('dialog-confirm').click();
  await expect(dialog.getByTestId('dialog-error')).toBeVisible();
  await dialog.getByTestId('dialog-cancel').click();

  // another project closes the comparison: its reference belonged to this one
  await newFromTemplate(page, 'lenet5', { discardFirst: true, discardAfter: true });
  await expect(panel).toHaveCount(0);
});

test('the diff follows a change to a group alone: renaming a group renames every layer under it', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await layoutSettled(page);
  await saveAs(page, join(server.workDir, 'grouped.netloom.json'));
  // grouped under the name its layers already share: every state-dict key stays as saved
  await page.getByTestId('node-linear_relu_stack.0').click();
  for (const i of [1, 2, 3, 4]) await page.getByTestId(`node-linear_relu_stack.${i}`).click({ modifiers: ['Shift'] });
  await page.getByTestId('btn-group').click();
  await page.getByTestId('group-name-ok').click();
  await expect(page.getByTestId('group-frame-linear_relu_stack')).toBeVisible();
  await compareMenu(page, 'saved');
  await expect(page.getByTestId('diff-summary')).toContainText('no differences');
  // a rename of the group touches no layer, only the group: the keys under it are new all the same
  await page.getByTestId('group-header-linear_relu_stack').click();
  await page.getByTestId('group-inspector').getByTestId('group-name').fill('stack');
  await expect(page.getByTestId('group-frame-stack')).toBeVisible();
  await expect(entry(page, 'stack.0')).toHaveAttribute('data-status', 'renamed');
  await expect(page.getByTestId('diff-summary')).not.toContainText('no differences');
});
