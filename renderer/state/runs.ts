/**
 * Runs kept in the project (pure logic, no React, no store): the compact record of a finished or
 * stopped run that goes into the project file's top-level `runs` array, and the hyper-parameter
 * change labels shown on the loss chart.
 */
import type { GraphDto, HyperChangeDto } from '../../engine/contract/api';
import { bestEpochOf } from './evaluation';
import type { EffectiveSettings } from './training';

/** Most points of a stored batch-loss curve. */
export const MAX_CURVE_POINTS = 500;

export interface RunRecordEpoch {
  epoch: number;
  trainLoss: number;
  /** absent in runs stored before train accuracy was recorded */
  trainAccuracy?: number | null;
  testLoss: number;
  testAccuracy: number | null;
  seconds: number;
}

/** One run as stored in the project's `runs` array. */
export interface StoredRun {
  id: string;
  label: string;
  /** ISO time the run was started */
  startedAt: string;
  state: string;
  settings: { dataset: string; epochs: number; batchSize: number; optimizer: string; lr: number; limitTrain: number | null };
  epochs: RunRecordEpoch[];
  /** decimated batch loss: [step, loss] pairs, at most MAX_CURVE_POINTS */
  loss: [number, number][];
  final: { testAccuracy: number | null; testLoss: number | null };
  /** the epoch with the lowest test loss (whose weights the run kept as its best); null when no epoch finished. Absent in runs stored before it was recorded. */
  bestEpoch?: number | null;
  changes: { step: number; epoch: number; batch: number; changes: Record<string, { from: unknown; to: unknown }> }[];
  /** the graph the run trained (layers, connections, groups, positions). Absent in runs stored before it was recorded. */
  graph?: GraphDto;
}

/** At most `max` points, evenly spaced by index, always keeping the first and the last. */
export function decimate<T>(points: readonly T[], max = MAX_CURVE_POINTS): T[] {
  if (points.length <= max) return points.slice();
  if (max < 2) return points.slice(-max);
  const out: T[] = [];
  const stride = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * stride)]);
  return out;
}

const round = (v: number, digits = 6) => Number(v.toPrecision(digits));

export function makeRunRecord(o: {
  runId: string;
  index: number;
  startedAt: number;
  state: string;
  settings: EffectiveSettings;
  epochs: RunRecordEpoch[];
  loss: readonly { x: number; y: number }[];
  changes: HyperChangeDto[];
  /** the engine's best epoch (RunSummaryDto.bestEpoch); without it, worked out from `epochs` by the engine's rule */
  bestEpoch?: number | null;
  /** the graph the run trained; null when not known */
  graph?: GraphDto | null;
}): StoredRun {
  const s = o.settings;
  const last = o.epochs.at(-1);
  const lrs = [s.lr, ...o.changes.filter((c) => 'lr' in c.changes).map((c) => c.changes.lr.to)];
  return {
    id: `${o.startedAt.toString(36)}-${o.runId}`,
    label: `#${o.index} ${s.dataset} ${s.optimizer} lr ${lrs.map(fmtNum).join('→')}`,
    startedAt: new Date(o.startedAt).toISOString(),
    state: o.state,
    settings: { dataset: s.dataset, epochs: s.epochs, batchSize: s.batchSize, optimizer: s.optimizer, lr: s.lr, limitTrain: s.limitTrain },
    epochs: o.epochs.map((e) => ({ epoch: e.epoch, trainLoss: e.trainLoss, trainAccuracy: e.trainAccuracy ?? null, testLoss: e.testLoss, testAccuracy: e.testAccuracy, seconds: e.seconds })),
    loss: decimate(o.loss).map((p) => [p.x, round(p.y)]),
    final: { testAccuracy: last?.testAccuracy ?? null, testLoss: last?.testLoss ?? null },
    bestEpoch: o.bestEpoch !== undefined ? o.bestEpoch : bestEpochOf(o.epochs),
    changes: o.changes.map((c) => ({ step: c.step, epoch: c.epoch, batch: c.batch, changes: c.changes })),
    ...(o.graph ? { graph: graphSnapshot(o.graph) } : {}),
  };
}

/** A run's graph as stored: a copy, positions kept (the diff does not compare them, but a removed layer's ghost is drawn there). */
export function graphSnapshot(g: GraphDto): GraphDto {
  return structuredClone({ nodes: g.nodes, edges: g.edges, ...(g.groups && g.groups.length > 0 ? { groups: g.groups } : {}) });
}

/** The project's stored runs (the file's `runs`, entries that do not look like runs skipped). */
export function storedRuns(extra: Record<string, unknown>): StoredRun[] {
  const runs = extra.runs;
  if (!Array.isArray(runs)) return [];
  return runs.filter(
    (r): r is StoredRun => !!r && typeof r === 'object' && typeof (r as StoredRun).id === 'string' && Array.isArray((r as StoredRun).loss),
  );
}

/** A stored run's best epoch: as recorded, or (runs stored before it was) worked out from its epochs. */
export function storedBestEpoch(r: Pick<StoredRun, 'bestEpoch' | 'epochs'>): number | null {
  if (typeof r.bestEpoch === 'number' && Number.isInteger(r.bestEpoch) && r.bestEpoch > 0) return r.bestEpoch;
  return Array.isArray(r.epochs) ? bestEpochOf(r.epochs.filter((e) => e && typeof e.epoch === 'number' && typeof e.testLoss === 'number')) : null;
}

/** 0.001 / 1e-5 / 0.01, without float noise */
export function fmtNum(v: unknown): string {
  if (typeof v !== 'number') return JSON.stringify(v);
  return String(Number(v.toPrecision(6)));
}

/** "lr 0.001 → 0.01 at step 1234" */
export function hyperChangeLabel(c: { changes: Record<string, { from: unknown; to: unknown }> }, step: number): string {
  const parts = Object.entries(c.changes).map(([k, v]) => `${k} ${fmtNum(v.from)} → ${fmtNum(v.to)}`);
  return `${parts.join(', ')} at step ${step}`;
}

/** Overlay colours for past runs' loss curves. */
export const OVERLAY_COLOURS = ['#e8590c', '#2f9e44', '#ae3ec9', '#1098ad', '#f08c00', '#c2255c', '#5c7cfa', '#66a80f'];
