/**
 * Save checkpoint: a path (the engine machine's) for a safetensors state dict of the app's run:
 * its last weights (optionally with the optimizer state, to resume training from the file), or
 * the best epoch's (lowest test loss; weights only, as the engine keeps no optimizer state for it).
 * An existing file is replaced only after the user agreed: the engine refuses it (NL_EXISTS), the
 * dialog says so and Save becomes Replace for that path (the desktop's own Save dialog asks by itself).
 */
import { useState } from 'react';
import { dialogStart } from '../actions/hostDialogs';
import { isExistsError } from '../actions/projectOps';
import { actionContext } from '../actions/registry';
import { useBestEpoch } from '../hooks/useBestEpoch';
import { checkpointFileName, proposedFile, resolveUserPath } from '../state/paths';
import { useStore } from '../state/store';
import { PathForm, pathFormError, type PathFormError } from './PathForm';

type Which = 'last' | 'best';

export function CheckpointDialog() {
  const open = useStore((s) => s.dialog?.kind === 'checkpoint');
  if (!open) return null;
  return <CheckpointDialogBody />;
}

function CheckpointDialogBody() {
  const runId = useStore((s) => s.run.runId);
  const failed = useStore((s) => s.run.state === 'failed');
  const name = useStore((s) => s.project.name);
  const bestEpoch = useBestEpoch();
  // the project's folder (or home when unsaved): never the engine's working directory
  const [start] = useState(() => dialogStart());
  const [path, setPath] = useState(() => proposedFile(start, checkpointFileName(name)));
  const [chosen, setWhich] = useState<Which>('last');
  const [withOptimizer, setWithOptimizer] = useState(false);
  const [error, setError] = useState<PathFormError | null>(null);
  const [busy, setBusy] = useState(false);
  /** the file the engine said exists: saving to it again replaces it */
  const [replace, setReplace] = useState<string | null>(null);
  /** the file chosen in the operating system's Save dialog, which asked before returning an existing one */
  const [picked, setPicked] = useState<string | null>(null);
  const home = useStore((s) => s.host?.home);
  const target = path.trim() ? resolveUserPath(path, start, home) : '';
  const replacing = replace !== null && target === replace;
  // 'best' only once an epoch has finished; the optimizer state only with the last weights
  const which: Which = chosen === 'best' && bestEpoch !== null ? 'best' : 'last';
  const optimizer = which === 'last' && withOptimizer;
  const close = () => useStore.getState().setDialog(null);
  const save = async () => {
    const ctx = actionContext();
    if (!ctx || !runId || !path.trim()) return;
    setBusy(true);
    const file = resolveUserPath(path, start, useStore.getState().host?.home);
    try {
      const overwrite = file === replace || (file === picked && /\.safetensors$/i.test(file));
      const r = await ctx.api.saveRunCheckpoint({ runId, path: file, which, withOptimizer: optimizer, overwrite });
      close();
      const what = which === 'best' ? `epoch ${bestEpoch}'s weights (best)` : optimizer ? 'last weights and optimizer state' : 'last weights';
      useStore.getState().toast({ kind: 'success', message: `Checkpoint saved to ${r.path} (${what})` });
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
      title="Save checkpoint"
      testId="dialog-checkpoint"
      label={start ? `safetensors file (a file name alone is saved in ${start})` : 'safetensors file'}
      path={path}
      onPathChange={(p) => {
        setPath(p);
        setError(null);
        setReplace(null); // a changed path asks again
      }}
      onPicked={setPicked}
      onSubmit={() => void save()}
      onClose={close}
      busy={busy}
      confirmLabel={replacing ? 'Replace' : 'Save'}
      error={error}
      browse={{ mode: 'save', purpose: 'checkpoint' }}
    >
      <fieldset className="ckpt-which">
        <legend className="muted small">weights</legend>
        <label className="checkbox-line">
          <input type="radio" name="ckpt-which" data-testid="ckpt-which-last" checked={which === 'last'} onChange={() => setWhich('last')} />
          last weights{failed ? ' (the last good ones, from before the failing batch)' : ''}
        </label>
        <label className={`checkbox-line${bestEpoch === null ? ' disabled' : ''}`} title={bestEpoch === null ? 'available once an epoch has finished' : undefined}>
          <input type="radio" name="ckpt-which" data-testid="ckpt-which-best" disabled={bestEpoch === null} checked={which === 'best'} onChange={() => setWhich('best')} />
          <span data-testid="ckpt-best-label">{bestEpoch === null ? 'best epoch (none yet: no epoch has finished)' : `best epoch (${bestEpoch}, lowest test loss)`}</span>
        </label>
      </fieldset>
      <label className={`checkbox-line${which === 'best' ? ' disabled' : ''}`} title={which === 'best' ? 'the optimizer state is kept for the last weights only' : undefined}>
        <input type="checkbox" data-testid="ckpt-with-optimizer" disabled={which === 'best'} checked={optimizer} onChange={(e) => setWithOptimizer(e.target.checked)} /> include
        optimizer state (to resume training)
      </label>
    </PathForm>
  );
}
