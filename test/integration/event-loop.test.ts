/**
 * The desktop app's main process owns the engine, so training must leave its event loop free: a
 * window that stutters while a model trains is a broken app. This drives EngineService the way
 * electron/main.ts does (through the IPC adapter, default event throttle) while the CNN template
 * trains on FashionMNIST at batch 64, with a "renderer" making the calls it makes while training
 * (re-analysing the graph, polling the run), each cycle of them started by a timer.
 *
 * The property, with no clock in it: every epoch, the main process runs whole renderer cycles while
 * that epoch trains. A cycle needs a turn of the event loop (its timer) and two IPC round trips, and
 * counts for epoch k only if it starts after the event that ends epoch k-1 arrives (after startRun
 * answers, for the first) and ends before the event that ends epoch k does. If an epoch ran on the
 * main thread, or blocked it until the epoch's end, its end event would arrive in the same turn the
 * loop got back, before any cycle could run: zero cycles for that epoch. (The event-loop delay is
 * printed for information; how long a delay is acceptable is a matter for `npm run bench`, not for a
 * test on a shared, loaded machine.)
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHANNELS, registerEngineIpc } from '../../electron/ipc.js';
import { ensureBuiltin } from '../../engine/data/builtin.js';
import { EngineEvent } from '../../engine/contract/api.js';
import { EngineService } from '../../engine/host/service.js';
import { StandInIpcMain, StandInPage } from './electron-standin.js';

const savedConfigDir = process.env.NETLOOM_CONFIG_DIR;
beforeAll(async () => {
  process.env.NETLOOM_CONFIG_DIR = join(mkdtempSync(join(tmpdir(), 'netloom-eld-')), 'config');
  await ensureBuiltin('fashion-mnist');
});
afterAll(() => {
  if (savedConfigDir === undefined) delete process.env.NETLOOM_CONFIG_DIR;
  else process.env.NETLOOM_CONFIG_DIR = savedConfigDir;
});

it('runs renderer calls on the main event loop during every epoch while the CNN template trains at batch 64', async () => {
  const ipcMain = new StandInIpcMain();
  const service = new EngineService();
  const ipc = registerEngineIpc({ ipcMain, service });
  const page = new StandInPage('netloom://app/index.html');
  ipc.attach(page);
  const call = async (method: string, params: unknown) => {
    const r = (await ipcMain.invoke(page, CHANNELS.call, method, params)) as { result?: any; error?: { message: string } };
    if (r.error) throw new Error(`${method}: ${r.error.message}`);
    return r.result;
  };

  const project = JSON.parse(readFileSync('assets/templates/fashion-cnn.json', 'utf8'));
  expect(project.training.batch_size).toBe(64);
  const EPOCHS = 3;
  const events: EngineEvent[] = [];
  /** run.epoch events received so far: the epoch training now is epochsEnded + 1 */
  let epochsEnded = 0;
  let onEvent: (() => void) | undefined;
  page.onMessage(CHANNELS.event, (_e, msg) => {
    const e = EngineEvent.parse((msg as { event: unknown }).event);
    events.push(e);
    if (e.type === 'run.epoch') epochsEnded++;
    onEvent?.();
  });
  const waitFor = (pred: (e: EngineEvent) => boolean) =>
    new Promise<EngineEvent>((resolve) => {
      const check = () => {
        const hit = events.find(pred);
        if (hit) {
          onEvent = undefined;
          resolve(hit);
        }
      };
      onEvent = check;
      check();
    });

  // 30 batches of 64 per epoch
  const { runId } = await call('startRun', { project, overrides: { epochs: EPOCHS, limitTrain: 1920, limitTest: 256 } });
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  /** cyclesIn[k]: whole renderer cycles run while epoch k + 1 trained */
  const cyclesIn = new Array<number>(EPOCHS).fill(0);
  let training = true;
  const renderer = (async () => {
    while (training) {
      const during = epochsEnded;
      await new Promise((r) => setTimeout(r, 5)); // a turn of the loop (the renderer acts on input and timers)
      await call('analyze', { graph: project.graph, batchSize: 64 });
      await call('getRun', { runId });
      if (epochsEnded === during && during < EPOCHS) cyclesIn[during]++;
    }
  })();
  const end = (await waitFor((e) => e.type === 'run.state' && e.runId === runId && (e.state === 'finished' || e.state === 'failed'))) as { state: string; error?: unknown };
  training = false;
  await renderer;
  histogram.disable();
  ipc.dispose();

  expect(end.state, JSON.stringify(end.error)).toBe('finished');
  expect(epochsEnded).toBe(EPOCHS);
  const ms = (ns: number) => ns / 1e6;
  console.log(
    `while fashion-cnn trained at batch 64: renderer cycles per epoch ${cyclesIn.join(', ')}; event-loop delay (information only) ` +
      `p50 ${ms(histogram.percentile(50)).toFixed(2)} ms, p99 ${ms(histogram.percentile(99)).toFixed(2)} ms, max ${ms(histogram.max).toFixed(2)} ms`,
  );
  for (let k = 0; k < EPOCHS; k++) expect(cyclesIn[k], `renderer cycles run while epoch ${k + 1} trained`).toBeGreaterThan(0);
  // JavaScript sees throttled progress, not every batch
  expect(events.filter((e) => e.type === 'run.progress').length).toBeGreaterThan(0);
});
