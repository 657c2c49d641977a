import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NetloomError } from '../../engine/errors.js';
import { SchedulerSchema } from '../../engine/contract/schedulers.js';
import { lrSchedule, parseScheduler, validateScheduler } from '../../engine/train/schedules.js';
import { PYTHON, itWithPython } from '../python-reference.js';

// Expected sequences are torch 1.13's, from test/unit/gen_schedules.py: committed in
// fixtures/schedules.json (so this runs without Python) and, where /usr/bin/python3 has torch,
// regenerated live and compared too (which also catches a stale fixture).

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GEN = path.join(HERE, 'gen_schedules.py');

interface Case {
  name: string;
  baseLr: number;
  scheduler: unknown;
  lrs: number[];
  momentum: number[];
}
interface Fixture {
  torch: string;
  steps: number;
  cases: Case[];
}

const fixture = JSON.parse(readFileSync(path.join(HERE, 'fixtures', 'schedules.json'), 'utf8')) as Fixture;

const itWithTorch = itWithPython(['torch'], 'live torch comparison');

/** 1e-12 relative; values that torch computes as exactly 0 must be exactly 0 here. */
function expectSequence(name: string, got: number[], want: number[]): void {
  expect(got.length).toBe(want.length);
  for (let k = 0; k < want.length; k++) {
    const tol = 1e-12 * Math.abs(want[k]);
    if (!(Math.abs(got[k] - want[k]) <= tol))
      expect.fail(`${name}: value ${k} is ${got[k]}, torch has ${want[k]} (difference ${got[k] - want[k]})`);
  }
}

function replay(c: Case, steps: number): { lrs: number[]; momentum: number[] } {
  const s = lrSchedule(parseScheduler(c.scheduler), c.baseLr, 0.9);   // the generator's SGD has momentum 0.9
  const lrs: number[] = [];
  const momentum: number[] = [];
  for (let k = 0; k <= steps; k++) {
    lrs.push(s.lrAt(k));
    momentum.push(s.momentumAt(k) as number);
  }
  return { lrs, momentum };
}

describe('LR schedulers vs torch 1.13 (committed fixture)', () => {
  it('the fixture covers every scheduler type and a LinearLR -> CosineAnnealingLR chain', () => {
    const types = new Set(fixture.cases.map((c) => (c.scheduler as { type: string }).type));
    for (const t of ['StepLR', 'MultiStepLR', 'ExponentialLR', 'CosineAnnealingLR', 'OneCycleLR', 'LinearLR', 'SequentialLR'])
      expect(types.has(t), t).toBe(true);
    expect(fixture.steps).toBeGreaterThanOrEqual(60);
    expect(fixture.cases.some((c) => c.name === 'SequentialLR warm-up then cosine')).toBe(true);
  });

  for (const c of fixture.cases) {
    it(`${c.name}: ${fixture.steps} steps match`, () => {
      const r = replay(c, fixture.steps);
      expectSequence(`${c.name} lr`, r.lrs, c.lrs);
      expectSequence(`${c.name} momentum`, r.momentum, c.momentum);
    });
  }

  it('most sequences are bit-identical to torch (only cos() may differ by an ulp)', () => {
    let exact = 0;
    let total = 0;
    for (const c of fixture.cases) {
      const r = replay(c, fixture.steps);
      for (let k = 0; k < c.lrs.length; k++) {
        total++;
        if (r.lrs[k] === c.lrs[k]) exact++;
      }
    }
    expect(exact / total).toBeGreaterThan(0.9);
  });
});

describe('LR schedulers vs torch 1.13 (live)', () => {
  itWithTorch('gen_schedules.py --stdout equals the committed fixture and our replay', () => {
    const r = spawnSync(PYTHON, [GEN, '--stdout'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const live = JSON.parse(r.stdout) as Fixture;
    expect(live.cases.map((c) => c.name)).toEqual(fixture.cases.map((c) => c.name));
    for (let i = 0; i < live.cases.length; i++) {
      const c = live.cases[i];
      expect(c.lrs, `${c.name}: the committed fixture is stale; rerun ${PYTHON} test/unit/gen_schedules.py`).toEqual(fixture.cases[i].lrs);
      const ours = replay(c, live.steps);
      expectSequence(`${c.name} lr (live)`, ours.lrs, c.lrs);
      expectSequence(`${c.name} momentum (live)`, ours.momentum, c.momentum);
    }
  });
});

describe('SchedulerSchema', () => {
  it('fills PyTorch defaults and the interval (OneCycleLR steps per batch)', () => {
    expect(SchedulerSchema.parse({ type: 'StepLR', step_size: 3 })).toEqual({ type: 'StepLR', step_size: 3, gamma: 0.1, interval: 'epoch' });
    expect(SchedulerSchema.parse({ type: 'LinearLR' })).toEqual({ type: 'LinearLR', start_factor: 1 / 3, end_factor: 1, total_iters: 5, interval: 'epoch' });
    expect(SchedulerSchema.parse({ type: 'CosineAnnealingLR', T_max: 10 })).toMatchObject({ eta_min: 0, interval: 'epoch' });
    expect(SchedulerSchema.parse({ type: 'OneCycleLR', max_lr: 0.1, total_steps: 100 })).toEqual({
      type: 'OneCycleLR', max_lr: 0.1, total_steps: 100, pct_start: 0.3, anneal_strategy: 'cos', div_factor: 25,
      final_div_factor: 1e4, three_phase: false, cycle_momentum: true, base_momentum: 0.85, max_momentum: 0.95, interval: 'step',
    });
    expect(SchedulerSchema.parse({ type: 'MultiStepLR', milestones: [2, 5], interval: 'step' })).toMatchObject({ gamma: 0.1, interval: 'step' });
  });

  it('milestones out of order: the message says how to fix them', () => {
    expect(() => parseScheduler({ type: 'MultiStepLR', milestones: [30, 10, 10] })).toThrow(
      /milestones must be strictly increasing, but 10 follows 30: list them in ascending order without repeats, e\.g\. \[10, 30\]/,
    );
    expect(() => parseScheduler({ type: 'MultiStepLR', milestones: [0, 4] })).toThrow(/milestones\[0\]/);
  });

  it('SequentialLR: one milestone fewer than schedulers, no nesting, no interval on children', () => {
    const lin = { type: 'LinearLR', total_iters: 3 };
    const cos = { type: 'CosineAnnealingLR', T_max: 7 };
    expect(() => parseScheduler({ type: 'SequentialLR', schedulers: [lin, cos], milestones: [] })).toThrow(/one milestone fewer than schedulers/);
    expect(() => parseScheduler({ type: 'SequentialLR', schedulers: [lin, { type: 'SequentialLR', schedulers: [cos], milestones: [] }], milestones: [3] })).toThrow(NetloomError);
    expect(() => parseScheduler({ type: 'SequentialLR', schedulers: [lin, { ...cos, interval: 'step' }], milestones: [3] })).toThrow(/interval/);
    expect(parseScheduler({ type: 'SequentialLR', schedulers: [lin, cos], milestones: [3] })).toMatchObject({ interval: 'epoch' });
  });

  it('rejects what torch rejects or divides by zero on, with NL_INVALID_ARGUMENT', () => {
    const bad = [
      { type: 'LinearLR', start_factor: 0 },
      { type: 'LinearLR', start_factor: 1.5 },
      { type: 'OneCycleLR', max_lr: 0.1, total_steps: 10, pct_start: 1.2 },
      { type: 'OneCycleLR', max_lr: 0.1, total_steps: 10, anneal_strategy: 'exp' },
      { type: 'StepLR', step_size: 0 },
      { type: 'StepLR', step_size: 2, gamma: -1 },
      { type: 'ExponentialLR' },
      { type: 'StepLR', step_size: 2, typo: 1 },
      { type: 'CyclicLR' },
    ];
    for (const b of bad) {
      try {
        parseScheduler(b);
        expect.fail(`accepted ${JSON.stringify(b)}`);
      } catch (e) {
        expect(e).toBeInstanceOf(NetloomError);
        expect((e as NetloomError).code).toBe('NL_INVALID_ARGUMENT');
        expect((e as NetloomError).hint).toBeTruthy();
      }
    }
  });
});

describe('lrSchedule', () => {
  it('lrAt is random-access and idempotent; lrFor follows the interval', () => {
    const s = lrSchedule({ type: 'ExponentialLR', gamma: 0.5 }, 1);
    expect(s.lrAt(3)).toBe(0.125);
    expect(s.lrAt(0)).toBe(1);
    expect(s.lrAt(3)).toBe(0.125);
    expect(s.lrFor(2, 7, 10)).toBe(0.25);
    const t = lrSchedule({ type: 'ExponentialLR', gamma: 0.5, interval: 'step' }, 1);
    expect(t.lrFor(1, 1, 2)).toBe(0.125);
    expect(t.momentumAt(5)).toBeUndefined();
  });

  it('OneCycleLR ignores the optimizer lr and starts at max_lr / div_factor', () => {
    const a = lrSchedule({ type: 'OneCycleLR', max_lr: 1, total_steps: 10, anneal_strategy: 'linear' }, 0.123);
    expect(a.lrAt(0)).toBe(1 / 25);
    expect(a.momentumAt(0)).toBe(0.95);
  });

  it('stepping OneCycleLR past total_steps throws as torch does; bad indices throw', () => {
    const a = lrSchedule({ type: 'OneCycleLR', max_lr: 1, total_steps: 10 }, 0.1);
    expect(() => a.lrAt(10)).not.toThrow();
    expect(() => a.lrAt(11)).toThrow(/stepped 12 times, but total_steps is 10/);
    expect(() => lrSchedule({ type: 'StepLR', step_size: 2 }, 0.1).lrAt(-1)).toThrow(NetloomError);
    expect(() => lrSchedule({ type: 'StepLR', step_size: 2 }, 0.1).lrAt(1.5)).toThrow(NetloomError);
  });

  it('a zero-length OneCycleLR phase throws instead of producing NaN (torch: ZeroDivisionError)', () => {
    expect(() => lrSchedule({ type: 'OneCycleLR', max_lr: 1, total_steps: 10, pct_start: 0.1 }, 0.1)).toThrow(/zero length/);
  });
});

describe('validateScheduler', () => {
  const oneCycle = { type: 'OneCycleLR', max_lr: 0.1, total_steps: 100 };

  it('OneCycleLR total_steps smaller than the run is NL_INVALID_ARGUMENT with the number to use', () => {
    try {
      validateScheduler(oneCycle, { epochs: 3, stepsPerEpoch: 50 });
      expect.fail('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(NetloomError);
      const err = e as NetloomError;
      expect(err.code).toBe('NL_INVALID_ARGUMENT');
      expect(err.message).toMatch(/total_steps 100 is smaller than the 150 scheduler steps/);
      expect(err.hint).toMatch(/Set total_steps to 150/);
    }
    expect(validateScheduler(oneCycle, { epochs: 2, stepsPerEpoch: 50 }).warnings).toEqual([]);
    try {
      validateScheduler({ ...oneCycle, interval: 'epoch' }, { epochs: 101, stepsPerEpoch: 50 });
      expect.fail('accepted');
    } catch (e) {
      expect((e as NetloomError).message).toMatch(/smaller than the 101 scheduler steps it receives in 101 epochs/);
      expect((e as NetloomError).hint).toMatch(/Set total_steps to 101 or "auto", or use interval "step"/);
    }
  });

  it('a OneCycleLR inside SequentialLR is checked over the part of the run it drives', () => {
    const seq = { type: 'SequentialLR', schedulers: [{ type: 'LinearLR' }, { ...oneCycle, total_steps: 40 }], milestones: [10], interval: 'step' };
    expect(validateScheduler(seq, { epochs: 5, stepsPerEpoch: 10 }).warnings).toEqual([]);
    expect(() => validateScheduler(seq, { epochs: 6, stepsPerEpoch: 10 })).toThrow(/total_steps 40 is smaller than the 50/);
  });

  it('cycle_momentum on Adagrad is an error; legal surprises are warnings', () => {
    expect(() => validateScheduler(oneCycle, { epochs: 1, stepsPerEpoch: 100, optimizer: 'Adagrad' })).toThrow(/cycle_momentum/);
    expect(validateScheduler({ ...oneCycle, cycle_momentum: false }, { epochs: 1, stepsPerEpoch: 100, optimizer: 'Adagrad' }).warnings).toEqual([]);
    expect(validateScheduler(oneCycle, { epochs: 1, stepsPerEpoch: 60 }).warnings.join()).toMatch(/ends early/);
    expect(validateScheduler({ type: 'CosineAnnealingLR', T_max: 10 }, { epochs: 20, stepsPerEpoch: 5 }).warnings.join()).toMatch(/rises again/);
    expect(validateScheduler({ type: 'MultiStepLR', milestones: [5, 50] }, { epochs: 20, stepsPerEpoch: 5 }).warnings.join()).toMatch(/milestones 50 are never reached/);
    const seq = { type: 'SequentialLR', schedulers: [{ type: 'LinearLR' }, { type: 'ExponentialLR', gamma: 0.9 }], milestones: [30] };
    expect(validateScheduler(seq, { epochs: 20, stepsPerEpoch: 5 }).warnings.join()).toMatch(/never run/);
  });
});

describe('OneCycleLR total_steps "auto"', () => {
  it('resolves to the scheduler steps of the run, and matches the explicit schedule', () => {
    const doc = { type: 'OneCycleLR', max_lr: 0.01 } as const;
    const { scheduler } = validateScheduler(doc, { epochs: 3, stepsPerEpoch: 7, optimizer: 'SGD' });
    expect(scheduler).toMatchObject({ type: 'OneCycleLR', total_steps: 21 });
    const auto = lrSchedule(scheduler, 0.1, 0.9);
    const explicit = lrSchedule({ ...doc, total_steps: 21 }, 0.1, 0.9);
    for (let k = 0; k <= 21; k++) expect(auto.lrAt(k)).toBe(explicit.lrAt(k));
  });

  it('inside SequentialLR resolves to that child\'s span', () => {
    const { scheduler } = validateScheduler(
      { type: 'SequentialLR', schedulers: [{ type: 'LinearLR', total_iters: 2 }, { type: 'OneCycleLR', max_lr: 0.01 }], milestones: [2] },
      { epochs: 10, stepsPerEpoch: 5 },
    );
    expect(scheduler.type === 'SequentialLR' && scheduler.schedulers[1]).toMatchObject({ total_steps: 8 });
  });

  it('unresolved "auto" is refused by lrSchedule with a hint', () => {
    expect(() => lrSchedule({ type: 'OneCycleLR', max_lr: 0.01 }, 0.1).lrAt(0)).toThrow(/not been resolved/);
  });
});
