/**
 * Resuming from PyTorch's checkpoint dict (AGREED FILE LAYOUT 2) on the native engine: a project trained
 * with a scheduler, saved as the dict a .pt holds, resumed in a fresh run, ends bit-for-bit where an
 * uninterrupted run ends: from Netloom's own dict mid-epoch (the quickstart on MNIST, whose epochs are
 * long enough to pause in), and from the dict train.py writes at an epoch boundary (the iris MLP, a
 * standardised CSV; no "netloom" entry, keys with DataParallel's prefix).
 *
 * Netloom's own dict is resumed both as the dict (interpretCheckpoint) and through a real .pt file
 * (saveCheckpoint(path, {withOptimizer: true}) -> torch-file.ts's writer and reader -> loadCheckpoint).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltin } from '../../engine/data/builtin.js';
import { parseProjectText, type ProjectDoc } from '../../engine/graph/document.js';
import { pyDict, type PyDict } from '../../engine/io/pyvalue.js';
import { stateDictFromTorch } from '../../engine/io/torch-state.js';
import { interpretCheckpoint, MODULE_PREFIX_NOTE, type ReadCheckpoint } from '../../engine/train/checkpoints.js';
import { TrainingRun, type RunOverrides } from '../../engine/train/run.js';
import { itWithPython } from '../python-reference.js';
import { pySource, runPython } from '../support/pyliteral.js';

const IRIS = join(process.cwd(), 'assets', 'templates', 'iris-mlp.json');
const QUICKSTART = join(process.cwd(), 'assets', 'templates', 'quickstart.json');

function project(template: string, mutate: (p: any) => void): ProjectDoc {
  const p = JSON.parse(readFileSync(template, 'utf8'));
  p.training.scheduler = { type: 'StepLR', step_size: 1, gamma: 0.7 };
  p.training.shuffle = true; // the per-epoch order must continue too
  mutate(p);
  return parseProjectText(JSON.stringify(p), template);
}

const run = (mutate: (p: any) => void, over: RunOverrides = {}) => TrainingRun.create(project(IRIS, mutate), IRIS, { epochs: 4, threads: 1, eventIntervalMs: 0, ...over });
const mnistRun = (mutate: (p: any) => void) =>
  TrainingRun.create(project(QUICKSTART, mutate), QUICKSTART, { dataset: 'mnist', limitTrain: 3000, limitTest: 500, epochs: 2, threads: 2, eventIntervalMs: 0 });

const tmp = mkdtempSync(join(tmpdir(), 'netloom-resume-torch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(async () => {
  await ensureBuiltin('mnist');
});

async function finish(r: TrainingRun): Promise<TrainingRun> {
  r.start();
  await r.finished();
  expect(r.state, JSON.stringify(r.error)).toBe('finished');
  return r;
}

function expectSameParams(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, v] of a) expect(Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(b.get(k)!.buffer)), k).toBe(true);
}

/** What reading a .pt that holds `dict` gives: the .pt reader's interpretation (stateDictFromTorch), as loadCheckpoint sees it. */
function asRead(dict: PyDict, source: string): ReadCheckpoint {
  return interpretCheckpoint({ format: 'pytorch-zip', ...stateDictFromTorch(dict, source) }, source);
}

const OPTIMIZERS: [string, (p: any) => void][] = [
  ['Adam', (p) => (p.training.optimizer = { type: 'Adam', lr: 0.005 })],
  ['SGD with momentum', (p) => (p.training.optimizer = { type: 'SGD', lr: 0.05, momentum: 0.9, dampening: 0.1 })],
];

describe.each(OPTIMIZERS)('resuming from the checkpoint dict: %s', (_name, optimizer) => {
  it.each(['the dict', 'a .pt file'] as const)("Netloom's own dict, saved mid-epoch, continues exactly through %s (optimizer state, step, position, scheduler)", async (through) => {
    const whole = await finish(await mnistRun(optimizer));
    const a = await mnistRun(optimizer);
    let pausing: Promise<void> | undefined;
    a.onEvent((e) => {
      if (e.kind === 'progress' && e.epoch === 2 && e.batch >= 5 && !pausing) pausing = a.pause();
    });
    a.start();
    await a.finished();
    await pausing;
    expect(a.state).toBe('paused');
    const dict = await a.checkpointDict();
    expect(dict.entries.get('epoch')).toBe(BigInt(a.position.epoch));
    expect(dict.entries.get('batch')).toBe(BigInt(a.position.batch));
    expect(dict.entries.get('step')).toBe(BigInt(a.session.native.steps));
    const scheduler = dict.entries.get('scheduler_state_dict') as PyDict;
    // StepLR steps once per epoch: as many steps as whole epochs done
    expect(scheduler.entries.get('last_epoch')).toBe(BigInt(a.position.epoch));
    expect(a.position.batch).toBeGreaterThan(0); // mid-epoch
    const file = asRead(dict, 'a.pt');
    expect(file.metadata['netloom.phase']).toBe('train');

    const b = await mnistRun(optimizer);
    if (through === 'the dict') await b.loadCheckpointFile('a.pt', file, { resume: true });
    else {
      const path = join(tmp, `${optimizer === OPTIMIZERS[0][1] ? 'adam' : 'sgd'}-mid-epoch.pt`);
      await a.saveCheckpoint(path, { withOptimizer: true });
      expect(readFileSync(path).subarray(0, 2).toString('latin1'), 'a zip, as torch.save writes').toBe('PK');
      await b.loadCheckpoint(path, { resume: true });
    }
    expect(b.position).toEqual(a.position);
    expect(b.session.native.steps).toBe(a.session.native.steps);
    await finish(b);
    expectSameParams(b.getParams(), whole.getParams());
    expect(b.history.epochs.at(-1)!.testLoss).toBe(whole.history.epochs.at(-1)!.testLoss);
  });

  it("train.py's dict (no netloom entry, DataParallel's module. prefix) at an epoch boundary continues exactly, and says so", async () => {
    const whole = await finish(await run(optimizer));
    const a = await finish(await run(optimizer, { epochs: 2 }));
    const dict = await a.checkpointDict();
    // what train.py writes: no "netloom" entry, and torchrun's DDP model saves keys with "module."
    dict.entries.delete('netloom');
    const sd = dict.entries.get('model_state_dict') as PyDict;
    const prefixed = pyDict([...sd.entries].map(([k, v]) => [`module.${String(k)}`, v]), true);
    prefixed.attributes = sd.attributes;
    dict.entries.set('model_state_dict', prefixed);
    if (a.currentOptimizer.type === 'SGD') dict.entries.delete('step'); // SGD keeps no step of its own: the position says it
    const file = asRead(dict, 'checkpoints/last.pt');
    expect(file.notes).toEqual([MODULE_PREFIX_NOTE]);
    // a CSV project's standardisation rides in the state dict's metadata
    expect(JSON.parse(file.metadata['netloom.standardize']).columns).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect(file.metadata['netloom.epoch']).toBe('2');

    const b = await run(optimizer);
    await b.loadCheckpointFile('checkpoints/last.pt', file, { resume: true });
    expect(b.lastLoadNotes).toEqual([MODULE_PREFIX_NOTE]);
    expect(b.position).toEqual({ epoch: 2, batch: 0, phase: 'train' });
    expect(b.session.native.steps).toBe(a.session.native.steps);
    await finish(b);
    expectSameParams(b.getParams(), whole.getParams());
  });

  it('refuses to resume with other settings than the file was trained with, naming the field', async () => {
    const a = await finish(await run(optimizer, { epochs: 1 }));
    const dict = await a.checkpointDict();
    const b = await run(optimizer, { lr: a.currentOptimizer.lr * 2 });
    await expect(b.loadCheckpointFile('x.pt', asRead(dict, 'x.pt'), { resume: true }))
      .rejects.toMatchObject({ code: 'NL_CHECKPOINT_MISMATCH', message: /param_groups\[0\]\.initial_lr is [\d.e-]+, but this project's (Adam|SGD) has initial_lr = / });
    // the weights alone load
    await b.loadCheckpointFile('x.pt', asRead(dict, 'x.pt'));
    expectSameParams(b.getParams(), a.getParams());
  });
});

describe('PyTorch takes the checkpoint dict as train.py does', () => {
  const withTorch = itWithPython(['torch'], "loading Netloom's checkpoint dict in PyTorch");
  withTorch('load_state_dict (strict) on the model, the optimizer and the scheduler; the next step and lr follow Netloom\'s', async () => {
    const a = await finish(await run((p) => (p.training.optimizer = { type: 'Adam', lr: 0.01, amsgrad: true }), { epochs: 2 }));
    const dict = await a.checkpointDict();
    const theirs = runPython(`
from torch import nn
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
model = Model()
ckpt = ${pySource(dict)}
model.load_state_dict(ckpt["model_state_dict"])
loaded = {k: v.clone() for k, v in model.state_dict().items()}
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
optimizer.load_state_dict(ckpt["optimizer_state_dict"])
scheduler.load_state_dict(ckpt["scheduler_state_dict"])
lrs = [optimizer.param_groups[0]["lr"]]
model.net(torch.ones(2, 4)).sum().backward()
optimizer.step()
scheduler.step()
lrs.append(optimizer.param_groups[0]["lr"])
print(to_json({"loaded": loaded, "lrs": lrs, "step": optimizer.state_dict()["state"][0]["step"], "epoch": ckpt["epoch"]}))`) as PyDict;
    const loaded = theirs.entries.get('loaded') as PyDict;
    for (const [k, v] of a.getParams()) expect(Array.from((loaded.entries.get(k) as { data: Float32Array }).data), k).toEqual(Array.from(v));
    const schedule = a.job.schedule!;
    expect(theirs.entries.get('lrs')).toEqual([schedule.lrAt(2), schedule.lrAt(3)]);
    expect((theirs.entries.get('step') as { data: Float32Array }).data[0]).toBe(a.session.native.steps + 1);
    expect(theirs.entries.get('epoch')).toBe(2n);
  });
});
