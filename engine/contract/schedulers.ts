/**
 * The learning-rate schedulers a project may use, declared once: torch.optim.lr_scheduler's class
 * names, their keyword arguments (snake_case, PyTorch 1.13's defaults, Netloom's bounds) and
 * `interval` (whether scheduler.step() runs after every epoch or after every optimizer step). The
 * project file's training.scheduler (graph/document.ts), the renderer's scheduler forms and the
 * replay of torch's lr sequence (engine/train/schedules.ts, which holds the maths) all use them.
 *
 * Adding a scheduler: its branch here (and in ChildSchema if a SequentialLR may chain it), its
 * DEFAULT_INTERVAL and SCHEDULER_PRIMARY entries, and its class in engine/train/schedules.ts.
 * Zod only, no Node imports: the renderer bundles this.
 */
import { z } from 'zod';
import { setting } from './settings.js';

const Interval = z.enum(['epoch', 'step']);
type Interval = z.infer<typeof Interval>;

/** When each scheduler steps unless the project says: torch's examples step OneCycleLR every batch, the rest every epoch. */
export const DEFAULT_INTERVAL = {
  StepLR: 'epoch',
  MultiStepLR: 'epoch',
  ExponentialLR: 'epoch',
  CosineAnnealingLR: 'epoch',
  OneCycleLR: 'step',
  LinearLR: 'epoch',
  SequentialLR: 'epoch',
} as const satisfies Record<string, Interval>;
const PositiveInt = z.number().int().positive();
const Positive = z.number().finite().positive();

/** Strictly increasing positive integers; the message says how to fix the order. */
function milestoneList(what: string) {
  return z.array(PositiveInt).superRefine((ms, ctx) => {
    for (let i = 1; i < ms.length; i++) {
      if (ms[i] <= ms[i - 1]) {
        const fixed = [...new Set(ms)].sort((a, b) => a - b);
        ctx.addIssue({
          code: 'custom',
          message: `${what} must be strictly increasing, but ${ms[i]} follows ${ms[i - 1]}: list them in ascending order without repeats, e.g. [${fixed.join(', ')}]`,
        });
        return;
      }
    }
  });
}

const stepFields = {
  step_size: PositiveInt,
  gamma: Positive.default(0.1),
};
const multiStepFields = {
  milestones: milestoneList('milestones'),
  gamma: Positive.default(0.1),
};
const exponentialFields = {
  gamma: Positive,
};
const cosineFields = {
  T_max: PositiveInt,
  eta_min: setting('eta_min').default(0),
};
const oneCycleFields = {
  max_lr: setting('max_lr'),
  // "auto": the number of scheduler steps in the run (epochs x batches per epoch for interval
  // "step"), resolved by validateScheduler, so changing --epochs does not break the cycle
  total_steps: z.union([PositiveInt, z.literal('auto')]).default('auto'),
  pct_start: z.number().min(0).max(1).default(0.3),
  anneal_strategy: z.enum(['cos', 'linear']).default('cos'),
  div_factor: Positive.default(25),
  final_div_factor: Positive.default(1e4),
  three_phase: z.boolean().default(false),
  // torch's OneCycleLR cycles the optimizer's momentum (or Adam's beta1) by default
  cycle_momentum: z.boolean().default(true),
  base_momentum: z.number().finite().min(0).max(1).default(0.85),
  max_momentum: z.number().finite().min(0).max(1).default(0.95),
};
const linearFields = {
  // torch 1.13 accepts start_factor = 0 but then divides by zero at the first step
  start_factor: z.number().gt(0, 'start_factor must be greater than 0 (torch divides by it)').max(1).default(1 / 3),
  end_factor: z.number().min(0).max(1).default(1),
  total_iters: PositiveInt.default(5),
};

/** The schedulers a SequentialLR may chain (no nesting; `interval` belongs to the outer one). */
const ChildSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('StepLR'), ...stepFields }).strict(),
  z.object({ type: z.literal('MultiStepLR'), ...multiStepFields }).strict(),
  z.object({ type: z.literal('ExponentialLR'), ...exponentialFields }).strict(),
  z.object({ type: z.literal('CosineAnnealingLR'), ...cosineFields }).strict(),
  z.object({ type: z.literal('OneCycleLR'), ...oneCycleFields }).strict(),
  z.object({ type: z.literal('LinearLR'), ...linearFields }).strict(),
]);

export const SchedulerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('StepLR'), ...stepFields, interval: Interval.default(DEFAULT_INTERVAL.StepLR) }).strict(),
  z.object({ type: z.literal('MultiStepLR'), ...multiStepFields, interval: Interval.default(DEFAULT_INTERVAL.MultiStepLR) }).strict(),
  z.object({ type: z.literal('ExponentialLR'), ...exponentialFields, interval: Interval.default(DEFAULT_INTERVAL.ExponentialLR) }).strict(),
  z.object({ type: z.literal('CosineAnnealingLR'), ...cosineFields, interval: Interval.default(DEFAULT_INTERVAL.CosineAnnealingLR) }).strict(),
  z.object({ type: z.literal('OneCycleLR'), ...oneCycleFields, interval: Interval.default(DEFAULT_INTERVAL.OneCycleLR) }).strict(),
  z.object({ type: z.literal('LinearLR'), ...linearFields, interval: Interval.default(DEFAULT_INTERVAL.LinearLR) }).strict(),
  z
    .object({
      type: z.literal('SequentialLR'),
      schedulers: z.array(ChildSchema).min(1),
      milestones: milestoneList('milestones'),
      interval: Interval.default(DEFAULT_INTERVAL.SequentialLR),
    })
    .strict()
    .superRefine((s, ctx) => {
      if (s.milestones.length !== s.schedulers.length - 1)
        ctx.addIssue({
          code: 'custom',
          path: ['milestones'],
          message: `SequentialLR needs one milestone fewer than schedulers: ${s.schedulers.length} scheduler(s) take ${s.schedulers.length - 1} milestone(s), got ${s.milestones.length}`,
        });
    }),
]);

/** A scheduler document with every default filled in (SchedulerSchema's output). */
export type SchedulerDoc = z.output<typeof SchedulerSchema>;
/** What a project file may hold (defaults optional). */
export type SchedulerInput = z.input<typeof SchedulerSchema>;
export type ChildDoc = z.output<typeof ChildSchema>;

/** The parameters each scheduler's form shows first; the rest sit behind "more". */
export const SCHEDULER_PRIMARY: Readonly<Record<keyof typeof DEFAULT_INTERVAL, readonly string[]>> = {
  StepLR: ['step_size', 'gamma'],
  MultiStepLR: ['milestones', 'gamma'],
  ExponentialLR: ['gamma'],
  CosineAnnealingLR: ['T_max', 'eta_min'],
  OneCycleLR: ['max_lr', 'total_steps'],
  LinearLR: ['start_factor', 'end_factor', 'total_iters'],
  SequentialLR: ['schedulers', 'milestones'],
};
