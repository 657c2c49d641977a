/**
 * Resumable checkpoints in PyTorch's layout (AGREED FILE LAYOUT 2) on PyValue objects, no file I/O:
 * torch.optim's state_dict() both ways, lr_scheduler's state_dict(), the checkpoint dict's position,
 * DataParallel's prefix, the CSV standardisation field. The Python-reference tests compare with what
 * PyTorch 1.13 itself produces and accepts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import { OptimizerSchema, type OptimizerDoc } from '../../engine/contract/optimizers.js';
import type { SchedulerInput } from '../../engine/contract/schedulers.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { loadProjectJson } from '../../engine/io/project.js';
import { isPyDict, isPyTensor, pyDict, type PyDict, type PyValue } from '../../engine/io/pyvalue.js';
import { torchStateDict } from '../../engine/io/torch-state.js';
import { checkStandardizeField, standardizeField, standardizeNotes } from '../../engine/io/standardize.js';
import { NetloomError } from '../../engine/errors.js';
import { interpretCheckpoint, mismatchError, stateDictProblems, MODULE_PREFIX_NOTE, MAX_FIELD_CHARS } from '../../engine/train/checkpoints.js';
import { lrSchedule, parseScheduler } from '../../engine/train/schedules.js';
import { checkpointDict, checkpointMetadata } from '../../engine/train/torch-checkpoint.js';
import { hyperparameters, optimizerStateDict, readOptimizerStateDict } from '../../engine/train/torch-optimizer-state.js';
import { schedulerGroup, schedulerStateDict } from '../../engine/train/torch-scheduler-state.js';
import { torchResumeState } from '../../engine/train/run-checkpoints.js';
import type { TensorF32 } from '../../engine/io/checkpoint.js';
import { itWithPython } from '../python-reference.js';
import { pySource, runPython } from '../support/pyliteral.js';

const IRIS = loadProjectJson(JSON.parse(readFileSync(join(process.cwd(), 'assets', 'templates', 'iris-mlp.json'), 'utf8')), 'iris-mlp.json');

/** The iris MLP compiled for `opt`: its learnable parameters (state-dict order) and optimizer state names. */
function compiled(opt: OptimizerDoc) {
  const program = compileGraph(analyzeForTraining(IRIS.graph, 'iris', { batchSize: 1 }), { batchSize: 1, optimizer: opt, targets: undefined });
  return { params: program.params.filter((p) => p.learnable), stateNames: program.states };
}

/** Netloom's internal state record for `opt` with distinct values (`<key>.<name>` -> tensor). */
function internalState(opt: OptimizerDoc): Record<string, TensorF32> {
  const { stateNames } = compiled(opt);
  const out: Record<string, TensorF32> = {};
  stateNames.forEach((s, j) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    out[`${s.param}.${s.key}`] = { shape: [...s.shape], data: Float32Array.from({ length: n }, (_, i) => (j + 1) * 0.001 + i * 1e-4) };
  });
  return out;
}

const OPTIMIZERS: OptimizerDoc[] = [
  OptimizerSchema.parse({ type: 'SGD', lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: false }),
  OptimizerSchema.parse({ type: 'SGD', lr: 0.05 }),
  OptimizerSchema.parse({ type: 'Adam', lr: 0.01, amsgrad: true }),
  OptimizerSchema.parse({ type: 'AdamW', lr: 0.002, betas: [0.8, 0.99] }),
  OptimizerSchema.parse({ type: 'RMSprop', lr: 0.01, momentum: 0.5, centered: true }),
  OptimizerSchema.parse({ type: 'Adagrad', lr: 0.01, initial_accumulator_value: 0.1 }),
];

const expectRefused = (fn: () => unknown, code: string, pattern: RegExp) => {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(NetloomError);
  expect((error as NetloomError).code).toBe(code);
  expect((error as NetloomError).message).toMatch(pattern);
  expect((error as NetloomError).hint).toBeTruthy();
};

describe("torch.optim's state_dict() layout", () => {
  it.each(OPTIMIZERS.map((o) => [o.type, o] as const))('%s: Netloom -> state_dict -> Netloom gives the same tensors and step', (_t, opt) => {
    const { params, stateNames } = compiled(opt);
    const state = internalState(opt);
    const sd = optimizerStateDict({ optimizer: opt, params, state, steps: 7 });
    const groups = sd.entries.get('param_groups') as PyDict[];
    expect(groups).toHaveLength(1);
    expect(groups[0].entries.get('params')).toEqual(params.map((_, i) => BigInt(i)));
    expect(groups[0].entries.get('lr')).toBe(opt.lr);
    const back = readOptimizerStateDict('x.pt', sd, { optimizer: opt, params, stateNames });
    expect(Object.keys(back.state).sort()).toEqual(Object.keys(state).sort());
    for (const [k, t] of Object.entries(state)) expect(back.state[k].data).toEqual(t.data);
    expect(back.step).toBe(opt.type === 'SGD' ? undefined : 7);
  });

  it('before the first step there is no per-parameter state (torch creates it then), and reading that gives the initial values', () => {
    const adagrad = OPTIMIZERS[5];
    for (const opt of [OPTIMIZERS[0], OPTIMIZERS[2], adagrad]) {
      const { params, stateNames } = compiled(opt);
      const sd = optimizerStateDict({ optimizer: opt, params, state: internalState(opt), steps: 0 });
      const states = sd.entries.get('state') as PyDict;
      expect(states.entries.size).toBe(opt.type === 'Adagrad' ? params.length : 0);
      const empty = pyDict([['state', pyDict([])], ['param_groups', sd.entries.get('param_groups')!]]);
      const back = readOptimizerStateDict('x.pt', empty, { optimizer: opt, params, stateNames });
      for (const t of Object.values(back.state)) expect(t.data.every((v) => v === (opt.type === 'Adagrad' ? Math.fround(0.1) : 0))).toBe(true);
    }
  });

  it('refuses what does not fit the run, naming the field: another optimizer, another lr, a wrong shape, two groups, other parameters, uneven steps', () => {
    const adam = OPTIMIZERS[2] as Extract<OptimizerDoc, { type: 'Adam' }>;
    const { params, stateNames } = compiled(adam);
    const sd = () => optimizerStateDict({ optimizer: adam, params, state: internalState(adam), steps: 3 });
    const read = (v: PyValue, opt: OptimizerDoc = adam) => readOptimizerStateDict('ck.pt', v, { optimizer: opt, params, stateNames });
    expectRefused(() => read(sd(), OPTIMIZERS[0]), 'NL_CHECKPOINT_MISMATCH', /optimizer_state_dict is Adam's, but this project trains with SGD/);
    expectRefused(() => read(sd(), { ...adam, lr: 0.5 }), 'NL_CHECKPOINT_MISMATCH', /param_groups\[0\]\.lr is 0\.01, but this project's Adam has lr = 0\.5/);
    expectRefused(() => read(sd(), { ...adam, betas: [0.5, 0.999] }), 'NL_CHECKPOINT_MISMATCH', /param_groups\[0\]\.betas/);
    expectRefused(() => read(sd(), { ...adam, amsgrad: false }), 'NL_CHECKPOINT_MISMATCH', /param_groups\[0\]\.amsgrad is true/);
    const wrongShape = sd();
    const first = (wrongShape.entries.get('state') as PyDict).entries.get(0n) as PyDict;
    first.entries.set('exp_avg', { kind: 'tensor', dtype: 'float32', shape: [3], data: new Float32Array(3) });
    expectRefused(() => read(wrongShape), 'NL_CHECKPOINT_MISMATCH', /state\[0\]\.exp_avg has shape \[3\], but parameter 0 of this model \(net\.0\.weight\) has shape \[16, 4\]/);
    const twoGroups = sd();
    const g = (twoGroups.entries.get('param_groups') as PyValue[])[0];
    twoGroups.entries.set('param_groups', [g, g]);
    expectRefused(() => read(twoGroups), 'NL_CHECKPOINT_MISMATCH', /has 2 param groups; Netloom trains with one/);
    const fewer = sd();
    ((fewer.entries.get('param_groups') as PyDict[])[0]).entries.set('params', [0n, 1n]);
    expectRefused(() => read(fewer), 'NL_CHECKPOINT_MISMATCH', /covers 2 parameters, this model has 4 learnable ones/);
    const uneven = sd();
    ((uneven.entries.get('state') as PyDict).entries.get(1n) as PyDict).entries.set('step', { kind: 'tensor', dtype: 'float32', shape: [], data: Float32Array.of(2) });
    expectRefused(() => read(uneven), 'NL_BAD_CHECKPOINT', /different steps \(3, 2\)/);
    expectRefused(() => read('not a dict'), 'NL_BAD_CHECKPOINT', /optimizer_state_dict is not a dict/);
    // an older torch wrote no "maximize": it means the default, false
    const older = sd();
    ((older.entries.get('param_groups') as PyDict[])[0]).entries.delete('maximize');
    expect(() => read(older)).not.toThrow();
    expectRefused(() => read(older, { ...adam, maximize: true }), 'NL_CHECKPOINT_MISMATCH', /param_groups\[0\]\.maximize is false, but this project's Adam has maximize = true/);
  });

  it("a scheduler's lr fields: the group's lr is the scheduled one, and resuming compares initial_lr (the project's lr), not it", () => {
    const sgd = OPTIMIZERS[0];
    const doc = parseScheduler({ type: 'StepLR', step_size: 1, gamma: 0.5 });
    const schedule = lrSchedule(doc, sgd.lr, 0.9);
    const group = schedulerGroup(doc, schedule, 2, sgd);
    expect(group.write).toMatchObject({ lr: 0.025, initial_lr: 0.1 });
    const { params, stateNames } = compiled(sgd);
    const sd = optimizerStateDict({ optimizer: sgd, params, state: internalState(sgd), steps: 2, group: group.write });
    expect(() => readOptimizerStateDict('x.pt', sd, { optimizer: sgd, params, stateNames, expectedGroup: group.expected, driven: group.driven })).not.toThrow();
    expectRefused(() => readOptimizerStateDict('x.pt', sd, { optimizer: { ...sgd, lr: 0.2 }, params, stateNames, expectedGroup: { initial_lr: 0.2 }, driven: group.driven }),
      'NL_CHECKPOINT_MISMATCH', /initial_lr is 0\.1, but .* has initial_lr = 0\.2/);
    const unscheduled = optimizerStateDict({ optimizer: sgd, params, state: internalState(sgd), steps: 2 });
    expectRefused(() => readOptimizerStateDict('x.pt', unscheduled, { optimizer: sgd, params, stateNames, expectedGroup: group.expected, driven: group.driven }),
      'NL_CHECKPOINT_MISMATCH', /has no initial_lr: the run that saved it had no learning-rate scheduler, but this project has one/);
  });
});

describe('torchResumeState: a checkpoint dict in the run\'s terms', () => {
  const program = (opt: OptimizerDoc) => compileGraph(analyzeForTraining(IRIS.graph, 'iris', { batchSize: 1 }), { batchSize: 1, optimizer: opt });
  const dictFor = (opt: OptimizerDoc, steps: number) => {
    const { params } = compiled(opt);
    return pyDict([['optimizer_state_dict', optimizerStateDict({ optimizer: opt, params, state: internalState(opt), steps })]]);
  };
  const sgd = OPTIMIZERS[0];
  const adam = OPTIMIZERS[2];

  it("SGD keeps no step: it is the position's, epoch x batches per epoch + batch", () => {
    const r = torchResumeState('x.pt', dictFor(sgd, 23), { 'netloom.epoch': '2', 'netloom.batch': '3' }, { program: program(sgd), optimizer: sgd, batchesPerEpoch: 10 });
    expect(r.metadata['netloom.step']).toBe('23');
    expect(Object.keys(r.optimizer).length).toBe(4);
  });

  it("Adam's step comes from its state, and a \"step\" that disagrees with it is refused", () => {
    expect(torchResumeState('x.pt', dictFor(adam, 9), { 'netloom.epoch': '0', 'netloom.batch': '9' }, { program: program(adam), optimizer: adam, batchesPerEpoch: 10 }).metadata['netloom.step']).toBe('9');
    expectRefused(() => torchResumeState('x.pt', dictFor(adam, 9), { 'netloom.epoch': '0', 'netloom.batch': '9', 'netloom.step': '12' }, { program: program(adam), optimizer: adam, batchesPerEpoch: 10 }),
      'NL_BAD_CHECKPOINT', /"step" is 12, but the optimizer's state is at step 9/);
  });

  it('Adam and AdamW share param_groups\' keys: a file that names its optimizer is held to it', () => {
    const adamw = OptimizerSchema.parse({ type: 'AdamW', lr: 0.01, amsgrad: true, weight_decay: 0 });
    const md = { 'netloom.epoch': '0', 'netloom.batch': '1', 'netloom.step': '1', 'netloom.optimizer': JSON.stringify(adam) };
    expectRefused(() => torchResumeState('x.pt', dictFor(adam, 1), md, { program: program(adamw), optimizer: adamw, batchesPerEpoch: 10 }),
      'NL_CHECKPOINT_MISMATCH', /x\.pt was saved by a run training with Adam, but this project trains with AdamW/);
  });
});

describe('the checkpoint dict', () => {
  const model = torchStateDict({
    'net.0.weight': { shape: [1, 2], dtype: 'F32', data: Float32Array.of(1, 2) },
    'bn.num_batches_tracked': { shape: [], dtype: 'I64', data: Float32Array.of(5) },
  }, { producer: 'netloom' });

  it("holds the plain state dict (an OrderedDict, int64 buffers as int64, Netloom's metadata in _metadata), the position and the netloom entry", () => {
    expect(model.ordered).toBe(true);
    expect((model.entries.get('bn.num_batches_tracked') as { dtype: string }).dtype).toBe('int64');
    const meta = model.attributes!.get('_metadata') as PyDict;
    expect(((meta.entries.get('netloom') as PyDict).entries.get('producer'))).toBe('netloom');
    const metadata = { 'netloom.phase': 'test', 'netloom.epoch': '2', 'netloom.batch': '3', 'netloom.step': '23', project: 'p' };
    const dict = checkpointDict({ model, optimizer: pyDict([]), position: { epoch: 2, batch: 3 }, steps: 23, metadata });
    expect([...dict.entries.keys()]).toEqual(['model_state_dict', 'optimizer_state_dict', 'epoch', 'batch', 'step', 'netloom']);
    expect([dict.entries.get('epoch'), dict.entries.get('batch'), dict.entries.get('step')]).toEqual([2n, 3n, 23n]);
    // read back: Netloom's own fields as they were (the phase included, which train.py's files do not say)
    expect(checkpointMetadata('x.pt', dict)).toEqual(metadata);
  });

  it("a file train.py wrote (no netloom entry) gets its position from epoch, batch and step, else the optimizer's step", () => {
    const opt = (step?: PyValue) => pyDict([['state', pyDict(step === undefined ? [] : [[0n, pyDict([['step', step]])]])], ['param_groups', []]]);
    const dict = (entries: [string, PyValue][]) => pyDict([['model_state_dict', model], ...entries]);
    expect(checkpointMetadata('x.pt', dict([['optimizer_state_dict', opt()], ['epoch', 3n], ['step', 30n]])))
      .toEqual({ 'netloom.epoch': '3', 'netloom.batch': '0', 'netloom.phase': 'train', 'netloom.step': '30' });
    expect(checkpointMetadata('x.pt', dict([['optimizer_state_dict', opt({ kind: 'tensor', dtype: 'float32', shape: [], data: Float32Array.of(12) })], ['epoch', 2n], ['batch', 4n]])))
      .toEqual({ 'netloom.epoch': '2', 'netloom.batch': '4', 'netloom.phase': 'train', 'netloom.step': '12' });
    // no epoch: no position (it loads as weights only); no optimizer state: a state dict, not resumable
    expect(checkpointMetadata('x.pt', dict([['optimizer_state_dict', opt()]]))).toEqual({});
    expect(checkpointMetadata('x.pt', dict([['epoch', 3n]]))).toEqual({});
    expectRefused(() => checkpointMetadata('x.pt', dict([['optimizer_state_dict', opt()], ['epoch', -1n]])), 'NL_BAD_CHECKPOINT', /"epoch" must be a whole number from 0, got -1/);
    expectRefused(() => checkpointMetadata('x.pt', dict([['optimizer_state_dict', opt()], ['epoch', 'three']])), 'NL_BAD_CHECKPOINT', /"epoch" must be a whole number/);
    expectRefused(() => checkpointMetadata('x.pt', dict([['netloom', pyDict([['k', 1n]])]])), 'NL_BAD_CHECKPOINT', /"netloom" must be a dict of strings/);
  });

  it('its netloom fields are checked like any checkpoint\'s (a forged position is refused by name)', () => {
    const dict = checkpointDict({ model, optimizer: pyDict([]), position: { epoch: 0, batch: 0 }, steps: 0, metadata: { 'netloom.epoch': '-4' } });
    expectRefused(() => interpretCheckpoint({ format: 'pytorch-zip', tensors: {}, metadata: {}, checkpoint: dict } as never, 'x.pt'), 'NL_BAD_CHECKPOINT', /netloom\.epoch must be a whole number/);
  });
});

describe("DataParallel's module. prefix", () => {
  const t = (n: number): TensorF32 => ({ shape: [n], data: new Float32Array(n) });
  it('every key prefixed: loaded without it, and a note says so', () => {
    const r = interpretCheckpoint({ format: 'pytorch-zip', tensors: { 'module.net.0.weight': t(2), 'module.net.0.bias': t(1) }, metadata: {} }, 'x.pt');
    expect(Object.keys(r.tensors)).toEqual(['net.0.weight', 'net.0.bias']);
    expect(r.notes).toEqual([MODULE_PREFIX_NOTE]);
    expect(MODULE_PREFIX_NOTE).toBe("the keys had DataParallel's 'module.' prefix; loaded without it");
  });
  it('some keys prefixed: a normal mismatch, whose hint names the prefix', () => {
    const r = interpretCheckpoint({ format: 'pytorch-zip', tensors: { 'module.net.0.weight': t(2), 'net.0.bias': t(1) }, metadata: {} }, 'x.pt');
    expect(r.notes).toEqual([]);
    const problems = stateDictProblems([{ key: 'net.0.weight', shape: [2] }, { key: 'net.0.bias', shape: [1] }], r.tensors);
    const e = mismatchError('x.pt', problems);
    expect(e.message).toContain('Unexpected key(s) in state_dict: "module.net.0.weight"');
    expect(e.hint).toMatch(/Some keys start with 'module\.' .*model\.module\.state_dict\(\)/);
    expect(mismatchError('x.pt', ['Missing key(s) in state_dict: "a".']).hint).not.toMatch(/module/);
  });
});

describe('netloom.standardize', () => {
  const bad = (m: string) => new NetloomError('NL_BAD_CHECKPOINT', m);
  const field = standardizeField({ columns: ['a', 'b'], mean: [1, 2], std: [0.5, 1] });
  it('is checked on read: JSON shape, finite numbers, positive divisors, one of each per column, its own length cap', () => {
    expect(checkStandardizeField(field, bad)).toEqual({ columns: ['a', 'b'], mean: [1, 2], std: [0.5, 1] });
    expect(() => checkStandardizeField('{', bad)).toThrow(/not valid JSON/);
    expect(() => checkStandardizeField('[]', bad)).toThrow(/JSON object/);
    expect(() => checkStandardizeField('{"columns":["a"],"mean":[1,2],"std":[1]}', bad)).toThrow(/1 columns, 2 means, 1 stds/);
    expect(() => checkStandardizeField('{"columns":["a"],"mean":["x"],"std":[1]}', bad)).toThrow(/"mean" must be a list of finite numbers/);
    expect(() => checkStandardizeField('{"columns":["a"],"mean":[1],"std":[0]}', bad)).toThrow(/"std" must be a list of finite positive/);
    expect(() => checkStandardizeField('{"columns":[1],"mean":[1],"std":[1]}', bad)).toThrow(/"columns"/);
    const wide = standardizeField({ columns: Array.from({ length: 400 }, (_, i) => `feature_${i}`), mean: new Array(400).fill(0.123456789), std: new Array(400).fill(1.23456789) });
    expect(wide.length).toBeGreaterThan(MAX_FIELD_CHARS);
    expect(() => interpretCheckpoint({ format: 'safetensors', tensors: {}, metadata: { 'netloom.standardize': wide } }, 'x')).not.toThrow();
    expect(() => interpretCheckpoint({ format: 'safetensors', tensors: {}, metadata: { 'netloom.standardize': '{"columns":["a"],"mean":[1e999],"std":[1]}' } }, 'x'))
      .toThrow(/x: netloom\.standardize "mean" must be a list of finite numbers/);
  });
  it('a dataset with other statistics, other columns or no standardisation gets a note; the same one none', () => {
    const same = { features: ['a', 'b'], stats: { mean: [1, 2], std: [0.5, 1] }, standardized: true };
    const md = { 'netloom.standardize': field };
    expect(standardizeNotes('w.pt', md, same)).toEqual([]);
    expect(standardizeNotes('w.pt', {}, same)).toEqual([]);
    expect(standardizeNotes('w.pt', md, { ...same, stats: { mean: [1, 2.5], std: [0.5, 1] } })[0]).toMatch(/w\.pt was trained on features standardised with other statistics .*\(b: mean 2, std 1 then; mean 2\.5, std 1 now\)/);
    expect(standardizeNotes('w.pt', md, { ...same, features: ['a', 'c'] })[0]).toMatch(/trained on the columns a, b, this dataset has a, c/);
    expect(standardizeNotes('w.pt', md, { ...same, standardized: false })[0]).toMatch(/feeds them as they are/);
  });
});

// ---- against PyTorch 1.13 ------------------------------------------------------------------------

const withTorch = itWithPython(['torch'], 'the checkpoint layout comparisons with PyTorch');

/** Numbers equal to 1e-12 relative (torch and Netloom replay the same float64 operations, up to an ulp of cos/pow), tensors and ints exactly. */
function expectSame(ours: PyValue, theirs: PyValue, where: string): void {
  if (typeof ours === 'number' || typeof theirs === 'number') {
    const a = Number(ours as number | bigint);
    const b = Number(theirs as number | bigint);
    expect(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b)), `${where}: ${a} vs ${b}`).toBe(true);
  } else if (Array.isArray(ours) || (typeof ours === 'object' && ours !== null && ours.kind === 'tuple')) {
    const a = Array.isArray(ours) ? ours : ours.items;
    const b = Array.isArray(theirs) ? theirs : (theirs as { items: PyValue[] }).items;
    expect(a.length, where).toBe(b.length);
    a.forEach((x, i) => expectSame(x, b[i], `${where}[${i}]`));
  } else if (isPyDict(ours)) {
    expect(isPyDict(theirs), where).toBe(true);
    for (const [k, v] of ours.entries) expectSame(v, (theirs as PyDict).entries.get(k)!, `${where}.${String(k)}`);
  } else if (isPyTensor(ours)) {
    expect(Array.from((theirs as { data: Float32Array }).data), where).toEqual(Array.from(ours.data));
  } else expect(ours, where).toEqual(theirs);
}

const SCHEDULERS: { doc: SchedulerInput; python: string }[] = [
  { doc: { type: 'StepLR', step_size: 2, gamma: 0.5 }, python: 'L.StepLR(o, 2, gamma=0.5)' },
  { doc: { type: 'MultiStepLR', milestones: [2, 4], gamma: 0.5 }, python: 'L.MultiStepLR(o, [2, 4], gamma=0.5)' },
  { doc: { type: 'ExponentialLR', gamma: 0.9 }, python: 'L.ExponentialLR(o, 0.9)' },
  { doc: { type: 'CosineAnnealingLR', T_max: 5, eta_min: 0.001 }, python: 'L.CosineAnnealingLR(o, 5, eta_min=0.001)' },
  { doc: { type: 'LinearLR', start_factor: 0.25, total_iters: 4 }, python: 'L.LinearLR(o, start_factor=0.25, total_iters=4)' },
  { doc: { type: 'OneCycleLR', max_lr: 0.5, total_steps: 12 }, python: 'L.OneCycleLR(o, 0.5, total_steps=12)' },
  { doc: { type: 'OneCycleLR', max_lr: 0.5, total_steps: 12, three_phase: true, anneal_strategy: 'linear' }, python: "L.OneCycleLR(o, 0.5, total_steps=12, three_phase=True, anneal_strategy='linear')" },
  { doc: { type: 'SequentialLR', schedulers: [{ type: 'LinearLR', start_factor: 0.5, total_iters: 3 }, { type: 'StepLR', step_size: 2, gamma: 0.5 }], milestones: [3] },
    python: 'L.SequentialLR(o, [L.LinearLR(o, start_factor=0.5, total_iters=3), L.StepLR(o, 2, gamma=0.5)], milestones=[3])' },
];
const STEPS = [0, 1, 3, 6];

describe('against PyTorch 1.13', () => {
  withTorch("lr_scheduler's state_dict() and the optimizer's param_group equal torch's after 0, 1, 3 and 6 steps, for every scheduler", () => {
    const sgd = OptimizerSchema.parse({ type: 'SGD', lr: 0.1, momentum: 0.9 });
    const script = `
import torch.optim.lr_scheduler as L
out = []
for make in [${SCHEDULERS.map((s) => `lambda o: ${s.python}`).join(', ')}]:
    for k in [${STEPS.join(', ')}]:
        o = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
        s = make(o)
        for _ in range(k):
            o.step(); s.step()
        g = {key: v for key, v in o.param_groups[0].items() if key != 'params'}
        out.append([s.state_dict(), g])
print(to_json(out))`;
    const torch = runPython(script) as PyValue[][];
    let i = 0;
    for (const s of SCHEDULERS) {
      const doc = parseScheduler(s.doc);
      const schedule = lrSchedule(doc, sgd.lr, 0.9);
      for (const k of STEPS) {
        const [theirs, theirGroup] = torch[i++] as [PyDict, PyDict];
        const ours = schedulerStateDict(doc, schedule, k, sgd);
        const where = `${doc.type} after ${k} steps`;
        // anneal_func is a bound method: left out (load_state_dict keeps the constructor's)
        expect([...ours.entries.keys()].sort(), where).toEqual([...theirs.entries.keys()].filter((x) => x !== 'anneal_func').sort());
        if (doc.type === 'SequentialLR') {
          // a child not yet reached carries a _last_lr torch never reads before stepping it
          for (const [c, child] of (ours.entries.get('_schedulers') as PyDict[]).entries())
            if ((child.entries.get('last_epoch') as bigint) < 0n) ((theirs.entries.get('_schedulers') as PyDict[])[c]).entries.set('_last_lr', child.entries.get('_last_lr')!);
        }
        expectSame(ours, theirs, where);
        expectSame(pyDict(Object.entries(schedulerGroup(doc, schedule, k, sgd).write)), theirGroup, `${where}: param_group`);
      }
    }
  });

  withTorch("param_groups hold every hyperparameter torch's optimizer class has, with torch's values", () => {
    const classes: Record<string, string> = { SGD: 'SGD', Adam: 'Adam', AdamW: 'AdamW', RMSprop: 'RMSprop', Adagrad: 'Adagrad' };
    const script = `
out = []
for cls, kw in [${OPTIMIZERS.map((o) => `(torch.optim.${classes[o.type]}, ${pySource(pyDict([...hyperparameters(o)].filter(([k]) => !['foreach', 'capturable', 'differentiable', 'fused'].includes(k))))})`).join(', ')}]:
    o = cls([torch.nn.Parameter(torch.zeros(1))], **kw)
    out.append({k: v for k, v in o.state_dict()['param_groups'][0].items() if k != 'params'})
print(to_json(out))`;
    const torch = runPython(script) as PyDict[];
    OPTIMIZERS.forEach((opt, i) => {
      const ours = hyperparameters(opt);
      for (const k of torch[i].entries.keys()) expect(ours.has(k as string), `${opt.type} lacks ${String(k)}`).toBe(true);
      for (const [k, v] of torch[i].entries) if (!['foreach', 'fused', 'capturable', 'differentiable'].includes(k as string)) expectSame(ours.get(k as string)!, v, `${opt.type}.${String(k)}`);
    });
  });

  withTorch("torch loads Netloom's optimizer state_dict and steps from it; Netloom reads torch's back (tensors, step)", () => {
    for (const opt of OPTIMIZERS) {
      const { params, stateNames } = compiled(opt);
      const ours = optimizerStateDict({ optimizer: opt, params, state: internalState(opt), steps: 4 });
      const cls = opt.type;
      const script = `
ps = [${params.map((p) => `torch.nn.Parameter(torch.zeros([${p.shape.join(', ')}]))`).join(', ')}]
o = torch.optim.${cls}(ps, lr=0.5)
o.load_state_dict(${pySource(ours)})
for p in ps: p.grad = torch.ones_like(p)
o.step()
print(to_json(o.state_dict()))`;
      const theirs = runPython(script);
      // torch took every hyperparameter from the file (lr 0.5 was the constructor's) and stepped once
      expect(((theirs as PyDict).entries.get('param_groups') as PyDict[])[0].entries.get('lr'), cls).toBe(opt.lr);
      const back = readOptimizerStateDict('torch', theirs, { optimizer: opt, params, stateNames });
      expect(back.step, cls).toBe(opt.type === 'SGD' ? undefined : 5);
      expect(Object.keys(back.state).sort()).toEqual(stateNames.map((s) => `${s.param}.${s.key}`).sort());
    }
  });
});
