/**
 * The playground for models trained on a CSV file: one number field per feature column (the values as the file
 * has them; the engine standardises them with the training split's statistics), filled from a test row at the
 * start and by "Random test row", which also shows that row's true label. Predicts as you type (the latest
 * values only, one request at a time): class probabilities as bars, or a regression model's predicted value
 * beside the row's true one.
 */
import { useEffect, useMemo, useState } from 'react';
import type { DatasetInfoDto, TableRowDto } from '../../engine/contract/api';
import { fmtValue, parseFeatureRow, pickRow, rowLabel } from '../state/playground';
import { usePrediction } from '../hooks/usePrediction';
import { ProbabilityBars } from './ProbabilityBars';

type Table = NonNullable<DatasetInfoDto['table']>;

/** The row the form starts from: the first test row, else the first training row, else the feature means. */
function startRow(table: Table): number[] {
  return table.testRows[0]?.values ?? table.rows[0]?.values ?? table.stats.mean.map((m) => Number(m.toPrecision(4)));
}

export function PlaygroundTabular({ info, table, enabled, className }: { info: DatasetInfoDto; table: Table; enabled: boolean; className: (i: number) => string }) {
  const [texts, setTexts] = useState<string[]>(() => startRow(table).map(String));
  /** the test row the values came from (index into table.testRows), and whether they were edited since */
  const [picked, setPicked] = useState<{ index: number; row: TableRowDto; edited: boolean } | null>(() =>
    table.testRows[0] ? { index: 0, row: table.testRows[0], edited: false } : null);
  const { prediction: answer, error, predict } = usePrediction();
  const { values, bad } = useMemo(() => parseFeatureRow(texts), [texts]);
  const key = values ? values.join(',') : null;

  // predict as you type, and once the run's weights become usable
  useEffect(() => {
    if (enabled && values) predict({ features: values });
    // key stands for values
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [enabled, key, predict]);

  const edit = (j: number, text: string) => {
    setTexts((t) => t.map((v, k) => (k === j ? text : v)));
    setPicked((p) => (p ? { ...p, edited: true } : p));
  };
  const random = () => {
    const i = pickRow(table.testRows.length, picked?.index ?? null, Math.random());
    if (i === null) return;
    const row = table.testRows[i];
    setTexts(row.values.map(String));
    setPicked({ index: i, row, edited: false });
  };

  const regression = table.task === 'regression';
  const truth = picked ? rowLabel(info.classes, table.task, picked.row) : null;
  const output = answer?.output?.[0];
  return (
    <div className="playground-body">
      <div className="playground-form" data-testid="playground-features">
        <div className="playground-form-head">
          <button data-testid="playground-random-row" onClick={random} disabled={table.testRows.length === 0} title={`Fill the fields with one of the ${table.testRows.length} test rows (held out from training)`}>
            Random test row
          </button>
          {picked && (
            <span className={`playground-true${picked.edited ? ' edited' : ''}`} data-testid="playground-true" data-row={picked.index} data-edited={picked.edited} data-value={picked.row.label}>
              test row {picked.index + 1}
              {picked.edited ? ', edited · its true ' : ' · true '}
              {regression ? table.label : 'class'}
              {picked.edited ? ' was ' : ' '}
              <strong>{truth}</strong>
            </span>
          )}
        </div>
        <div className="playground-fields">
          {table.features.map((f, j) => (
            <label key={f} className="playground-field" title={`${f}: mean ${fmtValue(table.stats.mean[j])}, std ${fmtValue(table.stats.std[j])} over the training rows`}>
              <span>{f}</span>
              <input
                type="text"
                inputMode="decimal"
                data-testid={`playground-feature-${f}`}
                className={bad[j] ? 'invalid' : ''}
                value={texts[j] ?? ''}
                disabled={!enabled}
                onChange={(e) => edit(j, e.target.value)}
              />
            </label>
          ))}
        </div>
        {bad.some(Boolean) && (
          <div className="setting-error" data-testid="playground-feature-error">
            {table.features.filter((_, j) => bad[j]).join(', ')}: type a number, e.g. {fmtValue(table.stats.mean[bad.indexOf(true)] ?? 0)}
          </div>
        )}
      </div>
      <div className="playground-result">
        {error && (
          <div className="dialog-error" data-testid="playground-error">
            {error}
          </div>
        )}
        {answer && !regression && <ProbabilityBars probabilities={answer.probabilities} predicted={answer.predicted} name={className} />}
        {answer && regression && output !== undefined && (
          <div className="playground-output">
            predicted {table.label}{' '}
            <strong data-testid="playground-output" data-value={output}>
              {fmtValue(output)}
            </strong>
            {picked && !picked.edited && (
              <span className="muted">
                {' '}
                · true {fmtValue(picked.row.label)} · error {fmtValue(output - picked.row.label)}
              </span>
            )}
          </div>
        )}
        {!answer && !error && <div className="muted small">{enabled ? (regression ? 'The predicted value shows here.' : 'The class probabilities show here.') : ''}</div>}
      </div>
    </div>
  );
}
