/**
 * Training runs over the real WebSocket of `netloom serve`: start a small run, receive its
 * progress / epoch / state events, pause, resume with a new lr, stop, evaluate, predict, save a
 * checkpoint and read a load report. Bad run ids and bad params get error replies and the
 * connection keeps serving.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from './ws-client.js';
import { ensureBuiltin } from '../../engine/data/builtin.js';
import { EngineEvent } from '../../engine/contract/api.js';
import { startServer, type RunningServer } from '../../engine/host/serve.js';

const quickstart = () => {
  const p = JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));
  p.training.dataset = 'mnist';
  return p;
};
const tmp = mkdtempSync(join(tmpdir(), 'netloom-run-api-'));
const logs: string[] = [];
let server: RunningServer;

const connect = () => connectApi(server);

beforeAll(async () => {
  await ensureBuiltin('mnist');
  server = await startServer({ host: '127.0.0.1', port: 0, rendererDir: tmp, log: (l) => logs.push(l) });
});

afterAll(async () => {
  await server?.close();
});

describe('training runs over the WebSocket', () => {
  it('start, events, pause, resume with a new lr, evaluate, predict, save, report, stop', async () => {
    const c = await connect();
    const other = await connect(); // events go to every client
    const started = await c.call('startRun', {
      project: quickstart(),
      overrides: { epochs: 3, limitTrain: 6000, limitTest: 1000, lr: 0.05, eventIntervalMs: 0 },
    });
    expect(started.error).toBeUndefined();
    const runId: string = started.result.runId;
    await c.until((e) => e.type === 'run.state' && e.runId === runId && e.state === 'running');
    const progress = await c.until((e) => e.type === 'run.progress' && e.runId === runId && e.batch >= 3);
    expect(progress).toMatchObject({ epoch: 1, batches: 94, lr: 0.05 });
    expect(typeof progress.loss).toBe('number');
    const epoch = await c.until((e) => e.type === 'run.epoch' && e.runId === runId);
    expect(epoch.epoch).toBe(1);
    expect(epoch.testAccuracy).toBeGreaterThan(0.5);
    // the epoch's seconds (train + test) hold at least the training time its last progress event measured:
    // 6,000 samples at that event's samples per second (both from the engine's clock; no clock of the test's)
    const last = c.events.filter((e) => e.type === 'run.progress' && e.runId === runId && e.epoch === 1).at(-1);
    expect(last).toMatchObject({ batch: 94, batches: 94, samples: 6000 });
    expect(last.samplesPerSec).toBeGreaterThan(0);
    expect(epoch.seconds).toBeGreaterThanOrEqual((6000 / last.samplesPerSec) * (1 - 1e-9));

    const paused = await c.call('pauseRun', { runId });
    expect(paused.result).toMatchObject({ runId, state: 'paused', epochs: 3, batches: 94 });
    // while paused: evaluate, a confusion cell's samples, predict on one of them
    const ev = (await c.call('evaluateRun', { runId })).result;
    expect(ev.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(1000);
    const cells = (await c.call('runSamples', { runId, actual: 1, predicted: 1, limit: 2 })).result;
    expect(cells.sampleShape).toEqual([1, 28, 28]);
    expect(cells.samples).toHaveLength(2);
    const pixels = Array.from(Buffer.from(cells.samples[0].pixels, 'base64'));
    const pred = (await c.call('predict', { runId, pixels })).result;
    expect(pred.predicted).toBe(1);
    expect(pred.probabilities).toHaveLength(10);
    // checkpoints: save with the optimizer, report (dry run) on the same graph
    const file = join(tmp, 'run.safetensors');
    const saved = await c.call('saveRunCheckpoint', { runId, path: file, which: 'last', withOptimizer: true });
    expect(saved.result.path).toBe(file);
    expect(existsSync(file)).toBe(true);
    const report = (await c.call('checkpointReport', { runId, path: file, dryRun: true })).result;
    expect(report).toMatchObject({ ok: true, loaded: false, hasOptimizerState: false, resumable: true, unassigned: [] }); // plain SGD keeps no state tensors
    expect(report.nodes.find((n: any) => n.nodeId === 'fc1').keys).toEqual(['linear_relu_stack.0.weight', 'linear_relu_stack.0.bias']);

    const resumed = await c.call('resumeRun', { runId, hyper: { lr: 0.02 } });
    expect(resumed.result.run.state).toBe('running');
    expect(resumed.result.change.changes).toEqual({ lr: { from: 0.05, to: 0.02 } });
    const after = await c.call('stopRun', { runId });
    expect(after.result.state).toBe('stopped');
    await c.until((e) => e.type === 'run.state' && e.runId === runId && e.state === 'stopped');
    const lr = c.events.filter((e) => e.type === 'run.progress').at(-1).lr;
    expect([0.02, 0.05]).toContain(lr); // 0.02 once a batch ran after the resume
    const record = (await c.call('getRun', { runId })).result;
    expect(record.changes).toHaveLength(1);
    expect(record.epochsDone.length).toBeGreaterThanOrEqual(1);
    expect((await c.call('listRuns')).result.map((r: any) => r.runId)).toContain(runId);
    // every event matches the contract; the other client saw them too
    for (const e of c.events) expect(EngineEvent.safeParse(e).success, JSON.stringify(e)).toBe(true);
    expect(other.events.some((e) => e.type === 'run.epoch' && e.runId === runId)).toBe(true);

    // a stopped run still evaluates; resuming it is refused
    expect((await c.call('evaluateRun', { runId })).result.samples).toBe(1000);
    expect((await c.call('resumeRun', { runId })).error).toMatchObject({ code: 'NL_INVALID_ARGUMENT' });
    // resume from the checkpoint in a new run
    const again = await c.call('startRun', { project: quickstart(), overrides: { epochs: 3, limitTrain: 6000, limitTest: 1000, lr: 0.05 }, checkpoint: { path: file, resume: true } });
    expect(again.error).toBeUndefined();
    const finished = await c.until((e) => e.type === 'run.state' && e.runId === again.result.runId && (e.state === 'finished' || e.state === 'failed'));
    expect(finished.state).toBe('finished');
    const epochs2 = c.events.filter((e) => e.type === 'run.epoch' && e.runId === again.result.runId).map((e) => e.epoch);
    expect(epochs2).toEqual([2, 3]); // continued after epoch 1
    expect((await c.call('closeRun', { runId })).result).toEqual({});
    c.close();
    other.close();
  });

  it('stopped mid-epoch, saved, then loaded with evaluateOnly: the same evaluation, without training', async () => {
    const c = await connect();
    const overrides = { epochs: 1, batchSize: 8, limitTrain: 6000, limitTest: 1000, lr: 0.05, eventIntervalMs: 0 };
    const { runId } = (await c.call('startRun', { project: quickstart(), overrides })).result;
    await c.until((e) => e.type === 'run.progress' && e.runId === runId && e.batch >= 20);
    const stopped = (await c.call('stopRun', { runId })).result;
    expect(stopped.state).toBe('stopped');
    expect(stopped.batch).toBeGreaterThan(0);
    expect(stopped.batch).toBeLessThan(stopped.batches); // mid-epoch
    const ev = (await c.call('evaluateRun', { runId })).result;
    expect(ev.samples).toBe(1000);
    const file = join(tmp, 'stopped.safetensors');
    expect((await c.call('saveRunCheckpoint', { runId, path: file })).error).toBeUndefined();

    const loaded = await c.call('startRun', { project: quickstart(), overrides, checkpoint: { path: file, resume: false }, evaluateOnly: true });
    expect(loaded.error).toBeUndefined();
    const id2: string = loaded.result.runId;
    const summary = (await c.call('listRuns')).result.find((r: any) => r.runId === id2);
    expect(summary).toMatchObject({ state: 'stopped', epoch: 1, batch: 0 }); // never trained
    const ev2 = (await c.call('evaluateRun', { runId: id2 })).result;
    expect(ev2).toEqual(ev); // exactly: accuracy, loss, confusion matrix
    expect(c.events.some((e) => e.type === 'run.progress' && e.runId === id2)).toBe(false);
    expect(c.events.filter((e) => e.type === 'run.state' && e.runId === id2).map((e) => e.state)).toEqual(['stopped']);
    // the weights are usable: a sample predicts the same as in the run that saved them
    const cell = (await c.call('runSamples', { runId, actual: 1, predicted: 1, limit: 1 })).result.samples[0];
    const pixels = Array.from(Buffer.from(cell.pixels, 'base64'));
    expect((await c.call('predict', { runId: id2, pixels })).result).toEqual((await c.call('predict', { runId, pixels })).result);
    // evaluateOnly without a checkpoint to load fails as startRun does: the file named, a hint, and no run made
    const missing = join(tmp, 'nope.safetensors');
    const runsBefore = (await c.call('listRuns')).result.length;
    const bad = await c.call('startRun', { project: quickstart(), overrides, checkpoint: { path: missing, resume: false }, evaluateOnly: true });
    expect(bad.error).toEqual({ code: 'NL_IO', message: `${missing}: checkpoint file not found`, hint: expect.stringMatching(/Check the path/) });
    const asTraining = await c.call('startRun', { project: quickstart(), overrides, checkpoint: { path: missing, resume: false } });
    expect(bad.error).toEqual(asTraining.error);
    const notSafetensors = await c.call('startRun', { project: quickstart(), overrides, checkpoint: { path: join(process.cwd(), 'package.json'), resume: false }, evaluateOnly: true });
    expect(notSafetensors.error).toMatchObject({ code: 'NL_UNSUPPORTED', message: expect.stringContaining('package.json is not one') });
    expect((await c.call('listRuns')).result).toHaveLength(runsBefore);
    await c.call('closeRun', { runId });
    await c.call('closeRun', { runId: id2 });
    c.close();
  });

  it('bad run ids and bad params get error replies and the server keeps serving', async () => {
    const c = await connect();
    for (const [method, params] of [
      ['pauseRun', { runId: 'run-999' }],
      ['evaluateRun', { runId: 'nope' }],
      ['predict', { runId: 'nope', pixels: [1, 2, 3] }],
      ['saveRunCheckpoint', { runId: 'nope', path: join(tmp, 'x.safetensors') }],
    ] as const) {
      const r = await c.call(method, params);
      expect(r.error?.code, method).toBe('NL_INVALID_ARGUMENT');
      expect(r.error.message).toMatch(/no run/);
    }
    expect((await c.call('pauseRun', {})).error.code).toBe('NL_BAD_REQUEST');
    expect((await c.call('predict', { runId: 'x', pixels: [300] })).error.code).toBe('NL_BAD_REQUEST');
    expect((await c.call('startRun', { project: quickstart(), overrides: { epochs: -1 } })).error.code).toBe('NL_BAD_REQUEST');
    expect((await c.call('startRun', { project: quickstart(), overrides: { bogus: 1 } })).error.code).toBe('NL_BAD_REQUEST');
    expect((await c.call('resumeRun', { runId: 'x', hyper: { lr: 0 } })).error.code).toBe('NL_BAD_REQUEST');
    const broken = quickstart();
    broken.graph.nodes[2].params.out_features = 7; // fc1 -> 7, fine; fc3 -> 10 classes ok: break the loss instead
    broken.graph.nodes = broken.graph.nodes.filter((n: any) => n.type !== 'CrossEntropyLoss');
    broken.graph.edges = broken.graph.edges.filter((e: any) => e.target !== 'loss');
    const bad = await c.call('startRun', { project: broken, overrides: { limitTrain: 100 } });
    expect(bad.error.code).toMatch(/^NL_BAD_/);
    expect((await c.call('hello')).result.apiVersion).toBe(1);
    expect(logs.filter((l) => /internal error/.test(l))).toEqual([]);
    c.close();
  });
});
