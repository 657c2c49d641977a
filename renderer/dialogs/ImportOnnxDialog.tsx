/**
 * File ▸ Import ▸ ONNX Model: a path on the engine's machine to an .onnx file, imported as a new, unsaved
 * project (actions/actionExport.ts importOnnxModel). The engine says what it cannot import (operators with
 * no Netloom layer, each by name) in the dialog, so the user can pick another file.
 */
import { useState } from 'react';
import type { Result } from '../../engine/contract/api';
import { openImportedOnnx } from '../actions/actionExport';
import { dialogStart } from '../actions/hostDialogs';
import { actionContext, reportError } from '../actions/registry';
import { proposedFile, resolveUserPath } from '../state/paths';
import { useStore } from '../state/store';
import { PathForm, pathFormError, type PathFormError } from './PathForm';

export function ImportOnnxDialog() {
  const open = useStore((s) => s.dialog?.kind === 'import-onnx');
  if (!open) return null;
  return <ImportOnnxDialogBody />;
}

function ImportOnnxDialogBody() {
  const [start] = useState(() => dialogStart());
  const [path, setPath] = useState(() => proposedFile(start, 'model.onnx'));
  const [error, setError] = useState<PathFormError | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => useStore.getState().setDialog(null);
  const submit = async () => {
    const ctx = actionContext();
    if (!ctx || !path.trim() || busy) return;
    setBusy(true);
    setError(null);
    const file = resolveUserPath(path, start, useStore.getState().host?.home);
    let imported: Result<'importOnnx'>;
    try {
      // a refusal (an operator Netloom has no layer for, a damaged file) stays in the dialog
      imported = await ctx.api.importOnnx({ path: file });
    } catch (e) {
      setError(pathFormError(e));
      setBusy(false);
      return;
    }
    close();
    await openImportedOnnx(ctx, file, imported).catch((e) => reportError(e, 'Import ONNX model'));
  };
  return (
    <PathForm
      title="Import ONNX model"
      testId="dialog-import-onnx"
      label={`ONNX file: opened as a new project, its weights ready to load${start ? ` (a file name alone is looked for in ${start})` : ''}`}
      path={path}
      onPathChange={(p) => {
        setPath(p);
        setError(null);
      }}
      onSubmit={() => void submit()}
      onClose={close}
      busy={busy}
      confirmLabel={busy ? 'Importing…' : 'Import'}
      error={error}
      browse={{ mode: 'open', purpose: 'onnx' }}
      list={{ kind: 'onnx', mode: 'open' }}
    />
  );
}
