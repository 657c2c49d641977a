/** Save checkpoint: a path (the engine machine's) for the run's last weights as safetensors. */
import { useState } from 'react';
import { actionContext } from '../actions/registry';
import { useStore } from '../state/store';
import { defaultCheckpointPath, PathForm, pathFormError, type PathFormError } from './PathForm';

export function CheckpointDialog() {
  const open = useStore((s) => s.dialog?.kind === 'checkpoint');
  if (!open) return null;
  return <CheckpointDialogBody />;
}

function CheckpointDialogBody() {
  const runId = useStore((s) => s.run.runId);
  const name = useStore((s) => s.project.name);
  const [path, setPath] = useState(defaultCheckpointPath(name));
  const [withOptimizer, setWithOptimizer] = useState(false);
  const [error, setError] = useState<PathFormError | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => useStore.getState().setDialog(null);
  const save = async () => {
    const ctx = actionContext();
    if (!ctx || !runId || !path.trim()) return;
    setBusy(true);
    try {
      const r = await ctx.api.saveRunCheckpoint({ runId, path: path.trim(), which: 'last', withOptimizer });
      close();
      useStore.getState().toast({ kind: 'success', message: `Checkpoint saved to ${r.path}` });
    } catch (e) {
      setError(pathFormError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <PathForm
      title="Save checkpoint"
      testId="dialog-checkpoint"
      label="safetensors file (the run's last weights; relative paths are under the engine's folder)"
      path={path}
      onPathChange={setPath}
      onSubmit={() => void save()}
      onClose={close}
      busy={busy}
      confirmLabel="Save"
      error={error}
    >
      <label className="checkbox-line">
        <input type="checkbox" checked={withOptimizer} onChange={(e) => setWithOptimizer(e.target.checked)} /> with optimizer state (resumable)
      </label>
    </PathForm>
  );
}
