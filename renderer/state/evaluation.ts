/**
 * Pure evaluation-view logic (no React, no store): the per-class accuracy rows beside the
 * confusion matrix, the macro average, which classes to flag as the worst, the regression
 * summary, the best epoch of a list of epochs, and the wording of a failed run's error box.
 */
import type { EvaluationDto } from '../../engine/contract/api';

/** One class's line in the per-class accuracy column (class order, the confusion matrix's rows). */
export interface PerClassRow {
  index: number;
  name: string;
  /** correct / count; null when the test split has no sample of the class */
  accuracy: number | null;
  /** test samples of the class (the confusion row's sum) */
  count: number;
  /** of them predicted right (the confusion diagonal) */
  correct: number;
  /** one of the least accurate classes, below the macro average: drawn so it stands out */
  worst: boolean;
}

/** Regression metrics the engine may add to an evaluation (optional: older engines send none). */
export interface RegressionMetrics {
  mae: number | null;
  rmse: number | null;
  /** null too when the target is constant on the test split (R² is undefined then) */
  r2: number | null;
  /** the target column names (empty when not sent) */
  targets: string[];
}

/** A regression model's evaluation: no accuracy, no confusion matrix. */
export const isRegression = (ev: Pick<EvaluationDto, 'accuracy' | 'confusion'>): boolean => ev.accuracy === null && ev.confusion.length === 0;

/** The class names for k classes: the evaluation's, else the indices. */
export function classNamesOf(ev: Pick<EvaluationDto, 'classNames' | 'confusion'>): string[] {
  const k = ev.confusion.length;
  return ev.classNames.length >= k ? ev.classNames.slice(0, k) : Array.from({ length: k }, (_, i) => ev.classNames[i] ?? String(i));
}

/** How many classes may be flagged as worst: none for 2 classes, 1 for 3 to 5, up to 3 for 9 or more. */
export const worstCount = (k: number): number => Math.min(3, Math.floor(k / 3));

/**
 * Per-class rows in class order. Counts and accuracies are the engine's perClass; `correct` is the
 * confusion diagonal. When perClass does not line up with the matrix (an engine that sent none),
 * the rows come from the matrix alone, so the column never disagrees with the cells beside it.
 */
export function perClassRows(ev: Pick<EvaluationDto, 'classNames' | 'confusion' | 'perClass'>): PerClassRow[] {
  const names = classNamesOf(ev);
  const fromEngine = ev.perClass.length === ev.confusion.length;
  const rows: PerClassRow[] = ev.confusion.map((row, i) => {
    const rowSum = row.reduce((a, b) => a + b, 0);
    const count = fromEngine ? ev.perClass[i].count : rowSum;
    const correct = row[i] ?? 0;
    const accuracy = count > 0 ? (fromEngine ? ev.perClass[i].accuracy : correct / count) : null;
    return { index: i, name: names[i], accuracy, count, correct, worst: false };
  });
  const macro = macroAccuracy(rows);
  const ranked = rows
    .filter((r): r is PerClassRow & { accuracy: number } => r.accuracy !== null && macro !== null && r.accuracy < macro)
    .sort((a, b) => a.accuracy - b.accuracy || a.index - b.index)
    .slice(0, worstCount(rows.length));
  for (const r of ranked) rows[r.index].worst = true;
  return rows;
}

/** The mean of the per-class accuracies (each class weighs the same); classes without samples left out. */
export function macroAccuracy(rows: readonly Pick<PerClassRow, 'accuracy'>[]): number | null {
  const known = rows.map((r) => r.accuracy).filter((a): a is number => a !== null);
  return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
}

/**
 * The bar colour's hue for an accuracy: red at 50% and below, through amber, to green at 100%
 * (chance for 10 classes is 10%, so anything under 50% is plainly bad).
 */
export function accuracyHue(accuracy: number): number {
  const t = Math.max(0, Math.min(1, (accuracy - 0.5) / 0.5));
  return Math.round(t * 130);
}

/** "97.9%" (one decimal), "—" for no value */
export const fmtPercent = (v: number | null, digits = 1): string => (v === null || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(digits)}%`);

const finiteOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The optional `regression` field ({mae, rmse, r2, targets}) of an evaluation, read defensively: the field
 * is newer than the rest of the DTO, so anything missing or not a finite number reads as null, and
 * an evaluation with none of the three gives null.
 */
export function regressionMetrics(ev: object): RegressionMetrics | null {
  const r = (ev as { regression?: unknown }).regression;
  if (!r || typeof r !== 'object') return null;
  const o = r as Record<string, unknown>;
  const targets = Array.isArray(o.targets) ? o.targets.filter((t): t is string => typeof t === 'string') : [];
  const m: RegressionMetrics = { mae: finiteOrNull(o.mae), rmse: finiteOrNull(o.rmse), r2: finiteOrNull(o.r2), targets };
  return m.mae === null && m.rmse === null && m.r2 === null ? null : m;
}

/**
 * The epoch with the lowest test loss, by the engine's rule (engine/train/run.ts keeps the first
 * epoch, then any later one whose test loss is strictly lower): for stored runs, whose record
 * holds the epochs but may predate the bestEpoch field.
 */
export function bestEpochOf(epochs: readonly { epoch: number; testLoss: number }[]): number | null {
  let best: { epoch: number; testLoss: number } | null = null;
  for (const e of epochs) if (best === null || e.testLoss < best.testLoss) best = e;
  return best?.epoch ?? null;
}

/** The error box's title for a failed run's error code. */
export function runErrorTitle(code: string): string {
  switch (code) {
    case 'NL_NON_FINITE':
      return 'Training diverged and was stopped';
    case 'NL_OOM':
      return 'Training stopped: out of memory';
    default:
      return 'Training stopped with an error';
  }
}

/** What the error box says about the weights the failed run still holds. */
export function failedRunWeightsNote(bestEpoch: number | null): string {
  const best = bestEpoch === null ? '' : `, and epoch ${bestEpoch}'s, the best so far (lowest test loss: Save checkpoint → best epoch)`;
  return `The run still holds its last good weights (from before the failing batch)${best}. Start begins a new run.`;
}

/**
 * Evaluate on a run that failed with a non-finite loss can fail the same way: the weights from
 * before the failing batch were already large enough to overflow. The engine's message then
 * names a batch of the test split and nothing else; this says what it means and what to do.
 */
export function divergedEvaluationError(e: { message: string }): { code: string; message: string; hint: string } {
  return {
    code: 'NL_NON_FINITE',
    message: `the last weights give a non-finite loss on the test split too (${e.message}); the run had diverged before it stopped`,
    hint: 'Save checkpoint → best epoch keeps the weights of the best finished epoch, if one finished; or start a new run with a lower learning rate (or gradient clipping).',
  };
}
