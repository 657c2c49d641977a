/**
 * Dataset downloads as the app sees them, over the real WebSocket of `netloom serve`: while startRun
 * prepares a run whose dataset must be downloaded, the service sends `dataset.download` events (file,
 * index/count, bytes received of the total, speed) tagged with the caller's tag; stopRun on the
 * preparing run stops the download (its .part kept) and startRun fails with NL_STOPPED; the next start
 * resumes where it stopped. And $NETLOOM_DATASET_MIRROR is tried before the official mirrors.
 * Everything is served by a local mirror (test/e2e/mirror-server.ts), never the internet.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from './ws-client.js';
import { loadDataset } from '../../engine/data/datasets.js';
import { startServer, type RunningServer } from '../../engine/host/serve.js';
import { EngineService } from '../../engine/host/service.js';
import { startMirror, type Mirror } from '../e2e/mirror-server.js';

const tmp = mkdtempSync(join(tmpdir(), 'netloom-dl-events-'));
let mirror: Mirror;
let server: RunningServer;

beforeAll(async () => {
  mirror = await startMirror({ train: 1000, test: 200 });
  const rendererDir = join(tmp, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>test</title>');
  const service = new EngineService({
    datasetLoad: { remote: { mirrors: [`${mirror.base}/MNIST/`], files: mirror.files }, http: { retryDelayMs: 0, timeoutMs: 10_000 } },
  });
  server = await startServer({ host: '127.0.0.1', port: 0, rendererDir, service, log: () => {} });
});

afterAll(async () => {
  await server?.close();
  await mirror?.close();
});

const connect = () => connectApi(server);

function project(root: string): unknown {
  const p = JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));
  p.training = { ...p.training, dataset: { type: 'torchvision', name: 'mnist', root, download: true }, epochs: 1, batch_size: 50 };
  return p;
}

describe('dataset.download events over the WebSocket', () => {
  it('reports every file while the run prepares, tagged for its caller; then the run trains on the download', async () => {
    const root = join(tmp, 'data-a');
    mirror.setRate(400_000); // a few events per file
    const c = await connect();
    const started = await c.call('startRun', { project: project(root), overrides: { eventIntervalMs: 0 }, tag: 'tag-a' });
    expect(started.error).toBeUndefined();
    const runId = started.result.runId;
    const downloads = c.events.filter((e) => e.type === 'dataset.download');
    expect(downloads.length).toBeGreaterThan(4);
    for (const e of downloads) {
      expect(e).toMatchObject({ runId, tag: 'tag-a', dataset: 'MNIST', count: 4 });
      expect(e.total).toBe(mirror.sizes[e.file]);
      expect(e.received).toBeLessThanOrEqual(e.total);
      expect(e.bytesPerSec).toBeGreaterThanOrEqual(0);
    }
    // files in order, each ending with a complete "done" event
    const order = [...new Set(downloads.map((e) => `${e.index}:${e.file}`))];
    expect(order).toEqual(mirror.files.map((f, i) => `${i + 1}:${f.file}`));
    for (const f of mirror.files) {
      const last = downloads.filter((e) => e.file === f.file).at(-1);
      expect(last).toMatchObject({ received: mirror.sizes[f.file], done: true });
    }
    // the big file took long enough (the mirror sends at most 400 kB/s) to report a speed while it downloaded; what
    // the speed is, from bytes and times, is download-events.test.ts's (unit) business, with a clock of its own
    const speeds = downloads.filter((e) => e.file === 'train-images-idx3-ubyte.gz' && !e.done && e.bytesPerSec > 0);
    expect(speeds.length).toBeGreaterThan(0);
    // the run trains on the downloaded files
    await c.until((e) => e.type === 'run.state' && e.runId === runId && e.state === 'finished');
    const epoch = c.events.find((e) => e.type === 'run.epoch' && e.runId === runId);
    expect(epoch.testAccuracy).toBeGreaterThan(0);
    expect(existsSync(join(root, 'MNIST', 'raw', 'train-images-idx3-ubyte.gz'))).toBe(true);
    c.close();
  });

  it('stopRun while downloading abandons the run (NL_STOPPED), keeps the part file, and the next start resumes it', async () => {
    const root = join(tmp, 'data-b');
    mirror.setRate(60_000); // the first file takes seconds
    const c = await connect();
    const pending = c.call('startRun', { project: project(root), overrides: { eventIntervalMs: 0 }, tag: 'tag-b' });
    const { runId } = await c.until((e) => e.type === 'dataset.download' && e.tag === 'tag-b' && e.received > 0);
    const stopped = await c.call('stopRun', { runId });
    expect(stopped.result).toMatchObject({ runId, state: 'stopped' });
    const answer = await pending;
    expect(answer.error).toMatchObject({ code: 'NL_STOPPED' });
    expect(answer.error.message).toMatch(/train-images-idx3-ubyte\.gz stopped; \d+ bytes kept/);
    const part = join(root, 'MNIST', 'raw', 'train-images-idx3-ubyte.gz.part');
    const kept = statSync(part).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(mirror.sizes['train-images-idx3-ubyte.gz']);
    // the run never existed for the service
    expect((await c.call('listRuns')).result.some((r: { runId: string }) => r.runId === runId)).toBe(false);

    // start again: the download resumes from the kept bytes
    mirror.setRate(0);
    const before = mirror.requests.length;
    const again = await c.call('startRun', { project: project(root), overrides: { eventIntervalMs: 0 }, tag: 'tag-c' });
    expect(again.error).toBeUndefined();
    const resumed = mirror.requests.slice(before).find((r) => r.path === '/MNIST/train-images-idx3-ubyte.gz');
    expect(resumed?.range).toBe(`bytes=${kept}-`);
    await c.call('stopRun', { runId: again.result.runId });
    c.close();
  });
});

describe('NETLOOM_DATASET_MIRROR', () => {
  it('is tried before the official mirrors, as <base>/<Title>/<file>, with the MD5 check', async () => {
    const saved = process.env.NETLOOM_DATASET_MIRROR;
    process.env.NETLOOM_DATASET_MIRROR = `${mirror.base}/`;
    mirror.setRate(0);
    const before = mirror.requests.length;
    try {
      // remote.files: the mirror's own MD5s (the official ones cannot match files made here); mirrors: the registry's
      const ds = await loadDataset('mnist', { root: join(tmp, 'data-env'), download: true, remote: { files: mirror.files }, http: { retryDelayMs: 0, retries: 0 } });
      expect(ds.train.count).toBe(1000);
      expect(ds.test.count).toBe(200);
      expect(mirror.requests.slice(before).map((r) => r.path)).toEqual(mirror.files.map((f) => `/MNIST/${f.file}`));
    } finally {
      if (saved === undefined) delete process.env.NETLOOM_DATASET_MIRROR;
      else process.env.NETLOOM_DATASET_MIRROR = saved;
    }
  });
});
