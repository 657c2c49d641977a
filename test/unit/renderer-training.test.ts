/**
 * The Training panel's pure logic against the real engine: the forms come from the engine's own
 * schemas (trainingSchema), every value the panel starts from passes the engine's check
 * (checkTraining), edits are immutable and undo as one step per field, Resume sends exactly the
 * changed optimizer values, datasets imply the Input shape, and the dataset chooser's documents are
 * what the project schema accepts.
 */
import { describe, expect, it } from 'vitest';
import { EngineService } from '../../engine/host/service.js';
import { DatasetSchema, TrainingSchema } from '../../engine/graph/document.js';
import type { CsvPreviewDto, LayerDto } from '../../engine/contract/api.js';
import { fieldSpecs, formatValue, parseText } from '../../renderer/panels/paramSchema.js';
import { emptyHistory, record, undo } from '../../renderer/state/history.js';
import {
  blockingReason,
  datasetLabel,
  datasetShape,
  hyperDiff,
  hyperOf,
  issuesByPath,
  lossChoices,
  optimizerDefault,
  schedulerStart,
  valueAt,
  withOptimizerType,
  withSchedulerType,
  withValue,
} from '../../renderer/state/training.js';
import { TRAINING_FIELDS, childTypes, defaultInterval, formSpecs } from '../../renderer/state/trainingForm.js';
import { csvDatasetDoc, csvFeatureChoice, guessLabel, imageFolderDoc, parseFraction, parseSize } from '../../renderer/state/datasetChoice.js';

const service = new EngineService();
const forms = await service.trainingSchema({});
const catalog: LayerDto[] = await service.getCatalog({});

describe('optimizer and scheduler forms from the engine', () => {
  it('has a form for every optimizer and scheduler type, with torch names and defaults', () => {
    expect(forms.optimizers.map((f) => f.type).sort()).toEqual(['Adagrad', 'Adam', 'AdamW', 'RMSprop', 'SGD']);
    expect(forms.schedulers.map((f) => f.type)).toEqual(['StepLR', 'MultiStepLR', 'ExponentialLR', 'CosineAnnealingLR', 'OneCycleLR', 'LinearLR', 'SequentialLR']);
    const names = (t: string) => { const s = formSpecs(forms.optimizers.find((f) => f.type === t)); return [...s.primary, ...s.more].map((f) => f.name); };
    expect(names('SGD')).toEqual(['lr', 'momentum', 'dampening', 'weight_decay', 'nesterov', 'maximize']);
    expect(names('RMSprop')).toEqual(['lr', 'alpha', 'momentum', 'eps', 'weight_decay', 'centered', 'maximize']);
    expect(names('Adam')).toEqual(['lr', 'betas', 'eps', 'weight_decay', 'amsgrad', 'maximize']);
    const adam = formSpecs(forms.optimizers.find((f) => f.type === 'Adam'));
    expect(adam.primary.map((f) => f.name)).toEqual(['lr', 'betas']);
    expect(adam.primary[1].default).toEqual([0.9, 0.999]);
    const onecycle = formSpecs(forms.schedulers.find((f) => f.type === 'OneCycleLR'));
    expect(onecycle.primary.find((f) => f.name === 'total_steps')!.consts).toEqual(['auto']);
    expect(formSpecs(forms.schedulers.find((f) => f.type === 'SequentialLR')).primary.map((f) => f.name)).toEqual(['milestones']);
    expect(childTypes(forms.schedulers)).not.toContain('SequentialLR');
    expect([defaultInterval('OneCycleLR'), defaultInterval('StepLR')]).toEqual(['step', 'epoch']);
  });

  it('round-trips every default through the text box, and refuses values the engine refuses', () => {
    for (const form of [...forms.optimizers, ...forms.schedulers])
      for (const f of fieldSpecs(form.schema)) {
        const d = f.default;
        if (d === undefined || d === null || typeof d === 'boolean' || typeof d === 'string') continue;
        expect(parseText(formatValue(d), f), `${form.type}.${f.name}`).toEqual({ ok: true, value: d });
      }
    const sgd = fieldSpecs(forms.optimizers.find((f) => f.type === 'SGD')!.schema);
    expect(parseText('-0.5', sgd.find((f) => f.name === 'momentum')!)).toMatchObject({ ok: false });
    const adam = fieldSpecs(forms.optimizers.find((f) => f.type === 'Adam')!.schema);
    expect(parseText('0.8, 0.99', adam.find((f) => f.name === 'betas')!)).toEqual({ ok: true, value: [0.8, 0.99] });
    expect(parseText('0.8, 1', adam.find((f) => f.name === 'betas')!)).toMatchObject({ ok: false });
    expect(parseText('0', TRAINING_FIELDS.epochs)).toMatchObject({ ok: false });
    expect(parseText('', TRAINING_FIELDS.clip_grad_norm)).toEqual({ ok: true, value: undefined });
    // issue 10, item 9: the panel refuses what the engine would, with the engine's bounds (engine/contract/settings.ts)
    expect(parseText('1e308', sgd.find((f) => f.name === 'lr')!)).toEqual({ ok: false, message: 'must be at most 100' });
    expect(parseText('1e9', TRAINING_FIELDS.epochs)).toEqual({ ok: false, message: 'must be at most 100000' });
    expect(parseText('2000000', TRAINING_FIELDS.batch_size)).toMatchObject({ ok: false });
    expect(parseText('1e300', TRAINING_FIELDS.clip_grad_norm)).toMatchObject({ ok: false });
  });

  it('starts every scheduler (and every optimizer type) from values the engine accepts', async () => {
    for (const f of forms.schedulers) {
      const t = withSchedulerType({ epochs: 10, optimizer: { type: 'SGD', lr: 0.01, momentum: 0.9 } }, f.type);
      expect(valueAt(t, ['scheduler', 'type'])).toBe(f.type);
      const r = await service.checkTraining({ training: t });
      expect(r.issues, f.type).toEqual([]);
    }
    for (const f of forms.optimizers) expect((await service.checkTraining({ training: withOptimizerType({}, f.type) })).issues, f.type).toEqual([]);
    expect(schedulerStart('MultiStepLR', { epochs: 2 })).toEqual({ type: 'MultiStepLR', milestones: [1] });
  });
});

describe('training section edits', () => {
  const base = { epochs: 3, optimizer: { type: 'Adam', lr: 0.01, betas: [0.9, 0.99] } };

  it('reads with the schema defaults and writes immutably', () => {
    expect(valueAt(undefined, ['batch_size'])).toBe(64);
    expect(valueAt(base, ['optimizer', 'betas', 1])).toBe(0.99);
    const t = withValue(base, ['optimizer', 'betas'], [0.8, 0.99]);
    expect(t).toEqual({ epochs: 3, optimizer: { type: 'Adam', lr: 0.01, betas: [0.8, 0.99] } });
    expect(base.optimizer.betas).toEqual([0.9, 0.99]); // untouched
    expect(withValue(t, ['optimizer', 'lr'], undefined)).toEqual({ epochs: 3, optimizer: { type: 'Adam', betas: [0.8, 0.99] } });
    expect(withValue(undefined, ['scheduler', 'gamma'], 0.5)).toEqual({ scheduler: { gamma: 0.5 } });
    expect(withOptimizerType(base, 'SGD')).toEqual({ epochs: 3, optimizer: { type: 'SGD' } });
    expect(withSchedulerType(base, null).scheduler).toBeNull();
    expect(TrainingSchema.safeParse(t).success).toBe(true);
  });

  it('merges keystrokes in one field into one undo step, not edits of two fields', () => {
    const a = { kind: 'setTraining' as const, before: { epochs: 1 }, after: { epochs: 2 } };
    const b = { kind: 'setTraining' as const, before: { epochs: 2 }, after: { epochs: 25 } };
    let h = record(emptyHistory(), { label: 'Set epochs', changes: [a], mergeKey: 'training:epochs', at: 0 });
    h = record(h, { label: 'Set epochs', changes: [b], mergeKey: 'training:epochs', at: 100 });
    expect(h.past).toHaveLength(1);
    expect(undo(h)!.changes).toEqual([{ kind: 'setTraining', before: { epochs: 25 }, after: { epochs: 1 } }]);
    h = record(h, { label: 'Set seed', changes: [{ kind: 'setTraining', before: { epochs: 25 }, after: { epochs: 25, seed: 3 } }], mergeKey: 'training:seed', at: 200 });
    expect(h.past).toHaveLength(2);
  });

  it('sends on resume only the optimizer values that changed, with torch defaults for what the project leaves out', () => {
    const now = hyperOf({ optimizer: { type: 'SGD', lr: 0.001 } });
    expect(now).toEqual({ lr: 0.001, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false });
    expect(hyperDiff(now, hyperOf({ optimizer: { type: 'SGD', lr: 0.001 } }))).toBeNull();
    expect(hyperDiff(now, hyperOf({ optimizer: { type: 'SGD', lr: 0.01, momentum: 0.9, nesterov: true } }))).toEqual({ lr: 0.01, momentum: 0.9, nesterov: true });
    const adam = hyperOf({ optimizer: { type: 'AdamW' } });
    expect(adam).toMatchObject({ betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.01 });
    expect(hyperDiff(adam, hyperOf({ optimizer: { type: 'AdamW', betas: [0.8, 0.999] } }))).toEqual({ betas: [0.8, 0.999] });
    expect([optimizerDefault('Adam', 'weight_decay'), optimizerDefault('Adam', 'amsgrad')]).toEqual([0, undefined]);
  });

  it('maps engine issues to fields and says why Start is off', async () => {
    const r = await service.checkTraining({ training: { optimizer: { type: 'SGD', momentum: -1 }, scheduler: { type: 'MultiStepLR', milestones: [3, 2] } } });
    const by = issuesByPath(r.issues);
    expect(Object.keys(by).sort()).toEqual(['optimizer.momentum', 'scheduler.milestones']);
    expect(by['scheduler.milestones']).toMatch(/strictly increasing, but 2 follows 3/);
    expect(blockingReason(r.issues, {})).toMatch(/^Cannot start: optimizer\.momentum: /);
    expect(blockingReason([], { 'optimizer.betas': 'betas: give two numbers' })).toBe('Cannot start: betas: give two numbers');
    expect(blockingReason([], {})).toBeNull();
    // the run's length matters: a one-cycle shorter than the run is refused before anything loads
    const short = await service.checkTraining({ training: { epochs: 2, scheduler: { type: 'OneCycleLR', max_lr: 0.1, total_steps: 10 } }, trainSamples: 640 });
    expect(short.issues[0]).toMatchObject({ path: ['scheduler'] });
    expect(short.issues[0].message).toMatch(/total_steps 10 is smaller than the 20 scheduler steps/);
    expect((await service.checkTraining({ training: { device: 'cuda' } })).issues[0].path).toEqual(['device']);
  });
});

describe('datasets, the Input shape and the loss', () => {
  it('knows the sample shape a dataset gives the Input', () => {
    expect(datasetShape('mnist')).toEqual([1, 28, 28]);
    expect(datasetShape('cifar10')).toEqual([3, 32, 32]);
    expect(datasetShape({ type: 'torchvision', name: 'cifar10', download: true })).toEqual([3, 32, 32]);
    expect(datasetShape({ type: 'image-folder', path: 'p', size: [16, 20], mode: 'rgb' })).toEqual([3, 16, 20]);
    expect(datasetShape({ type: 'image-folder', path: 'p', mode: 'grey' })).toBeNull(); // the images' own size: known when loaded
    expect(datasetShape({ type: 'csv', path: 'a.csv', label: 'y', features: ['a', 'b', 'c'] })).toEqual([3]);
    expect(datasetLabel({ type: 'csv', path: '/data/iris.csv' })).toBe('CSV iris.csv');
    expect(datasetLabel({ type: 'image-folder', path: 'C:\\data\\photos\\' })).toBe('image folder photos');
  });

  it('makes dataset documents the project schema accepts', () => {
    expect([parseFraction('0.1'), parseFraction('1'), parseFraction('0'), parseFraction('x')]).toEqual([0.1, null, null, null]);
    expect([parseSize('28', '32'), parseSize('0', '3'), parseSize('2.5', '3')]).toEqual([[28, 32], null, null]);
    const img = imageFolderDoc({ path: ' photos ', size: [16, 16], mode: 'grey', fraction: '0.25' })!;
    expect(DatasetSchema.parse(img)).toEqual({ type: 'image-folder', path: 'photos', size: [16, 16], mode: 'grey', validation_fraction: 0.25 });
    expect(imageFolderDoc({ path: 'p', size: undefined, mode: 'rgb', fraction: '0.1' })).not.toHaveProperty('size');
    expect(imageFolderDoc({ path: 'p', size: null, mode: 'rgb', fraction: '0.1' })).toBeNull(); // resize chosen, bad size
    const csv = csvDatasetDoc({ path: 'a.csv', label: 'y', features: ['a', 'b'], task: 'regression', standardize: true, fraction: '0.2', header: true, delimiter: ';' })!;
    expect(DatasetSchema.parse(csv)).toMatchObject({ type: 'csv', label: 'y', features: ['a', 'b'], task: 'regression', delimiter: ';' });
    expect(csvDatasetDoc({ path: 'a.csv', label: 'y', features: ['y'], task: 'regression', standardize: true, fraction: '0.2', header: true, delimiter: ',' })).toBeNull();
    expect(csvDatasetDoc({ path: 'a.csv', label: null, features: ['a'], task: 'regression', standardize: true, fraction: '0.2', header: true, delimiter: ',' })).toBeNull();
  });

  it('offers only CSV columns that can be features, and says why not', () => {
    const col = (name: string, numeric: boolean, reason: string | null = null) => ({ name, numeric, reason, distinct: 3, integer: false, task: 'regression' as const });
    const p: CsvPreviewDto = { path: '/a.csv', bytes: 10, delimiter: ',', header: true, columns: [col('id', false, '"f0" on line 2 is not a number'), col('x', true), col('y', true)], rows: [], sampledRows: 3, complete: true };
    expect(guessLabel(p)).toBe('y');
    expect(csvFeatureChoice(p.columns[0], 'y')).toEqual({ enabled: false, reason: 'not numeric: "f0" on line 2 is not a number' });
    expect(csvFeatureChoice(p.columns[1], 'y')).toEqual({ enabled: true, reason: null });
    expect(csvFeatureChoice(p.columns[2], 'y').enabled).toBe(false);
  });

  it('offers the losses that fit the model', () => {
    const all = lossChoices(catalog, { type: 'CrossEntropyLoss', targetConnected: false }, 'mnist');
    expect(all.map((c) => c.type)).toEqual(['CrossEntropyLoss', 'NLLLoss', 'MSELoss', 'L1Loss', 'SmoothL1Loss', 'BCEWithLogitsLoss']);
    expect(all.every((c) => c.enabled)).toBe(true);
    const target = lossChoices(catalog, { type: 'MSELoss', targetConnected: true }, 'mnist');
    expect(target.filter((c) => c.enabled).map((c) => c.type)).toEqual(['MSELoss', 'L1Loss', 'SmoothL1Loss', 'BCEWithLogitsLoss']);
    const regression = lossChoices(catalog, { type: 'MSELoss', targetConnected: false }, { type: 'csv', path: 'a', label: 'y', task: 'regression' });
    expect(regression.find((c) => c.type === 'CrossEntropyLoss')).toMatchObject({ enabled: false, reason: expect.stringMatching(/regression/) });
  });
});

describe('chart tick labels', () => {
  it('stay short: three significant digits, an exponent for tiny values (an annealed learning rate)', async () => {
    const { tickLabel } = await import('../../renderer/charts/chartSetup.js');
    expect([0, 0.002, 0.0015, 0.123456, 2.5, 30000, 4e-8, 1.25e-5, -3e-9].map(tickLabel)).toEqual(['0', '0.002', '0.0015', '0.123', '2.5', '30,000', '4e-8', '1.3e-5', '-3e-9']);
  });
});
