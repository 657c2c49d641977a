/**
 * What a TrainingRun (run.ts) reports and takes: its states, throttled progress points, finished
 * epochs, hyper-parameter edits and the events that carry them. The service turns these into the
 * API's run.* events; `netloom train` prints them.
 */
import type { HyperDto } from '../contract/api.js';
import type { JobOptions } from './job.js';
import type { RegressionMetrics } from './metrics.js';

export type RunState = 'ready' | 'running' | 'paused' | 'stopped' | 'finished' | 'failed';

export interface RunError {
  code: string;
  message: string;
  hint?: string;
}

/** A throttled progress point (epoch 1-based; batch = batches done in the epoch). */
export interface RunProgress {
  epoch: number;
  batch: number;
  batches: number;
  samples: number;
  /** global optimizer step after this batch */
  step: number;
  loss: number;
  /** mean batch loss of the epoch so far */
  meanLoss: number;
  samplesPerSec: number;
  lr: number;
  /** seconds until the run ends at this speed (null until there is a speed to go by) */
  etaSeconds: number | null;
}

export interface RunEpoch {
  epoch: number;
  trainLoss: number;
  /** correct / samples over the epoch's training batches, measured before each batch's step (null for regression) */
  trainAccuracy: number | null;
  testLoss: number;
  /** null for regression */
  testAccuracy: number | null;
  /** MAE, RMSE and R^2 of the test pass, for models trained on a dataset's regression targets */
  testRegression?: RegressionMetrics;
  /** train + test seconds of this epoch (time spent paused excluded) */
  seconds: number;
  trainSeconds: number;
  testSeconds: number;
  /** samples the epoch trained on (fewer than the split with drop_last, or when it ended early) */
  trainSamples: number;
  samplesPerSec: number;
  /** lr of the epoch's last batch */
  lr: number;
  /** the epoch's training ended early (finishEarly: Ctrl-C in `netloom train`); its test pass ran in full */
  endedEarly: boolean;
}

/** A hyper-parameter edit made on resume: applies from `step` (epoch 1-based, batch = next batch). */
export interface HyperChange {
  step: number;
  epoch: number;
  batch: number;
  changes: Record<string, { from: unknown; to: unknown }>;
}

export type RunEvent =
  | ({ kind: 'progress' } & RunProgress)
  | ({ kind: 'epoch' } & RunEpoch)
  /** a part of an epoch begins (epoch 1-based): its training batches (from `batch`, 0 unless resumed) or its test pass */
  | { kind: 'phase'; epoch: number; phase: 'train' | 'test'; batch: number }
  | { kind: 'state'; state: RunState; error?: RunError };

/** Optimizer settings that may change between pauses (torch's names): the API's HyperDto, declared in the contract. */
export type HyperEdit = HyperDto;

export type RunOverrides = Omit<JobOptions, 'weights'> & {
  /** least time between progress events (default 100 ms; 0 = every batch) */
  eventIntervalMs?: number;
};

/**
 * What TrainingRun.create takes: the overrides, and for the command line the weights to start from
 * (loaded strictly while the job is prepared, as `--weights` always was). The app loads a checkpoint
 * with loadCheckpoint after create instead, once the service has checked the file's kind.
 */
export type RunCreateOptions = RunOverrides & { weights?: string };

/** Where training stands: epoch (0-based), next batch in it, and whether its train part is done. */
export interface Position {
  epoch: number;
  batch: number;
  phase: 'train' | 'test';
}
