/** Save checkpoint: a path (the engine machine's) for the run's last weights as safetensors. */
import { useState } from 'react';
import { actionContext } from '../actions/registry';
import { useStore } from '../state/store';
import { Modal } from './Modal';

export function CheckpointDialog() {
  const open = useStore((s) => s.dialog?.kind === 'checkpoint');
  if (!open) return null;
  return <CheckpointDialogBody />;
}

function CheckpointDialogBody() {
  const runId = useStore((s) => s.run.runId);
  const name = useStore((s) => s.project.name);
  const slug = name.trim().replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'model';
  const [path, setPath] = useState(`${slug}.safetensors`);
  const [withOptimizer, setWithOptimizer] = useState(false);
  const [error, setError] = useState<{ message: string; hint?: string } | null>(null);
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
      const err = e as { message?: string; hint?: string };
      setError({ message: err.message ?? String(e), hint: err.hint });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title="Save checkpoint"
      onClose={close}
      testId="dialog-checkpoint"
      footer={
        <>
          <button data-testid="dialog-cancel" onClick={close}>
            Cancel
          </button>
          <button className="primary" data-testid="dialog-confirm" disabled={busy || !path.trim()} onClick={() => void save()}>
            Save
          </button>
        </>
      }
    >
      <div className="file-dialog">
      <label className="path-field">
        <span className="muted small">safetensors file (the run's last weights; relative paths are under the engine's folder)</span>
        <input
          autoFocus
          type="text"
          spellCheck={false}
          data-testid="dialog-path"
          value={path}
          onChange={(e) => setPath(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') void save();
          }}
        />
      </label>
      <label className="checkbox-line">
        <input type="checkbox" checked={withOptimizer} onChange={(e) => setWithOptimizer(e.target.checked)} /> with optimizer state (resumable)
      </label>
      {error && (
        <div className="dialog-error" data-testid="dialog-error">
          <div>{error.message}</div>
          {error.hint && <div className="muted small">{error.hint}</div>}
        </div>
      )}
      </div>
    </Modal>
  );
}
