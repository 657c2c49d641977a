/**
 * The dataset view (under the training panel, collapsible): pick a dataset, see its first training
 * samples of each class, the per-class counts of both splits and the input shape, and make it the
 * project's dataset ("Use this dataset": training.dataset and the Input node's shape, one undo step).
 */
import { useEffect, useState } from 'react';
import type { DatasetInfoDto } from '../../engine/host/api';
import { actionUseDataset } from '../actions/actionUseDataset';
import { reportError, run } from '../actions/registry';
import { fmtCount, fmtShape } from '../state/graph';
import { useStore } from '../state/store';
import { SampleImage } from './SampleImage';

const CHOICES: { name: 'mnist' | 'fashion-mnist' | 'kmnist' | 'cifar10'; label: string }[] = [
  { name: 'mnist', label: 'MNIST' },
  { name: 'fashion-mnist', label: 'FashionMNIST' },
  { name: 'kmnist', label: 'KMNIST' },
  { name: 'cifar10', label: 'CIFAR-10' },
];


function Counts({ info }: { info: DatasetInfoDto }) {
  const max = Math.max(1, ...info.counts.train, ...info.counts.test);
  const total = (a: number[]) => a.reduce((x, y) => x + y, 0);
  return (
    <div className="dataset-counts" data-testid="dataset-counts">
      <div className="dataset-counts-head">
        <span>class</span>
        <span>
          train <strong data-testid="dataset-train-total">{fmtCount(total(info.counts.train))}</strong> · test{' '}
          <strong data-testid="dataset-test-total">{fmtCount(total(info.counts.test))}</strong>
        </span>
      </div>
      {info.classes.map((c, i) => (
        <div key={c} className="dataset-count-row" data-testid="dataset-count" data-train={info.counts.train[i]} data-test={info.counts.test[i]}>
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

function DatasetBody() {
  const api = useStore((s) => s.api);
  const connected = useStore((s) => s.connection.status === 'open');
  const projectDataset = useStore((s) => (typeof s.project.training?.dataset === 'string' ? s.project.training.dataset : 'fashion-mnist'));
  const [name, setName] = useState<string>(projectDataset);
  const [info, setInfo] = useState<DatasetInfoDto | null>(null);
  const [error, setError] = useState<{ message: string; hint?: string } | null>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    if (!api || !connected) return;
    let live = true;
    setLoading(true);
    setError(null);
    setInfo(null);
    api
      .datasetInfo({ name: name as (typeof CHOICES)[number]['name'], perClass: 8 })
      .then((r) => live && setInfo(r))
      .catch((e: unknown) => {
        if (!live) return;
        const err = e as { message?: string; hint?: string };
        setError({ message: err.message ?? String(e), hint: err.hint });
        reportError(e, 'Load dataset');
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [api, connected, name]);

  const byClass = info ? info.classes.map((c, i) => ({ c, samples: info.samples.filter((s) => s.label === i) })) : [];
  return (
    <div className="dataset-body">
      <div className="dataset-controls">
        <label className="dataset-choice">
          <span>dataset</span>
          <select data-testid="dataset-select" value={name} onChange={(e) => setName(e.target.value)}>
            {CHOICES.map((d) => (
              <option key={d.name} value={d.name}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
        {info && (
          <span className="dataset-shape">
            input shape <strong data-testid="dataset-shape">{fmtShape(info.sampleShape)}</strong>
            <span className="muted"> · {info.classes.length} classes</span>
          </span>
        )}
        {loading && <span className="muted" data-testid="dataset-loading">loading…</span>}
        <button
          className="primary"
          data-testid="btn-use-dataset"
          disabled={!info || info.name !== name}
          title="Set the project's training dataset and the Input node's shape (one undo step)"
          onClick={() => info && run(actionUseDataset, { dataset: info.name, title: info.title, sampleShape: info.sampleShape })}
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
      {info && (
        <div className="dataset-content">
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
          <Counts info={info} />
        </div>
      )}
      {info && <div className="dataset-source muted" title={info.source}>{info.title} · {info.source}</div>}
    </div>
  );
}

export function DatasetPanel() {
  const [open, setOpen] = useState(false);
  return (
    <section className={`dataset panel${open ? '' : ' collapsed'}`} data-testid="dataset-panel">
      <header className="summary-head">
        <button className="link" onClick={() => setOpen(!open)} aria-expanded={open} data-testid="btn-dataset">
          <span className={`chevron${open ? ' open' : ''}`}>▸</span> Dataset
        </button>
      </header>
      {open && <DatasetBody />}
    </section>
  );
}
