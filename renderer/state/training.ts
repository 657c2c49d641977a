/**
 * Pure training-panel logic (no React, no store). The settings live in the project's `training`
 * section (engine/graph/document.ts TrainingSchema): these functions read it with the schema's
 * defaults, edit it immutably (each edit becomes one undoable setTraining change), and derive what
 * the panel shows and sends: the run request (only run-only options are overrides), the optimizer
 * values that may change on resume, the Input shape a dataset implies, and the losses that fit.
 */
import { HyperDto, type IssueDto, type LayerDto, type ProjectDto, type RunOverridesDto, type TrainingIssueDto } from '../../engine/contract/api';
import { BUILTIN_DATASETS, DEFAULT_DATASET, isBuiltinDataset, type BuiltinDatasetName } from '../../engine/contract/datasets';
import { DEFAULT_OPTIMIZER, OPTIMIZERS, isOptimizerType, optimizerDefaults, type OptimizerFlag } from '../../engine/contract/optimizers';
import { RUN_DEFAULTS } from '../../engine/contract/settings';
import { sameJson } from './sameJson';

/** torch's lr for an optimizer type the project names (the schema's default), SGD's for an unknown one. */
function defaultLr(type: string): number {
  return optimizerDefaults(isOptimizerType(type) ? type : DEFAULT_OPTIMIZER).lr as number;
}

/** The training section's value at a path (e.g. ['optimizer', 'betas']). */
export type TrainingPath = readonly (string | number)[];
export type Training = Record<string, unknown>;

/** TrainingSchema's defaults, for what the project leaves out. */
export const TRAINING_DEFAULTS = {
  dataset: DEFAULT_DATASET,
  ...RUN_DEFAULTS,
  optimizer: { type: DEFAULT_OPTIMIZER },
} as const;

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The value at `path`, or the schema default for a top-level key the project leaves out. */
export function valueAt(training: Training | undefined, path: TrainingPath): unknown {
  let v: unknown = training ?? {};
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  if (v === undefined && path.length === 1) return (TRAINING_DEFAULTS as Record<string, unknown>)[path[0] as string];
  return v;
}

/** A copy of the training section with `path` set to `value` (undefined removes the key: the default applies). */
export function withValue(training: Training | undefined, path: TrainingPath, value: unknown): Training {
  const set = (cur: unknown, i: number): unknown => {
    const k = path[i];
    if (Array.isArray(cur) && typeof k === 'number') {
      const out = [...cur];
      out[k] = i === path.length - 1 ? value : set(cur[k], i + 1);
      return out;
    }
    const out: Record<string | number, unknown> = { ...obj(cur) };
    const next = i === path.length - 1 ? value : set(out[k], i + 1);
    if (next === undefined) delete out[k];
    else out[k] = next;
    return out;
  };
  return set(training ?? {}, 0) as Training;
}

/** The optimizer as the project has it, with its type (SGD when absent). */
export function optimizerOf(training: Training | undefined): Record<string, unknown> & { type: string } {
  const o = obj(training?.optimizer);
  return { ...o, type: typeof o.type === 'string' ? o.type : DEFAULT_OPTIMIZER };
}

/** A new optimizer type: torch's defaults for everything (as a type change in PyTorch code would mean). */
export function withOptimizerType(training: Training | undefined, type: string): Training {
  return withValue(training, ['optimizer'], { type });
}

/** Values a new scheduler starts with for its required parameters (torch has no defaults for these). */
export function schedulerStart(type: string, training: Training | undefined): Record<string, unknown> {
  const epochs = Number(valueAt(training, ['epochs'])) || 5;
  const lr = Number(optimizerOf(training).lr) || defaultLr(optimizerOf(training).type);
  switch (type) {
    case 'StepLR':
      return { type, step_size: Math.max(1, Math.floor(epochs / 3)) };
    case 'MultiStepLR':
      return { type, milestones: epochs > 2 ? [Math.floor(epochs / 2), Math.floor((epochs * 3) / 4) || 1].filter((m, i, a) => i === 0 || m > a[i - 1]) : [1] };
    case 'ExponentialLR':
      return { type, gamma: 0.9 };
    case 'CosineAnnealingLR':
      return { type, T_max: epochs };
    case 'OneCycleLR':
      return { type, max_lr: Number((lr * 10).toPrecision(6)) };
    case 'SequentialLR':
      return { type, schedulers: [{ type: 'LinearLR', start_factor: 0.1, total_iters: 1 }, { type: 'CosineAnnealingLR', T_max: Math.max(1, epochs - 1) }], milestones: [1] };
    default:
      return { type };
  }
}

/** Sets the scheduler (null: constant lr); a new type starts from schedulerStart. */
export function withSchedulerType(training: Training | undefined, type: string | null): Training {
  return withValue(training, ['scheduler'], type === null ? null : schedulerStart(type, training));
}

// ---- the run's settings ---------------------------------------------------------------------------

/** Run-only settings kept by the panel (not in the project). */
export interface EditedSettings {
  /** overrides.limitTrain; null = the whole training split */
  limitTrain: number | null;
}

/** What a run was started with (kept in the project's run records, shown in labels). */
export interface EffectiveSettings {
  /** a built-in's name, or a short label of a dataset description ("image folder photos") */
  dataset: string;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerFlag;
  lr: number;
  limitTrain: number | null;
}

const posInt = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null);

/** A short label of training.dataset: the built-in's name, or the kind and the file or folder name. */
export function datasetLabel(dataset: unknown): string {
  if (typeof dataset === 'string') return dataset;
  const d = obj(dataset);
  const base = (p: unknown) => (typeof p === 'string' ? p.split(/[\\/]/).filter(Boolean).pop() ?? p : '?');
  if (d.type === 'torchvision') return `${String(d.name)} (folder${typeof d.root === 'string' ? ` ${base(d.root)}` : ''})`;
  if (d.type === 'image-folder') return `image folder ${base(d.path)}`;
  if (d.type === 'csv') return `CSV ${base(d.path)}`;
  return DEFAULT_DATASET;
}

/** The settings of a run of this training section (limitTrain from the panel). */
export function effectiveSettings(training: Training | undefined, edits: EditedSettings): EffectiveSettings {
  const opt = optimizerOf(training);
  const name = OPTIMIZERS[isOptimizerType(opt.type) ? opt.type : DEFAULT_OPTIMIZER].flag;
  return {
    dataset: datasetLabel(valueAt(training, ['dataset'])),
    epochs: posInt(valueAt(training, ['epochs'])) ?? TRAINING_DEFAULTS.epochs,
    batchSize: posInt(valueAt(training, ['batch_size'])) ?? TRAINING_DEFAULTS.batch_size,
    optimizer: name,
    lr: typeof opt.lr === 'number' && opt.lr > 0 ? opt.lr : defaultLr(opt.type),
    limitTrain: edits.limitTrain,
  };
}

/** startRun's params: the project as it is (its training section holds the settings) and the run-only overrides. */
export function runRequest(project: ProjectDto, edits: EditedSettings, eventIntervalMs = 50): { project: ProjectDto; overrides: RunOverridesDto } {
  const overrides: RunOverridesDto = { eventIntervalMs };
  if (edits.limitTrain !== null) overrides.limitTrain = edits.limitTrain;
  return { project, overrides };
}

// ---- resume: optimizer values that may change ------------------------------------------------------

/** HyperDto's fields (resumeRun can change these on a paused run). */
export const HYPER_FIELDS = HyperDto.keyof().options;
export type HyperField = (typeof HYPER_FIELDS)[number];
export const isHyperField = (name: string): name is HyperField => (HYPER_FIELDS as readonly string[]).includes(name);

/** The value an optimizer parameter has when the project leaves it out (torch's default), if it is a HyperDto field. */
export function optimizerDefault(type: string, name: string): unknown {
  return isHyperField(name) && isOptimizerType(type) ? optimizerDefaults(type)[name] : undefined;
}

/** The optimizer's resumable values in force (project values over the type's defaults). */
export function hyperOf(training: Training | undefined): HyperDto {
  const opt = optimizerOf(training);
  const out: Record<string, unknown> = {};
  for (const k of HYPER_FIELDS) {
    const v = opt[k] !== undefined ? opt[k] : optimizerDefault(opt.type, k);
    if (v !== undefined) out[k] = v;
  }
  return out as HyperDto;
}


/** The fields of `edited` that differ from `now` (what Resume sends), or null when none do. */
export function hyperDiff(now: HyperDto, edited: HyperDto): HyperDto | null {
  const out: Record<string, unknown> = {};
  for (const k of HYPER_FIELDS) if (edited[k] !== undefined && !sameJson(edited[k], now[k])) out[k] = edited[k];
  return Object.keys(out).length ? (out as HyperDto) : null;
}

// ---- the dataset and the Input shape --------------------------------------------------------------

/** One sample's shape that a dataset implies for the Input node, or null when it cannot be known here. */
export function datasetShape(dataset: unknown): number[] | null {
  if (isBuiltinDataset(dataset)) return [...BUILTIN_DATASETS[dataset].sampleShape];
  const d = obj(dataset);
  if (d.type === 'torchvision' && isBuiltinDataset(d.name)) return [...BUILTIN_DATASETS[d.name].sampleShape];
  if (d.type === 'image-folder' && Array.isArray(d.size) && d.size.length === 2) return [d.mode === 'rgb' ? 3 : 1, Number(d.size[0]), Number(d.size[1])];
  if (d.type === 'csv' && Array.isArray(d.features)) return [d.features.length];
  return null;
}

/** torchvision's title for a built-in, or the label for the others (toasts, the dataset select). */
export function datasetTitle(dataset: unknown): string {
  if (isBuiltinDataset(dataset)) return BUILTIN_DATASETS[dataset].title;
  const d = obj(dataset);
  if (d.type === 'torchvision' && isBuiltinDataset(d.name)) return `${BUILTIN_DATASETS[d.name].title} from a folder`;
  return datasetLabel(dataset);
}

/** training.dataset's kind: a built-in name, or the description's type. */
export function datasetKind(dataset: unknown): BuiltinDatasetName | 'torchvision' | 'image-folder' | 'csv' {
  if (isBuiltinDataset(dataset)) return dataset;
  const t = obj(dataset).type;
  return t === 'torchvision' || t === 'image-folder' || t === 'csv' ? t : DEFAULT_DATASET;
}

// ---- the loss ----------------------------------------------------------------------------------------

export interface LossChoice {
  type: string;
  enabled: boolean;
  /** why it does not fit (shown as the option's tooltip) */
  reason?: string;
}

/**
 * The catalog's losses and whether each fits this model: a loss whose `target` input is connected needs
 * a loss with a target port; a regression dataset (CSV) needs a point loss, not class scores.
 */
export function lossChoices(catalog: readonly LayerDto[], current: { type: string; targetConnected: boolean } | null, dataset: unknown): LossChoice[] {
  const regression = obj(dataset).type === 'csv' && obj(dataset).task === 'regression';
  return catalog
    .filter((l) => l.isLoss)
    .map((l): LossChoice => {
      const hasTarget = l.ports.includes('target');
      if (current?.targetConnected && !hasTarget) return { type: l.type, enabled: false, reason: `${l.type} compares with the dataset's labels and has no target input, but a target is connected to the loss` };
      if (regression && !hasTarget) return { type: l.type, enabled: false, reason: `${l.type} scores classes; a regression dataset needs MSELoss, L1Loss or SmoothL1Loss` };
      return { type: l.type, enabled: true };
    });
}

// ---- engine issues --------------------------------------------------------------------------------

/** The engine's issues by path ("optimizer.momentum"), joined when one path has several. */
export function issuesByPath(issues: readonly TrainingIssueDto[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of issues) {
    const key = i.path.join('.');
    out[key] = out[key] ? `${out[key]}; ${i.message}` : i.message;
  }
  return out;
}

/** Why a run cannot start with these settings (the first problem, where it is and what is wrong), or null. */
export function blockingReason(issues: readonly TrainingIssueDto[], local: Readonly<Record<string, string>>): string | null {
  // local messages already name their field ("momentum: must be at least 0")
  const first = Object.values(local)[0];
  if (first !== undefined) return `Cannot start: ${first}`;
  const i = issues[0];
  if (!i) return null;
  return `Cannot start: ${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`;
}

/**
 * Why the graph cannot train, or null: the engine refuses any graph its analysis finds a problem in
 * (NL_BAD_GRAPH), so the first problem, as the canvas shows it in red, says why Start is disabled.
 */
export function graphBlockingReason(issues: readonly Pick<IssueDto, 'message'>[] | undefined): string | null {
  const first = issues?.[0];
  return first ? `Cannot start: ${first.message}` : null;
}

/** "1m 05s" / "42s" */
export function fmtEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Decodes a sample's base64 uint8 pixels and lays them out as RGBA for a canvas. */
export function sampleToRgba(pixels: Uint8Array, shape: number[]): { width: number; height: number; rgba: Uint8ClampedArray<ArrayBuffer> } {
  let c = 1;
  let h: number;
  let w: number;
  let chw = true;
  if (shape.length === 3 && (shape[0] === 1 || shape[0] === 3)) [c, h, w] = shape;
  else if (shape.length === 3 && (shape[2] === 1 || shape[2] === 3)) {
    [h, w, c] = shape;
    chw = false;
  } else if (shape.length === 2) [h, w] = shape;
  else {
    h = Math.round(Math.sqrt(pixels.length));
    w = h ? Math.floor(pixels.length / h) : 0;
  }
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 4;
      for (let k = 0; k < 3; k++) {
        const ch = c === 3 ? k : 0;
        rgba[o + k] = pixels[chw ? ch * h * w + y * w + x : (y * w + x) * c + ch] ?? 0;
      }
      rgba[o + 3] = 255;
    }
  return { width: w, height: h, rgba };
}

/**
 * RGBA pixels -> uint8 grey (luma), MNIST-style: light ink on a dark background. A picture that is
 * mostly light (dark ink on paper) is inverted.
 */
export function rgbaToGrey(rgba: ArrayLike<number>, opts: { autoInvert?: boolean } = {}): number[] {
  const n = Math.floor(rgba.length / 4);
  const out = new Array<number>(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = rgba[i * 4 + 3] / 255;
    // transparent pixels count as background (black)
    const v = Math.round((0.299 * rgba[i * 4] + 0.587 * rgba[i * 4 + 1] + 0.114 * rgba[i * 4 + 2]) * a);
    out[i] = Math.max(0, Math.min(255, v));
    sum += out[i];
  }
  if (opts.autoInvert && n && sum / n > 127) for (let i = 0; i < n; i++) out[i] = 255 - out[i];
  return out;
}
