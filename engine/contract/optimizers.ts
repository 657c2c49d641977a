/**
 * The optimizers, declared once: torch.optim's class names, the CLI's names for them, their
 * hyper-parameters with PyTorch 1.13's defaults and Netloom's bounds (settings.ts), and what the
 * forms and the schedulers need to know about each. Everything else is derived from OPTIMIZERS:
 *
 *   OptimizerSchema     the project file's training.optimizer (graph/document.ts), resume edits
 *   OPTIMIZER_FLAGS     the CLI's --optimizer choices and help, the API's run override
 *   optimizerDefaults   torch's value of every parameter a project leaves out (the compile step,
 *                       the renderer's placeholders and its lr fallback)
 *   primary             the parameters each form shows first (trainingSchema's forms)
 *   cycledMomentum      what OneCycleLR's cycle_momentum drives (SGD momentum, Adam's beta1, ...)
 *
 * Adding an optimizer: an entry here, its step instruction in engine/compile/optim.ts and its
 * kernel in native/core. Zod only, no Node imports: the renderer bundles this.
 */
import { z } from 'zod';
import { setting } from './settings.js';

export interface OptimizerSpec {
  /** its name on the command line (`netloom train --optimizer adamw`) and in the API's run overrides */
  readonly flag: string;
  /** its keyword arguments, torch's names, each with torch's default (or optional: see unsetDefaults) */
  readonly params: z.ZodRawShape;
  /**
   * torch's value of a parameter the schema leaves optional: left out of a project, it stays out
   * of the parsed document (so switching Adam <-> AdamW does not carry the other's value) and the
   * compile step applies this.
   */
  readonly unsetDefaults?: Readonly<Record<string, number>>;
  /** the parameters every form shows first; the rest sit behind "more" */
  readonly primary: readonly string[];
  /** the momentum OneCycleLR's cycle_momentum drives: `momentum`, Adam's first beta, or none */
  readonly cycledMomentum: 'momentum' | 'beta1' | null;
}

const maximize = z.boolean().default(false);

/** Adam and AdamW take the same settings; they differ in how weight decay applies and in its default (unsetDefaults). */
const adamParams = {
  lr: setting('lr').default(1e-3),
  betas: z.tuple([setting('beta1'), setting('beta2')]).default([0.9, 0.999]),
  eps: setting('eps').default(1e-8),
  weight_decay: setting('weight_decay').optional(),
  amsgrad: z.boolean().default(false),
  maximize,
};

/** Every optimizer by torch's class name; this order is the one lists show. */
export const OPTIMIZERS = {
  SGD: {
    flag: 'sgd',
    params: {
      lr: setting('lr').default(1e-3),
      momentum: setting('momentum').default(0),
      dampening: setting('dampening').default(0),
      weight_decay: setting('weight_decay').default(0),
      nesterov: z.boolean().default(false),
      maximize,
    },
    primary: ['lr', 'momentum'],
    cycledMomentum: 'momentum',
  },
  Adam: {
    flag: 'adam',
    params: adamParams,
    unsetDefaults: { weight_decay: 0 },
    primary: ['lr', 'betas'],
    cycledMomentum: 'beta1',
  },
  AdamW: {
    flag: 'adamw',
    params: adamParams,
    unsetDefaults: { weight_decay: 0.01 },
    primary: ['lr', 'betas', 'weight_decay'],
    cycledMomentum: 'beta1',
  },
  RMSprop: {
    flag: 'rmsprop',
    params: {
      lr: setting('lr').default(1e-2),
      alpha: setting('alpha').default(0.99),
      eps: setting('eps').default(1e-8),
      weight_decay: setting('weight_decay').default(0),
      momentum: setting('momentum').default(0),
      centered: z.boolean().default(false),
      maximize,
    },
    primary: ['lr', 'alpha', 'momentum'],
    cycledMomentum: 'momentum',
  },
  Adagrad: {
    flag: 'adagrad',
    params: {
      lr: setting('lr').default(1e-2),
      lr_decay: setting('lr_decay').default(0),
      weight_decay: setting('weight_decay').default(0),
      initial_accumulator_value: setting('initial_accumulator_value').default(0),
      eps: setting('eps').default(1e-10),
      maximize,
    },
    primary: ['lr', 'lr_decay'],
    cycledMomentum: null,
  },
} as const satisfies Record<string, OptimizerSpec>;

/** torch's class name: 'SGD', 'Adam', ... */
export type OptimizerType = keyof typeof OPTIMIZERS;
export type OptimizerFlag = (typeof OPTIMIZERS)[OptimizerType]['flag'];

export const OPTIMIZER_TYPES = Object.keys(OPTIMIZERS) as [OptimizerType, ...OptimizerType[]];
/** The CLI's names, in list order: sgd, adam, adamw, rmsprop, adagrad. */
export const OPTIMIZER_FLAGS = OPTIMIZER_TYPES.map((t) => OPTIMIZERS[t].flag) as [OptimizerFlag, ...OptimizerFlag[]];

/** The optimizer a project without one trains with (the PyTorch quickstart's). */
export const DEFAULT_OPTIMIZER: OptimizerType = 'SGD';

export function isOptimizerType(v: unknown): v is OptimizerType {
  return typeof v === 'string' && Object.hasOwn(OPTIMIZERS, v);
}

/** The class name for a CLI name: 'adamw' -> 'AdamW'. */
export function optimizerTypeOf(flag: OptimizerFlag): OptimizerType {
  return OPTIMIZER_TYPES.find((t) => OPTIMIZERS[t].flag === flag)!;
}

type ParamsOf<K extends OptimizerType> = (typeof OPTIMIZERS)[K]['params'];
/** One optimizer's document schema: its `type` and its parameters. */
type ShapeOf<K extends OptimizerType> = { type: z.ZodLiteral<K> } & ParamsOf<K> extends infer S extends z.ZodRawShape ? S : never;
type Branch = { [K in OptimizerType]: z.ZodObject<ShapeOf<K>, z.core.$strip> }[OptimizerType];

// The cast: zod cannot type the spread of a table entry picked by a run-time key; Branch spells out
// what each key gives, so OptimizerDoc narrows on `type` as a hand-written union would.
function branch(type: OptimizerType): Branch {
  return z.object({ type: z.literal(type), ...OPTIMIZERS[type].params }) as unknown as Branch;
}

// Every number is bounded in settings.ts (declared once, for the API, the CLI and the renderer's
// forms too): a value out of range is refused where it is entered, by name.
export const OptimizerSchema = z.discriminatedUnion('type', OPTIMIZER_TYPES.map(branch) as [Branch, ...Branch[]]);
export type OptimizerDoc = z.output<typeof OptimizerSchema>;

/** The CLI's --optimizer and the API's run override: a CLI name. */
export const OptimizerFlagSchema = z.enum(OPTIMIZER_FLAGS);

/** Every parameter of `type` with the value torch uses when a project leaves it out (lr, betas, weight_decay, ...). */
export function optimizerDefaults(type: OptimizerType): Readonly<Record<string, unknown>> {
  return DEFAULTS[type];
}

// Frozen (betas included): every caller shares these objects.
const DEFAULTS = Object.fromEntries(
  OPTIMIZER_TYPES.map((t) => {
    const spec: OptimizerSpec = OPTIMIZERS[t];
    const filled: Record<string, unknown> = { ...OptimizerSchema.parse({ type: t }), ...spec.unsetDefaults };
    delete filled.type;
    for (const v of Object.values(filled)) if (Array.isArray(v)) Object.freeze(v);
    return [t, Object.freeze(filled)];
  }),
) as Record<OptimizerType, Readonly<Record<string, unknown>>>;

/** Whether `name` is a parameter of optimizer `type` (set or not). */
export function hasOptimizerParam(type: OptimizerType, name: string): boolean {
  return Object.hasOwn(OPTIMIZERS[type].params, name);
}
