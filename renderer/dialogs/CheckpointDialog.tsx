/**
 * File ▸ Export (and the Training panel's Save checkpoint): a path on the engine's machine for the app's run
 * in one format (state/exports.ts): a safetensors or PyTorch .pt state dict of its last weights (optionally
 * with the optimizer state, to resume training from the file) or of the best epoch's (lowest test loss;
 * weights only, as the engine keeps no optimizer state for it), an ONNX model, or PyTorch code in a folder
 * (with model.pt when there is a run; code only when nothing was trained).
 * An existing file is replaced only after the user agreed: the engine refuses it (NL_EXISTS), the
 * dialog says so and Save becomes Replace for that path (the desktop's own Save dialog asks by itself).
 */
import { useState } from 'react';
import type { ExportFormatDto } from '../../engine/contract/api';
import { dialogStart } from '../actions/hostDialogs';
import { isExistsError } from '../actions/projectOps';
import { actionContext } from '../actions/registry';
import { useBestEpoch } from '../hooks/useBestEpoch';
import { EXPORT_FORMATS, checkpointFormatOf, exportFileName, exportMessage, resumableDefault, withCheckpointFormat } from '../state/exports';
import { proposedFile, resolveUserPath } from '../state/paths';
import { useStore } from '../state/store';
import { PathForm, pathFormError, type PathFormError } from './PathForm';

type Which = 'last' | 'best';

export function CheckpointDialog() {
  const format = useStore((s) => (s.dialog?.kind === 'checkpoint' ? (s.dialog.format ?? 'safetensors') : null));
  if (!format) return null;
  return <CheckpointDialogBody key={format} initial={format} />;
}

/** The weights the file gets: the last or the best epoch's, and the optimizer state (checkpoints only). */
function WeightsFields(p: { failed: boolean; bestEpoch: number | null; which: Which; setWhich: (w: Which) => void; resumable: boolean; optimizer: boolean; setOptimizer: (on: boolean) => void; format: ExportFormatDto }) {
  return (
    <>
      <fieldset className="ckpt-which">
        <legend className="muted small">{p.format === 'pytorch' ? 'weights (saved as model.pt beside the code)' : 'weights'}</legend>
        <label className="checkbox-line">
          <input type="radio" name="ckpt-which" data-testid="ckpt-which-last" checked={p.which === 'last'} onChange={() => p.setWhich('last')} />
          last weights{p.failed ? ' (the last good ones, from before the failing batch)' : ''}
        </label>
        <label className={`checkbox-line${p.bestEpoch === null ? ' disabled' : ''}`} title={p.bestEpoch === null ? 'available once an epoch has finished' : undefined}>
          <input type="radio" name="ckpt-which" data-testid="ckpt-which-best" disabled={p.bestEpoch === null} checked={p.which === 'best'} onChange={() => p.setWhich('best')} />
          <span data-testid="ckpt-best-label">{p.bestEpoch === null ? 'best epoch (none yet: no epoch has finished)' : `best epoch (${p.bestEpoch}, lowest test loss)`}</span>
        </label>
      </fieldset>
      {p.resumable && (
        <label className={`checkbox-line${p.which === 'best' ? ' disabled' : ''}`} title={p.which === 'best' ? 'the optimizer state is kept for the last weights only' : undefined}>
          <input type="checkbox" data-testid="ckpt-with-optimizer" disabled={p.which === 'best'} checked={p.optimizer} onChange={(e) => p.setOptimizer(e.target.checked)} /> include
          optimizer state (to resume training){p.format === 'pt' ? ': PyTorch\'s checkpoint layout, which train.py resumes from too' : ''}
        </label>
      )}
    </>
  );
}

/** Safetensors or PyTorch .pt: the two checkpoint formats, one dialog (the file name's extension decides). */
function CheckpointFormatChoice({ format, onChange }: { format: 'safetensors' | 'pt'; onChange: (f: 'safetensors' | 'pt') => void }) {
  return (
    <fieldset className="ckpt-which" data-testid="ckpt-format">
      <legend className="muted small">format</legend>
      <label className="checkbox-line">
        <input type="radio" name="ckpt-format" data-testid="ckpt-format-safetensors" checked={format === 'safetensors'} onChange={() => onChange('safetensors')} /> safetensors (Netloom's default)
      </label>
      <label className="checkbox-line">
        <input type="radio" name="ckpt-format" data-testid="ckpt-format-pt" checked={format === 'pt'} onChange={() => onChange('pt')} /> PyTorch .pt (torch.load)
      </label>
    </fieldset>
  );
}

function CheckpointDialogBody({ initial }: { initial: ExportFormatDto }) {
  const runId = useStore((s) => s.run.runId);
  const failed = useStore((s) => s.run.state === 'failed');
  const name = useStore((s) => s.project.name);
  const bestEpoch = useBestEpoch();
  // the project's folder (or home when unsaved): never the engine's working directory
  const [start] = useState(() => dialogStart());
  const [path, setPath] = useState(() => proposedFile(start, exportFileName(name, initial)));
  /** the user typed or picked a path: the dialog no longer rewrites its extension */
  const [touched, setTouched] = useState(false);
  const [chosen, setWhich] = useState<Which>('last');
  const [withOptimizer, setWithOptimizer] = useState(false);
  const [error, setError] = useState<PathFormError | null>(null);
  const [busy, setBusy] = useState(false);
  /** the file the engine said exists: saving to it again replaces it */
  const [replace, setReplace] = useState<string | null>(null);
  /** the file chosen in the operating system's Save dialog, which asked before returning an existing one */
  const [picked, setPicked] = useState<string | null>(null);
  const home = useStore((s) => s.host?.home);
  const checkpoint = initial === 'safetensors' || initial === 'pt';
  /** the checkpoint format chosen (a name without .pt/.pth/.safetensors gets its extension from the engine) */
  const [chosenFormat, setChosenFormat] = useState<ExportFormatDto>(initial);
  // a checkpoint's format follows its file name (.pt/.pth or .safetensors), else the one chosen
  const format: ExportFormatDto = checkpoint ? (checkpointFormatOf(path) ?? chosenFormat) : initial;
  const spec = EXPORT_FORMATS[format];
  const target = path.trim() ? resolveUserPath(path, start, home) : '';
  const replacing = replace !== null && target === replace;
  // 'best' only once an epoch has finished; the optimizer state only with the last weights
  const which: Which = chosen === 'best' && bestEpoch !== null ? 'best' : 'last';
  const optimizer = spec.resumable && which === 'last' && withOptimizer;
  const close = () => useStore.getState().setDialog(null);
  const changePath = (p: string) => {
    setPath(p);
    setTouched(true);
    setError(null);
    setReplace(null); // a changed path asks again
  };
  const chooseFormat = (f: 'safetensors' | 'pt') => {
    setChosenFormat(f);
    setPath((p) => withCheckpointFormat(p, f));
    setReplace(null);
  };
  const chooseOptimizer = (on: boolean) => {
    setWithOptimizer(on);
    if (checkpoint) chooseFormat(resumableDefault(format as 'safetensors' | 'pt', on, touched));
  };
  const save = async () => {
    const ctx = actionContext();
    if (!ctx || !path.trim() || (!runId && !spec.weightsOptional)) return;
    setBusy(true);
    const s = ctx.state();
    const file = resolveUserPath(path, start, s.host?.home);
    try {
      const overwrite = file === replace || (file === picked && (spec.extension === null || file.toLowerCase().endsWith(spec.extension)));
      const source = runId ? { runId } : { project: s.toProject() };
      const r = await ctx.api.exportModel({ format, path: file, ...source, ...(s.project.path ? { projectPath: s.project.path } : {}), which, withOptimizer: optimizer, overwrite });
      close();
      const what = !runId ? null : which === 'best' ? `epoch ${bestEpoch}'s weights (best)` : optimizer ? 'last weights and optimizer state' : 'last weights';
      useStore.getState().toast({ kind: 'success', message: exportMessage(format, r.files, file, what) });
    } catch (e) {
      if (isExistsError(e)) {
        setReplace(file);
        setError({ message: e.message, hint: 'Press Replace to overwrite it, or choose another name.' });
      } else setError(pathFormError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <PathForm
      title={EXPORT_FORMATS[initial].title /* the item chosen, even when the file name then picks the other checkpoint format */}
      testId="dialog-checkpoint"
      label={start ? `${spec.fileLabel} (a ${spec.extension === null ? 'folder' : 'file'} name alone is saved in ${start})` : spec.fileLabel}
      path={path}
      onPathChange={changePath}
      onPicked={setPicked}
      onSubmit={() => void save()}
      onClose={close}
      busy={busy}
      confirmLabel={replacing ? 'Replace' : spec.extension === null ? 'Export' : initial === 'safetensors' ? 'Save' : 'Export'}
      error={error}
      browse={spec.browse}
      list={{ kind: spec.list, mode: 'save' }}
    >
      {checkpoint && <CheckpointFormatChoice format={format as 'safetensors' | 'pt'} onChange={chooseFormat} />}
      {runId ? (
        <WeightsFields failed={failed} bestEpoch={bestEpoch} which={which} setWhich={setWhich} resumable={spec.resumable} optimizer={optimizer} setOptimizer={chooseOptimizer} format={format} />
      ) : (
        <p className="muted small" data-testid="export-no-weights">
          Nothing has been trained yet: the folder gets model.py and train.py without weights. Train the model (or load weights and evaluate them) to include model.pt.
        </p>
      )}
    </PathForm>
  );
}
