/**
 * Saving onto a file that exists asks first, in the browser's own dialogs: the engine refuses to
 * replace it (NL_EXISTS), the dialog says so and its button becomes Replace; the file is unchanged
 * until the user presses it. Covers Save as (projects) and Save checkpoint.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp } from './helpers';

const snapshot = (f: string) => ({ bytes: readFileSync(f), mtime: statSync(f).mtimeMs });

test('Save as and Save checkpoint onto an existing file: the dialog asks, the file stays until Replace', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'iris-mlp', { discardFirst: true, discardAfter: true });

  // ---- Save as onto an existing project file
  const existing = join(server.workDir, 'existing.netloom');
  writeFileSync(existing, `${JSON.stringify({ ...JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8')), name: 'Old one' })}\n`);
  const before = snapshot(existing);
  await page.getByTestId('btn-save-as').click();
  const save = page.getByTestId('dialog-save');
  await expect(save.getByTestId('dialog-listing')).toBeVisible();
  await save.getByTestId('dialog-path').fill(existing);
  await expect(save.getByTestId('dialog-confirm')).toHaveText('Save');
  await save.getByTestId('dialog-confirm').click();
  await expect(save.getByTestId('dialog-error')).toContainText(`${existing} already exists`);
  await expect(save.getByTestId('dialog-confirm')).toHaveText('Replace');
  expect(snapshot(existing)).toEqual(before);
  // another name asks anew; back to the existing one, Replace replaces it
  await save.getByTestId('dialog-path').fill(join(server.workDir, 'other.netloom'));
  await expect(save.getByTestId('dialog-confirm')).toHaveText('Save');
  await save.getByTestId('dialog-path').fill(existing);
  await save.getByTestId('dialog-confirm').click();
  await expect(save.getByTestId('dialog-confirm')).toHaveText('Replace');
  expect(snapshot(existing)).toEqual(before);
  await save.getByTestId('dialog-confirm').click();
  await expect(save).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: `Saved ${existing}` })).toBeVisible();
  expect(JSON.parse(readFileSync(existing, 'utf8')).graph.nodes.map((n: { type: string }) => n.type)).toContain('Linear');
  expect(JSON.parse(readFileSync(existing, 'utf8')).name).not.toBe('Old one');
  // Save (Ctrl+S) writes the project's own file without asking
  await page.keyboard.press('Control+s');
  await expect(page.getByTestId('dialog-save')).toHaveCount(0);

  // ---- Save checkpoint onto an existing file
  await page.getByTestId('training-toggle').click();
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 30_000);
  const ckpt = join(server.workDir, 'iris.safetensors');
  writeFileSync(ckpt, 'an older checkpoint');
  const old = snapshot(ckpt);
  await page.getByTestId('btn-checkpoint-save').click();
  const dialog = page.getByTestId('dialog-checkpoint');
  await dialog.getByTestId('dialog-path').fill(ckpt);
  await dialog.getByTestId('dialog-confirm').click();
  await expect(dialog.getByTestId('dialog-error')).toContainText(`${ckpt} already exists`);
  await expect(dialog.getByTestId('dialog-confirm')).toHaveText('Replace');
  expect(snapshot(ckpt)).toEqual(old);
  await dialog.getByTestId('dialog-confirm').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: `Checkpoint saved to ${ckpt}` })).toBeVisible();
  expect(readFileSync(ckpt).subarray(8, 9).toString()).toBe('{'); // a safetensors header now
});
