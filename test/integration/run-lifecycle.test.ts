/**
 * Issue 10, item 11: runs nobody closes are freed, and runs share their dataset.
 *  - A run whose last client (a tab of `netloom serve`) has gone is closed after the idle time
 *    (an injected clock: no waiting), its native session freed at once; not while a client
 *    remains, not while it trains, and not when a client comes back in time.
 *  - Runs on the same dataset hold one copy of it (one load, shared by both; the native sessions
 *    read it in place); a run limited to some samples holds those only.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuiltin } from '../../engine/data/builtin.js';
import type { EngineEvent } from '../../engine/contract/api.js';
import { startServer, type RunningServer } from '../../engine/host/serve.js';
import { EngineService } from '../../engine/host/service.js';
import { loadBinding } from '../../engine/runtime/binding.js';
import { connectApi } from './ws-client.js';
import { ManualTimers } from '../support/manual-timers.js';

const IDLE = 60_000;
const MNIST_BYTES = 60_000 * 785 + 10_000 * 785;

const project = (name = 'lifecycle') => {
  const p = JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));
  p.training.dataset = 'mnist';
  p.name = name;
  return p;
};

function setup() {
  const timers = new ManualTimers();
  const service = new EngineService({ runIdleMs: IDLE, timers });
  const states: Extract<EngineEvent, { type: 'run.state' }>[] = [];
  service.onEvent((e) => e.type === 'run.state' && states.push(e));
  /** resolves once the run has reached `state` (events seen so far count) */
  const reached = (runId: string, state: string) => vi.waitFor(() => expect(states.some((e) => e.runId === runId && e.state === state)).toBe(true), { timeout: 60_000, interval: 20 });
  const listed = async (runId: string) => (await service.listRuns({})).some((r) => r.runId === runId);
  return { timers, service, reached, listed };
}

beforeAll(async () => {
  await ensureBuiltin('mnist');
});

describe('a run whose clients have gone', () => {
  it('is closed after the idle time, its native session freed; not while a client remains', async () => {
    const { timers, service, reached, listed } = setup();
    const { runId } = await service.startRun({ project: project(), overrides: { epochs: 1, limitTrain: 256, limitTest: 64 } });
    await reached(runId, 'finished');
    const a = service.openClient();
    const b = service.openClient();
    a.uses(runId);
    b.uses(runId);
    const sessions = loadBinding().liveSessions();

    a.close();
    timers.advance(10 * IDLE);
    expect(await listed(runId)).toBe(true); // b still uses it

    b.close();
    timers.advance(IDLE - 1);
    expect(await listed(runId)).toBe(true); // not yet
    timers.advance(1);
    await vi.waitFor(async () => expect(await listed(runId)).toBe(false));
    expect(loadBinding().liveSessions()).toBe(sessions - 1); // freed now, not at some garbage collection
    await expect(service.getRun({ runId })).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: `there is no run "${runId}"` });
  });

  it('a client that comes back in time keeps it', async () => {
    const { timers, service, reached, listed } = setup();
    const { runId } = await service.startRun({ project: project(), overrides: { epochs: 1, limitTrain: 256, limitTest: 64 } });
    await reached(runId, 'finished');
    const tab = service.openClient();
    tab.uses(runId);
    tab.close();
    timers.advance(IDLE / 2);
    const again = service.openClient(); // the renderer reconnected and asked for its run
    again.uses(runId);
    timers.advance(10 * IDLE);
    expect(await listed(runId)).toBe(true);
    again.close();
    timers.advance(IDLE);
    await vi.waitFor(async () => expect(await listed(runId)).toBe(false));
  });

  it('is not closed while it trains: its idle time starts when it stops training', async () => {
    const { timers, service, reached, listed } = setup();
    const { runId } = await service.startRun({ project: project(), overrides: { epochs: 50, limitTrain: 2048, limitTest: 64 } });
    await service.pauseRun({ runId });
    const tab = service.openClient();
    tab.uses(runId);
    tab.close(); // paused, nobody left: the idle time runs
    await service.resumeRun({ runId }); // training again (an in-process caller)
    expect((await service.listRuns({})).find((r) => r.runId === runId)?.state).toBe('running');
    timers.advance(10 * IDLE);
    expect(await listed(runId)).toBe(true); // training: kept
    await service.stopRun({ runId });
    await reached(runId, 'stopped');
    timers.advance(IDLE - 1);
    expect(await listed(runId)).toBe(true);
    timers.advance(1);
    await vi.waitFor(async () => expect(await listed(runId)).toBe(false));
  });

  it('a run no client ever used (the desktop app, in-process callers) is never closed by time', async () => {
    const { timers, service, reached, listed } = setup();
    const { runId } = await service.startRun({ project: project(), overrides: { epochs: 1, limitTrain: 256, limitTest: 64 } });
    await reached(runId, 'finished');
    timers.advance(100 * IDLE);
    expect(await listed(runId)).toBe(true);
    await service.closeRun({ runId });
  });
});

describe('over the WebSocket of netloom serve', () => {
  const timers = new ManualTimers();
  const service = new EngineService({ runIdleMs: IDLE, timers });
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ host: '127.0.0.1', port: 0, rendererDir: mkdtempSync(join(tmpdir(), 'netloom-lifecycle-')), service, log: () => {} });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a closed tab lets its run go after the idle time; an open one keeps its own', async () => {
    const closing = await connectApi(server);
    const staying = await connectApi(server);
    const started = await closing.call('startRun', { project: project('closed tab'), overrides: { epochs: 1, limitTrain: 256, limitTest: 64 } });
    const kept = await staying.call('startRun', { project: project('open tab'), overrides: { epochs: 1, limitTrain: 256, limitTest: 64 } });
    const gone = started.result.runId;
    const mine = kept.result.runId;
    await closing.until((e) => e.type === 'run.state' && e.runId === gone && e.state === 'finished');
    await staying.until((e) => e.type === 'run.state' && e.runId === mine && e.state === 'finished');
    closing.close();
    await vi.waitFor(() => expect(service.memory().runs.find((r) => r.runId === gone)?.clients).toBe(0));
    timers.advance(IDLE);
    await vi.waitFor(async () => expect((await staying.call('listRuns', {})).result.map((r: any) => r.runId)).toEqual([mine]));
    expect((await staying.call('getRun', { runId: gone })).error.message).toBe(`there is no run "${gone}"`);
    staying.close();
  });
});

describe('datasets', () => {
  it('two runs on the same dataset share one copy; it is let go when the last closes', async () => {
    const { service } = setup();
    const before = service.memory().datasets.loads;
    const one = await service.startRun({ project: project('one'), evaluateOnly: true });
    const two = await service.startRun({ project: project('two'), evaluateOnly: true });
    const m = service.memory();
    expect(m.datasets.loads).toBe(before + 1); // loaded once
    expect(m.datasets.datasets).toEqual([expect.objectContaining({ users: 2, bytes: MNIST_BYTES })]);
    expect(m.runs.map((r) => r.sharedDataset)).toEqual([true, true]);
    await service.closeRun(one);
    expect(service.memory().datasets.datasets).toEqual([expect.objectContaining({ users: 1 })]);
    await service.closeRun(two);
    expect(service.memory().datasets.datasets).toEqual([]);
  });

  it('a run limited to 2,000 samples holds those only, not the whole dataset', async () => {
    const { service } = setup();
    const { runId } = await service.startRun({ project: project('limited'), overrides: { limitTrain: 2000, limitTest: 500 }, evaluateOnly: true });
    const run = service.memory().runs.find((r) => r.runId === runId)!;
    expect(run).toMatchObject({ datasetBytes: 2500 * 785, sharedDataset: false });
    expect(service.memory().datasets.datasets).toEqual([]); // the whole dataset was let go
    const info = await service.datasetInfo({ runId, perClass: 0 });
    expect(info.totals).toEqual({ train: 2000, test: 500 }); // what the run trains and tests on
    await service.closeRun({ runId });
  });
});
