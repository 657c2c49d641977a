/**
 * The Training panel (under the model summary, collapsible): dataset and hyper-parameters,
 * Start / Pause / Resume / Stop, a progress bar, live charts, then evaluation with a confusion
 * matrix whose cells open a gallery of their test samples. Commands are registered actions.
 */
import { actionToggleTraining } from '../actions/actionPanels';
import { actionContext, run } from '../actions/registry';
import { actionEvaluate, actionEvaluateCheckpoint, actionLoadCheckpoint, actionResumeFromCheckpoint, actionSaveCheckpoint, actionTrainFromCheckpoint, actionTrainPause, actionTrainResume, actionTrainStart, actionTrainStop } from '../actions/actionTrain';
import { Playground } from './Playground';
import { Evaluation } from './Evaluation';
import { RunError } from './RunError';
import { ActionButton } from './ActionButton';
import { TrainingSettings } from './TrainingSettings';
import { TrainProgress } from './TrainProgress';
import { lazy, Suspense } from 'react';
import { useStore } from '../state/store';
import { OVERLAY_COLOURS, storedBestEpoch, storedRuns, type StoredRun } from '../state/runs';
import { runGraph } from '../state/diff';
import { actionCompareRun } from '../actions/actionCompare';
import { weightsCount } from '../state/checkpointReport';

// chart.js and react-chartjs-2 are a fifth of the app's code and only this panel draws with them:
// they load as their own chunk when the panel first opens, so the canvas never waits for them.
const TrainingCharts = lazy(() => import('../charts/TrainingCharts').then((m) => ({ default: m.TrainingCharts })));

/** Where the charts will be while their chunk loads: the same four boxes, so nothing below jumps. */
function ChartsLoading() {
  return (
    <div className="training-charts" data-testid="training-charts-loading" aria-busy="true" aria-label="loading the charts">
      {['loss', 'accuracy', 'learning rate', 'throughput'].map((name) => (
        <div key={name} className="chart-box muted">
          Loading the {name} chart…
        </div>
      ))}
    </div>
  );
}

const fmtDims = (d: number[]) => `[${d.join(', ')}]`;

/** The last checkpoint report: per node, the keys that do not fit; "Start from" / "Evaluate these weights" when all do. */
function CheckpointReport() {
  const report = useStore((s) => s.ckptReport);
  const canStart = useStore((s) => {
    void s.run;
    void s.analysis;
    const ctx = actionContext();
    return !!ctx && (!actionTrainFromCheckpoint.predicate || actionTrainFromCheckpoint.predicate(ctx));
  });
  if (!report) return null;
  const bad = report.nodes.filter((n) => !n.ok || n.missing.length || n.unexpected.length || n.mismatched.length);
  const dismiss = () => useStore.getState().setCkptReport(null);
  return (
    <div className={`ckpt-report${report.ok ? ' ok' : ''}`} data-testid="ckpt-report" data-ok={report.ok}>
      <div className="ckpt-report-head">
        <span>
          {report.label ? (
            <strong title={report.path}>{report.label}</strong>
          ) : (
            <>
              checkpoint <strong title={report.path}>{report.path.split(/[\\/]/).pop()}</strong>
            </>
          )}{' '}
          {report.ok ? <span className="ckpt-ok">fits this graph ({weightsCount(report)})</span> : <span className="ckpt-bad">does not fit this graph</span>}
        </span>
        <span className="ckpt-report-buttons">
          {report.ok && report.resumable && (
            <button className="primary" data-testid="btn-checkpoint-resume" disabled={!canStart} title="continue the saved run: its optimizer state, epoch and batch" onClick={() => run(actionResumeFromCheckpoint, report.path)}>
              Resume training
            </button>
          )}
          {report.ok && (
            <button className={report.resumable ? undefined : 'primary'} data-testid="btn-checkpoint-start" disabled={!canStart} onClick={() => run(actionTrainFromCheckpoint, report.path)}>
              Start from these weights
            </button>
          )}
          {report.ok && (
            <button data-testid="btn-checkpoint-evaluate" disabled={!canStart} onClick={() => run(actionEvaluateCheckpoint, report.path)}>
              Evaluate these weights
            </button>
          )}
          <button data-testid="btn-checkpoint-dismiss" onClick={dismiss}>
            Dismiss
          </button>
        </span>
      </div>
      {report.notes && report.notes.length > 0 && (
        <ul className="ckpt-notes" data-testid="ckpt-notes">
          {report.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      {bad.length > 0 && (
        <ul className="ckpt-nodes">
          {bad.map((n) => (
            <li key={n.nodeId} data-testid={`ckpt-node-${n.name}`}>
              <div>
                <strong>{n.name}</strong> <span className="muted">{n.type}</span>
              </div>
              {n.missing.length > 0 && (
                <div className="ckpt-keys">
                  <span className="ckpt-kind">missing</span> {n.missing.join(', ')}
                </div>
              )}
              {n.unexpected.length > 0 && (
                <div className="ckpt-keys">
                  <span className="ckpt-kind">unexpected</span> {n.unexpected.join(', ')}
                </div>
              )}
              {n.mismatched.map((m) => (
                <div key={m.key} className="ckpt-keys">
                  <span className="ckpt-kind">shape</span> {m.key}: file {fmtDims(m.fileShape)}, model {fmtDims(m.modelShape)}
                </div>
              ))}
            </li>
          ))}
        </ul>
      )}
      {report.unassigned.length > 0 && (
        <div className="ckpt-keys" data-testid="ckpt-unassigned">
          <span className="ckpt-kind">unexpected</span> (no node of that name) {report.unassigned.join(', ')}
        </div>
      )}
      {!report.ok && report.problems.length > 0 && bad.length === 0 && report.unassigned.length === 0 && (
        <div className="ckpt-keys">{report.problems.join('; ')}</div>
      )}
    </div>
  );
}

/** Which graph a stored run trained: "Compare with current" (the diff), or that it was not recorded (older runs). */
function RunGraphEntry({ run: r }: { run: StoredRun }) {
  if (!runGraph(r))
    return (
      <span className="muted small run-compare" data-testid="run-graph-missing">
        graph not recorded
      </span>
    );
  return (
    <button className="link small run-compare" data-testid="run-compare" title="compare the graph this run trained with the canvas" onClick={(e) => { e.preventDefault(); run(actionCompareRun, r.id); }}>
      Compare with current
    </button>
  );
}

/** The runs kept in the project, each with a checkbox that overlays its loss curve on the loss chart. */
function RunsList() {
  const extra = useStore((s) => s.project.extra);
  const overlay = useStore((s) => s.overlayRuns);
  const runs = storedRuns(extra);
  if (runs.length === 0) return null;
  return (
    <div className="runs-list" data-testid="runs-list">
      <div className="runs-list-head">Runs in this project ({runs.length})</div>
      {runs.map((r, i) => {
        const acc = r.final.testAccuracy;
        const best = storedBestEpoch(r);
        return (
          <label key={r.id} className="run-item" data-testid="run-item" title={`started ${new Date(r.startedAt).toLocaleString()}`}>
            <input type="checkbox" data-testid="run-overlay" checked={overlay.includes(r.id)} onChange={() => useStore.getState().toggleOverlay(r.id)} />
            <span className="run-swatch" style={{ background: OVERLAY_COLOURS[i % OVERLAY_COLOURS.length] }} />
            <span>{r.label}</span>
            <span className="muted">
              {r.state} · {r.epochs.length} epoch{r.epochs.length === 1 ? '' : 's'}
              {acc !== null ? ` · test acc ${(acc * 100).toFixed(2)}%` : ''}
              {r.final.testLoss !== null ? ` · test loss ${r.final.testLoss.toFixed(4)}` : ''}
              {best !== null && (
                <span className="run-best" data-testid="run-best-epoch" title="the epoch with the lowest test loss">
                  {' '}· ★ best epoch {best}
                </span>
              )}
            </span>
            <RunGraphEntry run={r} />
          </label>
        );
      })}
    </div>
  );
}

export function TrainingPanel() {
  const open = useStore((s) => s.panels.training);
  const state = useStore((s) => s.run.state);
  const starting = useStore((s) => s.run.starting);
  const busy = starting || state === 'running' || state === 'paused' || state === 'ready';
  return (
    <section className={`training panel${open ? '' : ' collapsed'}`} data-testid="training-panel">
      <header className="summary-head">
        <button className="link" onClick={() => run(actionToggleTraining, undefined)} aria-expanded={open} data-testid="training-toggle">
          <span className={`chevron${open ? ' open' : ''}`}>▸</span> Training
        </button>
        {!open && state && (
          <span className={`run-state ${state}`} data-testid="train-state-inline">
            {state}
          </span>
        )}
      </header>
      {open && (
        <div className="training-body">
          <div className="training-controls">
            <TrainingSettings disabled={busy} paused={state === 'paused'} />
            <div className="train-buttons">
              <ActionButton action={actionTrainStart} testId="btn-train-start" label="Start" primary />
              <ActionButton action={actionTrainPause} testId="btn-train-pause" label="Pause" />
              <ActionButton action={actionTrainResume} testId="btn-train-resume" label="Resume" />
              <ActionButton action={actionTrainStop} testId="btn-train-stop" label="Stop" />
              <span className="train-sep" />
              <ActionButton action={actionEvaluate} testId="btn-evaluate" label="Evaluate" />
              <ActionButton action={actionSaveCheckpoint} testId="btn-checkpoint-save" label="Save checkpoint…" />
              <ActionButton action={actionLoadCheckpoint} testId="btn-checkpoint-load" label="Load checkpoint…" />
            </div>
            <TrainProgress />
            <RunError />
            <CheckpointReport />
          </div>
          <Suspense fallback={<ChartsLoading />}>
            <TrainingCharts />
          </Suspense>
          <RunsList />
          <Playground />
          <Evaluation />
        </div>
      )}
    </section>
  );
}
