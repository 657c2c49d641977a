/**
 * KMNIST and CIFAR-10 are no dead end (issue 13): in the Training panel's dataset chooser a built-in that is not
 * on this computer says "not downloaded" with its size; chosen, a notice offers the download, which runs with the
 * run's existing download progress, then trains; afterwards the entry is no longer marked.
 *
 * Like download.spec.ts, this runs its own `netloom serve` in-process (startServer and EngineService from dist/)
 * whose downloads come from a local mirror serving KMNIST-shaped IDX files with that mirror's MD5s
 * (EngineServiceOptions.datasetLoad: the official MD5s cannot be met by files made here), with the user's data
 * folder ($NETLOOM_DATA_DIR) an empty temporary folder. The renderer, the WebSocket and the download code are real.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test as base } from '@playwright/test';
import { expect, screenshot } from './fixture';
import { expectTrainState, newFromTemplate } from './helpers';
import { startMirror, type Mirror } from './mirror-server';

/** The built engine, as `netloom serve` runs it (see download.spec.ts for why the path is made at run time). */
async function builtEngine() {
  const host = join(process.cwd(), 'dist', 'engine', 'host');
  const { startServer } = (await import(pathToFileURL(join(host, 'serve.js')).href)) as typeof import('../../engine/host/serve.js');
  const { EngineService } = (await import(pathToFileURL(join(host, 'service.js')).href)) as typeof import('../../engine/host/service.js');
  return { startServer, EngineService };
}

interface Served {
  url: string;
  mirror: Mirror;
  /** the user's data folder the engine downloads into */
  dataDir: string;
}

/** Sets environment variables for the in-process engine and puts them back afterwards. */
function withEnv(vars: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

const test = base.extend<{ served: Served }>({
  served: async ({}, use) => {
    const { startServer, EngineService } = await builtEngine();
    const root = mkdtempSync(join(tmpdir(), 'netloom-e2e-data-'));
    const dataDir = join(root, 'data');
    mkdirSync(dataDir);
    const restore = withEnv({ NETLOOM_CONFIG_DIR: join(root, 'config'), NETLOOM_DATA_DIR: dataDir });
    const mirror = await startMirror({ train: 600, test: 120 });
    const service = new EngineService({ datasetLoad: { remote: { mirrors: [`${mirror.base}/MNIST/`], files: mirror.files }, http: { retryDelayMs: 0 } } });
    const server = await startServer({ host: '127.0.0.1', port: 0, rendererDir: join(process.cwd(), 'dist', 'renderer'), service, log: () => {} });
    await use({ url: server.url, mirror, dataDir });
    await server.close();
    await mirror.close();
    restore();
    rmSync(root, { recursive: true, force: true });
  },
});

test('a dataset that is not downloaded says so in the chooser and downloads from there, with progress, then trains', async ({ page, served }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(served.url);
  await expect(page.getByTestId('btn-open')).toBeEnabled();
  await newFromTemplate(page, 'quickstart');
  await page.getByTestId('summary-toggle').click();
  await page.getByTestId('training-toggle').click();

  const select = page.getByTestId('train-dataset');
  await expect(select.locator('option[value="kmnist"]')).toHaveText('kmnist (not downloaded, about 21 MB)');
  await expect(select.locator('option[value="cifar10"]')).toHaveText('cifar10 (not downloaded, about 163 MB)');
  await expect(select.locator('option[value="mnist"]')).toHaveText('mnist'); // ships with Netloom
  await expect(page.getByTestId('dataset-not-downloaded')).toHaveCount(0);

  await select.selectOption('kmnist');
  const notice = page.getByTestId('dataset-not-downloaded');
  await expect(notice).toContainText('KMNIST is not downloaded yet');
  const button = page.getByTestId('btn-dataset-download');
  await expect(button).toHaveText('Download (21 MB) and train');
  await page.getByTestId('train-epochs').fill('1');
  await page.getByTestId('limit-train').fill('256');
  await screenshot(page, 'dataset-not-downloaded');

  served.mirror.setRate(60_000); // slow enough to see the progress
  await button.click();
  const line = page.getByTestId('train-download');
  await expect(line).toBeVisible();
  await expect(line).toContainText(/downloading\s*KMNIST 1\/4 train-images-idx3-ubyte\.gz/);
  served.mirror.setRate(0);
  await expectTrainState(page, 'finished', 60_000);
  expect(served.mirror.requests.some((r) => r.path === '/MNIST/train-images-idx3-ubyte.gz')).toBe(true);
  expect(readdirSync(join(served.dataDir, 'KMNIST', 'raw')).sort()).toContain('train-images-idx3-ubyte.gz');

  // on disk now: the entry is plain and the notice is gone; a second Start downloads nothing
  await expect(select.locator('option[value="kmnist"]')).toHaveText('kmnist');
  await expect(notice).toHaveCount(0);
  const before = served.mirror.requests.length;
  await page.getByTestId('btn-train-start').click();
  await expectTrainState(page, 'finished', 60_000);
  expect(served.mirror.requests.length).toBe(before);
});
