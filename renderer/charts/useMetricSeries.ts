/**
 * Training metrics outside React and outside the store: run.progress arrives up to ~20 times a
 * second, so points are appended here (bounded buffers of {x, y}, oldest dropped in chunks) and
 * components read a snapshot through useMetricSeries, which re-renders at most every `intervalMs`
 * (200 ms: ~5 times a second) and only when something changed. Charts get `{x, y}` points ready
 * for chart.js with `parsing: false` and let its decimation plugin ('lttb') thin them for drawing.
 */
import { useEffect, useRef, useState } from 'react';
import type { EngineEvent } from '../../engine/contract/api';

export interface Point {
  x: number;
  y: number;
}

export type ProgressEvent = Extract<EngineEvent, { type: 'run.progress' }>;

/** Keeps at most `capacity` points; when full, drops the oldest tenth at once (amortised O(1) push). */
export class PointBuffer {
  readonly points: Point[] = [];
  constructor(readonly capacity = 100_000) {}
  push(x: number, y: number): void {
    if (!Number.isFinite(y)) return;
    this.points.push({ x, y });
    if (this.points.length > this.capacity) this.points.splice(0, this.points.length - Math.floor(this.capacity * 0.9));
  }
  clear(): void {
    this.points.length = 0;
  }
  get length(): number {
    return this.points.length;
  }
  /** a shallow copy: chart.js may keep (and decimate from) the array it is given */
  snapshot(): Point[] {
    return this.points.slice();
  }
}

/** Smoothing of the batch-loss curve (TensorBoard-style exponential moving average, debiased). */
export const EMA_ALPHA = 0.1;

class Metrics {
  version = 0;
  readonly batchLoss = new PointBuffer();
  readonly batchLossEma = new PointBuffer();
  readonly lr = new PointBuffer();
  /** training samples per second (the engine's running figure) by step */
  readonly throughput = new PointBuffer();
  readonly trainLoss = new PointBuffer(10_000);
  readonly testLoss = new PointBuffer(10_000);
  readonly testAccuracy = new PointBuffer(10_000);
  readonly trainAccuracy = new PointBuffer(10_000);
  progress: ProgressEvent | null = null;
  /** hyper-parameter changes made on resume: where (step axis) and what */
  changes: { x: number; label: string }[] = [];
  private ema = 0;
  private emaWeight = 0;
  private lastStep = -1;
  /** batches per epoch, to place epoch metrics on the step axis */
  batches = 0;

  reset(): void {
    for (const b of [this.batchLoss, this.batchLossEma, this.lr, this.throughput, this.trainLoss, this.testLoss, this.testAccuracy, this.trainAccuracy]) b.clear();
    this.progress = null;
    this.changes = [];
    this.ema = 0;
    this.emaWeight = 0;
    this.lastStep = -1;
    this.batches = 0;
    this.version++;
  }

  addProgress(p: ProgressEvent): void {
    this.progress = p;
    this.batches = p.batches;
    const step = (p.epoch - 1) * p.batches + p.batch;
    if (step > this.lastStep && p.batch > 0) {
      this.lastStep = step;
      this.batchLoss.push(step, p.loss);
      if (Number.isFinite(p.loss)) {
        this.ema = (1 - EMA_ALPHA) * this.ema + EMA_ALPHA * p.loss;
        this.emaWeight = (1 - EMA_ALPHA) * this.emaWeight + EMA_ALPHA;
        this.batchLossEma.push(step, this.ema / this.emaWeight);
      }
      this.lr.push(step, p.lr);
      if (p.samplesPerSec > 0) this.throughput.push(step, p.samplesPerSec);
    }
    this.version++;
  }

  /** a change that applies from `batch` (0-based, next to run) of `epoch` (1-based) */
  addChange(c: { step: number; epoch: number; batch: number }, label: (step: number) => string): void {
    const x = this.batches ? (c.epoch - 1) * this.batches + c.batch : c.step;
    this.changes = [...this.changes, { x, label: label(x) }];
    this.version++;
  }

  addEpoch(e: { epoch: number; trainLoss: number; trainAccuracy?: number | null; testLoss: number; testAccuracy: number | null }): void {
    const step = e.epoch * (this.batches || 1);
    this.trainLoss.push(step, e.trainLoss);
    this.testLoss.push(step, e.testLoss);
    if (e.testAccuracy !== null) this.testAccuracy.push(e.epoch, e.testAccuracy * 100); // a fraction -> percent
    if (e.trainAccuracy !== undefined && e.trainAccuracy !== null) this.trainAccuracy.push(e.epoch, e.trainAccuracy * 100);
    this.version++;
  }
}

/** The current run's metrics (the app shows one run at a time). */
export const metrics = new Metrics();

/**
 * Reads `select(metrics)` now and again whenever the metrics changed, checked every `intervalMs`:
 * the chart components never re-render faster than that, however fast events arrive.
 */
export function useMetricSeries<T>(select: (m: Metrics) => T, intervalMs = 200): T {
  const selectRef = useRef(select);
  selectRef.current = select;
  const [value, setValue] = useState(() => select(metrics));
  useEffect(() => {
    let seen = metrics.version;
    setValue(selectRef.current(metrics));
    const timer = setInterval(() => {
      if (metrics.version === seen) return;
      seen = metrics.version;
      setValue(selectRef.current(metrics));
    }, intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return value;
}

export type { Metrics };
