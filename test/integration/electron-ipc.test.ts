/**
 * The desktop transport (electron/ipc.ts) with the real EngineService, driven the way Electron
 * drives it (electron-standin.ts: ipcMain and webContents as Electron's documentation describes
 * them). Only our window's main frame on netloom://app may call; a malformed call gets an error
 * reply; and a whole run — start, events, pause, resume, stop, evaluate, save a checkpoint — goes
 * through the adapter as the renderer's client would send it.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS, registerEngineIpc, type EngineIpc } from '../../electron/ipc.js';
import { ensureBuiltin } from '../../engine/data/builtin.js';
import { EngineEvent, METHODS } from '../../engine/contract/api.js';
import { EngineService } from '../../engine/host/service.js';
import { loadSafetensors } from '../../engine/io/safetensors.js';
import { StandInIpcMain, StandInPage } from './electron-standin.js';

const APP_PAGE = 'netloom://app/index.html';
const tmp = mkdtempSync(join(tmpdir(), 'netloom-ipc-'));

type Reply = { result?: any; error?: { code: string; message: string; hint?: string } };

interface Setup {
  ipcMain: StandInIpcMain;
  service: EngineService;
  ipc: EngineIpc;
  page: StandInPage;
  logs: string[];
  drops: string[][];
  call(method: unknown, params?: unknown, from?: StandInPage): Promise<Reply>;
  events: EngineEvent[];
  until<T extends EngineEvent>(pred: (e: EngineEvent) => e is T): Promise<T>;
  until(pred: (e: EngineEvent) => boolean): Promise<EngineEvent>;
}

let current: Setup | undefined;

function setup(): Setup {
  const ipcMain = new StandInIpcMain();
  const service = new EngineService();
  const logs: string[] = [];
  const drops: string[][] = [];
  const ipc = registerEngineIpc({ ipcMain, service, log: (l) => logs.push(l), onDrop: (paths) => drops.push(paths) });
  const page = new StandInPage(APP_PAGE);
  ipc.attach(page);
  const events: EngineEvent[] = [];
  const waiters = new Set<{ pred: (e: EngineEvent) => boolean; resolve: (e: EngineEvent) => void }>();
  // What the preload's subscribe does: every 'netloom:event' message, validated by the renderer's client.
  page.onMessage(CHANNELS.event, (_event, msg) => {
    const e = EngineEvent.parse((msg as { event: unknown }).event);
    events.push(e);
    for (const w of waiters) if (w.pred(e)) {
      waiters.delete(w);
      w.resolve(e);
    }
  });
  const s: Setup = {
    ipcMain, service, ipc, page, logs, drops, events,
    call: (method, params = {}, from = page) => ipcMain.invoke(from, CHANNELS.call, method, params) as Promise<Reply>,
    until: ((pred: (e: EngineEvent) => boolean) =>
      new Promise<EngineEvent>((resolve) => {
        const seen = events.find(pred);
        if (seen) resolve(seen);
        else waiters.add({ pred, resolve });
      })) as Setup['until'],
  };
  current = s;
  return s;
}

afterEach(() => {
  current?.ipc.dispose();
  current = undefined;
});

const savedConfigDir = process.env.NETLOOM_CONFIG_DIR;
beforeAll(async () => {
  // Methods called with empty params (clearRecovery, recentProjects) touch the settings folder: a temporary one.
  process.env.NETLOOM_CONFIG_DIR = join(tmp, 'config');
  await ensureBuiltin('mnist');
});
afterAll(() => {
  if (savedConfigDir === undefined) delete process.env.NETLOOM_CONFIG_DIR;
  else process.env.NETLOOM_CONFIG_DIR = savedConfigDir;
});

describe('who may call', () => {
  it('answers our window\'s main frame on netloom://app', async () => {
    const s = setup();
    const r = await s.call('hello', {});
    expect(r.error).toBeUndefined();
    expect(r.result.apiVersion).toBe(1);
    expect(s.logs).toEqual([]);
  });

  it('refuses other pages, sub-frames, other windows and vanished frames, and logs why', async () => {
    const s = setup();
    const untrusted: [string, StandInPage][] = [
      ['a remote page in our window', new StandInPage('https://evil.example/')],
      ['a file:// page', new StandInPage('file:///tmp/index.html')],
      ['a look-alike scheme', new StandInPage('netloom://app.evil/index.html')],
      ['credentials in the URL', new StandInPage('netloom://user@app/index.html')],
    ];
    // Those are other webContents; also our own window showing something else, a sub-frame, no frame.
    const ours = s.page;
    const navigated = Object.create(ours) as StandInPage;
    navigated.frame = { url: 'https://evil.example/', parent: null };
    const gone = Object.create(ours) as StandInPage;
    gone.frame = null;
    untrusted.push(['our window after navigating away', navigated], ['an iframe in our window', ours.subFrame(APP_PAGE)], ['a destroyed frame', gone]);
    for (const [what, page] of untrusted) {
      const r = await s.call('listRuns', {}, page);
      expect(r.error?.code, what).toBe('NL_FORBIDDEN');
      expect(r.result, what).toBeUndefined();
    }
    expect(s.logs).toHaveLength(untrusted.length);
    expect(s.logs.join('\n')).toMatch(/not a Netloom window[\s\S]*sub-frame[\s\S]*frame is gone/);
    // A window that was detached (closed) is no longer ours.
    s.ipc.detach(ours);
    expect((await s.call('hello', {})).error?.code).toBe('NL_FORBIDDEN');
  });

  it('takes dropped file paths from our window only, and only well-formed ones', () => {
    const s = setup();
    s.ipcMain.send(s.page, CHANNELS.drop, ['/home/me/model.safetensors']);
    s.ipcMain.send(new StandInPage('https://evil.example/'), CHANNELS.drop, ['/etc/passwd.json']);
    s.ipcMain.send(s.page, CHANNELS.drop, 'not a list');
    s.ipcMain.send(s.page, CHANNELS.drop, []);
    s.ipcMain.send(s.page, CHANNELS.drop, [42]);
    expect(s.drops).toEqual([['/home/me/model.safetensors']]);
    expect(s.logs.some((l) => /refused a file drop/.test(l))).toBe(true);
  });
});

describe('malformed calls', () => {
  it('get an error reply, and the adapter keeps serving', async () => {
    const s = setup();
    const bad: [unknown, unknown, RegExp][] = [
      ['noSuchMethod', {}, /unknown method "noSuchMethod"/],
      [42, {}, /no method name/],
      ['analyze', { graph: 'not a graph', batchSize: 64 }, /invalid parameters for analyze: graph/],
      ['analyze', { graph: { nodes: [], edges: [] }, batchSize: -1 }, /batchSize/],
      ['startRun', null, /invalid parameters for startRun/],
      ['__proto__', {}, /unknown method/],
      ['constructor', {}, /unknown method/],
    ];
    for (const [method, params, message] of bad) {
      const r = await s.call(method, params);
      expect(r.error?.code).toBe('NL_BAD_REQUEST');
      expect(r.error?.message).toMatch(message);
    }
    // wrong number of arguments (what a hand-made invoke could send)
    const extra = (await s.ipcMain.invoke(s.page, CHANNELS.call, 'hello', {}, 'extra')) as Reply;
    expect(extra.error?.message).toMatch(/takes a method name and its params, got 3/);
    // an engine error is a reply with the engine's code and hint, not a rejected invoke
    const missing = await s.call('openProject', { path: join(tmp, 'nope.netloom.json') });
    expect(missing.error?.code).toBe('NL_IO');
    expect(missing.error?.hint).toBeTruthy();
    expect((await s.call('hello', {})).result.apiVersion).toBe(1);
  });

  it('has exactly one handler, and every contract method is reachable through it', async () => {
    const s = setup();
    expect(s.ipcMain.handlerCount()).toBe(1);
    expect(() => registerEngineIpc({ ipcMain: s.ipcMain, service: s.service })).toThrow(/second handler/);
    for (const method of Object.keys(METHODS)) {
      const r = await s.call(method, {});
      // Each method is dispatched (it answers, or refuses its empty params), never "unknown method".
      expect(r.error?.message ?? '').not.toMatch(/unknown method/);
    }
  });

  it('the browser host answers pickPath with NL_UNSUPPORTED; hostInfo says which host', async () => {
    const s = setup();
    expect((await s.call('hostInfo', {})).result).toMatchObject({ kind: 'browser', nativeDialogs: false });
    expect((await s.call('pickPath', { mode: 'open', purpose: 'project' })).error?.code).toBe('NL_UNSUPPORTED');
  });
});

describe('a whole run through the IPC adapter', () => {
  it('start, events, pause, resume, stop, evaluate, save a checkpoint', async () => {
    const s = setup();
    const project = JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));
    project.training.dataset = 'mnist';
    const started = await s.call('startRun', { project, overrides: { epochs: 3, limitTrain: 6000, limitTest: 1000, lr: 0.05, eventIntervalMs: 0 } });
    expect(started.error).toBeUndefined();
    const runId: string = started.result.runId;

    await s.until((e) => e.type === 'run.state' && e.runId === runId && e.state === 'running');
    const progress = await s.until((e) => e.type === 'run.progress' && e.runId === runId && e.batch >= 3);
    expect(progress).toMatchObject({ epoch: 1, batches: 94 });
    const epoch = await s.until((e) => e.type === 'run.epoch' && e.runId === runId);
    expect(epoch).toMatchObject({ epoch: 1 });
    expect((epoch as { testAccuracy: number }).testAccuracy).toBeGreaterThan(0.5);

    const paused = await s.call('pauseRun', { runId });
    expect(paused.result).toMatchObject({ runId, state: 'paused' });
    await s.until((e) => e.type === 'run.state' && e.runId === runId && e.state === 'paused');

    const evaluation = await s.call('evaluateRun', { runId });
    expect(evaluation.error).toBeUndefined();
    expect(evaluation.result.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(1000);

    const file = join(tmp, 'ipc.safetensors');
    const saved = await s.call('saveRunCheckpoint', { runId, path: file, which: 'last' });
    expect(saved.result.path).toBe(file);
    expect(existsSync(file)).toBe(true);
    const tensors = await loadSafetensors(file);
    expect(Object.keys(tensors.tensors).sort()).toEqual(
      ['linear_relu_stack.0.bias', 'linear_relu_stack.0.weight', 'linear_relu_stack.2.bias', 'linear_relu_stack.2.weight', 'linear_relu_stack.4.bias', 'linear_relu_stack.4.weight'],
    );

    const resumed = await s.call('resumeRun', { runId, hyper: { lr: 0.02 } });
    expect(resumed.result.run.state).toBe('running');
    await s.until((e) => e.type === 'run.progress' && e.runId === runId && e.lr === 0.02);

    const stopped = await s.call('stopRun', { runId });
    expect(stopped.result.state).toBe('stopped');
    await s.until((e) => e.type === 'run.state' && e.runId === runId && e.state === 'stopped');
    expect(s.service.hasActiveRuns()).toBe(false);
    // after the stop the weights stay usable
    expect((await s.call('evaluateRun', { runId })).error).toBeUndefined();
    expect(s.logs).toEqual([]);
  });

  it('stopAllRuns (the app quitting) stops a training run cleanly', async () => {
    const s = setup();
    const project = JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));
    project.training.dataset = 'mnist';
    const { result } = await s.call('startRun', { project, overrides: { epochs: 50, limitTrain: 6000, limitTest: 500, eventIntervalMs: 0 } });
    await s.until((e) => e.type === 'run.progress' && e.runId === result.runId);
    expect(s.service.hasActiveRuns()).toBe(true);
    await s.service.stopAllRuns();
    expect(s.service.hasActiveRuns()).toBe(false);
    expect((await s.call('getRun', { runId: result.runId })).result.state).toBe('stopped');
  });
});
