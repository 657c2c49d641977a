/**
 * Pure training-panel logic (no React, no store): the effective settings (the panel's edits over
 * the project's training section) and the startRun request they make.
 */
import type { ProjectDto, RunOverridesDto } from '../../engine/host/api';

export const DATASETS = ['fashion-mnist', 'mnist', 'kmnist', 'cifar10'] as const;
export const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** the project file's optimizer type (torch's class name) for each override name */
export const OPTIMIZER_TYPES: Record<OptimizerName, string> = { sgd: 'SGD', adam: 'Adam', adamw: 'AdamW', rmsprop: 'RMSprop', adagrad: 'Adagrad' };
/** torch's default lr per optimizer (the project schema's defaults) */
const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 1e-3, adam: 1e-3, adamw: 1e-3, rmsprop: 1e-2, adagrad: 1e-2 };

export interface EditedSettings {
  dataset: string | null;
  epochs: number | null;
  batchSize: number | null;
  optimizer: string | null;
  lr: number | null;
  limitTrain: number | null;
}

export interface EffectiveSettings {
  dataset: string;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number;
  limitTrain: number | null;
}

function optimizerName(type: unknown): OptimizerName {
  const t = typeof type === 'string' ? type.toLowerCase() : '';
  return (OPTIMIZERS as readonly string[]).includes(t) ? (t as OptimizerName) : 'sgd';
}

const posInt = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null);

/** The panel's values: each edit, else the project's training section, else its schema default. */
export function effectiveSettings(training: Record<string, unknown> | undefined, edits: EditedSettings): EffectiveSettings {
  const t = training ?? {};
  const opt = (t.optimizer && typeof t.optimizer === 'object' ? t.optimizer : {}) as Record<string, unknown>;
  const projectOptimizer = optimizerName(opt.type);
  const optimizer = edits.optimizer !== null ? optimizerName(edits.optimizer) : projectOptimizer;
  const projectLr = typeof opt.lr === 'number' && opt.lr > 0 ? opt.lr : DEFAULT_LR[projectOptimizer];
  const lr = edits.lr ?? (optimizer === projectOptimizer ? projectLr : DEFAULT_LR[optimizer]);
  const dataset = edits.dataset ?? (typeof t.dataset === 'string' && (DATASETS as readonly string[]).includes(t.dataset) ? t.dataset : 'fashion-mnist');
  return {
    dataset,
    epochs: edits.epochs ?? posInt(t.epochs) ?? 5,
    batchSize: edits.batchSize ?? posInt(t.batch_size) ?? 64,
    optimizer,
    lr,
    limitTrain: edits.limitTrain,
  };
}

/**
 * startRun's params: the project with the chosen dataset in its training section (the run
 * overrides take mnist / fashion-mnist only; the project takes all four), and the rest as overrides.
 */
export function runRequest(project: ProjectDto, s: EffectiveSettings, eventIntervalMs = 50): { project: ProjectDto; overrides: RunOverridesDto } {
  const training = { ...(project.training ?? {}), dataset: s.dataset };
  const overrides: RunOverridesDto = { epochs: s.epochs, batchSize: s.batchSize, optimizer: s.optimizer, lr: s.lr, eventIntervalMs };
  if (s.limitTrain !== null) overrides.limitTrain = s.limitTrain;
  return { project: { ...project, training }, overrides };
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

/** Class names by dataset, for when no evaluation has told us (index order). */
export const DATASET_CLASSES: Record<string, string[]> = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  kmnist: ['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo'],
  cifar10: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
};

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
