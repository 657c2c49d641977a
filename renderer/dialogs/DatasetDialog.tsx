/**
 * Choosing a dataset of one's own for training (from the Training panel's dataset select):
 *   - torchvision folder: a built-in read from `<root>/<Title>/raw` (optionally downloading what is missing)
 *   - image folder: one sub-folder per class, resized to h x w (or kept), grey or RGB, a validation share
 *   - CSV file: read its start (csvPreview), pick the label and the feature columns in a small table
 *     (non-numeric columns cannot be features, and say why), the task, standardisation, a validation share
 * "Use this dataset" sets training.dataset and, when the sample shape is known, the Input node's shape
 * (one undo step: actionUseDataset). Paths are the engine machine's; a relative one is relative to the
 * project file. Nothing is loaded here beyond the CSV preview and the folder listing: the run reads the data.
 * Paths start from the project's folder (the home folder for an unsaved project), as the run resolves
 * them, never from the engine's working directory; the desktop app adds a Browse… button (PathForm).
 */
import { useEffect, useState } from 'react';
import type { CsvPreviewDto } from '../../engine/contract/api';
import { actionUseDataset } from '../actions/actionUseDataset';
import { dialogStart } from '../actions/hostDialogs';
import { run } from '../actions/registry';
import { fmtShape } from '../state/graph';
import { joinPath, resolveUserPath } from '../state/paths';
import { useStore } from '../state/store';
import { BUILTIN_DATASETS, BUILTIN_DATASET_NAMES, DEFAULT_DATASET, isBuiltinDataset, type BuiltinDatasetName } from '../../engine/contract/datasets';
import { datasetShape, datasetTitle, valueAt } from '../state/training';
import { csvDatasetDoc, csvFeatureChoice, guessLabel, imageFolderDoc, parseFraction, parseSize } from '../state/datasetChoice';
import { PathForm, pathFormError, type PathFormError } from './PathForm';

export type DatasetDialogMode = 'torchvision' | 'image-folder' | 'csv';

const TITLES: Record<DatasetDialogMode, string> = { torchvision: 'Dataset from a torchvision folder', 'image-folder': 'Dataset from an image folder', csv: 'Dataset from a CSV file' };

/** The project's current dataset description when it is of this kind (to start the form from). */
function current(mode: DatasetDialogMode): Record<string, unknown> {
  const d = valueAt(useStore.getState().project.training, ['dataset']);
  return d && typeof d === 'object' && (d as { type?: unknown }).type === mode ? (d as Record<string, unknown>) : {};
}

const close = () => useStore.getState().setDialog(null);

/** The typed path as the engine should read it now (preview, listing): absolute, from the project's folder or home. */
function readablePath(typed: string): string {
  return resolveUserPath(typed, dialogStart(), useStore.getState().host?.home);
}

/**
 * The typed path as the project keeps it: a saved project keeps a relative path relative (the engine resolves it
 * against the project's folder, so the folder can move as a whole); an unsaved one has no folder, so the path is
 * made absolute from the home folder, as the preview read it.
 */
function projectPath(typed: string): string {
  const t = typed.trim();
  return useStore.getState().project.path && !t.startsWith('~') ? t : readablePath(t);
}

/** An example path in the start folder for an empty field. */
function example(name: string): string {
  const start = dialogStart();
  return start ? joinPath(start, name) : `/path/to/${name}`;
}

/** The label's note on relative paths. */
function relativeNote(): string {
  const start = dialogStart();
  if (!start) return '';
  return useStore.getState().project.path ? ` — relative to the project's folder, ${start}` : ` — relative to ${start}`;
}

/** Makes `dataset` the project's and closes the dialog (not named `use`: the hook rules would take it for React's use()). */
function applyDataset(dataset: Record<string, unknown>): void {
  run(actionUseDataset, { dataset, title: datasetTitle(dataset), sampleShape: datasetShape(dataset) });
  close();
}

function Fraction({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const bad = parseFraction(value) === null;
  return (
    <label className="ds-field" title="share of the training data held out as the test split (above 0, below 1)">
      <span>validation fraction</span>
      <input type="text" inputMode="decimal" data-testid="ds-val-fraction" className={bad ? 'invalid' : ''} value={value} onChange={(e) => onChange(e.target.value)} />
      {bad && <span className="setting-error">a number above 0 and below 1, e.g. 0.1</span>}
    </label>
  );
}

function TorchvisionForm() {
  const start = current('torchvision');
  const [name, setName] = useState<BuiltinDatasetName>(isBuiltinDataset(start.name) ? start.name : DEFAULT_DATASET);
  const [root, setRoot] = useState(typeof start.root === 'string' ? start.root : '');
  const [download, setDownload] = useState(start.download === true);
  const title = BUILTIN_DATASETS[name].title;
  return (
    <PathForm
      title={TITLES.torchvision}
      testId="dialog-dataset"
      label={`Root folder (it holds ${title}/raw/ — the folder torchvision.datasets.${title}(root) uses)${relativeNote()}`}
      placeholder={example('data')}
      path={root}
      onPathChange={setRoot}
      onSubmit={() => root.trim() && applyDataset({ type: 'torchvision', name, root: projectPath(root), download })}
      browse={{ mode: 'folder', purpose: 'dataset-root' }}
      onClose={close}
      busy={false}
      confirmLabel="Use this dataset"
      error={null}
    >
      <div className="ds-fields">
        <label className="ds-field">
          <span>dataset</span>
          <select data-testid="ds-tv-name" value={name} onChange={(e) => setName(e.target.value as BuiltinDatasetName)}>
            {BUILTIN_DATASET_NAMES.map((d) => (
              <option key={d} value={d}>
                {BUILTIN_DATASETS[d].title}
              </option>
            ))}
          </select>
        </label>
        <label className="ds-field" title="fetch missing files from the official source into this folder (resumable, MD5-checked)">
          <input type="checkbox" data-testid="ds-tv-download" checked={download} onChange={(e) => setDownload(e.target.checked)} />
          <span>download missing files</span>
        </label>
        <span className="muted small">input {fmtShape(BUILTIN_DATASETS[name].sampleShape)}</span>
      </div>
    </PathForm>
  );
}

function ImageFolderForm() {
  const start = current('image-folder');
  const startSize = Array.isArray(start.size) ? (start.size as number[]) : null;
  const [path, setPath] = useState(typeof start.path === 'string' ? start.path : '');
  const [resize, setResize] = useState(startSize !== null || !start.path);
  const [h, setH] = useState(String(startSize?.[0] ?? 28));
  const [w, setW] = useState(String(startSize?.[1] ?? 28));
  const [mode, setMode] = useState<'grey' | 'rgb'>(start.mode === 'rgb' ? 'rgb' : 'grey');
  const [fraction, setFraction] = useState(String(start.validation_fraction ?? 0.1));
  const [classes, setClasses] = useState<string[] | null>(null);
  const [error, setError] = useState<PathFormError | null>(null);
  const [busy, setBusy] = useState(false);
  const size = resize ? parseSize(h, w) : null;
  const doc = imageFolderDoc({ path: path.trim() ? projectPath(path) : '', size: resize ? size : undefined, mode, fraction });

  // the class folders, so a wrong folder shows before anything trains
  useEffect(() => {
    setClasses(null);
    const api = useStore.getState().api;
    if (!api || !path.trim()) return;
    let live = true;
    const t = setTimeout(() => {
      api.listDir({ path: readablePath(path) }).then(
        (r) => live && (setClasses(r.entries.filter((e) => e.kind === 'dir').map((e) => e.name)), setError(null)),
        (e) => live && setError(pathFormError(e)),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [path]);

  const submit = () => {
    if (!doc) return;
    if (classes !== null && classes.length < 2) {
      setError({ message: `${path} has ${classes.length === 0 ? 'no sub-folders' : `only one sub-folder (${classes[0]})`}: an image folder needs one sub-folder per class`, hint: 'Choose the folder that holds the class folders, e.g. photos/ with photos/cat/ and photos/dog/.' });
      return;
    }
    setBusy(true);
    applyDataset(doc);
  };
  return (
    <PathForm
      title={TITLES['image-folder']}
      testId="dialog-dataset"
      label={`Folder with one sub-folder per class (PNG or JPEG images)${relativeNote()}`}
      placeholder={example('photos')}
      browse={{ mode: 'folder', purpose: 'image-folder' }}
      path={path}
      onPathChange={setPath}
      onSubmit={submit}
      onClose={close}
      busy={busy}
      canSubmit={doc !== null}
      confirmLabel="Use this dataset"
      error={error}
    >
      <div className="ds-fields">
        <label className="ds-field">
          <input type="checkbox" data-testid="ds-img-resize" checked={resize} onChange={(e) => setResize(e.target.checked)} />
          <span>resize to</span>
          <input type="text" inputMode="numeric" className={`narrow${resize && !size ? ' invalid' : ''}`} data-testid="ds-img-h" disabled={!resize} value={h} onChange={(e) => setH(e.target.value)} aria-label="height" />
          <span>×</span>
          <input type="text" inputMode="numeric" className={`narrow${resize && !size ? ' invalid' : ''}`} data-testid="ds-img-w" disabled={!resize} value={w} onChange={(e) => setW(e.target.value)} aria-label="width" />
        </label>
        <label className="ds-field">
          <span>colour</span>
          <select data-testid="ds-img-mode" value={mode} onChange={(e) => setMode(e.target.value as 'grey' | 'rgb')}>
            <option value="grey">grey (1 channel)</option>
            <option value="rgb">RGB (3 channels)</option>
          </select>
        </label>
        <Fraction value={fraction} onChange={setFraction} />
      </div>
      <div className="ds-summary muted small" data-testid="ds-img-summary">
        {classes === null ? '' : `${classes.length} class folder${classes.length === 1 ? '' : 's'}${classes.length ? `: ${classes.slice(0, 12).join(', ')}${classes.length > 12 ? ', …' : ''}` : ''} · `}
        input {doc && datasetShape(doc) ? fmtShape(datasetShape(doc)) : resize ? '?' : 'the images’ own size (all must share one)'}
      </div>
    </PathForm>
  );
}

function CsvForm() {
  const start = current('csv');
  const [path, setPath] = useState(typeof start.path === 'string' ? start.path : '');
  const [preview, setPreview] = useState<CsvPreviewDto | null>(null);
  const [header, setHeader] = useState(start.header !== false);
  const [label, setLabel] = useState<string | null>(typeof start.label === 'string' ? start.label : null);
  const [features, setFeatures] = useState<string[]>(Array.isArray(start.features) ? (start.features as string[]) : []);
  const [task, setTask] = useState<'classification' | 'regression'>(start.task === 'regression' ? 'regression' : 'classification');
  const [standardize, setStandardize] = useState(start.standardize !== false);
  const [fraction, setFraction] = useState(String(start.validation_fraction ?? 0.2));
  const [error, setError] = useState<PathFormError | null>(null);
  const [busy, setBusy] = useState(false);
  const read = async (hdr = header) => {
    const api = useStore.getState().api;
    if (!api || !path.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const p = await api.csvPreview({ path: readablePath(path), header: hdr });
      setPreview(p);
      // keep the choices that still name columns; otherwise guess (the last column as the label)
      const names = p.columns.map((c) => c.name);
      const l = label !== null && names.includes(label) ? label : guessLabel(p);
      setLabel(l);
      const kept = features.filter((f) => names.includes(f) && f !== l);
      setFeatures(kept.length ? kept : p.columns.filter((c) => c.numeric && c.name !== l).map((c) => c.name));
      if (l !== null && label !== l) setTask(p.columns.find((c) => c.name === l)?.task ?? 'classification');
    } catch (e) {
      setPreview(null);
      setError(pathFormError(e));
    } finally {
      setBusy(false);
    }
  };
  // reopening the chooser for the project's CSV shows its table at once
  useEffect(() => {
    if (path.trim()) void read();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const stale = preview !== null && preview.path !== readablePath(path) && !preview.path.endsWith(path.trim());
  const doc = preview && !stale ? csvDatasetDoc({ path: projectPath(path), label, features, task, standardize, fraction, header, delimiter: preview.delimiter }) : null;
  const pickLabel = (name: string) => {
    setLabel(name);
    setFeatures((fs) => fs.filter((f) => f !== name));
    setTask(preview?.columns.find((c) => c.name === name)?.task ?? 'classification');
  };
  const toggle = (name: string) => setFeatures((fs) => (fs.includes(name) ? fs.filter((f) => f !== name) : preview!.columns.map((c) => c.name).filter((n) => n === name || fs.includes(n))));
  return (
    <PathForm
      title={TITLES.csv}
      testId="dialog-dataset"
      label={`CSV file (comma, semicolon or tab separated)${relativeNote()}`}
      placeholder={example('data.csv')}
      browse={{ mode: 'open', purpose: 'csv' }}
      path={path}
      onPathChange={(p) => setPath(p)}
      onSubmit={() => (doc ? applyDataset(doc) : void read())}
      onClose={close}
      busy={busy}
      canSubmit={doc !== null}
      confirmLabel="Use this dataset"
      error={error}
      wide
    >
      <div className="ds-fields">
        <button type="button" data-testid="ds-csv-read" disabled={busy || !path.trim()} onClick={() => void read()}>
          {preview && !stale ? 'Read again' : 'Read columns'}
        </button>
        <label className="ds-field">
          <input type="checkbox" data-testid="ds-csv-header" checked={header} onChange={(e) => {
            setHeader(e.target.checked);
            if (preview) void read(e.target.checked);
          }} />
          <span>first row names the columns</span>
        </label>
        {preview && (
          <span className="muted small" data-testid="ds-csv-info">
            {preview.columns.length} columns · separated by {preview.delimiter === '\t' ? 'tabs' : `"${preview.delimiter}"`} · {preview.complete ? `${preview.sampledRows} rows` : `first ${preview.sampledRows} rows read`}
          </span>
        )}
      </div>
      {preview && !stale && (
        <>
          <div className="csv-preview-wrap">
            <table className="csv-preview" data-testid="csv-preview">
              <thead>
                <tr>
                  <th className="csv-rowhead">label</th>
                  {preview.columns.map((c) => (
                    <th key={c.name}>
                      <input type="radio" name="csv-label" data-testid={`csv-label-${c.name}`} checked={label === c.name} onChange={() => pickLabel(c.name)} title={`predict ${c.name}`} />
                    </th>
                  ))}
                </tr>
                <tr>
                  <th className="csv-rowhead">feature</th>
                  {preview.columns.map((c) => {
                    const choice = csvFeatureChoice(c, label);
                    return (
                      <th key={c.name} title={choice.reason ?? `an input of the model`}>
                        <input type="checkbox" data-testid={`csv-feature-${c.name}`} disabled={!choice.enabled} checked={choice.enabled && features.includes(c.name)} onChange={() => toggle(c.name)} />
                      </th>
                    );
                  })}
                </tr>
                <tr>
                  <th className="csv-rowhead" />
                  {preview.columns.map((c) => (
                    <th key={c.name} className={`csv-colname${c.numeric ? '' : ' text'}`} title={c.reason ?? `numeric${c.integer ? ', whole numbers' : ''}; ${c.distinct} distinct`}>
                      {c.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {preview.rows.map((r, i) => (
                  <tr key={i}>
                    <td className="csv-rowhead muted">{i + 1}</td>
                    {r.map((v, j) => (
                      <td key={j} className={preview.columns[j].name === label ? 'is-label' : features.includes(preview.columns[j].name) ? 'is-feature' : ''}>
                        {v}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="ds-fields">
            <label className="ds-field">
              <span>task</span>
              <select data-testid="ds-csv-task" value={task} onChange={(e) => setTask(e.target.value as 'classification' | 'regression')}>
                <option value="classification">classification</option>
                <option value="regression" disabled={label !== null && preview.columns.find((c) => c.name === label)?.numeric === false}>
                  regression
                </option>
              </select>
            </label>
            <label className="ds-field" title="scale each feature to mean 0, std 1 (training split's statistics)">
              <input type="checkbox" data-testid="ds-csv-standardize" checked={standardize} onChange={(e) => setStandardize(e.target.checked)} />
              <span>standardise features</span>
            </label>
            <Fraction value={fraction} onChange={setFraction} />
            <span className="muted small" data-testid="ds-csv-summary">
              {label === null ? 'choose the label column' : features.length === 0 ? 'choose at least one feature' : `input ${fmtShape([features.length])} → ${label}`}
            </span>
          </div>
        </>
      )}
    </PathForm>
  );
}

export function DatasetDialog({ mode }: { mode: DatasetDialogMode }) {
  if (mode === 'torchvision') return <TorchvisionForm />;
  if (mode === 'image-folder') return <ImageFolderForm />;
  return <CsvForm />;
}
