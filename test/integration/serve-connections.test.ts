/**
 * What `netloom serve` keeps per connection (a browser tab), over the real WebSocket: a tab holds every
 * run it starts or names in a call that succeeds, and lets go of them when it goes (run-keeper.ts then
 * closes a run nobody holds after the idle time, on a clock the test moves); the engine's events reach
 * the tabs only when they match api.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ensureBuiltin } from '../../engine/data/builtin.js';
import type { EngineEvent } from '../../engine/contract/api.js';
import { handleMessage, startServer, type RunningServer } from '../../engine/host/serve.js';
import { EngineService } from '../../engine/host/service.js';
import { ManualTimers } from '../support/manual-timers.js';
import { beforeAllOrFail } from '../support/setup.js';
import { connectApi, type ApiClient } from './ws-client.js';

const IDLE = 60_000;
const tmp = mkdtempSync(join(tmpdir(), 'netloom-serve-connections-'));
const timers = new ManualTimers();
const service = new EngineService({ runIdleMs: IDLE, timers });
const logs: string[] = [];
let server: RunningServer;

beforeAllOrFail(async () => {
  await ensureBuiltin('mnist');
  server = await startServer({ host: '127.0.0.1', port: 0, rendererDir: tmp, service, log: (l) => logs.push(l) });
});

afterAll(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const project = () => {
  const p = JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));
  p.training.dataset = 'mnist';
  return p;
};
/** How many tabs hold the run (null: none ever did). */
const holders = (runId: string) => service.memory().runs.find((r) => r.runId === runId)?.clients;
const exists = (runId: string) => service.memory().runs.some((r) => r.runId === runId);
const connect = () => connectApi(server, { replyTimeoutMs: 60_000 });

describe('serve: the runs a tab holds', () => {
  it('a tab holds the runs it starts and those it names in a call that succeeds; they go once no tab holds them', async () => {
    const starter = await connect();
    const viewer = await connect();
    const stranger = await connect();
    let runId = '';
    try {
      const started = await starter.call('startRun', { project: project(), overrides: { epochs: 1, limitTrain: 256, limitTest: 64 } });
      runId = started.result.runId;
      await starter.until((e) => e.type === 'run.state' && e.runId === runId && e.state === 'finished');
      expect(holders(runId), 'the tab that started it').toBe(1);

      // named in the params only: datasetInfo's answer does not repeat the run's id
      const info = await viewer.call('datasetInfo', { runId });
      expect(info.error).toBeUndefined();
      expect(JSON.stringify(info.result)).not.toContain(runId);
      expect(holders(runId), 'and the tab that asked about it').toBe(2);

      // a refused call holds nothing, not even the run it names
      const refused = await stranger.call('saveRunCheckpoint', { runId, path: join(tmp, 'no-such-folder', 'w.safetensors') });
      expect(refused.error.code).toBe('NL_IO');
      expect(holders(runId)).toBe(2);

      starter.close();
      await vi.waitFor(() => expect(holders(runId)).toBe(1));
      timers.advance(10 * IDLE);
      expect(exists(runId), 'the viewing tab still holds it').toBe(true);
      viewer.close();
      await vi.waitFor(() => expect(holders(runId)).toBe(0));
      timers.advance(IDLE - 1);
      expect(exists(runId)).toBe(true);
      timers.advance(1);
      await vi.waitFor(() => expect(exists(runId)).toBe(false));
    } finally {
      for (const c of [starter, viewer, stranger]) c.close();
    }
  });

  it('handleMessage without a connection (an in-process caller) answers a call that names a run', async () => {
    const { runId } = await service.startRun({ project: project(), evaluateOnly: true });
    try {
      const reply = await handleMessage(service, JSON.stringify({ id: 4, method: 'getRun', params: { runId } }), () => undefined);
      expect(reply).toMatchObject({ id: 4, result: { runId } });
      expect(holders(runId), 'no tab ever held it').toBeNull();
    } finally {
      await service.closeRun({ runId });
    }
  });
});

describe('serve: events', () => {
  let tab: ApiClient;
  afterAll(() => tab?.close());

  it('an event that does not match api.ts is logged and not sent; the next one is', async () => {
    tab = await connect();
    service.emit({ type: 'no.such.event', secret: '/home/x' } as unknown as EngineEvent);
    service.emit({ type: 'recent.changed', recent: ['/tmp/a.netloom'] });
    const next = await tab.until((e) => e.type === 'recent.changed');
    expect(next).toEqual({ type: 'recent.changed', recent: ['/tmp/a.netloom'] });
    expect(tab.events.map((e) => e.type)).toEqual(['recent.changed']);
    expect(logs.filter((l) => l.startsWith('netloom serve: dropped an event that does not match api.ts: '))).toHaveLength(1);
  });
});
