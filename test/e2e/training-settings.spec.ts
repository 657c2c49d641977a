/**
 * The Training panel's settings live in the project: optimizer and its parameters, an LR scheduler,
 * DataLoader options, seed, device and the loss are edited in the panel (undoably), saved in the
 * project's training section, shown again after reopening it; invalid values are reported inline
 * (the engine's messages) and keep Start disabled with the reason as its tooltip.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, screenshot, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp, pauseTraining, setTrainingFields, startTraining, submitPathDialog } from './helpers';

/** Closes the toasts (saved, opened ...) so that a screenshot shows the panel. */
async function dismissToasts(page: Page): Promise<void> {
  const toasts = page.getByTestId('toast');
  while ((await toasts.count()) > 0) await toasts.first().getByRole('button', { name: 'dismiss' }).click();
}

async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  const html = page.locator('html');
  if ((await html.getAttribute('data-theme')) !== theme) await page.getByTestId('btn-theme').click();
  await expect(html).toHaveAttribute('data-theme', theme);
}

test('training settings: optimizer, scheduler, DataLoader, seed, device and loss are saved in the project, checked inline, undoable', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('summary-toggle').click(); // room for the panel
  await page.getByTestId('training-toggle').click();
  const start = page.getByTestId('btn-train-start');
  await expect(start).toBeEnabled();

  // optimizer: Adam and its betas (torch's names)
  await page.getByTestId('train-optimizer').selectOption('adam');
  await expect(page.getByTestId('train-lr')).toHaveValue('0.001');
  await page.getByTestId('train-opt-betas').fill('0.8, 0.99');
  // an LR scheduler with its parameters
  await page.getByTestId('train-scheduler').selectOption('StepLR');
  await page.getByTestId('train-sched-step_size').fill('1');
  await page.getByTestId('train-sched-gamma').fill('0.5');
  // DataLoader, seed, device
  await page.getByTestId('train-more').click();
  await page.getByTestId('train-shuffle').check();
  await page.getByTestId('train-seed').fill('7');
  const device = page.getByTestId('train-device');
  // without a GPU there is nothing to choose (test/e2e/device.spec.ts has the device select's own checks)
  await expect(device.locator('option')).toHaveText(['Auto (CPU)', /^CPU \(.+, .+, \d+ threads?\)$/]);
  await expect(device).toBeDisabled();
  // the loss: the node changes type, keeps its name and edges
  const loss = page.getByTestId('train-loss');
  await expect(loss.locator('option')).toHaveText(['CrossEntropyLoss', 'NLLLoss', 'MSELoss', 'L1Loss', 'SmoothL1Loss', 'BCEWithLogitsLoss']);
  await loss.selectOption('NLLLoss');
  await expect(page.getByTestId('node-loss_fn')).toContainText('NLLLoss');
  await expect(page.getByTestId('train-opt-betas-error')).toHaveCount(0);
  await expect(start).toBeEnabled();

  await dismissToasts(page);
  await setTheme(page, 'light');
  await screenshot(page, 'training-settings');
  await setTheme(page, 'dark');
  await screenshot(page, 'training-settings-dark');
  await setTheme(page, 'light');

  // save: the project's training section holds them
  const file = join(server.workDir, 'settings.netloom.json');
  await page.getByTestId('btn-save-as').click();
  const dialog = page.getByTestId('dialog-save');
  await expect(dialog.getByTestId('dialog-listing')).toBeVisible();
  await submitPathDialog(dialog, file);
  await expect.poll(() => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')).training?.seed;
    } catch {
      return null;
    }
  }).toBe(7);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  expect(saved.training).toMatchObject({
    shuffle: true,
    seed: 7,
    device: 'auto',
    optimizer: { type: 'Adam', betas: [0.8, 0.99] },
    scheduler: { type: 'StepLR', step_size: 1, gamma: 0.5 },
  });
  const lossNode = saved.graph.nodes.find((n: { name: string }) => n.name === 'loss_fn');
  expect(lossNode.type).toBe('NLLLoss');
  expect(saved.graph.edges.some((e: { target: string }) => e.target === lossNode.id)).toBe(true);

  // reopen: the panel shows them
  await newFromTemplate(page, 'quickstart');
  await expect(page.getByTestId('train-optimizer')).toHaveValue('sgd');
  await page.getByTestId('btn-open').click();
  const open = page.getByTestId('dialog-open');
  await submitPathDialog(open, file);
  await expect(page.getByTestId('train-optimizer')).toHaveValue('adam');
  await expect(page.getByTestId('train-opt-betas')).toHaveValue('0.8, 0.99');
  await expect(page.getByTestId('train-scheduler')).toHaveValue('StepLR');
  await expect(page.getByTestId('train-sched-step_size')).toHaveValue('1');
  await expect(page.getByTestId('train-loss')).toHaveValue('NLLLoss');
  if ((await page.getByTestId('train-more').getAttribute('aria-expanded')) !== 'true') await page.getByTestId('train-more').click();
  await expect(page.getByTestId('train-shuffle')).toBeChecked();
  await expect(page.getByTestId('train-seed')).toHaveValue('7');
  await expect(page.getByTestId('train-device')).toHaveValue('auto');

  // invalid values: the message inline, Start disabled with the reason as its tooltip
  await page.getByTestId('train-optimizer').selectOption('sgd');
  await page.getByTestId('train-opt-momentum').fill('-0.5');
  await expect(page.getByTestId('train-opt-momentum-error')).toContainText('momentum');
  await expect(start).toBeDisabled();
  await expect(start).toHaveAttribute('title', /momentum/);
  await page.getByTestId('train-opt-momentum').fill('0.9');
  await expect(page.getByTestId('train-opt-momentum-error')).toHaveCount(0);
  await expect(start).toBeEnabled();

  await page.getByTestId('train-scheduler').selectOption('MultiStepLR');
  await page.getByTestId('train-sched-milestones').fill('3, 2');
  // the engine's own message
  await expect(page.getByTestId('train-sched-milestones-error')).toContainText('milestones must be strictly increasing, but 2 follows 3');
  await expect(start).toBeDisabled();
  await expect(start).toHaveAttribute('title', /strictly increasing/);
  await dismissToasts(page);
  await screenshot(page, 'training-settings-invalid');

  // undo restores the previous settings, step by step
  await page.getByTestId('btn-undo').click();
  await expect(page.getByTestId('train-sched-milestones')).not.toHaveValue('3, 2');
  await expect(page.getByTestId('train-sched-milestones-error')).toHaveCount(0);
  await expect(start).toBeEnabled();
  await page.getByTestId('btn-undo').click(); // MultiStepLR -> StepLR
  await expect(page.getByTestId('train-scheduler')).toHaveValue('StepLR');
  await page.getByTestId('btn-undo').click(); // momentum 0.9 -> (back to -0.5 was never valid: the default)
  await page.getByTestId('btn-undo').click(); // SGD -> Adam
  await expect(page.getByTestId('train-optimizer')).toHaveValue('adam');
  await expect(page.getByTestId('train-opt-betas')).toHaveValue('0.8, 0.99');
});

test('while paused every optimizer value Resume can change is editable; Resume sends the changed ones and the chart marks them', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('summary-toggle').click();
  await page.getByTestId('training-toggle').click();
  await setTrainingFields(page, { dataset: 'mnist', limitTrain: '2000', epochs: '1', batchSize: '1' });
  await page.getByTestId('train-more').click();
  await startTraining(page);
  await expect(page.getByTestId('train-opt-momentum')).toBeDisabled();
  await pauseTraining(page);

  // HyperDto fields: editable; the rest: not
  for (const id of ['train-lr', 'train-opt-momentum', 'train-opt-dampening', 'train-opt-weight_decay', 'train-opt-nesterov']) await expect(page.getByTestId(id)).toBeEnabled();
  for (const id of ['train-optimizer', 'train-opt-maximize', 'train-epochs', 'train-scheduler', 'train-seed', 'train-loss']) await expect(page.getByTestId(id)).toBeDisabled();
  await page.getByTestId('train-lr').fill('0.01');
  await page.getByTestId('train-opt-momentum').fill('0.5');
  await page.getByTestId('btn-train-resume').click();
  const change = page.getByTestId('hyper-change');
  await expect(change).toHaveCount(1);
  await expect(change).toHaveText(/lr 0\.001 → 0\.01, momentum 0 → 0\.5 at step \d+$/);
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-changes', '1');
  await expectTrainState(page, 'finished', 60_000);
  // the edits are the project's settings now
  await expect(page.getByTestId('train-opt-momentum')).toHaveValue('0.5');
});
