/**
 * The run's progress: state, a bar, epoch / batch, samples/s, ETA and the running loss; while the
 * run prepares and its dataset downloads, the file, bytes and speed instead (DownloadProgress).
 */
import { useMetricSeries } from '../charts/useMetricSeries';
import { fmtBytes } from '../state/graph';
import { useStore, type DownloadView } from '../state/store';
import { BestEpoch } from './BestEpoch';
import { effectiveSettings, fmtEta } from '../state/training';

export function TrainProgress() {
  const state = useStore((s) => s.run.state);
  const starting = useStore((s) => s.run.starting);
  // while a new run prepares, the last run's numbers (kept until the engine accepts the new one) are not its own
  const last = useMetricSeries((m) => m.progress);
  const p = starting ? null : last;
  const training = useStore((s) => s.project.training);
  const download = useStore((s) => (s.run.starting ? s.run.download : null));
  // the run's own epoch count (a paused run's edits never change it)
  const runEpochs = useStore((s) => s.run.settings?.epochs ?? null);
  const totalEpochs = p ? Math.max(p.epoch, runEpochs ?? effectiveSettings(training, useStore.getState().trainSettings).epochs) : 0;
  const frac = p && p.batches ? p.batch / p.batches : 0;
  const label = starting ? 'preparing…' : (state ?? 'idle');
  const device = useStore((s) => (s.run.starting ? null : s.run.device));
  if (download) return <DownloadProgress d={download} />;
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
            <BestEpoch />
          </>
        )}
        {device && (
          <span className="muted run-device" data-testid="train-device-label" title={device}>
            on {device.replace(/ \(.*$/, '')}
          </span>
        )}
      </div>
    </div>
  );
}

/** "3.1 / 26.4 MB" (or "3.1 MB" when the size is unknown) */
export function fmtReceived(received: number, total: number | null): string {
  if (total === null) return fmtBytes(received);
  const [r, t] = [fmtBytes(received), fmtBytes(total)];
  const unit = (x: string) => x.split(' ')[1];
  return unit(r) === unit(t) ? `${r.split(' ')[0]} / ${t}` : `${r} / ${t}`;
}

/** "downloading FashionMNIST 2/4 train-labels-idx1-ubyte.gz 3.1 / 26.4 MB · 4.2 MB/s" with a bar of the file's bytes. */
function DownloadProgress({ d }: { d: DownloadView }) {
  const frac = d.total ? Math.min(1, d.received / d.total) : 0;
  return (
    <div className="train-progress" data-testid="train-progress" data-state="preparing">
      <div className="train-progress-bar" data-testid="download-bar" data-fraction={frac.toFixed(3)}>
        <div className="train-progress-fill download" style={{ width: `${Math.round(frac * 1000) / 10}%` }} />
      </div>
      <div className="train-progress-text train-download" data-testid="train-download" data-received={d.received} data-total={d.total ?? ''} data-index={d.index} data-count={d.count}>
        <span className="run-state preparing" data-testid="train-state">
          downloading
        </span>
        <span>
          <strong>{d.dataset}</strong> {d.index}/{d.count} <span className="mono">{d.file}</span>
        </span>
        <span>
          <strong>{fmtReceived(d.received, d.total)}</strong> · {fmtBytes(Math.round(d.bytesPerSec))}/s
        </span>
        <span className="muted train-download-hint">Stop abandons the download (it resumes next time)</span>
      </div>
    </div>
  );
}
