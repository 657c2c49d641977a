/**
 * Evaluation of the app's run on the test split. Classification: accuracy, avg loss, samples and
 * the macro-average accuracy; a confusion matrix with each class's accuracy beside its row (the
 * least accurate classes flagged); a cell opens a gallery of its samples with predicted
 * probabilities. Regression (no accuracy, no matrix): avg loss and, when the engine sends them,
 * MAE, RMSE and R².
 */
import { useEffect, useRef, useState } from 'react';
import type { EvaluationDto } from '../../engine/contract/api';
import { actionContext } from '../actions/registry';
import { accuracyHue, classNamesOf, fmtPercent, isRegression, macroAccuracy, perClassRows, regressionMetrics, type PerClassRow } from '../state/evaluation';
import { useStore } from '../state/store';
import { SampleImage } from './SampleImage';

type Samples = { sampleShape: number[]; samples: { index: number; label: number; predicted: number; pixels: string; probabilities: number[] }[] };

function Gallery({ classNames }: { classNames: string[] }) {
  const cell = useStore((s) => s.run.cell);
  const runId = useStore((s) => s.run.runId);
  const [data, setData] = useState<Samples | null>(null);
  useEffect(() => {
    setData(null);
    const api = useStore.getState().api;
    if (!cell || !runId || !api) return;
    let live = true;
    api.runSamples({ runId, actual: cell.actual, predicted: cell.predicted, limit: 24 }).then(
      (r) => live && setData(r),
      (e) => actionContext()?.reportError(e, 'Loading samples'),
    );
    return () => {
      live = false;
    };
  }, [cell, runId]);
  if (!cell) return <div className="muted small">Click a cell to see its test samples.</div>;
  const name = (i: number) => classNames[i] ?? String(i);
  return (
    <div className="gallery" data-testid="gallery">
      <div className="gallery-title">
        actual <strong>{name(cell.actual)}</strong>, predicted <strong>{name(cell.predicted)}</strong>
        {data && <span className="muted"> · {data.samples.length} shown</span>}
      </div>
      <div className="gallery-items">
        {data?.samples.map((s) => {
          const top = s.probabilities.map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p).slice(0, 3);
          return (
            <figure key={s.index} className="gallery-item" data-testid="gallery-item" title={`test sample #${s.index}`}>
              <SampleImage pixels={s.pixels} shape={data.sampleShape} />
              <figcaption>
                {top.map((t) => (
                  <div key={t.i} className={t.i === s.label ? 'prob right' : 'prob'}>
                    {name(t.i)} {(t.p * 100).toFixed(1)}%
                  </div>
                ))}
              </figcaption>
            </figure>
          );
        })}
      </div>
    </div>
  );
}

/**
 * The evaluation sits below the charts, out of view on most screens: each new result is scrolled into view
 * (smoothly, unless the user asked for reduced motion) and its heading takes the focus, so keyboard and
 * screen-reader users land on it too.
 */
export function Evaluation() {
  const ev = useStore((s) => s.run.evaluation);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const h = heading.current;
    if (!ev || !h) return;
    const reduced = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false;
    h.closest('.evaluation-section')?.scrollIntoView({ behavior: reduced ? 'auto' : 'smooth', block: 'start' });
    // the scroll above is the one the user sees; focusing must not jump ahead of it
    h.focus({ preventScroll: true });
  }, [ev]);
  if (!ev) return null;
  return (
    <section className="evaluation-section" aria-labelledby="evaluation-heading">
      <h3 id="evaluation-heading" className="evaluation-title" data-testid="evaluation-heading" tabIndex={-1} ref={heading}>
        Evaluation on the test split
      </h3>
      {isRegression(ev) ? <RegressionSummary ev={ev} /> : <ClassificationEvaluation ev={ev} />}
    </section>
  );
}

function ClassificationEvaluation({ ev }: { ev: EvaluationDto }) {
  const cell = useStore((s) => s.run.cell);
  const classNames = classNamesOf(ev);
  const rows = perClassRows(ev);
  const macro = macroAccuracy(rows);
  const rowMax = ev.confusion.map((row) => Math.max(1, ...row));
  return (
    <div className="evaluation" data-testid="evaluation" data-kind="classification">
      <div className="eval-head">
        <span>
          test accuracy <strong data-testid="eval-accuracy">{ev.accuracy === null ? '—' : `${(ev.accuracy * 100).toFixed(2)}%`}</strong>
        </span>
        <span>
          avg loss <strong data-testid="eval-loss">{ev.avgLoss.toFixed(4)}</strong>
        </span>
        <span>
          samples <strong data-testid="eval-samples">{ev.samples}</strong>
        </span>
        <span title="the mean of the per-class accuracies: every class counts the same, however many test samples it has">
          macro-avg accuracy <strong data-testid="eval-macro-accuracy">{fmtPercent(macro, 2)}</strong>
        </span>
      </div>
      <div className="eval-body">
        <table className="confusion" data-testid="confusion-matrix">
          <thead>
            <tr>
              <th className="corner">actual ↓ predicted →</th>
              {classNames.map((c, j) => (
                <th key={j} title={c}>
                  {c}
                </th>
              ))}
              <th className="pc-head" data-testid="per-class" title="per-class accuracy: of each class's test samples, the share predicted right (▼: among the least accurate)">
                accuracy
              </th>
              <th className="pc-head pc-n" title="test samples of the class">
                n
              </th>
            </tr>
          </thead>
          <tbody>
            {ev.confusion.map((row, i) => (
              <tr key={i} className={rows[i].worst ? 'worst' : undefined}>
                <th title={classNames[i]}>{classNames[i]}</th>
                {row.map((n, j) => {
                  const a = n / rowMax[i];
                  const selected = cell?.actual === i && cell.predicted === j;
                  return (
                    <td
                      key={j}
                      data-testid={`cm-cell-${i}-${j}`}
                      data-count={n}
                      className={`${i === j ? 'diag' : ''}${selected ? ' selected' : ''}${n ? '' : ' empty'}`}
                      style={{ ['--cm-alpha' as string]: String(n ? 0.08 + 0.92 * a : 0) }}
                      title={`actual ${classNames[i]}, predicted ${classNames[j]}: ${n}`}
                      onClick={() => n > 0 && useStore.getState().setRun({ cell: { actual: i, predicted: j } })}
                    >
                      {n}
                    </td>
                  );
                })}
                <PerClassCells row={rows[i]} />
              </tr>
            ))}
          </tbody>
        </table>
        <Gallery classNames={classNames} />
      </div>
    </div>
  );
}

/** A class's accuracy bar (coloured red → green) and its sample count, beside its confusion row. */
function PerClassCells({ row }: { row: PerClassRow }) {
  const acc = row.accuracy;
  const title = acc === null ? `${row.name}: no test samples` : `${row.name}: ${row.correct} of ${row.count} right (${fmtPercent(acc, 2)})${row.worst ? ', among the least accurate classes' : ''}`;
  return (
    <>
      <td
        className={`pc${row.worst ? ' worst' : ''}`}
        data-testid="per-class-row"
        data-class={row.index}
        data-accuracy={acc ?? ''}
        data-count={row.count}
        data-correct={row.correct}
        data-worst={row.worst}
        title={title}
      >
        <span className="pc-bar">
          <span className="pc-fill" style={{ width: `${(acc ?? 0) * 100}%`, ['--pc-hue' as string]: String(accuracyHue(acc ?? 0)) }} />
        </span>
        <span className="pc-value">{fmtPercent(acc)}</span>
        <span className="pc-mark" aria-label={row.worst ? 'among the least accurate classes' : undefined}>
          {row.worst ? '▼' : ''}
        </span>
      </td>
      <td className="pc-n">{row.count}</td>
    </>
  );
}

/** A regression model's evaluation: the loss, and MAE / RMSE / R² when the engine reports them. */
function RegressionSummary({ ev }: { ev: EvaluationDto }) {
  const m = regressionMetrics(ev);
  const fmt = (v: number | null, digits = 4) => (v === null ? '—' : v.toFixed(digits));
  return (
    <div className="evaluation regression" data-testid="evaluation" data-kind="regression">
      <div className="eval-head">
        <span className="muted">regression</span>
        <span>
          avg loss <strong data-testid="eval-loss">{ev.avgLoss.toFixed(4)}</strong>
        </span>
        <span>
          samples <strong data-testid="eval-samples">{ev.samples}</strong>
        </span>
        {m && m.targets.length > 0 && (
          <span>
            target{m.targets.length === 1 ? '' : 's'} <strong data-testid="eval-targets">{m.targets.join(', ')}</strong>
          </span>
        )}
      </div>
      {m && (
        <dl className="regression-summary" data-testid="eval-regression">
          <div title="mean absolute error: the average size of a prediction's error, in the target's units">
            <dt>MAE</dt>
            <dd data-testid="eval-mae">{fmt(m.mae)}</dd>
          </div>
          <div title="root mean squared error: like MAE, but large errors weigh more">
            <dt>RMSE</dt>
            <dd data-testid="eval-rmse">{fmt(m.rmse)}</dd>
          </div>
          <div title={m.r2 === null ? 'coefficient of determination: undefined when the target is the same for every test sample' : 'coefficient of determination: 1 is perfect, 0 is no better than always predicting the mean'}>
            <dt>R²</dt>
            <dd data-testid="eval-r2">{fmt(m.r2)}</dd>
          </div>
        </dl>
      )}
    </div>
  );
}
