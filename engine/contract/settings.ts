/**
 * The numbers a user sets for a training run, declared once: the range of each and the words that
 * say so. The project file's training section (graph/document.ts), the optimizers (optimizers.ts),
 * the schedulers' learning rates (schedulers.ts), the API's run overrides and resume edits (api.ts), the CLI's
 * flags (host/cli.ts) and the renderer's forms (trainingSchema's JSON Schema carries the bounds as
 * minimum / maximum) all take them from here. A value out of range is refused where it is entered,
 * naming the setting:
 *
 *   Learning rate (lr) must be a positive number no larger than 100 (got 1e308)
 *
 * instead of reaching the native runtime as "instruction 12 (sgd_step): a hyper-parameter is not a
 * finite number". Zod only, no Node imports: the renderer bundles this (it is part of the contract).
 *
 * Why upper bounds at all (PyTorch takes any float): the engine computes in float32, so anything
 * above FLOAT32_MAX (3.4e38) is infinity there; and far below that, a value stops being a setting
 * and becomes a divergence: one SGD step moves each weight by lr x its gradient. Each bound is
 * generous, about 3x or more the largest value a published recipe uses, and named with its
 * reason below, so that a typo (1e3 for 1e-3) is caught at once while no real recipe is refused.
 */
import { z } from 'zod';

/** The largest finite float32: the engine's kernels compute in float32, where anything larger is infinity. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The largest learning rate Netloom trains with. The largest in published recipes is 30 (AWD-LSTM's
 * SGD, with gradient clipping); above 100 one step moves a weight by over 100x its gradient, which
 * sends any model here to an infinite loss within a few batches.
 */
export const LR_MAX = 100;

/** The largest batch the native runtime runs (native/core/program.cpp MAX_BATCH). */
export const MAX_BATCH = 1 << 20;

export interface SettingRange {
  /** the setting in words, for messages: "Learning rate" */
  readonly label: string;
  /** its name as the user writes it (project key, API field); default: the table's key */
  readonly key?: string;
  readonly min: number;
  /** min itself is refused: "a positive number" */
  readonly minExclusive?: boolean;
  readonly max: number;
  /** max itself is refused: betas "below 1" */
  readonly maxExclusive?: boolean;
  readonly integer?: boolean;
  /** typical values, for the hint of an error raised outside a schema (CLI, prepareJob) */
  readonly typical: string;
}

/** Every bounded training number. Optimizer keys are torch's; the run's own are the project file's. */
export const SETTINGS = {
  // -- the optimizer (torch.optim names) ---------------------------------------------------------
  lr: { label: 'Learning rate', min: 0, minExclusive: true, max: LR_MAX, typical: 'Typical values are 1e-4 to 0.1 (Adam: 1e-3; SGD: 0.01 to 0.1).' },
  // above 1 the velocity grows geometrically (momentum^t): the update explodes whatever the lr
  momentum: { label: 'Momentum', min: 0, max: 1, typical: 'Typical values are 0 (off) or 0.9.' },
  // outside [0, 1] the gradient's share (1 - dampening) is negative (gradient ascent) or amplified
  dampening: { label: 'Dampening', min: 0, max: 1, typical: 'torch uses 0.' },
  // grokking experiments use AdamW's weight_decay = 1; each step scales a weight by 1 - lr x weight_decay
  weight_decay: { label: 'Weight decay', min: 0, max: 10, typical: 'Typical values are 0 to 0.1 (AdamW: 0.01).' },
  beta1: { label: "Adam's first beta", key: 'betas[0]', min: 0, max: 1, maxExclusive: true, typical: 'torch uses 0.9.' },
  beta2: { label: "Adam's second beta", key: 'betas[1]', min: 0, max: 1, maxExclusive: true, typical: 'torch uses 0.999.' },
  // added to a square root before dividing: below 1e-30 it is 0 in float32 (a division by zero when a
  // gradient is 0); TensorFlow's Inception recipe uses 1.0, the largest in common use
  eps: { label: 'Epsilon', key: 'eps', min: 1e-30, max: 10, typical: 'Typical values are 1e-8 (Adam) to 1e-10 (Adagrad).' },
  alpha: { label: "RMSprop's smoothing constant", key: 'alpha', min: 0, max: 1, typical: 'torch uses 0.99.' },
  // Adagrad divides the lr by 1 + (step - 1) x lr_decay: at 10 the lr is a tenth after one step
  lr_decay: { label: "Adagrad's learning-rate decay", key: 'lr_decay', min: 0, max: 10, typical: 'torch uses 0.' },
  // the running sum of squared gradients starts here; lr / sqrt(1e6) = lr / 1000 for the first steps
  initial_accumulator_value: { label: "Adagrad's initial accumulator", key: 'initial_accumulator_value', min: 0, max: 1e6, typical: 'torch uses 0 (Keras 0.1).' },

  // -- learning-rate schedulers ------------------------------------------------------------------
  max_lr: { label: 'Peak learning rate', min: 0, minExclusive: true, max: LR_MAX, typical: 'Typical values are 1e-3 to 1.' },
  eta_min: { label: 'Minimum learning rate', min: 0, max: LR_MAX, typical: 'torch uses 0.' },

  // -- the run -----------------------------------------------------------------------------------
  // a day's training of the smallest model at 100,000 epochs is already more than anyone waits for
  epochs: { label: 'Epochs', min: 1, max: 100_000, integer: true, typical: 'Typical values are 5 to 100.' },
  batch_size: { label: 'Batch size', min: 1, max: MAX_BATCH, integer: true, typical: 'Typical values are 32 to 512.' },
  // the shuffles and initialisers draw from a seed held exactly as a double
  seed: { label: 'Random seed', min: 0, max: Number.MAX_SAFE_INTEGER, integer: true, typical: 'Any whole number, e.g. 0: the same seed repeats the same run.' },
  // a gradient norm above 1e6 means the run has diverged already: a larger max_norm never clips
  clip_grad_norm: { label: 'Gradient clipping (max_norm)', key: 'clip_grad_norm', min: 0, minExclusive: true, max: 1e6, typical: 'Typical values are 0.25 to 5 (1.0 is common).' },
  limit: { label: 'Sample limit', key: 'limit', min: 1, max: Number.MAX_SAFE_INTEGER, integer: true, typical: 'E.g. 2000 for a quick run.' },
  // each thread is a native thread of the run's pool; more threads than cores only slow an epoch down
  threads: { label: 'CPU threads', key: 'threads', min: 1, max: 1024, integer: true, typical: 'Leave it out to use every core.' },
  eventIntervalMs: { label: 'Event interval', key: 'eventIntervalMs', min: 0, max: 60_000, typical: '100 ms is ten events a second.' },
} as const satisfies Record<string, SettingRange>;

export type SettingName = keyof typeof SETTINGS;

/**
 * Where a run trains (training.device, --device): 'auto' = the first CUDA GPU when the probe finds
 * one, else the CPU; 'cpu'; 'cuda' = cuda:0; 'cuda:N' = the N-th GPU as `netloom devices` numbers them.
 * A string with a pattern rather than an enum, so that every GPU index is a value and the projects
 * written before GPUs ('auto' | 'cpu' | 'cuda') read as they did.
 */
export const DEVICE_PATTERN = /^(auto|cpu|cuda(:(0|[1-9][0-9]{0,3}))?)$/;
export type DeviceSetting = 'auto' | 'cpu' | 'cuda' | `cuda:${number}`;
export const DEVICE_HINT = 'Use auto (a GPU when one is found, else the CPU), cpu, cuda (the first GPU) or cuda:N (`netloom devices` lists them).';

/** What a device setting asks for: the CPU, a CUDA device by index, or auto. */
export type DeviceChoice = { kind: 'auto' } | { kind: 'cpu' } | { kind: 'cuda'; index: number };

/** Why `value` is not a device setting, or undefined when it is. */
export function deviceProblem(value: unknown): string | undefined {
  return typeof value === 'string' && DEVICE_PATTERN.test(value) ? undefined : `Device (device) must be auto, cpu, cuda or cuda:N (got ${shown(value)})`;
}

/** A device setting as a choice ('cuda' is cuda:0); undefined when it is not one (deviceProblem says why). */
export function parseDevice(value: string): DeviceChoice | undefined {
  if (!DEVICE_PATTERN.test(value)) return undefined;
  if (value === 'auto' || value === 'cpu') return { kind: value };
  return { kind: 'cuda', index: value === 'cuda' ? 0 : Number(value.slice(5)) };
}

/** The zod schema of a device setting: the pattern, and one message naming the setting and the value. */
export function deviceSetting() {
  const error = (iss: { input?: unknown }) => deviceProblem(iss.input);
  return z.string({ error }).regex(DEVICE_PATTERN, { error });
}

/**
 * The run's settings when a project leaves them out: the PyTorch quickstart's DataLoader(batch_size=64)
 * and 5 epochs, no shuffling, no clipping, a constant lr. The project schema (graph/document.ts) and
 * the renderer's training panel both read them from here; the dataset's and the optimizer's are
 * DEFAULT_DATASET (datasets.ts) and DEFAULT_OPTIMIZER (optimizers.ts).
 */
export const RUN_DEFAULTS = {
  batch_size: 64,
  shuffle: false,
  drop_last: false,
  epochs: 5,
  seed: 0,
  clip_grad_norm: null,
  scheduler: null,
  device: 'auto',
  // PyTorch's torch.backends.cuda.matmul.allow_tf32 / cudnn.allow_tf32: TF32 tensor cores for matmul and conv
  allow_tf32: true,
} as const satisfies { device: DeviceSetting } & Record<string, unknown>;

/** A number as a user would type it: 1e308, 0.001, 100000 (no "e+", no grouping that reads as two numbers). */
function shown(v: unknown): string {
  if (typeof v === 'number') return String(v).replace('e+', 'e');
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** A bound in a message: whole numbers grouped (1,048,576), others as typed (1e-30, 0.5). */
function bound(v: number): string {
  return Number.isInteger(v) && Math.abs(v) >= 10_000 ? v.toLocaleString('en-US') : shown(v);
}

/** "a positive number no larger than 100", "a whole number from 1 to 100,000", "a number of at least 0 and below 1". */
export function rangeText(r: SettingRange): string {
  const kind = r.integer ? 'whole number' : 'number';
  if (r.minExclusive && r.min === 0) return `a positive ${kind} ${r.maxExclusive ? 'below' : 'no larger than'} ${bound(r.max)}`;
  if (!r.minExclusive && !r.maxExclusive) return `a ${kind} from ${bound(r.min)} to ${bound(r.max)}`;
  return `a ${kind} ${r.minExclusive ? 'above' : 'of at least'} ${bound(r.min)} and ${r.maxExclusive ? 'below' : 'at most'} ${bound(r.max)}`;
}

function nameOf(name: SettingName): string {
  const r: SettingRange = SETTINGS[name];
  const key = r.key ?? name;
  return r.label.toLowerCase() === key.toLowerCase() ? key : `${r.label} (${key})`;
}

/** The message for a value outside `name`'s range: "Learning rate (lr) must be a positive number no larger than 100 (got 1e308)". */
export function settingMessage(name: SettingName, value: unknown): string {
  return `${nameOf(name)} must be ${rangeText(SETTINGS[name])} (got ${shown(value)})`;
}

/** Why `value` is not a valid `name`, or undefined when it is. */
export function settingProblem(name: SettingName, value: unknown): string | undefined {
  const r: SettingRange = SETTINGS[name];
  const ok =
    typeof value === 'number' && Number.isFinite(value) && (!r.integer || Number.isInteger(value)) &&
    (r.minExclusive ? value > r.min : value >= r.min) && (r.maxExclusive ? value < r.max : value <= r.max);
  return ok ? undefined : settingMessage(name, value);
}

/** The hint that goes with a refused `name`: its typical values. */
export function settingHint(name: SettingName): string {
  return SETTINGS[name].typical;
}

/**
 * The zod schema of `name`: its bounds (which toJSONSchema writes as minimum / maximum for the
 * renderer's forms) and, whatever the failure (not a number, out of range, not whole), one message
 * naming the setting, its range and the value given.
 */
export function setting(name: SettingName) {
  const r: SettingRange = SETTINGS[name];
  const error = (iss: { input?: unknown }) => settingMessage(name, iss.input);
  let s = z.number({ error });
  if (r.integer) s = s.int({ error });
  s = r.minExclusive ? s.gt(r.min, { error }) : s.min(r.min, { error });
  s = r.maxExclusive ? s.lt(r.max, { error }) : s.max(r.max, { error });
  return s;
}
