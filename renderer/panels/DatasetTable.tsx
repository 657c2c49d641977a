/**
 * The dataset view of a CSV file: the first training rows as the file has them under their column names, with
 * each feature's mean and std of the training split (what standardisation uses) in the header; and, for a
 * regression target, its range and a histogram of both splits.
 */
import type { DatasetInfoDto } from '../../engine/contract/api';
import { fmtCount } from '../state/graph';
import { fmtValue, rowLabel } from '../state/playground';

type Table = NonNullable<DatasetInfoDto['table']>;

/** A statistic in the table's header: 4 significant digits keep the columns narrow (the full value is in data-mean / data-std). */
const fmtStat = (v: number) => fmtValue(Number(v.toPrecision(4)));

export function DatasetTable({ info, table }: { info: DatasetInfoDto; table: Table }) {
  return (
    <div className="dataset-table-wrap">
      <table className="dataset-table" data-testid="dataset-table">
        <thead>
          <tr>
            <th className="dataset-rowhead">#</th>
            {table.features.map((f) => (
              <th key={f} className="num" title="a feature: an input of the model">
                {f}
              </th>
            ))}
            <th className="dataset-label-col" title={table.task === 'classification' ? 'the label: the class to predict' : 'the target: the value to predict'}>
              {table.label}
            </th>
          </tr>
          <tr className="dataset-stats" data-testid="dataset-stats">
            <th className="dataset-rowhead" title="mean ± std of the training rows (population std); standardisation subtracts the mean and divides by the std">
              μ ± σ
            </th>
            {table.features.map((f, j) => (
              <th key={f} className="num" data-testid="dataset-stat" data-mean={table.stats.mean[j]} data-std={table.stats.std[j]}>
                {fmtStat(table.stats.mean[j])} ± {fmtStat(table.stats.std[j])}
              </th>
            ))}
            <th className="dataset-label-col">{table.task}</th>
          </tr>
        </thead>
        <tbody>
          {table.rows.map((r, i) => (
            <tr key={i} data-testid="dataset-row">
              <td className="dataset-rowhead">{i + 1}</td>
              {r.values.map((v, j) => (
                <td key={j} className="num">
                  {String(v)}
                </td>
              ))}
              <td className="dataset-label-col">{rowLabel(info.classes, table.task, r)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="muted small dataset-table-note" data-testid="dataset-table-note">
        The first {table.rows.length} of {fmtCount(info.totals.train)} training rows, as in the file;{' '}
        {table.standardized ? 'the model sees each feature standardised: (value − μ) / σ.' : 'the model sees these values as they are (not standardised).'}
      </div>
    </div>
  );
}

/** A regression target: min / mean / max and a histogram of the training and test rows, stacked. */
export function TargetHistogram({ info, target }: { info: DatasetInfoDto; target: NonNullable<Table['target']> }) {
  const peak = Math.max(1, ...target.bins.map((b) => b.train + b.test));
  const test = info.testSplit === 'validation' ? 'validation' : 'test';
  return (
    <div className="dataset-target" data-testid="dataset-target">
      <div className="dataset-counts-head">
        <span>
          target <strong>{info.table?.label ?? ''}</strong>
        </span>
        <span>
          train <strong data-testid="dataset-train-total">{fmtCount(info.totals.train)}</strong> · {test}{' '}
          <strong data-testid="dataset-test-total">{fmtCount(info.totals.test)}</strong>
        </span>
      </div>
      <div className="dataset-target-stats" data-testid="dataset-target-stats" data-min={target.min} data-mean={target.mean} data-max={target.max}>
        min <strong>{fmtStat(target.min)}</strong> · mean <strong>{fmtStat(target.mean)}</strong> · max <strong>{fmtStat(target.max)}</strong> · σ{' '}
        <strong>{fmtStat(target.std)}</strong>
      </div>
      <div className="dataset-histogram" data-testid="dataset-histogram">
        {target.bins.map((b, i) => (
          <span
            key={i}
            className="dataset-hist-bin"
            data-testid="dataset-hist-bin"
            data-train={b.train}
            data-test={b.test}
            title={`${fmtStat(b.from)} to ${fmtStat(b.to)}: ${b.train} train, ${b.test} ${test}`}
          >
            <span className="dataset-hist-bar test" style={{ height: `${(b.test / peak) * 100}%` }} />
            <span className="dataset-hist-bar train" style={{ height: `${(b.train / peak) * 100}%` }} />
          </span>
        ))}
      </div>
      <div className="dataset-hist-axis muted small">
        <span>{fmtStat(target.min)}</span>
        <span>{fmtStat(target.max)}</span>
      </div>
      <div className="dataset-hist-legend muted small">
        <span className="dataset-swatch train" /> train · <span className="dataset-swatch test" /> {test}
      </div>
    </div>
  );
}
