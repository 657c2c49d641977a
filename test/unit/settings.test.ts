/**
 * Issue 10, item 9: a training number out of range is refused where it is entered, naming the
 * setting, its range and the value, by every way in: the project file, the API (startRun's
 * overrides, resumeRun's edits, checkTraining for the settings panel), the graph's layer
 * parameters, a scheduler's lr sequence. Never the native runtime's "a hyper-parameter is not a
 * finite number".
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeGraph } from '../../engine/graph/analyze.js';
import { parseProject } from '../../engine/graph/document.js';
import { checkRequest } from '../../engine/contract/api.js';
import { EngineService } from '../../engine/host/service.js';
import { epochTables } from '../../engine/train/lr-tables.js';
import { lrSchedule } from '../../engine/train/schedules.js';

const quickstart = () => JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));
const service = new EngineService();

function projectError(mutate: (p: any) => void): string {
  const p = quickstart();
  mutate(p);
  try {
    parseProject(p, 'p.json');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the project was accepted');
}

function requestError(method: string, params: unknown): string {
  const r = checkRequest(method, params);
  if (r.ok) throw new Error(`${method} was accepted`);
  return r.error.message;
}

describe('the project file', () => {
  it('lr 1e308 names the learning rate, its range and the value', () => {
    expect(projectError((p) => (p.training.optimizer = { type: 'SGD', lr: 1e308 }))).toContain(
      'training.optimizer.lr: Learning rate (lr) must be a positive number no larger than 100 (got 1e308)',
    );
  });

  it('every optimizer number that would overflow float32 is refused by name', () => {
    const cases: [object, RegExp][] = [
      [{ type: 'SGD', momentum: 1e300 }, /training\.optimizer\.momentum: momentum must be a number from 0 to 1 \(got 1e300\)/],
      [{ type: 'SGD', dampening: 1e300 }, /dampening: dampening must be a number from 0 to 1/],
      [{ type: 'SGD', weight_decay: 1e300 }, /weight_decay: Weight decay \(weight_decay\) must be a number from 0 to 10 \(got 1e300\)/],
      [{ type: 'Adam', eps: 1e300 }, /eps: Epsilon \(eps\) must be a number from 1e-30 to 10 \(got 1e300\)/],
      [{ type: 'Adagrad', lr_decay: 1e300 }, /lr_decay: .*must be a number from 0 to 10/],
      [{ type: 'Adagrad', initial_accumulator_value: 1e300 }, /initial_accumulator_value: .*must be a number from 0 to 1,000,000/],
    ];
    for (const [optimizer, message] of cases) expect(projectError((p) => (p.training.optimizer = optimizer))).toMatch(message);
  });

  it('the run numbers: epochs, batch size, gradient clipping', () => {
    expect(projectError((p) => (p.training.epochs = 1e300))).toContain('training.epochs: epochs must be a whole number from 1 to 100,000 (got 1e300)');
    expect(projectError((p) => (p.training.batch_size = 1e7))).toContain('Batch size (batch_size) must be a whole number from 1 to 1,048,576 (got 10000000)');
    expect(projectError((p) => (p.training.clip_grad_norm = 1e300))).toContain('training.clip_grad_norm: Gradient clipping (max_norm) (clip_grad_norm) must be a positive number no larger than 1,000,000');
  });

  it("a scheduler's learning rates", () => {
    expect(projectError((p) => (p.training.scheduler = { type: 'OneCycleLR', max_lr: 1e300 }))).toContain('Peak learning rate (max_lr) must be a positive number no larger than 100 (got 1e300)');
    expect(projectError((p) => (p.training.scheduler = { type: 'CosineAnnealingLR', T_max: 5, eta_min: 1e300 }))).toContain('Minimum learning rate (eta_min) must be a number from 0 to 100');
  });
});

describe('the API', () => {
  it('resumeRun with lr 1e300 is refused at the door, naming lr', () => {
    expect(requestError('resumeRun', { runId: 'run-1', hyper: { lr: 1e300 } })).toContain('hyper.lr: Learning rate (lr) must be a positive number no larger than 100 (got 1e300)');
    expect(requestError('resumeRun', { runId: 'run-1', hyper: { momentum: 7 } })).toContain('momentum must be a number from 0 to 1 (got 7)');
  });

  it("startRun's overrides", () => {
    expect(requestError('startRun', { project: quickstart(), overrides: { lr: 1e308 } })).toContain('overrides.lr: Learning rate (lr) must be a positive number no larger than 100 (got 1e308)');
    expect(requestError('startRun', { project: quickstart(), overrides: { epochs: 1e9 } })).toContain('epochs must be a whole number from 1 to 100,000');
  });

  it('checkTraining (the settings panel) reports the same message at the field', async () => {
    const r = await service.checkTraining({ training: { ...quickstart().training, optimizer: { type: 'SGD', lr: 1e308 } } });
    expect(r.issues).toEqual([{ path: ['optimizer', 'lr'], message: 'Learning rate (lr) must be a positive number no larger than 100 (got 1e308)' }]);
  });

  it("the settings panel's forms carry the bounds (JSON Schema maximum)", async () => {
    const { optimizers, schedulers } = await service.trainingSchema({});
    const sgd = optimizers.find((f) => f.type === 'SGD')!.schema.properties as Record<string, Record<string, unknown>>;
    expect(sgd.lr).toMatchObject({ exclusiveMinimum: 0, maximum: 100 });
    expect(sgd.momentum).toMatchObject({ minimum: 0, maximum: 1 });
    const oneCycle = schedulers.find((f) => f.type === 'OneCycleLR')!.schema.properties as Record<string, Record<string, unknown>>;
    expect(oneCycle.max_lr).toMatchObject({ maximum: 100 });
  });
});

describe('layer parameters that the kernels receive as float32', () => {
  it('LeakyReLU negative_slope 1e308 is a problem at the node, not a native error', () => {
    const p = quickstart();
    p.graph.nodes[3] = { id: 'relu1', type: 'LeakyReLU', name: 'relu1', params: { negative_slope: 1e308 } };
    const issues = analyzeGraph(p.graph, { batchSize: 64 }).issues;
    expect(issues.map((i) => i.message)).toContain('LeakyReLU at node relu1: negative_slope: must be a finite float32 number, between -3.4e38 and 3.4e38 (got 1e308)');
  });

  it('ELU alpha and BatchNorm eps likewise', () => {
    for (const [type, params, name] of [['ELU', { alpha: -1e300 }, 'alpha'], ['BatchNorm1d', { eps: 1e300 }, 'eps']] as const) {
      const p = quickstart();
      p.graph.nodes[3] = { id: 'relu1', type, name: 'relu1', params };
      expect(analyzeGraph(p.graph, { batchSize: 64 }).issues.map((i) => i.message).join('\n')).toMatch(new RegExp(`${name}: must be a finite float32 number`));
    }
  });
});

describe("a scheduler's lr sequence", () => {
  it('an ExponentialLR that grows the lr past the bound stops at the epoch where it does, naming the scheduler', () => {
    const schedule = lrSchedule({ type: 'ExponentialLR', gamma: 1e100 }, 1);
    expect(() => epochTables(schedule, 0, 10)).not.toThrow();
    // float32 would make the lr of epoch 4 (1e300) infinite; the native side would only say "lr values must be finite"
    expect(() => epochTables(schedule, 3, 10)).toThrow(/ExponentialLR sets the learning rate to 1(\.\d+)?e300 in epoch 4, above the largest Netloom trains with \(100\)/);
  });
});
