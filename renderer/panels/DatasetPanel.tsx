/**
 * The dataset view (under the training panel, collapsible): the project's dataset, or a built-in picked to look
 * at, as a run would train on it (datasetInfo). Images (built-ins, image folders): the first training samples of
 * each class, resized as training resizes them, with per-class counts of both splits. A CSV file: its first rows
 * with each feature's mean and std, and the class counts or the regression target's histogram. Both show the
 * input shape and the loader's notes. "Use this dataset" makes it the project's dataset and gives the Input node
 * its sample shape (one undo step).
 */
import { useEffect, useRef, useState } from 'react';
import type { DatasetInfoDto } from '../../engine/contract/api';
import { actionToggleDataset } from '../actions/actionPanels';
import { actionUseDataset } from '../actions/actionUseDataset';
import { run } from '../actions/registry';
import { defaultChoice, infoRequest, viewChoices, type ViewChoice } from '../state/datasetView';
import { fmtCount, fmtShape } from '../state/graph';
import { useStore } from '../state/store';
import { BUILTIN_DATASETS } from '../../engine/contract/datasets';
import { DatasetTable, TargetHistogram } from './DatasetTable';
import { SampleImage } from './SampleImage';
import '../styles/own-data.css';

/** Rows of a CSV shown in the table. */
const TABLE_ROWS = 12;

function Counts({ info }: { info: DatasetInfoDto }) {
  const max = Math.max(1, ...info.counts.train, ...info.counts.test);
  const test = info.testSplit === 'validation' ? 'validation' : 'test';
  return (
    <div className="dataset-counts" data-testid="dataset-counts">
      <div className="dataset-counts-head">
        <span>class</span>
        <span>
          train <strong data-testid="dataset-train-total">{fmtCount(info.totals.train)}</strong> · {test}{' '}
          <strong data-testid="dataset-test-total">{fmtCount(info.totals.test)}</strong>
        </span>
      </div>
      {info.classes.map((c, i) => (
        <div key={c} className="dataset-count-row" data-testid="dataset-count" data-class={c} data-train={info.counts.train[i]} data-test={info.counts.test[i]}>
          <span className="dataset-class" title={c}>
            {c}
          </span>
          <span className="dataset-bars">
            <span className="dataset-bar train" style={{ width: `${(info.counts.train[i] / max) * 100}%` }} />
            <span className="dataset-bar test" style={{ width: `${(info.counts.test[i] / max) * 100}%` }} />
          </span>
          <span className="dataset-num">
            {fmtCount(info.counts.train[i])} / {fmtCount(info.counts.test[i])}
          </span>
        </div>
      ))}
    </div>
  );
}

function ImageGrid({ info }: { info: DatasetInfoDto }) {
  const byClass = info.classes.map((c, i) => ({ c, samples: info.samples.filter((s) => s.label === i) }));
  return (
    <div className="dataset-grid" data-testid="dataset-grid">
      {byClass.map(({ c, samples }) => (
        <div key={c} className="dataset-class-row">
          <span className="dataset-class" title={c}>
            {c}
          </span>
          <span className="dataset-samples">
            {samples.map((s, k) => (
              <SampleImage key={k} pixels={s.pixels} shape={info.sampleShape} title={c} testId="dataset-sample" />
            ))}
          </span>
        </div>
      ))}
    </div>
  );
}

/** What the header says about the data besides its shape: classes, or the CSV's task and columns. */
function describe(info: DatasetInfoDto): string {
  const classes = `${info.classes.length} classes`;
  if (!info.table) return classes;
  const features = `${info.table.features.length} features`;
  return info.table.task === 'classification' ? `${features} · ${classes}` : `${features} · regression on ${info.table.label}`;
}

function DatasetBody() {
  const api = useStore((s) => s.api);
  const connected = useStore((s) => s.connection.status === 'open');
  const projectDataset = useStore((s) => s.project.training?.dataset);
  const projectPath = useStore((s) => s.project.path);
  const projectKey = JSON.stringify(projectDataset ?? null);
  const [choice, setChoice] = useState<ViewChoice>(() => defaultChoice(projectDataset));
  const [info, setInfo] = useState<{ choice: ViewChoice; info: DatasetInfoDto } | null>(null);
  const [error, setError] = useState<{ message: string; hint?: string } | null>(null);
  const [loading, setLoading] = useState(false);
  /** bumped by Reload: read the files again */
  const [reload, setReload] = useState(0);
  const reloaded = useRef(0);

  // another project (or another dataset for this one): show it
  useEffect(() => {
    setChoice(defaultChoice(projectDataset));
    // projectKey stands for projectDataset
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [projectKey]);

  useEffect(() => {
    if (!api || !connected) return;
    let live = true;
    setLoading(true);
    setError(null);
    setInfo(null);
    const fresh = reload > reloaded.current;
    reloaded.current = reload;
    api
      .datasetInfo(infoRequest(choice, projectDataset, projectPath, { perClass: 8, rows: TABLE_ROWS, fresh }))
      .then((r) => live && setInfo({ choice, info: r }))
      .catch((e: unknown) => {
        if (!live) return;
        // shown in the panel (with the engine's hint): a dataset that cannot be read is not an app failure
        const err = e as { message?: string; hint?: string };
        setError({ message: err.message ?? String(e), hint: err.hint });
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
    // projectKey stands for projectDataset
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, connected, choice, projectKey, projectPath, reload]);

  const shown = info?.choice === choice ? info.info : null;
  const use = () => {
    if (!shown) return;
    if (choice === 'project') run(actionUseDataset, { dataset: projectDataset, title: shown.title, sampleShape: shown.sampleShape });
    else run(actionUseDataset, { dataset: choice, title: BUILTIN_DATASETS[choice].title, sampleShape: shown.sampleShape });
  };
  return (
    <div className="dataset-body">
      <div className="dataset-controls">
        <label className="dataset-choice">
          <span>dataset</span>
          <select data-testid="dataset-select" value={choice} onChange={(e) => setChoice(e.target.value as ViewChoice)}>
            {viewChoices(projectDataset).map((d) => (
              <option key={d.value} value={d.value}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
        {shown && (
          <span className="dataset-shape">
            input shape <strong data-testid="dataset-shape">{fmtShape(shown.sampleShape)}</strong>
            <span className="muted" data-testid="dataset-describe">
              {' '}
              · {describe(shown)}
            </span>
          </span>
        )}
        {loading && <span className="muted" data-testid="dataset-loading">loading…</span>}
        {choice === 'project' && (
          <button data-testid="dataset-reload" disabled={loading} title="Read the files again (they are read once and kept while unchanged)" onClick={() => setReload((n) => n + 1)}>
            Reload
          </button>
        )}
        <button
          className="primary"
          data-testid="btn-use-dataset"
          disabled={!shown}
          title={shown ? `Train on this dataset and set the Input node's shape to ${fmtShape(shown.sampleShape)} (one undo step)` : undefined}
          onClick={use}
        >
          Use this dataset
        </button>
      </div>
      {error && (
        <div className="dataset-error" data-testid="dataset-error" role="alert">
          {error.message}
          {error.hint && <div className="muted">{error.hint}</div>}
        </div>
      )}
      {shown && (
        <div className={`dataset-content${shown.table ? ' tabular' : ''}`}>
          {shown.table ? <DatasetTable info={shown} table={shown.table} /> : <ImageGrid info={shown} />}
          {shown.table?.target ? <TargetHistogram info={shown} target={shown.table.target} /> : <Counts info={shown} />}
        </div>
      )}
      {shown && shown.notes.length > 0 && (
        <ul className="dataset-notes" data-testid="dataset-notes">
          {shown.notes.map((n, i) => (
            <li key={i}>{n}</li>
          ))}
        </ul>
      )}
      {shown && (
        <div className="dataset-source muted" title={shown.source}>
          {shown.title} · {shown.source}
        </div>
      )}
    </div>
  );
}

export function DatasetPanel() {
  const open = useStore((s) => s.panels.dataset);
  return (
    <section className={`dataset panel${open ? '' : ' collapsed'}`} data-testid="dataset-panel">
      <header className="summary-head">
        <button className="link" onClick={() => run(actionToggleDataset, undefined)} aria-expanded={open} data-testid="btn-dataset">
          <span className={`chevron${open ? ' open' : ''}`}>▸</span> Dataset
        </button>
      </header>
      {open && <DatasetBody />}
    </section>
  );
}
