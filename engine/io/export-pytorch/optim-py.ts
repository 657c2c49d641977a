/**
 * train.py's loss, optimizer and scheduler: the project's own, with every parameter written out
 * (torch.optim's and lr_scheduler's keyword names are Netloom's, so they are copied as they are).
 */
import { optimizerDefaults, OPTIMIZERS, type OptimizerDoc } from '../../contract/optimizers.js';
import type { ChildDoc, SchedulerDoc } from '../../contract/schedulers.js';
import type { Analysis } from '../../graph/analyze.js';
import { lossInputs } from './forward.js';
import { criterionCode } from './layers.js';
import { pyNum, pyValue } from './python.js';

/** Parameters whose values are floats in torch even when whole (lr=1 must read 1.0). */
const FLOAT_PARAMS = new Set(['lr', 'momentum', 'dampening', 'weight_decay', 'eps', 'alpha', 'lr_decay', 'initial_accumulator_value', 'gamma', 'eta_min',
  'max_lr', 'pct_start', 'div_factor', 'final_div_factor', 'base_momentum', 'max_momentum', 'start_factor', 'end_factor']);

function arg(key: string, v: unknown): string {
  if (typeof v === 'number' && FLOAT_PARAMS.has(key)) return `${key}=${pyNum(v, 'float')}`;
  if (key === 'betas' && Array.isArray(v)) return `betas=(${v.map((b) => pyNum(b as number, 'float')).join(', ')})`;
  return `${key}=${Array.isArray(v) ? `[${v.map(pyValue).join(', ')}]` : pyValue(v)}`;
}

/** make_optimizer(): every hyper-parameter of torch's class, the project's value or torch's default; lr from --lr. */
export function optimizerPy(opt: OptimizerDoc): string {
  const all: Record<string, unknown> = { ...optimizerDefaults(opt.type), ...opt };
  const keys = Object.keys(OPTIMIZERS[opt.type].params).filter((k) => k !== 'lr');
  return [
    'def make_optimizer(params, lr):',
    `    return torch.optim.${opt.type}(params, lr=lr, ${keys.map((k) => arg(k, all[k])).join(', ')})`,
  ].join('\n');
}

/** One scheduler's constructor; `totalSteps` is the Python expression for OneCycleLR's total_steps "auto". */
function schedulerCtor(s: ChildDoc, totalSteps: string): string {
  const args = Object.entries(s)
    .filter(([k]) => k !== 'type' && k !== 'interval')
    .map(([k, v]) => (k === 'total_steps' && v === 'auto' ? `total_steps=${totalSteps}` : arg(k, v)));
  return `torch.optim.lr_scheduler.${s.type}(optimizer, ${args.join(', ')})`;
}

/** SCHEDULER_INTERVAL and make_scheduler(): None for a constant learning rate. */
export function schedulerPy(s: SchedulerDoc | null): string {
  if (!s)
    return [
      'SCHEDULER_INTERVAL = None',
      '',
      '',
      'def make_scheduler(optimizer, steps_per_epoch, epochs):',
      '    return None  # the project has no scheduler: the learning rate stays constant',
    ].join('\n');
  const steps = s.interval === 'epoch' ? 'epochs' : 'epochs * steps_per_epoch';
  const lines = [
    `# scheduler.step() runs after every ${s.interval === 'epoch' ? 'epoch' : 'optimizer step'}`,
    `SCHEDULER_INTERVAL = ${pyValue(s.interval)}`,
    '',
    '',
    'def make_scheduler(optimizer, steps_per_epoch, epochs):',
    `    steps = ${steps}  # scheduler steps in the whole run`,
  ];
  if (s.type !== 'SequentialLR') {
    lines.push(`    return ${schedulerCtor(s, 'steps')}`);
    return lines.join('\n');
  }
  lines.push('    schedulers = [');
  s.schedulers.forEach((c, i) => {
    // a OneCycleLR with total_steps "auto" spans the steps it is active for (Netloom's validateScheduler)
    const start = i === 0 ? 0 : s.milestones[i - 1];
    const end = i < s.milestones.length ? `min(${s.milestones[i] - 1}, steps)` : 'steps';
    lines.push(`        ${schedulerCtor(c, `max(${end} - ${start}, 1)`)},`);
  });
  lines.push('    ]', `    return torch.optim.lr_scheduler.SequentialLR(optimizer, schedulers=schedulers, milestones=[${s.milestones.join(', ')}])`);
  return lines.join('\n');
}

/** make_criterion(), compute_loss() and CLASSIFICATION: what the loss compares, as Netloom's lowering does. */
export function lossPy(a: Analysis, regression: boolean): string {
  const loss = a.byId.get(a.lossId!)!;
  const { target } = lossInputs(a);
  const classification = loss.spec.lossKind === 'class';
  let body: string[];
  if (target) {
    body = [`    pred, target = model(X)  # the model computes the target too: ${target.doc.name}'s output`, '    return criterion(pred, target), pred'];
  } else if (classification || regression) {
    body = ['    pred = model(X)', '    return criterion(pred, y), pred'];
  } else {
    body = ['    pred = model(X)', '    # no target connected: the class labels one-hot encoded, as Netloom does', '    return criterion(pred, nn.functional.one_hot(y, pred.shape[1]).float()), pred'];
  }
  return [
    `CLASSIFICATION = ${classification ? 'True' : 'False'}  # ${classification ? 'test() reports accuracy' : `${loss.doc.type} has no classes: test() reports the loss only`}`,
    '',
    '',
    'def make_criterion():',
    `    return ${criterionCode(loss)}`,
    '',
    '',
    'def compute_loss(model, X, y, criterion):',
    '    """The batch\'s loss and the model\'s output."""',
    ...body,
  ].join('\n');
}
