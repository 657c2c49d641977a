/**
 * The device select on a machine without a GPU (CI): disabled, with the engine probe's reason as its
 * tooltip, offering Auto (CPU) and the CPU; a project asking for a GPU keeps it enabled, shows the
 * engine's refusal inline and blocks Start until auto or cpu is chosen; a run's progress line says
 * where it trains. Screenshots: test-results/issue13/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './fixture';
import { expectTrainState, newFromTemplate, openApp, setTrainingFields, submitPathDialog } from './helpers';

const SHOTS = join(process.cwd(), 'test-results', 'issue13');
mkdirSync(SHOTS, { recursive: true });
const NO_GPU = !existsSync('/dev/nvidia0');

test.skip(!NO_GPU, 'these are the fallback checks: this machine has an NVIDIA GPU');

test('no GPU: the device select is disabled with the reason; a run says it trains on the CPU', async ({ page, server }) => {
  await openApp(page, server);
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('summary-toggle').click();
  await page.getByTestId('training-toggle').click();
  await page.getByTestId('train-more').click();
  const device = page.getByTestId('train-device');
  await expect(device).toBeDisabled();
  await expect(device).toHaveAttribute('title', /^No GPU: \S.+/);
  await expect(device.locator('option')).toHaveText(['Auto (CPU)', /^CPU \(.+, .+, \d+ threads?\)$/]);
  await expect(device).toHaveValue('auto');
  await expect(page.getByTestId('summary-fit')).toHaveCount(0);
  await page.screenshot({ path: join(SHOTS, 'device-no-gpu.png') });

  await setTrainingFields(page, { dataset: 'fashion-mnist', limitTrain: '256', epochs: '1', batchSize: '64' });
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 60_000);
  await expect(page.getByTestId('train-device-label')).toHaveText('on CPU');
  await expect(page.getByTestId('train-device-label')).toHaveAttribute('title', /^CPU \(.+\): \S/);
});

test('a project asking for cuda:1 on a machine without one: the refusal inline, Start blocked until auto is chosen', async ({ page, server }) => {
  const project = JSON.parse(readFileSync(join(process.cwd(), 'assets', 'templates', 'quickstart.json'), 'utf8'));
  project.training.device = 'cuda:1';
  const file = join(server.workDir, 'gpu.netloom.json');
  writeFileSync(file, JSON.stringify(project));
  await openApp(page, server);
  await page.getByTestId('btn-open').click();
  await submitPathDialog(page.getByTestId('dialog-open'), file);
  await page.getByTestId('summary-toggle').click();
  await page.getByTestId('training-toggle').click();
  const device = page.getByTestId('train-device');
  await expect(device).toBeVisible();   // a problem behind "more" opens it
  await expect(device).toBeEnabled();
  await expect(device).toHaveValue('cuda:1');
  await expect(device.locator('option[value="cuda:1"]')).toHaveText('cuda:1 — not on this machine');
  await expect(device.locator('option[value="cuda:1"]')).toBeDisabled();
  await expect(page.getByTestId('train-device-error')).toContainText('the device is "cuda:1" but this machine has no usable GPU: ');
  await expect(page.getByTestId('btn-train-start')).toBeDisabled();
  await page.screenshot({ path: join(SHOTS, 'device-cuda-refused.png') });

  await device.selectOption('auto');
  await expect(page.getByTestId('train-device-error')).toHaveCount(0);
  // fixed, "more" closes again (it was open for the problem only): open it to see the select locked
  if ((await page.getByTestId('train-more').getAttribute('aria-expanded')) !== 'true') await page.getByTestId('train-more').click();
  await expect(device).toBeDisabled();
  await expect(page.getByTestId('btn-train-start')).toBeEnabled();
});
