/**
 * Load checkpoint: a safetensors path (the engine machine's) compared with the current graph node
 * by node (a dry run: nothing is loaded). The report shows in the Training panel and on the nodes.
 */
import { useState } from 'react';
import { checkpointReportForGraph } from '../actions/actionTrain';
import { actionContext } from '../actions/registry';
import { useStore } from '../state/store';
import { Modal } from './Modal';

export function CheckpointLoadDialog() {
  const open = useStore((s) => s.dialog?.kind === 'checkpoint-load');
  if (!open) return null;
  return <CheckpointLoadDialogBody />;
}

function CheckpointLoadDialogBody() {
  const name = useStore((s) => s.project.name);
  const last = useStore((s) => s.ckptReport?.path);
  const slug = name.trim().replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'model';
  const [path, setPath] = useState(last ?? `${slug}.safetensors`);
  const [error, setError] = useState<{ message: string; hint?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => useStore.getState().setDialog(null);
  const check = async () => {
    const ctx = actionContext();
    if (!ctx || !path.trim() || busy) return;
    setBusy(true);
    setError(null);
    try {
      const report = await checkpointReportForGraph(ctx, path.trim());
      useStore.getState().setCkptReport(report);
      close();
    } catch (e) {
      const err = e as { message?: string; hint?: string };
      setError({ message: err.message ?? String(e), hint: err.hint });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title="Load checkpoint"
      onClose={close}
      testId="dialog-checkpoint-load"
      footer={
        <>
          <button data-testid="dialog-cancel" onClick={close}>
            Cancel
          </button>
          <button className="primary" data-testid="dialog-confirm" disabled={busy || !path.trim()} onClick={() => void check()}>
            {busy ? 'Checking…' : 'Check'}
          </button>
        </>
      }
    >
      <div className="file-dialog">
        <label className="path-field">
          <span className="muted small">safetensors file to compare with this graph, node by node (relative paths are under the engine's folder)</span>
          <input
            autoFocus
            type="text"
            spellCheck={false}
            data-testid="dialog-path"
            value={path}
            onChange={(e) => setPath(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') void check();
            }}
          />
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
