/**
 * The Training panel (under the model summary, collapsible): dataset and hyper-parameters,
 * Start / Pause / Resume / Stop, a progress bar, live charts, then evaluation with a confusion
 * matrix whose cells open a gallery of their test samples. Commands are registered actions.
 */
import { useEffect, useState } from 'react';
import { actionContext, run } from '../actions/registry';
import { actionEvaluate, actionEvaluateCheckpoint, actionLoadCheckpoint, actionSaveCheckpoint, actionTrainFromCheckpoint, actionTrainPause, actionTrainResume, actionTrainStart, actionTrainStop } from '../actions/actionTrain';
import { Playground } from './Playground';
import { SampleImage } from './SampleImage';
import type { Action } from '../actions/types';
import { TrainingCharts } from '../charts/TrainingCharts';
import { useMetricSeries } from '../charts/useMetricSeries';
import { useStore, type TrainSettings } from '../state/store';
import { OVERLAY_COLOURS, storedRuns } from '../state/runs';
import { DATASETS, OPTIMIZERS, OPTIMIZER_TYPES, effectiveSettings, fmtEta } from '../state/training';
import '../charts/chartSetup';

function ActionButton({ action, testId, primary, label }: { action: Action; testId: string; primary?: boolean; label: string }) {
  // re-evaluated whenever the run or the graph changes
  const enabled = useStore((s) => {
    void s.run;
    void s.nodes.length;
    const ctx = actionContext();
    return !!ctx && (!action.predicate || action.predicate(ctx));
  });
  return (
    <button className={primary ? 'primary' : ''} data-testid={testId} disabled={!enabled} onClick={() => run(action, undefined)}>
      {label}
    </button>
  );
}

/** A number field that commits only valid values (positive; integer unless `real`). */
function NumberField({ label, testId, value, real, optional, onCommit, placeholder, disabled, className, title }: {
  label: string; testId: string; value: number | null; real?: boolean; optional?: boolean; placeholder?: string; disabled?: boolean; className?: string; title?: string;
  onCommit: (v: number | null) => void;
}) {
  const [text, setText] = useState(value === null ? '' : String(value));
  useEffect(() => setText(value === null ? '' : String(value)), [value]);
  const parse = (t: string): number | null | undefined => {
    const s = t.trim();
    if (s === '') return optional ? null : undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0 || (!real && !Number.isInteger(n))) return undefined;
    return n;
  };
  const valid = parse(text) !== undefined;
  return (
    <label className={`train-field${className ? ` ${className}` : ''}`} title={title}>
      <span>{label}</span>
      <input
        type="text"
        disabled={disabled}
        inputMode={real ? 'decimal' : 'numeric'}
        data-testid={testId}
        className={valid ? '' : 'invalid'}
        value={text}
        placeholder={placeholder}
        onChange={(e) => {
          setText(e.target.value);
          const v = parse(e.target.value);
          if (v !== undefined) onCommit(v);
        }}
      />
    </label>
  );
}

/** While a run is paused, only the lr stays editable: Resume sends it (when changed) as a hyper-parameter edit. */
function Settings({ disabled, paused }: { disabled: boolean; paused: boolean }) {
  const training = useStore((s) => s.project.training);
  const edits = useStore((s) => s.trainSettings);
  const set = (patch: Partial<TrainSettings>) => useStore.getState().setTrainSettings(patch);
  const eff = effectiveSettings(training, edits);
  return (
    <fieldset className="train-settings">
      <label className="train-field">
        <span>dataset</span>
        <select data-testid="train-dataset" disabled={disabled} value={eff.dataset} onChange={(e) => set({ dataset: e.target.value })}>
          {DATASETS.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </label>
      <NumberField label="epochs" testId="train-epochs" disabled={disabled} value={eff.epochs} onCommit={(v) => set({ epochs: v })} />
      <NumberField label="batch size" testId="train-batch-size" disabled={disabled} value={eff.batchSize} onCommit={(v) => set({ batchSize: v })} />
      <label className="train-field">
        <span>optimizer</span>
        <select data-testid="train-optimizer" disabled={disabled} title={paused ? 'the optimizer type is fixed for a run; its lr can change on resume' : undefined} value={eff.optimizer} onChange={(e) => set({ optimizer: e.target.value, lr: null })}>
          {OPTIMIZERS.map((o) => (
            <option key={o} value={o}>
              {OPTIMIZER_TYPES[o]}
            </option>
          ))}
        </select>
      </label>
      <NumberField
        label="lr"
        testId="train-lr"
        value={eff.lr}
        real
        disabled={disabled && !paused}
        className={paused ? 'editable-now' : undefined}
        title={paused ? 'Resume applies a changed lr from the next step' : undefined}
        onCommit={(v) => set({ lr: v })} />
      <NumberField label="limit training samples" testId="limit-train" disabled={disabled} value={eff.limitTrain} optional placeholder="all" onCommit={(v) => set({ limitTrain: v })} />
    </fieldset>
  );
}

function Progress() {
  const state = useStore((s) => s.run.state);
  const starting = useStore((s) => s.run.starting);
  const p = useMetricSeries((m) => m.progress);
  const epochs = useStore((s) => s.trainSettings.epochs);
  const training = useStore((s) => s.project.training);
  const totalEpochs = p ? Math.max(p.epoch, epochs ?? effectiveSettings(training, useStore.getState().trainSettings).epochs) : 0;
  const frac = p && p.batches ? p.batch / p.batches : 0;
  const label = starting ? 'preparing…' : (state ?? 'idle');
  return (
    <div className="train-progress" data-testid="train-progress" data-state={state ?? 'idle'}>
      <div className="train-progress-bar">
        <div className="train-progress-fill" style={{ width: `${Math.round(frac * 1000) / 10}%` }} />
      </div>
      <div className="train-progress-text">
        <span className={`run-state ${state ?? ''}`} data-testid="train-state">
          {label}
        </span>
        {p && (
          <>
            <span>
              epoch <strong>{p.epoch}</strong>/{totalEpochs}
            </span>
            <span>
              batch <strong>{p.batch}</strong>/{p.batches}
            </span>
            <span>
              <strong>{Math.round(p.samplesPerSec).toLocaleString('en-US')}</strong> samples/s
            </span>
            <span>ETA {state === 'running' ? fmtEta(p.etaSeconds) : '—'}</span>
            <span>
              loss <strong>{p.meanLoss.toFixed(4)}</strong>
            </span>
          </>
        )}
      </div>
    </div>
  );
}


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

function Evaluation() {
  const ev = useStore((s) => s.run.evaluation);
  const cell = useStore((s) => s.run.cell);
  if (!ev) return null;
  const k = ev.confusion.length;
  const classNames = ev.classNames.length >= k ? ev.classNames : Array.from({ length: k }, (_, i) => String(i));
  const rowMax = ev.confusion.map((row) => Math.max(1, ...row));
  return (
    <div className="evaluation" data-testid="evaluation">
      <div className="eval-head">
        <span>
          test accuracy <strong data-testid="eval-accuracy">{ev.accuracy === null ? '—' : `${(ev.accuracy * 100).toFixed(2)}%`}</strong>
        </span>
        <span>
          avg loss <strong>{ev.avgLoss.toFixed(4)}</strong>
        </span>
        <span>
          samples <strong data-testid="eval-samples">{ev.samples}</strong>
        </span>
      </div>
      <div className="eval-body">
        {k > 0 && (
          <table className="confusion" data-testid="confusion-matrix">
            <thead>
              <tr>
                <th className="corner">actual ↓ predicted →</th>
                {classNames.map((c, j) => (
                  <th key={j} title={c}>
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {ev.confusion.map((row, i) => (
                <tr key={i}>
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
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Gallery classNames={classNames} />
      </div>
    </div>
  );
}

const fmtDims = (d: number[]) => `[${d.join(', ')}]`;

/** The last checkpoint report: per node, the keys that do not fit; "Start from" / "Evaluate these weights" when all do. */
function CheckpointReport() {
  const report = useStore((s) => s.ckptReport);
  const canStart = useStore((s) => {
    void s.run;
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
          checkpoint <strong title={report.path}>{report.path.split(/[\\/]/).pop()}</strong>{' '}
          {report.ok ? <span className="ckpt-ok">fits this graph ({report.nodes.length} nodes with weights)</span> : <span className="ckpt-bad">does not fit this graph</span>}
        </span>
        <span className="ckpt-report-buttons">
          {report.ok && (
            <button className="primary" data-testid="btn-checkpoint-start" disabled={!canStart} onClick={() => run(actionTrainFromCheckpoint, report.path)}>
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
        return (
          <label key={r.id} className="run-item" data-testid="run-item" title={`started ${new Date(r.startedAt).toLocaleString()}`}>
            <input type="checkbox" data-testid="run-overlay" checked={overlay.includes(r.id)} onChange={() => useStore.getState().toggleOverlay(r.id)} />
            <span className="run-swatch" style={{ background: OVERLAY_COLOURS[i % OVERLAY_COLOURS.length] }} />
            <span>{r.label}</span>
            <span className="muted">
              {r.state} · {r.epochs.length} epoch{r.epochs.length === 1 ? '' : 's'}
              {acc !== null ? ` · test acc ${(acc * 100).toFixed(2)}%` : ''}
              {r.final.testLoss !== null ? ` · test loss ${r.final.testLoss.toFixed(4)}` : ''}
            </span>
          </label>
        );
      })}
    </div>
  );
}

export function TrainingPanel() {
  const [open, setOpen] = useState(false);
  const state = useStore((s) => s.run.state);
  const starting = useStore((s) => s.run.starting);
  const busy = starting || state === 'running' || state === 'paused' || state === 'ready';
  return (
    <section className={`training panel${open ? '' : ' collapsed'}`} data-testid="training-panel">
      <header className="summary-head">
        <button className="link" onClick={() => setOpen(!open)} aria-expanded={open} data-testid="training-toggle">
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
            <Settings disabled={busy} paused={state === 'paused'} />
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
            <Progress />
            <CheckpointReport />
          </div>
          <TrainingCharts />
          <RunsList />
          <Playground />
          <Evaluation />
        </div>
      )}
    </section>
  );
}
