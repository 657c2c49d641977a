/**
 * Regression metrics over a split, as sklearn.metrics computes them: mean_absolute_error,
 * root of mean_squared_error, and r2_score (multioutput="uniform_average": R^2 per target column,
 * then their mean). Sums run in float64 over the float32 outputs and targets.
 */
import { NetloomError } from '../errors.js';

export interface RegressionMetrics {
  /** mean |output - target| over every sample and target column */
  mae: number;
  /** sqrt(mean (output - target)^2) over every sample and target column */
  rmse: number;
  /**
   * 1 - SS_res / SS_tot per target column, averaged over the columns (sklearn's default). null when
   * some target column is constant over the split (SS_tot = 0: R^2 is undefined there).
   */
  r2: number | null;
  /** samples the metrics were computed over */
  samples: number;
}

/**
 * Metrics of `outputs` against `targets`, both [count, width] row-major (a model's raw output rows
 * and the dataset's targets, same sample order). count 0 gives NaN errors and a null R^2.
 */
export function regressionMetrics(outputs: ArrayLike<number>, targets: ArrayLike<number>, count: number, width: number): RegressionMetrics {
  if (!(Number.isInteger(width) && width > 0) || !(Number.isInteger(count) && count >= 0) || outputs.length < count * width || targets.length < count * width)
    throw new NetloomError('NL_INTERNAL', `regression metrics over ${count} samples x ${width} targets got ${outputs.length} outputs and ${targets.length} targets`,
      'This is a bug in Netloom: please report it with the project file.');
  let abs = 0;
  let sq = 0;
  const mean = new Float64Array(width);
  for (let i = 0; i < count; i++)
    for (let j = 0; j < width; j++) {
      const t = targets[i * width + j];
      const d = outputs[i * width + j] - t;
      abs += Math.abs(d);
      sq += d * d;
      mean[j] += t;
    }
  const n = count * width;
  let r2: number | null = count > 0 ? 0 : null;
  for (let j = 0; j < width && r2 !== null; j++) {
    const m = mean[j] / count;
    let res = 0;
    let tot = 0;
    for (let i = 0; i < count; i++) {
      const t = targets[i * width + j];
      const d = outputs[i * width + j] - t;
      res += d * d;
      tot += (t - m) * (t - m);
    }
    r2 = tot > 0 ? r2 + (1 - res / tot) / width : null;
  }
  return { mae: abs / n, rmse: Math.sqrt(sq / n), r2, samples: count };
}
