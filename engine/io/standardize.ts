/**
 * A CSV project's standardisation, carried in every checkpoint Netloom writes for it (AGREED FILE
 * LAYOUT 3): metadata `netloom.standardize` = JSON {"columns": [...], "mean": [...], "std": [...]},
 * the training split's per-feature mean and the divisor actually used (1 for a constant column), so
 * the weights say what their inputs were and an exported model can standardise new rows itself.
 */
import { TOO_DEEP, scanJson } from './json-limits.js';
import type { NetloomError } from '../errors.js';

export const STANDARDIZE_FIELD = 'netloom.standardize';
/** A wide CSV (thousands of columns, a name and two numbers each) still fits; a forged field does not. */
export const MAX_STANDARDIZE_CHARS = 4 * 1024 * 1024;

export interface Standardize {
  columns: string[];
  mean: number[];
  std: number[];
}

/** The field's value for a dataset's features and statistics. */
export function standardizeField(s: Standardize): string {
  return JSON.stringify({ columns: s.columns, mean: s.mean, std: s.std });
}

/**
 * Checks the field's JSON: an object of three arrays of one length, column names as strings, means
 * finite, divisors finite and positive. `bad` makes the error from what is wrong.
 */
export function checkStandardizeField(v: string, bad: (message: string) => NetloomError): Standardize {
  const deep = scanJson(v);
  if (deep) throw bad(`${TOO_DEEP} (${deep.kind === 'depth' ? deep.path : ''})`);
  let s: unknown;
  try {
    s = JSON.parse(v);
  } catch {
    throw bad('is not valid JSON');
  }
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw bad('must be a JSON object with "columns", "mean" and "std"');
  const { columns, mean, std } = s as Record<string, unknown>;
  if (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string')) throw bad('"columns" must be a list of column names');
  if (!Array.isArray(mean) || !mean.every((m) => typeof m === 'number' && Number.isFinite(m))) throw bad('"mean" must be a list of finite numbers');
  if (!Array.isArray(std) || !std.every((d) => typeof d === 'number' && Number.isFinite(d) && d > 0)) throw bad('"std" must be a list of finite positive numbers (the divisors)');
  if (mean.length !== columns.length || std.length !== columns.length)
    throw bad(`must hold one mean and one std per column: ${columns.length} columns, ${mean.length} means, ${std.length} stds`);
  return { columns, mean, std };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
const num = (v: number) => String(Number(v.toPrecision(4)));

/**
 * What a user should know when weights trained on standardised features meet this dataset: other
 * columns or statistics than the training run's (the rows are standardised with this CSV's own, which
 * the model did not see), or raw features fed to a model that learnt standardised ones. Nothing when
 * they agree, or when the checkpoint says nothing (a file from PyTorch, or from before the field).
 */
export function standardizeNotes(source: string, metadata: Record<string, string>, dataset: { features: readonly string[]; stats: { mean: number[]; std: number[] }; standardized: boolean } | undefined): string[] {
  const v = metadata[STANDARDIZE_FIELD];
  if (v === undefined || !dataset) return [];
  const saved = JSON.parse(v) as Standardize; // checked when the file was read (checkNetloomMetadata)
  if (!dataset.standardized)
    return [`${source} was trained on standardised features (netloom.standardize), but this dataset feeds them as they are (--no-standardize or standardize: false): its results will not be the training run's`];
  if (saved.columns.length !== dataset.features.length || saved.columns.some((c, i) => c !== dataset.features[i]))
    return [`${source} was trained on the columns ${saved.columns.join(', ')}, this dataset has ${dataset.features.join(', ')}`];
  const differ = saved.columns.findIndex((_, i) => !close(saved.mean[i], dataset.stats.mean[i]) || !close(saved.std[i], dataset.stats.std[i]));
  if (differ < 0) return [];
  const c = saved.columns[differ];
  return [`${source} was trained on features standardised with other statistics than this dataset's training split (${c}: mean ${num(saved.mean[differ])}, std ${num(saved.std[differ])} then; mean ${num(dataset.stats.mean[differ])}, std ${num(dataset.stats.std[differ])} now); the rows are standardised with this dataset's, so its results may differ from the training run's`];
}
