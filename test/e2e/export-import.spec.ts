/**
 * File ▸ Export and File ▸ Import in the browser (`netloom serve`, the toolbar's Import and Export menus, which the
 * desktop menu's File ▸ Import / Export items run as the same actions): the quickstart trained briefly, exported in
 * each format through the UI, the files checked on disk by their own bytes, and weights imported back through the
 * UI with the per-node load report. The menus work from the keyboard.
 *
 * Every format is the real writer and reader (.pt, ONNX, PyTorch code). Screenshots of the Export menu and the
 * import dialogs go to test-results/e2e/screens/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, screenshot, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp, setTrainingFields, submitPathDialog } from './helpers';
import { writeCheckpointFile } from '../../engine/io/checkpoint';
import { MODULE_PREFIX_NOTE, readCheckpoint } from '../../engine/train/checkpoints';

/** Issue 12's screenshots of the Import/Export flows, looked at by eye (test-results/issue12/). */
const ISSUE12 = join(process.cwd(), 'test-results', 'issue12');

/** Dismisses the toasts of the steps before (already checked): they would cover what a screenshot shows. */
async function dismissToasts(page: Page): Promise<void> {
  const toasts = page.getByTestId('toast');
  for (let n = await toasts.count(); n > 0; n--) await toasts.first().getByRole('button', { name: 'dismiss' }).click();
  await expect(toasts).toHaveCount(0);
}

async function issue12Shot(page: Page, name: string): Promise<void> {
  mkdirSync(ISSUE12, { recursive: true });
  await page.screenshot({ path: join(ISSUE12, `${name}.png`), fullPage: false });
}

/** A new project from a template (the quickstart unless said), a short epoch of training, finished. */
async function trainedQuickstart(page: Page, template = 'quickstart'): Promise<void> {
  await newFromTemplate(page, template);
  await page.getByTestId('summary-toggle').click(); // room for the Training panel
  await page.getByTestId('training-toggle').click();
  await setTrainingFields(page, { dataset: 'mnist', limitTrain: '640', epochs: '1', batchSize: '64' });
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 30_000);
}

/** Export ▸ <item>: the export dialog, typed path, confirmed; waits for the success toast. */
async function exportThroughMenu(page: Page, item: 'safetensors' | 'pt' | 'onnx' | 'pytorch', path: string, toast: string): Promise<void> {
  await page.getByTestId('btn-export').click();
  await page.getByTestId(`menu-export-${item}`).click();
  const dialog = page.getByTestId('dialog-checkpoint');
  await expect(dialog).toBeVisible();
  await submitPathDialog(dialog, path);
  await expect(page.getByTestId('toast').filter({ hasText: toast })).toBeVisible();
}

/** Import ▸ Weights…: the path, checked against the graph; the per-node report shows in the Training panel. */
async function importWeights(page: Page, path: string): Promise<void> {
  await page.getByTestId('btn-import').click();
  await page.getByTestId('menu-import-weights').click();
  const dialog = page.getByTestId('dialog-checkpoint-load');
  await expect(dialog).toBeVisible();
  await submitPathDialog(dialog, path);
  await expect(page.getByTestId('ckpt-report')).toBeVisible();
}

test('the Export menu: disabled formats say why; keyboard access; safetensors exported and imported back with the load report', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');

  // before any run: only PyTorch code can be exported (it needs no weights); the others say what to do
  await page.getByTestId('btn-export').click();
  const menu = page.getByTestId('btn-export-menu');
  await expect(menu).toBeVisible();
  for (const item of ['safetensors', 'pt', 'onnx']) await expect(menu.getByTestId(`menu-export-${item}`)).toHaveAttribute('aria-disabled', 'true');
  await expect(menu.getByTestId('menu-export-onnx')).toHaveAttribute('title', 'Train the model first (or load weights and evaluate them).');
  await expect(menu.getByTestId('menu-export-pytorch')).toHaveAttribute('aria-disabled', 'false');
  await page.keyboard.press('Escape');
  await expect(menu).toBeHidden();
  await expect(page.getByTestId('btn-export')).toBeFocused(); // Escape gives the focus back to the button

  await page.getByTestId('summary-toggle').click();
  await page.getByTestId('training-toggle').click();
  await setTrainingFields(page, { dataset: 'mnist', limitTrain: '640', epochs: '1', batchSize: '64' });
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 30_000);

  // keyboard: Enter opens the menu on its first item, ↓ moves, Enter runs it
  await page.getByTestId('btn-export').focus();
  await page.keyboard.press('Enter');
  await expect(menu.getByTestId('menu-export-safetensors')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(menu.getByTestId('menu-export-pt')).toBeFocused();
  await screenshot(page, 'export-menu');
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('dialog-checkpoint');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('heading')).toHaveText('Export PyTorch state dict');
  await expect(dialog.getByTestId('dialog-path')).toHaveValue(/\/pytorch-quickstart-fashionmnist-mlp\.pt$/);
  await expect(dialog.getByTestId('ckpt-format-pt')).toBeChecked();
  await dialog.getByTestId('dialog-cancel').click();

  // Save checkpoint: asking for the optimizer state proposes PyTorch's checkpoint layout (.pt); a typed name decides
  await page.getByTestId('btn-export').click();
  await page.getByTestId('menu-export-safetensors').click();
  await expect(dialog.getByTestId('dialog-path')).toHaveValue(/\.safetensors$/);
  await dialog.getByTestId('ckpt-with-optimizer').check();
  await expect(dialog.getByTestId('dialog-path')).toHaveValue(/\.pt$/);
  await expect(dialog.getByTestId('ckpt-format-pt')).toBeChecked();
  await expect(dialog.getByRole('heading')).toHaveText('Save checkpoint');
  await screenshot(page, 'export-checkpoint-dialog');
  await dialog.getByTestId('ckpt-with-optimizer').uncheck();
  const file = join(server.workDir, 'mlp.safetensors');
  await dialog.getByTestId('dialog-path').fill(file);
  await expect(dialog.getByTestId('ckpt-format-safetensors')).toBeChecked();
  await dialog.getByTestId('dialog-confirm').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: `Checkpoint saved to ${file} (last weights)` })).toBeVisible();
  expect(readFileSync(file).subarray(8, 9).toString()).toBe('{'); // a safetensors header

  // Import ▸ Weights…: the dialog takes every format the engine reads; the report fits the graph node by node
  await page.getByTestId('btn-import').click();
  await page.getByTestId('menu-import-weights').click();
  const load = page.getByTestId('dialog-checkpoint-load');
  await expect(load).toContainText('safetensors, PyTorch .pt/.pth/.bin or ONNX');
  // the in-page chooser follows the folder typed and lists the weights files there (and folders), nothing else
  for (const other of ['notes.txt', 'model.pth', 'model.onnx']) writeFileSync(join(server.workDir, other), 'x');
  await load.getByTestId('dialog-path').fill(`${server.workDir}/`);
  const listing = load.getByTestId('dialog-listing');
  await expect(listing.getByTestId('dialog-entry-mlp.safetensors')).toBeVisible();
  await expect(listing.locator('.file-entry')).toHaveText(['◆mlp.safetensors', '◆model.onnx', '◆model.pth']);
  await listing.getByTestId('dialog-entry-mlp.safetensors').click();
  await expect(load.getByTestId('dialog-path')).toHaveValue(file);
  await screenshot(page, 'import-weights-dialog');
  await load.getByTestId('dialog-confirm').click();
  await expect(load).toBeHidden();
  const report = page.getByTestId('ckpt-report');
  await expect(report).toHaveAttribute('data-ok', 'true');
  await expect(report).toContainText('checkpoint mlp.safetensors fits this graph');
  await report.scrollIntoViewIfNeeded();
  await screenshot(page, 'import-weights-report');

  // a file of no weights format is refused by its name, in the dialog, with what to do
  await page.getByTestId('btn-import').click();
  await page.getByTestId('menu-import-weights').click();
  await load.getByTestId('dialog-path').fill(join(server.workDir, 'notes.txt'));
  await load.getByTestId('dialog-confirm').click();
  await expect(load.getByTestId('dialog-error')).toContainText('Netloom reads checkpoints only from .safetensors, .pt, .pth, .bin, .onnx files, and notes.txt is not one');
  await load.getByTestId('dialog-cancel').click();
});

test('Import ▸ ONNX Model…: keyboard access, and a file that is not an ONNX model is refused in the dialog', async ({ page, server }) => {
  await openApp(page, server);
  await page.getByTestId('btn-import').focus();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('menu-import-weights')).toHaveAttribute('aria-disabled', 'true'); // an empty canvas takes no weights
  await expect(page.getByTestId('menu-import-onnx')).toBeFocused(); // so the first enabled item has the focus
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('dialog-import-onnx');
  await expect(dialog).toBeVisible();
  const notOnnx = join(server.workDir, 'model.pt');
  writeFileSync(notOnnx, 'not a model');
  await dialog.getByTestId('dialog-path').fill(notOnnx);
  await dialog.getByTestId('dialog-confirm').click();
  await expect(dialog.getByTestId('dialog-error')).toContainText('Netloom reads ONNX models only from .onnx files, and model.pt is not one');
  await expect(dialog.getByTestId('dialog-error')).toContainText('Choose a .onnx file.');
  await screenshot(page, 'import-onnx-dialog');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
});

test('a .pt export is torch.save\'s zip and imports back with the load report', async ({ page, server }) => {
  await openApp(page, server);
  await trainedQuickstart(page);
  const pt = join(server.workDir, 'mlp.pt');
  await exportThroughMenu(page, 'pt', pt, `Exported PyTorch state dict to ${pt} (last weights)`);
  expect(readFileSync(pt).subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
  const resumable = join(server.workDir, 'resume.pt');
  await page.getByTestId('btn-export').click();
  await page.getByTestId('menu-export-pt').click();
  const dialog = page.getByTestId('dialog-checkpoint');
  await dialog.getByTestId('ckpt-with-optimizer').check();
  await submitPathDialog(dialog, resumable);
  await expect(page.getByTestId('toast').filter({ hasText: `Exported PyTorch state dict to ${resumable} (last weights and optimizer state)` })).toBeVisible();
  await importWeights(page, pt);
  await expect(page.getByTestId('ckpt-report')).toHaveAttribute('data-ok', 'true');
  await expect(page.getByTestId('btn-checkpoint-resume')).toHaveCount(0); // weights alone: no run to continue
  await importWeights(page, resumable);
  await expect(page.getByTestId('ckpt-report')).toHaveAttribute('data-ok', 'true');

  // the file saved with the optimizer state continues its run: a second epoch, not two new ones
  await page.getByTestId('train-epochs').fill('2');
  await page.getByTestId('btn-checkpoint-resume').click();
  await expectTrainState(page, 'finished', 30_000);
  await expect(page.getByTestId('train-progress')).toContainText('epoch 2/2');
  await expect(page.getByTestId('chart-accuracy')).toHaveAttribute('data-points', '1'); // epoch 2's test accuracy alone
});

test('an ONNX export is a model file that imports back as weights and as a project', async ({ page, server }) => {
  await openApp(page, server);
  await trainedQuickstart(page);
  const onnx = join(server.workDir, 'model.onnx');
  await exportThroughMenu(page, 'onnx', onnx, `Exported ONNX model to ${onnx} (last weights)`);
  expect(readFileSync(onnx)[0]).toBe(0x08); // ModelProto: ir_version first
  await importWeights(page, onnx);
  await expect(page.getByTestId('ckpt-report')).toHaveAttribute('data-ok', 'true');

  await page.getByTestId('btn-import').click();
  await page.getByTestId('menu-import-onnx').click();
  const discard = page.getByTestId('dialog-confirm-discard');
  if (await discard.isVisible().catch(() => false)) await discard.getByTestId('dialog-confirm').click();
  await submitPathDialog(page.getByTestId('dialog-import-onnx'), onnx);
  await expect(page.getByTestId('toast').filter({ hasText: `Imported ONNX model ${onnx}` })).toBeVisible();
  await expect(page.getByTestId('project-title')).toContainText('unsaved');
  const report = page.getByTestId('ckpt-report');
  await expect(report).toContainText('weights of model.onnx');
  await expect(report).toHaveAttribute('data-ok', 'true');
  await expect(page.getByTestId('ckpt-notes')).toBeVisible(); // what the import assumed (the loss, at least)
  await page.getByTestId('btn-checkpoint-evaluate').click();
  await expect(page.getByTestId('eval-accuracy')).toBeVisible();
});

test('PyTorch code goes into a folder: with model.pt after training, code only before', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  const codeOnly = join(server.workDir, 'code-only');
  await page.getByTestId('btn-export').click();
  await page.getByTestId('menu-export-pytorch').click();
  await expect(page.getByTestId('export-no-weights')).toBeVisible();
  await submitPathDialog(page.getByTestId('dialog-checkpoint'), codeOnly);
  await expect(page.getByTestId('toast').filter({ hasText: `Exported PyTorch code to ${codeOnly}: ` })).toBeVisible();
  expect(existsSync(join(codeOnly, 'model.py')) && existsSync(join(codeOnly, 'train.py'))).toBe(true);
  expect(existsSync(join(codeOnly, 'model.pt'))).toBe(false);

  await page.getByTestId('summary-toggle').click();
  await page.getByTestId('training-toggle').click();
  await setTrainingFields(page, { dataset: 'mnist', limitTrain: '640', epochs: '1', batchSize: '64' });
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 30_000);
  const folder = join(server.workDir, 'mlp-code');
  await exportThroughMenu(page, 'pytorch', folder, `Exported PyTorch code to ${folder}: `);
  for (const f of ['model.py', 'train.py', 'model.pt']) expect(existsSync(join(folder, f)), f).toBe(true);
});

test('the Export menu and the PyTorch code dialog; LeNet-5 through ONNX onto the canvas; a DataParallel .pt\'s load report', async ({ page, server }) => {
  await openApp(page, server);
  await trainedQuickstart(page, 'lenet5');

  await dismissToasts(page);
  await page.getByTestId('btn-export').click();
  const menu = page.getByTestId('btn-export-menu');
  for (const item of ['safetensors', 'pt', 'onnx', 'pytorch']) await expect(menu.getByTestId(`menu-export-${item}`)).toHaveAttribute('aria-disabled', 'false');
  await issue12Shot(page, 'export-menu');
  await menu.getByTestId('menu-export-pytorch').click();
  const dialog = page.getByTestId('dialog-checkpoint');
  await expect(dialog.getByRole('heading')).toHaveText('Export PyTorch code');
  await expect(dialog.getByTestId('dialog-path')).toHaveValue(/-pytorch$/);
  await issue12Shot(page, 'export-pytorch-code-dialog');
  await dialog.getByTestId('dialog-cancel').click();

  // LeNet-5 exported as ONNX by Netloom, then imported as a new project: its layers on the canvas, its weights fitting
  const onnx = join(server.workDir, 'lenet5.onnx');
  await exportThroughMenu(page, 'onnx', onnx, `Exported ONNX model to ${onnx} (last weights)`);
  const pt = join(server.workDir, 'lenet5.pt');
  await exportThroughMenu(page, 'pt', pt, `Exported PyTorch state dict to ${pt} (last weights)`);
  await page.getByTestId('btn-import').click();
  await page.getByTestId('menu-import-onnx').click();
  const discard = page.getByTestId('dialog-confirm-discard');
  if (await discard.isVisible().catch(() => false)) await discard.getByTestId('dialog-confirm').click();
  await submitPathDialog(page.getByTestId('dialog-import-onnx'), onnx);
  await expect(page.getByTestId('toast').filter({ hasText: `Imported ONNX model ${onnx}` })).toBeVisible();
  await expect(page.getByTestId('ckpt-report')).toHaveAttribute('data-ok', 'true');
  await expect(page.getByTestId('project-title')).toContainText('unsaved');
  await expect(page.locator('.react-flow__node')).toHaveCount(14); // LeNet-5's 13 layers and the loss the import adds
  await dismissToasts(page);
  await issue12Shot(page, 'onnx-imported-lenet5-report');
  // the whole graph: the Training panel folded away, the canvas fitted
  await page.getByTestId('training-toggle').click();
  await page.locator('.react-flow__controls-fitview').click();
  await issue12Shot(page, 'onnx-imported-lenet5');
  await page.getByTestId('training-toggle').click();

  // the same weights as a DataParallel model saves them ('module.' before every key): they fit, and the report says why
  const { tensors } = await readCheckpoint(pt);
  const dp = join(server.workDir, 'lenet5-dataparallel.pt');
  await writeCheckpointFile(dp, Object.fromEntries(Object.entries(tensors).map(([k, t]) => [`module.${k}`, t])), { format: 'pt' });
  await importWeights(page, dp);
  const report = page.getByTestId('ckpt-report');
  await expect(report).toHaveAttribute('data-ok', 'true');
  await expect(report).toContainText('checkpoint lenet5-dataparallel.pt fits this graph');
  await expect(page.getByTestId('ckpt-notes')).toContainText(MODULE_PREFIX_NOTE);
  await dismissToasts(page);
  await report.scrollIntoViewIfNeeded();
  await issue12Shot(page, 'load-report-module-prefix');
});
