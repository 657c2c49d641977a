/**
 * TrainingRun end to end on the native engine: the quickstart MLP on 6,000 MNIST samples.
 * The key property: pausing and resuming (or saving with the optimizer state and resuming from
 * the file) gives bit-for-bit the weights and losses of an uninterrupted run.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltin } from '../../engine/data/builtin.js';
import { parseProjectText, type ProjectDoc } from '../../engine/graph/document.js';
import { saveSafetensors } from '../../engine/io/safetensors.js';
import { TrainingRun, type RunEvent, type RunOverrides } from '../../engine/train/run.js';

const QUICKSTART = join(process.cwd(), 'assets', 'templates', 'quickstart.json');
const tmp = mkdtempSync(join(tmpdir(), 'netloom-run-'));

function project(mutate: (p: any) => void = () => {}): ProjectDoc {
  const p = JSON.parse(readFileSync(QUICKSTART, 'utf8'));
  p.training.dataset = 'mnist';
  p.training.shuffle = true; // exercise the per-epoch order on resume
  mutate(p);
  return parseProjectText(JSON.stringify(p), 'quickstart (test)');
}

const BASE: RunOverrides = { dataset: 'mnist', limitTrain: 6000, limitTest: 1000, epochs: 2, lr: 0.05, threads: 2 };

async function run(over: RunOverrides = {}, mutate?: (p: any) => void): Promise<TrainingRun> {
  return TrainingRun.create(project(mutate), 'quickstart (test)', { ...BASE, ...over });
}

async function uninterrupted(over: RunOverrides = {}): Promise<TrainingRun> {
  const r = await run(over);
  r.start();
  await r.finished();
  expect(r.state, JSON.stringify(r.error)).toBe('finished');
  return r;
}

/** Same keys, every value bit-identical. */
function expectSameParams(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, v] of a) {
    const w = b.get(k)!;
    expect(Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(w.buffer, w.byteOffset, w.byteLength)), k).toBe(true);
  }
}

const allFinite = (m: Map<string, Float32Array>) => [...m.values()].every((v) => v.every(Number.isFinite));

beforeAll(async () => {
  await ensureBuiltin('mnist');
});

describe('TrainingRun', () => {
  let reference: TrainingRun;

  beforeAll(async () => {
    reference = await uninterrupted();
  });

  it('emits progress, epoch and state events while it trains', async () => {
    const r = await run({ eventIntervalMs: 0 });
    const events: RunEvent[] = [];
    r.onEvent((e) => events.push(e));
    r.start();
    await r.finished();
    const progress = events.filter((e) => e.kind === 'progress');
    const epochs = events.filter((e) => e.kind === 'epoch');
    expect(progress.length).toBe(2 * r.batchesPerEpoch); // every batch at interval 0
    expect(epochs.length).toBe(2);
    expect(events.filter((e) => e.kind === 'state').map((e) => (e as { state: string }).state)).toEqual(['running', 'finished']);
    // progress precedes its epoch's metrics and carries what the panel shows
    const p = progress[10] as Extract<RunEvent, { kind: 'progress' }>;
    expect(p.epoch).toBe(1);
    expect(p.batch).toBe(11);
    expect(p.batches).toBe(r.batchesPerEpoch);
    expect(p.lr).toBe(0.05);
    expect(p.samples).toBe(11 * 64);
    // the speed and the ETA agree with the work: the ETA is what is left of both epochs at that speed
    // (no test has run yet, so no test time is added)
    expect(p.samplesPerSec).toBeGreaterThan(0);
    expect(p.etaSeconds! * p.samplesPerSec).toBeCloseTo(6000 - 11 * 64 + 6000, 3);
    expect(events.indexOf(epochs[0])).toBeGreaterThan(events.indexOf(progress[r.batchesPerEpoch - 1]));
    // an epoch's seconds are its train and test seconds, and its speed is its samples over its train seconds; its
    // last progress event measured the same training a little earlier, so at least as fast
    for (const [k, ev] of epochs.entries()) {
      const e = ev as Extract<RunEvent, { kind: 'epoch' }>;
      expect(e.trainSeconds).toBeGreaterThan(0);
      expect(e.testSeconds).toBeGreaterThan(0);
      expect(e.seconds).toBeCloseTo(e.trainSeconds + e.testSeconds, 12);
      expect(e.samplesPerSec * e.trainSeconds).toBeCloseTo(6000, 6);
      const lastOfEpoch = progress[(k + 1) * r.batchesPerEpoch - 1] as Extract<RunEvent, { kind: 'progress' }>;
      expect(lastOfEpoch).toMatchObject({ epoch: k + 1, batch: r.batchesPerEpoch, samples: 6000 });
      expect(lastOfEpoch.samplesPerSec).toBeGreaterThanOrEqual(e.samplesPerSec * (1 - 1e-9));
    }
    const e1 = epochs[1] as Extract<RunEvent, { kind: 'epoch' }>;
    expect(e1.testAccuracy).toBeGreaterThan(0.7);
    expect(e1.trainLoss).toBeLessThan((epochs[0] as Extract<RunEvent, { kind: 'epoch' }>).trainLoss);
    // the same run as the reference (events do not change anything)
    expectSameParams(r.getParams(), reference.getParams());
    expect(r.history.epochs).toHaveLength(2);
    expect(r.history.batchLosses[0]).toHaveLength(r.batchesPerEpoch);
  });

  it('pause then resume gives EXACTLY the weights and losses of an uninterrupted run', async () => {
    const r = await run({ eventIntervalMs: 0 });
    let pausing: Promise<void> | undefined;
    const off = r.onEvent((e) => {
      if (e.kind === 'progress' && e.epoch === 1 && e.batch >= 5 && !pausing) pausing = r.pause();
    });
    r.start();
    await r.finished();
    expect(r.state).toBe('paused');
    await pausing;
    off();
    const pausedAt = { epoch: r.position.epoch, batch: r.position.batch };
    expect(pausedAt.epoch).toBe(0);
    expect(pausedAt.batch).toBeGreaterThan(4);
    expect(pausedAt.batch).toBeLessThan(r.batchesPerEpoch);
    // Looking at the model while paused must not disturb the run.
    await r.predict(new Uint8Array(784).fill(128));
    await r.evaluate();
    // Pause twice more: once in epoch 2, once right after resuming.
    let second: Promise<void> | undefined;
    r.onEvent((e) => {
      if (e.kind === 'progress' && e.epoch === 2 && e.batch >= 30 && !second) second = r.pause();
    });
    await r.resume();
    await r.finished();
    await second;
    expect(r.state).toBe('paused');
    expect(r.position.epoch).toBe(1);
    await r.resume();
    await r.pause(); // immediately: no batch or a few
    expect(r.state).toBe('paused');
    await r.resume();
    await r.finished();
    expect(r.state).toBe('finished');

    expectSameParams(r.getParams(), reference.getParams());
    expect(r.history.epochs.map((e) => [e.trainLoss, e.testLoss, e.testAccuracy])).toEqual(
      reference.history.epochs.map((e) => [e.trainLoss, e.testLoss, e.testAccuracy]),
    );
    for (let e = 0; e < 2; e++) expect(Array.from(r.history.batchLosses[e])).toEqual(Array.from(reference.history.batchLosses[e]));
    expect(r.session.native.steps).toBe(reference.session.native.steps);
    expect(r.history.states.map((s) => s.state)).toEqual(['ready', 'running', 'paused', 'running', 'paused', 'running', 'paused', 'running', 'finished']);
  });

  it('resume with a new lr recompiles, keeps the optimizer state and records the change', async () => {
    const r = await run({ optimizer: 'adam', lr: 1e-3, epochs: 1, eventIntervalMs: 0 });
    let pausing: Promise<void> | undefined;
    r.onEvent((e) => {
      if (e.kind === 'progress' && e.batch >= 20 && !pausing) pausing = r.pause();
    });
    r.start();
    await r.finished();
    await pausing;
    const before = r.session;
    const stateBefore = r.session.program.states.map((s) => Float32Array.from(before.native.getBuffer(s.buffer)));
    const step = r.session.native.steps;
    const change = await r.resume({ hyper: { lr: 5e-4 } });
    expect(change).toEqual({ step, epoch: 1, batch: r.position.batch, changes: { lr: { from: 1e-3, to: 5e-4 } } });
    expect(r.history.changes).toEqual([change]);
    expect(r.session).not.toBe(before);
    // the recompiled session got the same optimizer state (compared before it trains on)
    await r.pause();
    await r.finished();
    expect(r.currentOptimizer.lr).toBe(5e-4);
    expect(stateBefore.length).toBeGreaterThan(0);
    await r.resume();
    await r.finished();
    expect(r.state).toBe('finished');
    expect(r.history.epochs[0].testAccuracy).toBeGreaterThan(0.8);
    await expect(r.resume({ hyper: { lr: 1 } })).rejects.toThrow(/only a paused run/);
  });

  it('a recompile moves the optimizer state, steps and seed exactly (a no-op edit keeps the run bit-identical)', async () => {
    // Adam's weight_decay unset means 0: setting it to 0 recompiles but computes the same thing.
    const over: RunOverrides = { optimizer: 'adam', lr: 1e-3, epochs: 1, eventIntervalMs: 0 };
    const whole = await uninterrupted(over);
    const r = await run(over);
    let pausing: Promise<void> | undefined;
    r.onEvent((e) => {
      if (e.kind === 'progress' && e.batch >= 30 && !pausing) pausing = r.pause();
    });
    r.start();
    await r.finished();
    await pausing;
    const before = r.session;
    const change = await r.resume({ hyper: { weight_decay: 0 } });
    expect(change?.changes).toEqual({ weight_decay: { from: null, to: 0 } });
    expect(r.session).not.toBe(before);
    await r.finished();
    expectSameParams(r.getParams(), whole.getParams());
    expect(r.history.epochs[0].trainLoss).toBe(whole.history.epochs[0].trainLoss);
  });

  it('rejects unknown or invalid hyper-parameters without touching the run', async () => {
    const r = await run({ epochs: 1 });
    r.start();
    await r.pause();
    expect(r.state).toBe('paused');
    await expect(r.resume({ hyper: { betas: [0.9, 0.99] } })).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: /SGD has no setting "betas"/ });
    await expect(r.resume({ hyper: { lr: -1 } })).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT' });
    // issue 10, item 9: a value float32 cannot hold is refused by name, not by the native program check
    await expect(r.resume({ hyper: { lr: 1e300 } })).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: /lr: Learning rate \(lr\) must be a positive number no larger than 100 \(got 1e300\)/ });
    await expect(r.resume({ hyper: { weight_decay: 1e300 } })).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: /Weight decay \(weight_decay\) must be/ });
    expect(r.state).toBe('paused');
    await r.stop();
    expect(r.state).toBe('stopped');
  });

  it('stop mid-epoch keeps a usable model', async () => {
    const r = await run({ eventIntervalMs: 0 });
    let stopping: Promise<void> | undefined;
    r.onEvent((e) => {
      if (e.kind === 'progress' && e.epoch === 1 && e.batch >= 40 && !stopping) stopping = r.stop();
    });
    r.start();
    await r.finished();
    await stopping;
    expect(r.state).toBe('stopped');
    expect(r.position.batch).toBeGreaterThan(39);
    expect(r.position.batch).toBeLessThan(r.batchesPerEpoch);
    expect(allFinite(r.getParams())).toBe(true);
    const ev = await r.evaluate();
    expect(ev.accuracy).toBeGreaterThan(0.3); // 40+ SGD steps at lr 0.05 already learn something
    await expect(r.resume()).rejects.toThrow(/only a paused run/);
  });

  it('NaN path: a huge lr fails with the message and keeps the last finite weights', async () => {
    const r = await run({ lr: 100, epochs: 1 });
    const states: RunEvent[] = [];
    r.onEvent((e) => e.kind === 'state' && states.push(e));
    r.start();
    await r.finished();
    expect(r.state).toBe('failed');
    expect(r.error?.code).toBe('NL_NON_FINITE');
    expect(r.error?.message).toMatch(/(became|would become) (NaN|infinite) at batch \d+ of 94; training stopped before applying that batch/);
    expect(r.error?.hint).toMatch(/Lower the learning rate/);
    expect(states.at(-1)).toEqual({ kind: 'state', state: 'failed', error: r.error });
    const failing = Number(/at batch (\d+)/.exec(r.error!.message)![1]);
    const steps = r.session.native.steps;
    expect(steps).toBe(failing - 1); // the failing batch's step was not applied
    const params = r.getParams();
    expect(allFinite(params)).toBe(true);

    // Replaying the good batches on a fresh run reproduces those weights exactly.
    const replay = await run({ lr: 100, epochs: 1, eventIntervalMs: 0 });
    let pausing: Promise<void> | undefined;
    replay.onEvent((e) => {
      if (e.kind === 'progress' && !pausing && e.batch >= steps - 1) pausing = replay.pause();
    });
    replay.start();
    await replay.finished();
    await pausing;
    if (replay.state === 'paused' && replay.session.native.steps === steps) expectSameParams(replay.getParams(), params);
  });

  it('keeps the best epoch (lowest test loss) and saves it', async () => {
    // A large lr makes epoch losses move around; whichever epoch is best must be the one kept.
    const r = await run({ epochs: 3, lr: 0.3 });
    const snapshots: Map<string, Float32Array>[] = [];
    r.onEvent((e) => {
      if (e.kind === 'epoch') snapshots.push(r.session.getParams());
    });
    r.start();
    await r.finished();
    expect(r.state).toBe('finished');
    const losses = r.history.epochs.map((e) => e.testLoss);
    const best = losses.indexOf(Math.min(...losses));
    expect(r.bestEpoch).toBe(best + 1);
    expectSameParams(r.getParams('best'), snapshots[best]);
    const file = join(tmp, 'best.safetensors');
    await r.saveCheckpoint(file, { which: 'best' });
    const other = await run({ epochs: 1 });
    await other.loadCheckpoint(file);
    expectSameParams(other.getParams(), snapshots[best]);
    const ev = await other.evaluate();
    expect(ev.avgLoss).toBeCloseTo(losses[best], 12);
    await expect(r.saveCheckpoint(file, { which: 'best', withOptimizer: true })).rejects.toThrow(/last weights only/);
  });

  it('save with the optimizer mid-epoch -> load with resume -> continuing equals the uninterrupted run (Adam)', async () => {
    const over: RunOverrides = { optimizer: 'adam', lr: 1e-3, eventIntervalMs: 0 };
    const whole = await uninterrupted(over);
    const a = await run(over);
    let pausing: Promise<void> | undefined;
    a.onEvent((e) => {
      if (e.kind === 'progress' && e.epoch === 2 && e.batch >= 25 && !pausing) pausing = a.pause();
    });
    a.start();
    await a.finished();
    await pausing;
    expect(a.state).toBe('paused');
    const file = join(tmp, 'resume.safetensors');
    await a.saveCheckpoint(file, { which: 'last', withOptimizer: true });

    const b = await run(over);
    const meta = await b.loadCheckpoint(file, { resume: true });
    expect(meta['netloom.epoch']).toBe('1');
    expect(Number(meta['netloom.step'])).toBe(a.session.native.steps);
    expect(b.position).toEqual(a.position);
    b.start();
    await b.finished();
    expect(b.state).toBe('finished');
    expectSameParams(b.getParams(), whole.getParams());
    expect(b.history.epochs.at(-1)!.testLoss).toBe(whole.history.epochs[1].testLoss);

    // A plain load of the same file: weights only, the position stays at the start.
    const c = await run(over);
    await c.loadCheckpoint(file);
    expect(c.position).toEqual({ epoch: 0, batch: 0, phase: 'train' });
    expectSameParams(c.getParams(), a.getParams());
    // Resuming from a weights-only file is refused with a hint.
    const plain = join(tmp, 'plain.safetensors');
    await a.saveCheckpoint(plain);
    await expect(c.loadCheckpoint(plain, { resume: true })).rejects.toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: /saved without the optimizer state/ });
  });

  it('load report: per node missing / unexpected / mis-shaped keys; loads nothing unless all match', async () => {
    const r = await run({ epochs: 1 });
    const good = join(tmp, 'good.safetensors');
    await reference.saveCheckpoint(good);
    const ok = await r.loadCheckpointReport(good);
    expect(ok.ok).toBe(true);
    expect(ok.loaded).toBe(true);
    expectSameParams(r.getParams(), reference.getParams());
    expect(ok.nodes.find((n) => n.nodeId === 'fc1')).toMatchObject({ name: 'linear_relu_stack.0', keys: ['linear_relu_stack.0.weight', 'linear_relu_stack.0.bias'], ok: true });

    const fresh = await run({ epochs: 1 });
    const before = fresh.getParams();
    const params = reference.getParams();
    const bad = join(tmp, 'bad.safetensors');
    await saveSafetensors(bad, {
      'linear_relu_stack.0.weight': { shape: [512, 784], data: params.get('linear_relu_stack.0.weight')! },
      // linear_relu_stack.0.bias missing
      'linear_relu_stack.2.weight': { shape: [512, 512], data: params.get('linear_relu_stack.2.weight')! },
      'linear_relu_stack.2.bias': { shape: [256], data: new Float32Array(256) },
      'linear_relu_stack.2.extra': { shape: [1], data: new Float32Array(1) },
      'linear_relu_stack.4.weight': { shape: [10, 512], data: params.get('linear_relu_stack.4.weight')! },
      'linear_relu_stack.4.bias': { shape: [10], data: params.get('linear_relu_stack.4.bias')! },
      'head.weight': { shape: [1], data: new Float32Array(1) },
    });
    const rep = await fresh.loadCheckpointReport(bad);
    expect(rep.ok).toBe(false);
    expect(rep.loaded).toBe(false);
    const node = (id: string) => rep.nodes.find((n) => n.nodeId === id)!;
    expect(node('fc1')).toMatchObject({ missing: ['linear_relu_stack.0.bias'], unexpected: [], mismatched: [], ok: false });
    expect(node('fc2')).toMatchObject({
      missing: [],
      unexpected: ['linear_relu_stack.2.extra'],
      mismatched: [{ key: 'linear_relu_stack.2.bias', fileShape: [256], modelShape: [512] }],
      ok: false,
    });
    expect(node('fc3').ok).toBe(true);
    expect(node('relu1')).toMatchObject({ keys: [], ok: true });
    expect(rep.unassigned).toEqual(['head.weight']);
    expect(rep.problems.join('\n')).toMatch(/Missing key\(s\) in state_dict: "linear_relu_stack.0.bias"/);
    expectSameParams(fresh.getParams(), before); // nothing loaded
  });

  it('a checkpoint holding NaN or infinity is refused naming the tensor; the report lists it and loads nothing (issue 10, item 9)', async () => {
    const params = reference.getParams();
    const w = Float32Array.from(params.get('linear_relu_stack.2.weight')!);
    w[7] = NaN;
    w[8] = Infinity;
    const file = join(tmp, 'nan-weights.safetensors');
    await saveSafetensors(file, Object.fromEntries(reference.session.program.params.map((p) => [p.key, { shape: [...p.shape], data: p.key === 'linear_relu_stack.2.weight' ? w : params.get(p.key)! }])));
    const r = await run({ epochs: 1 });
    const before = r.getParams();
    await expect(r.loadCheckpoint(file)).rejects.toMatchObject({
      code: 'NL_BAD_CHECKPOINT',
      message: `${file}: the tensor 'linear_relu_stack.2.weight' holds 1 NaN value and 1 infinite value (of 262,144)`,
    });
    const rep = await r.loadCheckpointReport(file);
    expect(rep).toMatchObject({ ok: false, loaded: false });
    expect(rep.problems).toEqual(["the tensor 'linear_relu_stack.2.weight' holds 1 NaN value and 1 infinite value (of 262,144)"]);
    expectSameParams(r.getParams(), before);
  });

  it('evaluate: the confusion matrix sums to the test count and its diagonal gives the accuracy; predict agrees', async () => {
    const ev = await reference.evaluate();
    const total = ev.confusion.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(1000);
    expect(ev.samples).toBe(1000);
    const diag = ev.confusion.reduce((a, row, c) => a + row[c], 0);
    expect(ev.accuracy).toBe(diag / total);
    expect(ev.accuracy).toBe(reference.history.epochs[1].testAccuracy); // the epoch's own correct count
    expect(ev.avgLoss).toBe(reference.history.epochs[1].testLoss);
    expect(ev.perClass.map((p) => p.count).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(ev.perClass[3].accuracy).toBe(ev.confusion[3][3] / ev.perClass[3].count);
    expect(ev.classNames).toHaveLength(10);

    // A misclassified cell: its samples, and predict() on each agrees with the matrix.
    let cell: [number, number] | undefined;
    for (let a = 0; a < 10 && !cell; a++) for (let p = 0; p < 10 && !cell; p++) if (a !== p && ev.confusion[a][p] > 0) cell = [a, p];
    const { samples, sampleShape } = await reference.samples({ actual: cell![0], predicted: cell![1], limit: 3 });
    expect(sampleShape).toEqual([1, 28, 28]);
    expect(samples.length).toBe(Math.min(3, ev.confusion[cell![0]][cell![1]]));
    for (const s of samples) {
      expect(s.label).toBe(cell![0]);
      const pixels = Buffer.from(s.pixels, 'base64');
      expect(pixels.length).toBe(784);
      const probs = await reference.predict(pixels);
      expect(probs.indexOf(Math.max(...probs))).toBe(cell![1]);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      for (let c = 0; c < 10; c++) expect(probs[c]).toBeCloseTo(s.probabilities[c], 5);
    }
    // and a correctly classified one
    const right = await reference.samples({ actual: 7, predicted: 7, limit: 1 });
    const p7 = await reference.predict(Buffer.from(right.samples[0].pixels, 'base64'));
    expect(p7.indexOf(Math.max(...p7))).toBe(7);
    await expect(reference.predict(new Uint8Array(10))).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: /784 pixels/ });
  });

  it('refuses to read the session while training', async () => {
    const r = await run({ epochs: 1 });
    r.start();
    await expect(r.evaluate()).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: /while the run is training/ });
    expect(() => r.getParams()).toThrow(/while the run is training/);
    await r.finished();
    expect(r.state).toBe('finished');
  });
});
