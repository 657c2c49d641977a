/**
 * File ▸ Import ▸ Weights (the Training panel's Load checkpoint): a checkpoint path (the engine machine's) in any
 * format the engine reads (safetensors, PyTorch .pt/.pth/.bin, ONNX: it tells them by their bytes) compared with
 * the current graph node by node (a dry run: nothing is loaded). The report, with the engine's notes (a
 * DataParallel 'module.' prefix dropped), shows in the Training panel and on the nodes.
 */
import { useState } from 'react';
import { checkpointReportForGraph } from '../actions/actionTrain';
import { dialogStart } from '../actions/hostDialogs';
import { actionContext } from '../actions/registry';
import { checkpointFileName, proposedFile, resolveUserPath } from '../state/paths';
import { useStore } from '../state/store';
import { PathForm, pathFormError, type PathFormError } from './PathForm';

export function CheckpointLoadDialog() {
  const open = useStore((s) => s.dialog?.kind === 'checkpoint-load');
  if (!open) return null;
  return <CheckpointLoadDialogBody />;
}

function CheckpointLoadDialogBody() {
  const name = useStore((s) => s.project.name);
  const last = useStore((s) => s.ckptReport?.path);
  // the last file checked, else the project's own checkpoint name in its folder (or home when unsaved)
  const [start] = useState(() => dialogStart());
  const [path, setPath] = useState(() => last ?? proposedFile(start, checkpointFileName(name)));
  const [error, setError] = useState<PathFormError | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => useStore.getState().setDialog(null);
  const check = async () => {
    const ctx = actionContext();
    if (!ctx || !path.trim() || busy) return;
    setBusy(true);
    setError(null);
    try {
      const report = await checkpointReportForGraph(ctx, resolveUserPath(path, start, useStore.getState().host?.home));
      useStore.getState().setCkptReport(report);
      close();
    } catch (e) {
      setError(pathFormError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <PathForm
      title="Import weights"
      testId="dialog-checkpoint-load"
      label={`checkpoint (safetensors, PyTorch .pt/.pth/.bin or ONNX) to compare with this graph, node by node${start ? ` (a file name alone is looked for in ${start})` : ''}`}
      path={path}
      onPathChange={setPath}
      onSubmit={() => void check()}
      onClose={close}
      busy={busy}
      confirmLabel={busy ? 'Checking…' : 'Check'}
      error={error}
      browse={{ mode: 'open', purpose: 'weights' }}
      list={{ kind: 'weights', mode: 'open' }}
    />
  );
}
