/**
 * The renderer as a citizen of its host, in Chromium against a real `netloom serve`:
 * - in a browser, hostInfo says 'browser' and the dialogs have no Browse… button (the web dialogs stay);
 * - the checkpoint dialogs propose a file in the user's home for an unsaved project and in the project's
 *   folder once it is saved (never the server's working directory, which here is the checkout), and a
 *   typed file name lands in that folder; Save as starts in the home folder too;
 * - files dropped anywhere on the page: an image goes to the playground, a project file opens unsaved,
 *   a checkpoint or a bad file gets a toast that says what to do;
 * - panels and zoom are actions: the Ctrl+= key zooms the canvas, not the page.
 * The desktop app's own behaviour (native dialogs, menus, the close request) is in desktop-app.spec.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, screenshot, test } from './fixture';
import { dropFile, expectTrainState, newFromTemplate, openApp, setTrainingFields, sevenPng, submitPathDialog } from './helpers';

/** Opens a checkpoint dialog from its Training panel button; returns the proposed path and the dialog. */
async function proposedPath(page: Page, button: 'btn-checkpoint-save' | 'btn-checkpoint-load') {
  await page.getByTestId(button).click();
  const dialog = page.getByTestId(button === 'btn-checkpoint-save' ? 'dialog-checkpoint' : 'dialog-checkpoint-load');
  await expect(dialog).toBeVisible();
  return { dialog, path: await dialog.getByTestId('dialog-path').inputValue() };
}

test('in a browser: hostInfo says browser, and no dialog has a Browse… button', async ({ page, server }) => {
  await openApp(page, server);
  await expect(page.locator('.app')).toHaveAttribute('data-host', 'browser');
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('training-toggle').click();

  await page.getByTestId('btn-checkpoint-load').click();
  const load = page.getByTestId('dialog-checkpoint-load');
  await expect(load.getByTestId('dialog-path')).toBeVisible();
  await expect(load.getByTestId('dialog-browse')).toHaveCount(0);
  await expect(load).not.toContainText("engine's folder");
  await load.getByTestId('dialog-cancel').click();

  for (const kind of ['@csv', '@image-folder', '@torchvision']) {
    await page.getByTestId('train-dataset').selectOption(kind);
    const chooser = page.getByTestId('dialog-dataset');
    await expect(chooser.getByTestId('dialog-path')).toBeVisible();
    await expect(chooser.getByTestId('dialog-browse')).toHaveCount(0);
    // the example path is in the home folder (the project is unsaved), not the server's folder
    expect(await chooser.getByTestId('dialog-path').getAttribute('placeholder')).toMatch(new RegExp(`^${homedir().replace(/[/\\]/g, '.')}`));
    await chooser.getByTestId('dialog-cancel').click();
    await expect(chooser).toBeHidden();
  }
});

test('checkpoint dialogs start in the home folder for an unsaved project and in its folder once saved; a dropped image goes to the playground', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('summary-toggle').click(); // room for the panel
  await page.getByTestId('training-toggle').click();
  await setTrainingFields(page, { dataset: 'mnist', limitTrain: '640', epochs: '1', batchSize: '64' });
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 30_000);
  expect(process.cwd()).not.toBe(homedir()); // the server's folder (the checkout) differs from the home folder

  // unsaved: both dialogs propose <home>/<project slug>.safetensors
  let { dialog, path } = await proposedPath(page, 'btn-checkpoint-save');
  expect(dirname(path)).toBe(homedir());
  expect(basename(path)).toMatch(/^pytorch-quickstart.*\.safetensors$/);
  await expect(dialog).toContainText(`a file name alone is saved in ${homedir()}`);
  await screenshot(page, 'checkpoint-save-unsaved-project');
  await dialog.getByTestId('dialog-cancel').click();
  ({ dialog, path } = await proposedPath(page, 'btn-checkpoint-load'));
  expect(dirname(path)).toBe(homedir());
  await dialog.getByTestId('dialog-cancel').click();

  // Save as starts in the home folder too
  await page.getByTestId('btn-save-as').click();
  const save = page.getByTestId('dialog-save');
  await expect(save.getByTestId('dialog-path')).toHaveValue(join(homedir(), 'pytorch-quickstart-fashionmnist-mlp.netloom.json'));
  const projectFile = join(server.workDir, 'quick.netloom.json');
  await submitPathDialog(save, projectFile);
  await expect(page.getByTestId('project-title')).toContainText(projectFile);

  // saved: the project's folder; a bare file name is saved there (not in the server's folder)
  ({ dialog, path } = await proposedPath(page, 'btn-checkpoint-save'));
  expect(dirname(path)).toBe(server.workDir);
  await screenshot(page, 'checkpoint-save-saved-project');
  await submitPathDialog(dialog, 'weights.safetensors');
  expect(existsSync(join(server.workDir, 'weights.safetensors'))).toBe(true);
  expect(existsSync(join(process.cwd(), 'weights.safetensors'))).toBe(false);
  ({ dialog, path } = await proposedPath(page, 'btn-checkpoint-load'));
  expect(dirname(path)).toBe(server.workDir);
  await screenshot(page, 'checkpoint-load-saved-project');
  await submitPathDialog(dialog, 'weights.safetensors');
  await expect(page.getByTestId('ckpt-report')).toHaveAttribute('data-ok', 'true');

  // an image dropped on the canvas (not on the playground) goes to the playground and is classified
  await page.getByTestId('training-toggle').click(); // closed: the drop opens it
  await expect(page.getByTestId('playground')).toHaveCount(0);
  await dropFile(page, '[data-testid="canvas"]', { name: 'seven.png', type: 'image/png', data: await sevenPng(page) });
  await expect(page.getByTestId('training-toggle')).toHaveAttribute('aria-expanded', 'true');
  await expect(page.getByTestId('playground-bars').getByTestId('playground-bar')).toHaveCount(10);
  await screenshot(page, 'playground-after-window-drop');
});

test('a project file dropped on the page opens as an unsaved project; other files get a toast', async ({ page, server }) => {
  await openApp(page, server);
  await expect(page.locator('.app')).toHaveAttribute('data-host', 'browser');

  // an image before any run: what to do first
  await dropFile(page, '[data-testid="canvas"]', { name: 'seven.png', type: 'image/png', data: await sevenPng(page) });
  await expect(page.getByTestId('toast').filter({ hasText: 'Train a model first' })).toBeVisible();

  const lenet = readFileSync(join(process.cwd(), 'assets', 'templates', 'lenet5.json'));
  await dropFile(page, '[data-testid="canvas"]', { name: 'lenet5.json', type: 'application/json', data: lenet });
  await expect(page.getByTestId('toast').filter({ hasText: 'Opened lenet5.json as an unsaved project' })).toBeVisible();
  await expect(page.getByTestId('project-title')).toContainText('unsaved');
  await expect(page.getByTestId('dirty-indicator')).toBeVisible();
  await expect(page.getByTestId('summary-total-params')).not.toHaveText('0');
  const nodes = JSON.parse(lenet.toString()).graph.nodes.length as number;
  await expect(page.locator('.react-flow__node')).toHaveCount(nodes);

  // a second project asks before the unsaved one is replaced; Cancel keeps it
  await dropFile(page, '.toolbar', { name: 'quick.netloom.json', type: '', data: readFileSync(join(process.cwd(), 'assets', 'templates', 'quickstart.json')) });
  const confirm = page.getByTestId('dialog-confirm-discard');
  await expect(confirm).toBeVisible();
  await confirm.getByTestId('dialog-cancel').click();
  await expect(page.locator('.react-flow__node')).toHaveCount(nodes);

  await dropFile(page, '[data-testid="canvas"]', { name: 'broken.json', type: 'application/json', data: Buffer.from('{"format": "netloom-project", ') });
  await expect(page.getByTestId('toast').filter({ hasText: 'broken.json is not valid JSON' })).toBeVisible();
  await dropFile(page, '[data-testid="canvas"]', { name: 'w.safetensors', type: '', data: Buffer.from([0, 1, 2]) });
  await expect(page.getByTestId('toast').filter({ hasText: 'A browser cannot tell the engine where w.safetensors is' })).toContainText('Load checkpoint');
  await dropFile(page, '[data-testid="canvas"]', { name: 'notes.txt', type: 'text/plain', data: Buffer.from('hi') });
  await expect(page.getByTestId('toast').filter({ hasText: 'Netloom does not open notes.txt' })).toBeVisible();
  await expect(page).toHaveURL(server.url); // no drop navigated away from the app
});

test('panels and zoom are actions: Ctrl+= zooms the canvas, not the page; the shortcut list shows them', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  const viewport = page.locator('.react-flow__viewport');
  const scale = async () => Number(/scale\(([\d.]+)\)/.exec((await viewport.getAttribute('style'))!)![1]);
  // the template's layout (elk, a chunk loaded on first use) and fit move the viewport: wait until the canvas
  // says they are done, then until it has not moved for 10 frames
  await expect(page.getByTestId('canvas')).toHaveAttribute('aria-busy', 'false');
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const el = document.querySelector('.react-flow__viewport')!;
        let last = '';
        let still = 0;
        const tick = () => {
          const now = el.getAttribute('style') ?? '';
          still = now === last ? still + 1 : 0;
          last = now;
          if (still >= 10) resolve();
          else requestAnimationFrame(tick);
        };
        tick();
      }),
  );
  const before = await scale();
  await page.evaluate(() => {
    // after the app's own keydown listener: did it take the key from the browser?
    window.addEventListener('keydown', (e) => ((window as unknown as { zoomKeyTaken: boolean }).zoomKeyTaken = e.defaultPrevented));
  });
  await page.getByTestId('canvas').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Control+Equal');
  await expect.poll(scale).toBeGreaterThan(before);
  expect(await page.evaluate(() => (window as unknown as { zoomKeyTaken: boolean }).zoomKeyTaken)).toBe(true);
  const zoomedIn = await scale();
  await page.keyboard.press('Control+Minus');
  await expect.poll(scale).toBeLessThan(zoomedIn);

  // the headers toggle the panels through the store (the menus' checkboxes use the same actions)
  await expect(page.getByTestId('summary-toggle')).toHaveAttribute('aria-expanded', 'true');
  await page.getByTestId('summary-toggle').click();
  await expect(page.getByTestId('summary-toggle')).toHaveAttribute('aria-expanded', 'false');
  await page.getByTestId('btn-dataset').click();
  await expect(page.getByTestId('btn-dataset')).toHaveAttribute('aria-expanded', 'true');

  await page.getByTestId('btn-help').click();
  const help = page.getByTestId('help-overlay');
  await expect(help).toContainText('Zoom in');
  await expect(help).toContainText('Zoom out');
  await screenshot(page, 'help-overlay');
});
