/**
 * The renderer in the desktop app, in Chromium: the Electron binary cannot run here, so the desktop host
 * is simulated on the page's WebSocket (fake-desktop.ts: hostInfo says desktop with native dialogs,
 * pickPath answers what the test queues, setAppState and closeWindow are recorded, app.command events
 * are sent as the main process sends them). Everything else is the real engine behind `netloom serve`.
 * - AppState: reported when it changes (never twice the same), with the title, unsaved changes, training,
 *   each menu action's enabled state and the panel checkboxes;
 * - menu commands (panels, zoom, Edit items on the canvas but not in a text field), native Open / Save as /
 *   Browse…, opening a project and a checkpoint by path;
 * - the close request: Cancel keeps the window; the recovery file is flushed first; Save saves then closes;
 *   Don't save clears the recovery file then closes; a run training is stopped first, its record asked about.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Page } from '@playwright/test';
import { fakeDesktop, type FakeDesktop } from './fake-desktop';
import { expect, screenshot, test, type Server } from './fixture';
import { expectTrainState, newFromTemplate, openApp, setTrainingFields } from './helpers';

const SLUG = 'pytorch-quickstart-fashionmnist-mlp';

/** The page under the simulated desktop host, with a template loaded and the first AppState in. */
async function openDesktop(page: Page, server: Server): Promise<{ desk: FakeDesktop; home: string }> {
  const home = join(server.workDir, 'home');
  mkdirSync(home, { recursive: true });
  const desk = await fakeDesktop(page, home);
  await openApp(page, server);
  await expect(page.locator('.app')).toHaveAttribute('data-host', 'desktop');
  await newFromTemplate(page, 'quickstart');
  return { desk, home };
}

const recoveryFile = (server: Server) => join(dirname(server.workDir), 'config', 'recovery.json');

test('desktop: AppState reports, menu commands, native dialogs and Browse…, files opened by path', async ({ page, server }) => {
  const { desk, home } = await openDesktop(page, server);

  // the state once the template is in: title, menu items by their predicates, panel checkboxes
  await expect.poll(() => desk.last()?.title).toBe('PyTorch quickstart (FashionMNIST MLP) — Netloom');
  const s = desk.last()!;
  expect(s).toMatchObject({ projectPath: null, dirty: false, training: false });
  expect(s.enabled).toMatchObject({ trainStart: true, trainPause: false, evaluate: false, zoomIn: true, toggleTraining: true, save: true, undo: false, paste: false });
  expect(s.checked).toEqual({ toggleSummary: true, toggleTraining: false, toggleDataset: false });
  for (let i = 1; i < desk.states.length; i++) expect(desk.states[i], `report ${i} repeats ${i - 1}`).not.toEqual(desk.states[i - 1]);

  // View menu: panels and zoom
  desk.command('toggleTraining');
  await expect(page.getByTestId('training-toggle')).toHaveAttribute('aria-expanded', 'true');
  await expect.poll(() => desk.last()?.checked.toggleTraining).toBe(true);
  desk.command('toggleSummary');
  await expect(page.getByTestId('summary-toggle')).toHaveAttribute('aria-expanded', 'false');
  const viewport = page.locator('.react-flow__viewport');
  const before = await viewport.getAttribute('style');
  desk.command('zoomOut');
  await expect(viewport).not.toHaveAttribute('style', before!);

  // Edit menu: on the canvas when no text field has focus; left to Chromium in a text field
  const nodes = page.locator('.react-flow__node');
  const count = await nodes.count();
  await page.getByTestId('train-epochs').focus();
  desk.command('edit.selectAll');
  desk.command('toggleDataset'); // a later command: once it is handled, the select-all was too
  await expect(page.getByTestId('btn-dataset')).toHaveAttribute('aria-expanded', 'true');
  await expect(page.locator('.react-flow__node.selected')).toHaveCount(0);
  await page.getByTestId('train-epochs').blur();
  desk.command('edit.selectAll');
  await expect(page.locator('.react-flow__node.selected')).toHaveCount(count);
  desk.command('edit.cut'); // copy + delete, one undo step
  await expect(nodes).toHaveCount(0);
  await expect.poll(() => desk.last()?.enabled.paste).toBe(true);
  expect(desk.last()!.enabled.undo).toBe(true);
  expect(desk.last()!.dirty).toBe(false); // an untitled canvas that is empty again: nothing to lose
  desk.command('edit.undo');
  await expect(nodes).toHaveCount(count);
  await expect.poll(() => desk.last()?.dirty).toBe(true);
  expect(desk.last()!.title).toBe('● PyTorch quickstart (FashionMNIST MLP) — Netloom');

  // Save as: the native dialog, proposing <home>/<slug>.netloom (the associated extension; unsaved project)
  const projectFile = join(server.workDir, 'native.netloom');
  desk.answerNextPick(projectFile);
  desk.command('saveAs');
  await expect(page.getByTestId('project-title')).toContainText(projectFile);
  expect(desk.picks.at(-1)).toEqual({ mode: 'save', purpose: 'project', defaultPath: join(home, `${SLUG}.netloom`) });
  expect(JSON.parse(readFileSync(projectFile, 'utf8')).format).toBe('netloom-project');
  await expect.poll(() => desk.last()?.projectPath).toBe(projectFile);
  expect(desk.last()!.dirty).toBe(false);
  await expect(page.getByTestId('dialog-save')).toHaveCount(0); // no web dialog

  // Load checkpoint: Browse… opens the native dialog at the proposed file in the project's folder and fills the field
  await page.getByTestId('btn-checkpoint-load').click();
  const load = page.getByTestId('dialog-checkpoint-load');
  await expect(load.getByTestId('dialog-path')).toHaveValue(join(server.workDir, `${SLUG}.safetensors`));
  await expect.poll(() => desk.last()?.enabled.open).toBe(false); // a modal dialog is up: menu items are off
  desk.answerNextPick('/data/weights/picked.safetensors');
  await load.getByTestId('dialog-browse').click();
  await expect(load.getByTestId('dialog-path')).toHaveValue('/data/weights/picked.safetensors');
  expect(desk.picks.at(-1)).toEqual({ mode: 'open', purpose: 'weights', defaultPath: join(server.workDir, `${SLUG}.safetensors`) });
  desk.answerNextPick(null); // cancelled: the field keeps its path
  await load.getByTestId('dialog-browse').click();
  await expect.poll(() => desk.picks.length).toBe(3);
  await expect(load.getByTestId('dialog-path')).toHaveValue('/data/weights/picked.safetensors');
  await screenshot(page, 'desktop-checkpoint-load-browse');
  await load.getByTestId('dialog-cancel').click();

  // the dataset chooser: a folder dialog for an image folder
  await page.getByTestId('train-dataset').selectOption('@image-folder');
  const chooser = page.getByTestId('dialog-dataset');
  desk.answerNextPick(join(server.workDir, 'photos'));
  await chooser.getByTestId('dialog-browse').click();
  await expect(chooser.getByTestId('dialog-path')).toHaveValue(join(server.workDir, 'photos'));
  expect(desk.picks.at(-1)).toEqual({ mode: 'folder', purpose: 'image-folder', defaultPath: server.workDir });
  await screenshot(page, 'desktop-dataset-browse');
  await chooser.getByTestId('dialog-cancel').click();

  // a checkpoint opened from outside: the per-node report (here: the file does not exist)
  desk.command('open-checkpoint', join(server.workDir, 'missing.safetensors'));
  await expect(page.getByTestId('toast').filter({ hasText: 'missing.safetensors' })).toBeVisible();
  // an image opened from outside: the engine cannot hand its pixels over, so: drop it
  desk.command('open-image', '/pictures/cat.png');
  await expect(page.getByTestId('toast').filter({ hasText: 'To try cat.png in the inference playground, drag it onto the Netloom window' })).toBeVisible();

  // Open: the native dialog in the project's folder; then a project opened by path (Open Recent, a double-click)
  desk.answerNextPick(null);
  desk.command('open');
  await expect.poll(() => desk.picks.at(-1)).toEqual({ mode: 'open', purpose: 'project', defaultPath: server.workDir });
  await newFromTemplate(page, 'lenet5');
  desk.command('open-project', projectFile);
  await expect(page.getByTestId('toast').filter({ hasText: `Opened ${projectFile}` })).toBeVisible();
  await expect(nodes).toHaveCount(count);
});

test('desktop: the close request asks about unsaved work, flushes the recovery file, saves or discards, then closes', async ({ page, server }) => {
  const { desk } = await openDesktop(page, server);
  const projectFile = join(server.workDir, 'close.netloom.json');
  desk.answerNextPick(projectFile);
  desk.command('save'); // untitled: Save goes through the native Save as
  await expect(page.getByTestId('project-title')).toContainText(projectFile);

  // an edit: unsaved
  desk.command('edit.selectAll');
  await expect(page.locator('.react-flow__node.selected')).not.toHaveCount(0);
  desk.command('delete');
  await expect.poll(() => desk.last()?.dirty).toBe(true);

  // Cancel: the window stays, the work too; the recovery file was written when the question came
  desk.command('close-request');
  const ask = page.getByTestId('dialog-confirm-discard');
  await expect(ask).toContainText('Save changes before closing?');
  await expect.poll(() => existsSync(recoveryFile(server))).toBe(true);
  expect(JSON.parse(readFileSync(recoveryFile(server), 'utf8')).project.graph.nodes).toHaveLength(0);
  await screenshot(page, 'desktop-close-save-question');
  await ask.getByTestId('dialog-cancel').click();
  await expect(ask).toBeHidden();
  await expect.poll(() => desk.cancels).toBe(1); // a quit waiting for this window is called off
  expect(desk.closes).toBe(0);
  expect(desk.last()!.dirty).toBe(true);

  // Save: written, then closed
  desk.command('close-request');
  await ask.getByTestId('dialog-confirm').click();
  await expect.poll(() => desk.closes).toBe(1);
  expect(JSON.parse(readFileSync(projectFile, 'utf8')).graph.nodes).toHaveLength(0);
  await expect.poll(() => existsSync(recoveryFile(server))).toBe(false);

  // Don't save: closed, and the recovery file does not offer the discarded work back
  desk.command('edit.undo');
  await expect.poll(() => desk.last()?.dirty).toBe(true);
  desk.command('close-request');
  await expect.poll(() => existsSync(recoveryFile(server))).toBe(true);
  await ask.getByTestId('dialog-discard').click();
  await expect.poll(() => desk.closes).toBe(2);
  await expect.poll(() => existsSync(recoveryFile(server))).toBe(false);
  expect(JSON.parse(readFileSync(projectFile, 'utf8')).graph.nodes).toHaveLength(0); // not saved
});

test('desktop: closing while training asks to stop the run first, then about the run it added to the project', async ({ page, server }) => {
  const { desk } = await openDesktop(page, server);
  desk.command('toggleTraining');
  await setTrainingFields(page, { dataset: 'mnist', limitTrain: '3000', epochs: '50', batchSize: '1' });
  desk.command('trainStart');
  await expectTrainState(page, 'running');
  await expect.poll(() => desk.last()?.enabled.trainPause).toBe(true);
  expect(desk.last()!).toMatchObject({ training: true, enabled: { trainStart: false, trainStop: true } });

  // Cancel: the run goes on
  desk.command('close-request');
  const ask = page.getByTestId('dialog-confirm-discard');
  await expect(ask).toContainText('Stop training and close?');
  await screenshot(page, 'desktop-close-stop-training');
  await ask.getByTestId('dialog-cancel').click();
  await expectTrainState(page, 'running');
  await expect.poll(() => desk.cancels).toBe(1);

  // Stop and close: the run stops, its record makes the project dirty, so Save / Don't save comes next
  desk.command('close-request');
  await expect(ask).toContainText('Stop training and close?');
  await ask.getByTestId('dialog-confirm').click();
  await expect(ask).toContainText('Save changes before closing?');
  await expectTrainState(page, 'stopped');
  await expect(page.getByTestId('run-item')).toHaveCount(1);
  expect(desk.closes).toBe(0);
  await ask.getByTestId('dialog-discard').click();
  await expect.poll(() => desk.closes).toBe(1);
  await expect.poll(() => desk.last()?.training).toBe(false);
});
