/**
 * File ▸ Import ▸ ONNX Model: a path on the engine's machine to an .onnx file, imported as a new, unsaved
 * project (actions/actionExport.ts importOnnxModel). The engine says what it cannot import (operators with
 * no Netloom layer, each by name) in the dialog, so the user can pick another file.
 */
import { openImportedOnnx } from '../actions/actionExport';
import { reportError } from '../actions/registry';
import { proposedFile } from '../state/paths';
import { useStore } from '../state/store';
import { PathForm } from './PathForm';
import { usePathSubmit } from './usePathSubmit';

export function ImportOnnxDialog() {
  const open = useStore((s) => s.dialog?.kind === 'import-onnx');
  if (!open) return null;
  return <ImportOnnxDialogBody />;
}

function ImportOnnxDialogBody() {
  const close = () => useStore.getState().setDialog(null);
  // a refusal (an operator Netloom has no layer for, a damaged file) stays in the dialog
  const { start, path, changePath, error, busy, submit } = usePathSubmit(
    (from) => proposedFile(from, 'model.onnx'),
    async (ctx, file) => {
      const imported = await ctx.api.importOnnx({ path: file });
      close();
      // the model is in: what goes wrong opening it is reported, not put in a dialog that is gone
      await openImportedOnnx(ctx, file, imported).catch((e) => reportError(e, 'Import ONNX model'));
    },
  );
  return (
    <PathForm
      title="Import ONNX model"
      testId="dialog-import-onnx"
      label={`ONNX file: opened as a new project, its weights ready to load${start ? ` (a file name alone is looked for in ${start})` : ''}`}
      path={path}
      onPathChange={changePath}
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
