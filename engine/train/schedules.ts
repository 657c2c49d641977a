/**
 * Learning-rate schedulers: torch.optim.lr_scheduler (PyTorch 1.13) as validated documents and as
 * an exact replay of the lr sequence torch produces.
 *
 * A project stores a scheduler as a document (SchedulerSchema, engine/contract/schedulers.ts: PyTorch's class name in `type`, its
 * keyword arguments in snake_case with PyTorch's defaults, plus `interval`: whether scheduler.step()
 * runs after every epoch or after every optimizer step). lrSchedule() turns a document into
 * `lrAt(k)`: the lr in param_groups[0] after the scheduler was constructed and then stepped k times,
 * i.e. the lr used by epoch k (interval 'epoch') or by global optimizer step k (interval 'step').
 *
 * The replay is a line-by-line port of torch's classes over a shared param-group object, because
 * torch's get_lr() is *chainable*: most schedulers multiply the group's current lr rather than
 * evaluate a closed form, so the floating-point sequence (and, for SequentialLR, the values
 * themselves) depend on that history. Details that follow from it:
 *   - CosineAnnealingLR uses the recursive form lr_k = (1 + cos(pi k/T)) / (1 + cos(pi (k-1)/T)) *
 *     (lr_{k-1} - eta_min) + eta_min, with the "restart" branch at k = T + 1 (mod 2T); past T_max the
 *     lr rises again (torch's behaviour, not a clamp).
 *   - SequentialLR constructs its children in order on the same group (each child's initial step
 *     runs), resets lr to group.initial_lr, re-runs the first child's initial step, and at a
 *     milestone m calls child.step(0): the child's *closed form* at epoch 0 (its get_lr when it has
 *     none, as OneCycleLR). Children are then chainable from the lr they produced.
 *   - OneCycleLR ignores the optimizer's lr: it sets initial_lr = max_lr / div_factor (for the whole
 *     group, so inside a SequentialLR it also moves the base of the children constructed before it),
 *     min_lr = initial_lr / final_div_factor, and with cycle_momentum (default True) it also drives
 *     the optimizer's momentum (SGD momentum / RMSprop momentum / Adam beta1) between max_momentum
 *     and base_momentum: see momentumAt(). Stepping past total_steps is an error, as in torch.
 * Arithmetic is JS doubles in torch's operation order; Math.cos/Math.pow may differ from the C
 * library Python uses by an ulp, so sequences agree to ~1e-15 relative, not always bit for bit.
 */
import { OPTIMIZERS, isOptimizerType } from '../contract/optimizers.js';
import { SchedulerSchema, type ChildDoc, type SchedulerDoc, type SchedulerInput } from '../contract/schedulers.js';
import { NetloomError } from '../errors.js';

// ---- documents (their schema is engine/contract/schedulers.ts) -----------------------------------

function pathText(path: readonly PropertyKey[]): string {
  return path.length ? path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(scheduler)';
}

/** Validates a scheduler document; throws NL_INVALID_ARGUMENT naming every problem and where. */
export function parseScheduler(doc: unknown): SchedulerDoc {
  const r = SchedulerSchema.safeParse(doc);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${pathText(i.path)}: ${i.message}`);
  throw new NetloomError('NL_INVALID_ARGUMENT', `invalid learning-rate scheduler:\n${lines.join('\n')}`,
    'Fix the fields listed above; names and defaults follow torch.optim.lr_scheduler.');
}

// ---- the replay: torch's classes over one param group ------------------------------------------

/** param_groups[0] as the schedulers see it. */
interface Group {
  lr: number;
  initial_lr?: number;
  max_lr?: number;
  min_lr?: number;
  max_momentum?: number;
  base_momentum?: number;
  /** SGD/RMSprop momentum or Adam beta1; undefined = the optimizer's own, never touched */
  momentum?: number;
}

function bisectRight(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < a[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** torch's _LRScheduler. Subclasses run init() after their own fields are set (torch's super().__init__). */
abstract class Scheduler {
  lastEpoch = -1;
  stepCount = 0;
  baseLr = 0;

  constructor(protected readonly group: Group) {}

  protected init(): void {
    if (this.group.initial_lr === undefined) this.group.initial_lr = this.group.lr;   // setdefault
    this.baseLr = this.group.initial_lr;
    this.initialStep();
  }

  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** torch's step(epoch=None); with an epoch it uses the closed form when the class has one. */
  step(epoch?: number): void {
    this.stepCount++;
    let lr: number;
    if (epoch === undefined) {
      this.lastEpoch++;
      lr = this.getLr();
    } else {
      this.lastEpoch = epoch;
      lr = this.closedFormLr() ?? this.getLr();
    }
    this.group.lr = lr;
  }

  protected abstract getLr(): number;
  protected closedFormLr(): number | undefined {
    return undefined;
  }
}

class StepLR extends Scheduler {
  constructor(group: Group, private readonly d: Extract<ChildDoc, { type: 'StepLR' }>) {
    super(group);
    this.init();
  }
  protected getLr(): number {
    if (this.lastEpoch === 0 || this.lastEpoch % this.d.step_size !== 0) return this.group.lr;
    return this.group.lr * this.d.gamma;
  }
  protected override closedFormLr(): number {
    return this.baseLr * this.d.gamma ** Math.floor(this.lastEpoch / this.d.step_size);
  }
}

class MultiStepLR extends Scheduler {
  constructor(group: Group, private readonly d: Extract<ChildDoc, { type: 'MultiStepLR' }>) {
    super(group);
    this.init();
  }
  protected getLr(): number {
    // milestones are strictly increasing, so torch's Counter holds each once: gamma ** 1
    if (!this.d.milestones.includes(this.lastEpoch)) return this.group.lr;
    return this.group.lr * this.d.gamma ** 1;
  }
  protected override closedFormLr(): number {
    return this.baseLr * this.d.gamma ** bisectRight(this.d.milestones, this.lastEpoch);
  }
}

class ExponentialLR extends Scheduler {
  constructor(group: Group, private readonly d: Extract<ChildDoc, { type: 'ExponentialLR' }>) {
    super(group);
    this.init();
  }
  protected getLr(): number {
    if (this.lastEpoch === 0) return this.group.lr;
    return this.group.lr * this.d.gamma;
  }
  protected override closedFormLr(): number {
    return this.baseLr * this.d.gamma ** this.lastEpoch;
  }
}

class CosineAnnealingLR extends Scheduler {
  constructor(group: Group, private readonly d: Extract<ChildDoc, { type: 'CosineAnnealingLR' }>) {
    super(group);
    this.init();
  }
  protected getLr(): number {
    const e = this.lastEpoch;
    const T = this.d.T_max;
    const etaMin = this.d.eta_min;
    if (e === 0) return this.group.lr;
    if (this.stepCount === 1 && e > 0) return etaMin + ((this.baseLr - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2;
    if ((e - 1 - T) % (2 * T) === 0) return this.group.lr + ((this.baseLr - etaMin) * (1 - Math.cos(Math.PI / T))) / 2;
    return ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (this.group.lr - etaMin) + etaMin;
  }
  protected override closedFormLr(): number {
    const etaMin = this.d.eta_min;
    return etaMin + ((this.baseLr - etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.d.T_max))) / 2;
  }
}

class LinearLR extends Scheduler {
  constructor(group: Group, private readonly d: Extract<ChildDoc, { type: 'LinearLR' }>) {
    super(group);
    this.init();
  }
  protected getLr(): number {
    const { start_factor: s, end_factor: f, total_iters: n } = this.d;
    if (this.lastEpoch === 0) return this.group.lr * s;
    if (this.lastEpoch > n) return this.group.lr;
    return this.group.lr * (1 + (f - s) / (n * s + (this.lastEpoch - 1) * (f - s)));
  }
  protected override closedFormLr(): number {
    const { start_factor: s, end_factor: f, total_iters: n } = this.d;
    return this.baseLr * (s + ((f - s) * Math.min(n, this.lastEpoch)) / n);
  }
}

interface Phase {
  endStep: number;
  startLr: 'initial_lr' | 'max_lr' | 'min_lr';
  endLr: 'initial_lr' | 'max_lr' | 'min_lr';
  startMomentum: 'max_momentum' | 'base_momentum';
  endMomentum: 'max_momentum' | 'base_momentum';
}

class OneCycleLR extends Scheduler {
  private readonly phases: Phase[];

  constructor(group: Group, private readonly d: Extract<ChildDoc, { type: 'OneCycleLR' }>) {
    super(group);
    if (d.total_steps === 'auto')
      throw new NetloomError('NL_INVALID_ARGUMENT', 'OneCycleLR total_steps "auto" has not been resolved against the run', 'Pass the scheduler through validateScheduler() first, or give total_steps as a number.');
    const T = d.total_steps;
    const p = d.pct_start;
    this.phases = d.three_phase
      ? [
          { endStep: p * T - 1, startLr: 'initial_lr', endLr: 'max_lr', startMomentum: 'max_momentum', endMomentum: 'base_momentum' },
          { endStep: 2 * p * T - 2, startLr: 'max_lr', endLr: 'initial_lr', startMomentum: 'base_momentum', endMomentum: 'max_momentum' },
          { endStep: T - 1, startLr: 'initial_lr', endLr: 'min_lr', startMomentum: 'max_momentum', endMomentum: 'max_momentum' },
        ]
      : [
          { endStep: p * T - 1, startLr: 'initial_lr', endLr: 'max_lr', startMomentum: 'max_momentum', endMomentum: 'base_momentum' },
          { endStep: T - 1, startLr: 'max_lr', endLr: 'min_lr', startMomentum: 'base_momentum', endMomentum: 'max_momentum' },
        ];
    group.initial_lr = d.max_lr / d.div_factor;
    group.max_lr = d.max_lr;
    group.min_lr = group.initial_lr / d.final_div_factor;
    if (d.cycle_momentum) {
      group.momentum = d.max_momentum;
      group.max_momentum = d.max_momentum;
      group.base_momentum = d.base_momentum;
    }
    this.init();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.d.anneal_strategy === 'cos') {
      const cosOut = Math.cos(Math.PI * pct) + 1;
      return end + ((start - end) / 2.0) * cosOut;
    }
    return (end - start) * pct + start;
  }

  protected getLr(): number {
    const stepNum = this.lastEpoch;
    if (stepNum > (this.d.total_steps as number))
      throw new NetloomError('NL_INVALID_ARGUMENT',
        `OneCycleLR stepped ${stepNum + 1} times, but total_steps is ${this.d.total_steps}`,
        'Raise total_steps to at least the number of scheduler steps in the run (epochs x batches per epoch for interval "step").');
    const g = this.group;
    let startStep = 0;
    for (let i = 0; i < this.phases.length; i++) {
      const ph = this.phases[i];
      if (stepNum <= ph.endStep || i === this.phases.length - 1) {
        const span = ph.endStep - startStep;
        if (span === 0)   // torch raises ZeroDivisionError here
          throw new NetloomError('NL_INVALID_ARGUMENT',
            `OneCycleLR phase ${i + 1} has zero length (pct_start ${this.d.pct_start} x total_steps ${this.d.total_steps})`,
            'Change pct_start or total_steps so that pct_start * total_steps is not exactly 1 (and pct_start < 1).');
        const pct = (stepNum - startStep) / span;
        const lr = this.anneal(g[ph.startLr] as number, g[ph.endLr] as number, pct);
        if (this.d.cycle_momentum) g.momentum = this.anneal(g[ph.startMomentum] as number, g[ph.endMomentum] as number, pct);
        return lr;
      }
      startStep = ph.endStep;
    }
    return g.lr;   // not reached: the last phase always matches
  }
}

class SequentialLR {
  private lastEpoch: number;
  private readonly children: Scheduler[];

  constructor(private readonly group: Group, private readonly d: Extract<SchedulerDoc, { type: 'SequentialLR' }>) {
    // the user constructs the children first, each on the optimizer (so each runs its initial step)
    this.children = d.schedulers.map((c) => makeChild(group, c));
    this.lastEpoch = 0;
    group.lr = group.initial_lr as number;
    for (const c of this.children) c.lastEpoch -= 1;
    this.children[0].initialStep();
  }

  step(): void {
    this.lastEpoch++;
    const idx = bisectRight(this.d.milestones, this.lastEpoch);
    const child = this.children[idx];
    if (idx > 0 && this.d.milestones[idx - 1] === this.lastEpoch) child.step(0);
    else child.step();
  }
}

function makeChild(group: Group, d: ChildDoc): Scheduler {
  switch (d.type) {
    case 'StepLR': return new StepLR(group, d);
    case 'MultiStepLR': return new MultiStepLR(group, d);
    case 'ExponentialLR': return new ExponentialLR(group, d);
    case 'CosineAnnealingLR': return new CosineAnnealingLR(group, d);
    case 'OneCycleLR': return new OneCycleLR(group, d);
    case 'LinearLR': return new LinearLR(group, d);
  }
}

// ---- public ---------------------------------------------------------------------------------------

export interface LrSchedule {
  /** the scheduler's class name (SequentialLR for a chain), for messages */
  readonly type: string;
  /** 'epoch': lrAt(k) is the lr of epoch k; 'step': of global optimizer step k (epoch * stepsPerEpoch + batch) */
  readonly interval: 'epoch' | 'step';
  /** lr after construction and k calls to scheduler.step() (k >= 0, an integer) */
  lrAt(stepIndex: number): number;
  /**
   * The optimizer momentum (SGD/RMSprop momentum, Adam/AdamW beta1) at the same point: only
   * OneCycleLR with cycle_momentum changes it; otherwise baseMomentum (undefined if not given).
   */
  momentumAt(stepIndex: number): number | undefined;
  /** the lr for batch `batch` (0-based) of epoch `epoch` (0-based), following `interval` */
  lrFor(epoch: number, batch: number, stepsPerEpoch: number): number;
}

/**
 * The lr sequence torch produces for scheduler `s` on an optimizer whose lr is `baseLr` (and whose
 * momentum/beta1 is `baseMomentum`). Values are computed on demand, in order, and cached, so
 * random access is cheap after the first pass.
 */
export function lrSchedule(s: SchedulerDoc | SchedulerInput, baseLr: number, baseMomentum?: number): LrSchedule {
  const doc = parseScheduler(s);
  if (!Number.isFinite(baseLr) || baseLr < 0)
    throw new NetloomError('NL_INVALID_ARGUMENT', `learning rate ${baseLr} is not a finite non-negative number`, 'Set the optimizer lr to a value such as 0.001.');
  const group: Group = { lr: baseLr, momentum: baseMomentum };
  const sched = doc.type === 'SequentialLR' ? new SequentialLR(group, doc) : makeChild(group, doc);
  const lrs: number[] = [group.lr];
  const moms: (number | undefined)[] = [group.momentum];
  const advance = (k: number): void => {
    if (!Number.isInteger(k) || k < 0)
      throw new NetloomError('NL_INVALID_ARGUMENT', `scheduler step index ${k} is not a non-negative integer`, 'Pass the 0-based epoch or optimizer-step number.');
    while (lrs.length <= k) {
      sched.step();
      lrs.push(group.lr);
      moms.push(group.momentum);
    }
  };
  const lrAt = (k: number): number => {
    advance(k);
    return lrs[k];
  };
  return {
    type: doc.type,
    interval: doc.interval,
    lrAt,
    momentumAt(k: number): number | undefined {
      advance(k);
      return moms[k];
    },
    lrFor(epoch: number, batch: number, stepsPerEpoch: number): number {
      return lrAt(doc.interval === 'epoch' ? epoch : epoch * stepsPerEpoch + batch);
    },
  };
}

export interface RunShape {
  epochs: number;
  stepsPerEpoch: number;
  /** the optimizer type (torch's class name, an OPTIMIZERS key), to check OneCycleLR's cycle_momentum */
  optimizer?: string;
}

/**
 * Checks a scheduler against the run it will drive. Throws NL_INVALID_ARGUMENT (every problem
 * listed, with a hint) for what torch would refuse mid-run: OneCycleLR with fewer total_steps than
 * the scheduler steps it will receive, cycle_momentum on an optimizer without momentum. Returns
 * the parsed document and warnings for legal but probably unintended set-ups (milestones after the
 * end of the run, a cosine that restarts rising, a one-cycle that never finishes).
 */
export function validateScheduler(s: unknown, run: RunShape): { scheduler: SchedulerDoc; warnings: string[] } {
  let doc = parseScheduler(s);
  if (!Number.isInteger(run.epochs) || run.epochs < 1 || !Number.isInteger(run.stepsPerEpoch) || run.stepsPerEpoch < 1)
    throw new NetloomError('NL_INVALID_ARGUMENT', `run of ${run.epochs} epochs x ${run.stepsPerEpoch} steps is not valid`, 'Use at least 1 epoch and 1 batch per epoch.');
  const unit = doc.interval === 'epoch' ? 'epochs' : 'optimizer steps';
  // scheduler.step() runs once after every epoch (or batch), the last one included
  const n = doc.interval === 'epoch' ? run.epochs : run.epochs * run.stepsPerEpoch;
  const runText = doc.interval === 'epoch' ? `${n} epochs` : `${n} optimizer steps (${run.epochs} epochs x ${run.stepsPerEpoch} batches)`;
  const errors: { message: string; hint: string }[] = [];
  const warnings: string[] = [];

  // [child, first top-level index it is active at, last top-level index it is active at]
  const spans: [ChildDoc, number, number][] = [];
  if (doc.type === 'SequentialLR') {
    const seq = doc;
    seq.schedulers.forEach((c, i) => {
      const start = i === 0 ? 0 : seq.milestones[i - 1];
      const end = i < seq.milestones.length ? seq.milestones[i] - 1 : Infinity;
      spans.push([c, start, Math.min(end, n)]);
    });
    const late = seq.milestones.filter((m) => m > n);
    if (late.length)
      warnings.push(`SequentialLR milestones ${late.join(', ')} come after the run ends (${runText}): the schedulers after them never run`);
  } else {
    spans.push([doc, 0, n]);
  }

  // Resolve total_steps "auto" to the steps each OneCycleLR actually receives.
  const resolve = (c: ChildDoc, start: number, end: number): ChildDoc =>
    c.type === 'OneCycleLR' && c.total_steps === 'auto' ? { ...c, total_steps: Math.max(end - start, 1) } : c;
  spans.forEach((sp, i) => (spans[i] = [resolve(sp[0], sp[1], sp[2]), sp[1], sp[2]]));
  if (doc.type === 'SequentialLR') doc = { ...doc, schedulers: spans.map((sp) => sp[0]) };
  else if (doc.type === 'OneCycleLR') doc = { ...doc, total_steps: (spans[0][0] as typeof doc).total_steps };

  for (const [c, start, end] of spans) {
    if (end < start) continue;
    const local = end - start;   // the child's own last_epoch at the end of the run
    const where = doc.type === 'SequentialLR' ? `SequentialLR child ${c.type} (from ${start})` : c.type;
    if (c.type === 'OneCycleLR') {
      const total = c.total_steps as number;
      if (local > total)
        errors.push({
          message: `${where}: total_steps ${total} is smaller than the ${local} scheduler steps it receives in ${runText}; torch stops with "Tried to step ${total + 2} times"`,
          hint: `Set total_steps to ${local} or "auto"${doc.interval === 'epoch' ? ', or use interval "step"' : ''}.`,
        });
      else if (local < total - 1)
        warnings.push(`${where}: total_steps ${total} is more than the run uses (${local}); the cycle ends early at a higher lr`);
      const T = total;
      if (c.pct_start * T === 1 || (!c.three_phase && c.pct_start === 1))
        errors.push({ message: `${where}: pct_start ${c.pct_start} x total_steps ${T} leaves a phase of zero length (torch divides by zero)`, hint: 'Change pct_start slightly.' });
      if (c.cycle_momentum && run.optimizer !== undefined && !(isOptimizerType(run.optimizer) && OPTIMIZERS[run.optimizer].cycledMomentum !== null))
        errors.push({ message: `${where}: cycle_momentum needs an optimizer with momentum or betas, but the optimizer is ${run.optimizer}`, hint: 'Set cycle_momentum to false.' });
    }
    if (c.type === 'CosineAnnealingLR' && local > c.T_max)
      warnings.push(`${where}: T_max ${c.T_max} is shorter than the ${local} ${unit} it runs; past T_max torch's cosine rises again`);
    if (c.type === 'MultiStepLR') {
      const late = c.milestones.filter((m) => m > local);
      if (late.length) warnings.push(`${where}: milestones ${late.join(', ')} are never reached in ${runText}`);
    }
  }

  if (errors.length)
    throw new NetloomError('NL_INVALID_ARGUMENT', errors.map((e) => e.message).join('\n'), errors.map((e) => e.hint).join(' '));
  return { scheduler: doc, warnings };
}
