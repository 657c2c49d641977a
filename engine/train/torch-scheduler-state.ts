/**
 * A learning-rate scheduler as torch.optim.lr_scheduler's state_dict() (PyTorch 1.13), so that the
 * exported train.py can scheduler.load_state_dict() a checkpoint Netloom wrote, and what a scheduler
 * leaves in the optimizer's param_group (initial_lr, the current lr, OneCycleLR's bounds).
 *
 * torch's state_dict() is the scheduler's __dict__ without the optimizer: its own arguments, base_lrs,
 * last_epoch (= scheduler.step() calls so far), _step_count (= last_epoch + 1: the initial step counts),
 * _last_lr, verbose and _get_lr_called_within_step. load_state_dict() is __dict__.update(), so what is
 * left out keeps the value the constructor gave: OneCycleLR's anneal_func (a bound method, which no
 * weights-only file can hold) is left out on purpose.
 *
 * Netloom itself never reads this back: the lr is a function of the position (schedules.ts replays
 * torch's sequence), so resuming needs only where training stood.
 */
import type { OptimizerDoc } from '../contract/optimizers.js';
import type { ChildDoc, SchedulerDoc } from '../contract/schedulers.js';
import { pyDict, pyTuple, type PyDict, type PyValue } from '../io/pyvalue.js';
import type { LrSchedule } from './schedules.js';

const int = (n: number) => BigInt(n);

/** A OneCycleLR's phases as torch stores them: end_step a float (pct_start * total_steps - 1), the last one an int. */
function oneCyclePhases(d: Extract<ChildDoc, { type: 'OneCycleLR' }>): PyValue[] {
  const T = d.total_steps as number;
  const p = d.pct_start;
  const phase = (end: PyValue, lr: [string, string], m: [string, string]): PyValue =>
    pyDict([['end_step', end], ['start_lr', lr[0]], ['end_lr', lr[1]], ['start_momentum', m[0]], ['end_momentum', m[1]]]);
  return d.three_phase
    ? [
        phase(p * T - 1, ['initial_lr', 'max_lr'], ['max_momentum', 'base_momentum']),
        phase(2 * p * T - 2, ['max_lr', 'initial_lr'], ['base_momentum', 'max_momentum']),
        phase(int(T - 1), ['initial_lr', 'min_lr'], ['max_momentum', 'max_momentum']),
      ]
    : [phase(p * T - 1, ['initial_lr', 'max_lr'], ['max_momentum', 'base_momentum']), phase(int(T - 1), ['max_lr', 'min_lr'], ['base_momentum', 'max_momentum'])];
}

/** A scheduler's own constructor arguments, as its __dict__ holds them. */
function ownArguments(d: ChildDoc, opt: OptimizerDoc): [string, PyValue][] {
  switch (d.type) {
    case 'StepLR': return [['step_size', int(d.step_size)], ['gamma', d.gamma]];
    // torch keeps a collections.Counter; a plain dict {milestone: 1} answers get_lr()'s `in` and `[]` the same
    case 'MultiStepLR': return [['milestones', pyDict(d.milestones.map((m) => [int(m), 1n]))], ['gamma', d.gamma]];
    case 'ExponentialLR': return [['gamma', d.gamma]];
    case 'CosineAnnealingLR': return [['T_max', int(d.T_max)], ['eta_min', d.eta_min]];
    case 'LinearLR': return [['start_factor', d.start_factor], ['end_factor', d.end_factor], ['total_iters', int(d.total_iters)]];
    case 'OneCycleLR': return [['total_steps', int(d.total_steps as number)], ['_schedule_phases', oneCyclePhases(d)], ['cycle_momentum', d.cycle_momentum], ['use_beta1', 'betas' in opt]];
  }
}

/** The group's initial_lr: the optimizer's lr, unless a OneCycleLR replaced it (the last one constructed wins, as in torch). */
function initialLr(s: SchedulerDoc, lr: number): number {
  const children: ChildDoc[] = s.type === 'SequentialLR' ? s.schedulers : [s];
  const cycles = children.filter((c): c is Extract<ChildDoc, { type: 'OneCycleLR' }> => c.type === 'OneCycleLR');
  const last = cycles[cycles.length - 1];
  return last ? last.max_lr / last.div_factor : lr;
}

/** One scheduler's state_dict() after `steps` scheduler.step() calls. */
function childState(d: ChildDoc, opt: OptimizerDoc, o: { baseLr: number; lastEpoch: number; stepCount: number; lastLr: number }): PyDict {
  return pyDict([
    ...ownArguments(d, opt),
    ['base_lrs', [o.baseLr]],
    ['last_epoch', int(o.lastEpoch)],
    ['verbose', false],
    ['_step_count', int(o.stepCount)],
    ['_get_lr_called_within_step', false],
    ['_last_lr', [o.lastLr]],
  ]);
}

/**
 * scheduler.state_dict() after `steps` calls to scheduler.step(). For a SequentialLR, child i starts
 * at milestone m_i (m_0 = 0): before it, torch's SequentialLR has set its last_epoch to -1; from m_i on
 * it counts from 0 (child.step(0)) and stops at the next milestone. A child's _last_lr is read only
 * after it steps, so a child not yet reached carries the group's initial lr.
 */
export function schedulerStateDict(s: SchedulerDoc, schedule: LrSchedule, steps: number, opt: OptimizerDoc): PyDict {
  const baseLr = initialLr(s, opt.lr);
  if (s.type !== 'SequentialLR') return childState(s, opt, { baseLr, lastEpoch: steps, stepCount: steps + 1, lastLr: schedule.lrAt(steps) });
  const starts = [0, ...s.milestones];
  const children = s.schedulers.map((c, i) => {
    const end = i + 1 < starts.length ? starts[i + 1] - 1 : Infinity;
    if (i > 0 && steps < starts[i]) return childState(c, opt, { baseLr, lastEpoch: -1, stepCount: 1, lastLr: baseLr });
    const at = Math.min(steps, end);
    const lastEpoch = at - starts[i];
    return childState(c, opt, { baseLr, lastEpoch, stepCount: lastEpoch + (i > 0 ? 2 : 1), lastLr: schedule.lrAt(at) });
  });
  return pyDict([['_milestones', s.milestones.map(int)], ['last_epoch', int(steps)], ['_last_lr', [schedule.lrAt(steps)]], ['_schedulers', children]]);
}

/**
 * What a scheduler puts in the optimizer's param_group after `steps` steps (`write`), the entries a
 * file must match to resume (`expected`: initial_lr stands for the project's lr, since the group's lr
 * moves) and the entries it drives (`driven`: compared through the position, not as settings).
 */
export function schedulerGroup(s: SchedulerDoc, schedule: LrSchedule, steps: number, opt: OptimizerDoc): { write: Record<string, PyValue>; expected: Record<string, PyValue>; driven: Set<string> } {
  const cycle = (s.type === 'SequentialLR' ? s.schedulers : [s]).filter((c): c is Extract<ChildDoc, { type: 'OneCycleLR' }> => c.type === 'OneCycleLR').pop();
  const initial = initialLr(s, opt.lr);
  const write: Record<string, PyValue> = { lr: schedule.lrAt(steps), initial_lr: initial };
  const driven = new Set(['lr']);
  if (cycle) {
    Object.assign(write, { max_lr: cycle.max_lr, min_lr: initial / cycle.final_div_factor });
    if (cycle.cycle_momentum) {
      Object.assign(write, { max_momentum: cycle.max_momentum, base_momentum: cycle.base_momentum });
      const m = schedule.momentumAt(steps);
      if ('betas' in opt) {
        write.betas = pyTuple(m ?? opt.betas[0], opt.betas[1]);
        driven.add('betas');
      } else if ('momentum' in opt) {
        write.momentum = m ?? opt.momentum;
        driven.add('momentum');
      }
    }
  }
  return { write, expected: { initial_lr: initial }, driven };
}
