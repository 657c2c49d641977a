/**
 * The Training panel's dataset chooser: the built-ins, the project's own description when it is another
 * kind, and the dialogs that describe your own data (torchvision folder, image folder, CSV file).
 *
 * A built-in that Netloom does not ship (KMNIST, CIFAR-10) and that is not on this computer is marked
 * "not downloaded" in the list; chosen, it is written so that Start downloads it first (state/datasetOnDisk.ts),
 * and a notice under the row says so with a button that starts that download now (the run's download
 * progress and Stop apply; a stopped download resumes next time).
 */
import { actionTrainStart } from '../actions/actionTrain';
import { actionUseDataset } from '../actions/actionUseDataset';
import { run } from '../actions/registry';
import type { DatasetDialogMode } from '../dialogs/DatasetDialog';
import { useDatasetOnDisk } from '../hooks/useDatasetOnDisk';
import { builtinInDataDir, datasetValueFor, type OnDisk } from '../state/datasetOnDisk';
import { useStore } from '../state/store';
import { datasetKind, datasetLabel, datasetShape, datasetTitle, valueAt } from '../state/training';
import { BUILTIN_DATASETS, BUILTIN_DATASET_NAMES, isBuiltinDataset, type BuiltinDatasetName } from '../../engine/contract/datasets';
import { Field } from './SettingField';

const CHOOSERS: { mode: DatasetDialogMode; label: string }[] = [
  { mode: 'torchvision', label: 'torchvision folder…' },
  { mode: 'image-folder', label: 'image folder…' },
  { mode: 'csv', label: 'CSV file…' },
];

const optionText = (name: BuiltinDatasetName, onDisk: OnDisk | undefined) => (onDisk === 'missing' ? `${name} (not downloaded, ${BUILTIN_DATASETS[name].downloadSize})` : name);

/** "KMNIST is not downloaded yet" with the way to get it; nothing once it is on disk. */
function DownloadNotice({ name, disabled }: { name: BuiltinDatasetName; disabled: boolean }) {
  const spec = BUILTIN_DATASETS[name];
  const size = spec.downloadSize.replace(/^about /, '');
  const download = () => {
    // a project that names it plainly (saved before this chooser) learns to download first
    const value = datasetValueFor(name);
    run(actionUseDataset, { dataset: value, title: spec.title, sampleShape: datasetShape(name) });
    run(actionTrainStart, undefined);
  };
  return (
    <div className="dataset-download" data-testid="dataset-not-downloaded" role="status">
      <span>
        <strong>{spec.title}</strong> is not downloaded yet. Start downloads it first ({spec.downloadSize}); Stop abandons the download and the next Start resumes it.
      </span>
      <button type="button" className="tool small" data-testid="btn-dataset-download" disabled={disabled} onClick={download}>
        Download ({size}) and train
      </button>
    </div>
  );
}

export function DatasetField({ disabled }: { disabled: boolean }) {
  const dataset = useStore((s) => valueAt(s.project.training, ['dataset']));
  const onDisk = useDatasetOnDisk();
  const builtin = builtinInDataDir(dataset);
  const custom = builtin === null;
  const open = (mode: DatasetDialogMode) => useStore.getState().setDialog({ kind: 'dataset', mode });
  return (
    <>
      <Field label="dataset">
        <span className="setting-input">
          <select
            className="fixed"
            data-testid="train-dataset"
            disabled={disabled}
            value={builtin ?? 'custom'}
            title={custom ? datasetLabel(dataset) : undefined}
            onChange={(e) => {
              const v = e.target.value;
              if (v.startsWith('@')) open(v.slice(1) as DatasetDialogMode);
              else if (isBuiltinDataset(v)) run(actionUseDataset, { dataset: datasetValueFor(v), title: BUILTIN_DATASETS[v].title, sampleShape: datasetShape(v) });
            }}
          >
            {BUILTIN_DATASET_NAMES.map((d) => (
              <option key={d} value={d} data-on-disk={onDisk[d] ?? 'bundled'}>
                {optionText(d, onDisk[d])}
              </option>
            ))}
            {custom && <option value="custom">{datasetLabel(dataset)}</option>}
            <optgroup label="your data">
              {CHOOSERS.map((c) => (
                <option key={c.mode} value={`@${c.mode}`}>
                  {c.label}
                </option>
              ))}
            </optgroup>
          </select>
          {custom && (
            <button type="button" className="tool small" data-testid="train-dataset-edit" disabled={disabled} title={`change ${datasetTitle(dataset)}`} onClick={() => open(datasetKind(dataset) as DatasetDialogMode)}>
              edit
            </button>
          )}
        </span>
      </Field>
      {builtin && onDisk[builtin] === 'missing' && <DownloadNotice name={builtin} disabled={disabled} />}
    </>
  );
}
