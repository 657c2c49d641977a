/**
 * What the desktop host asks of the page (app.command events): a menu item, an Edit item, a file to open
 * (dropped on the window, double-clicked, Open Recent, a second launch), or the window's close request.
 *
 *   <action name>       a menu item: the registered action of that name runs (if its predicate allows and
 *                       no modal dialog is open: the menus show it disabled then)
 *   edit.<name>         undo, redo, cut, copy, paste, selectAll on the canvas, unless a text field has focus
 *                       (the main process already did the edit in it through Chromium); cut = copy + delete
 *   open-project        open that file (after the unsaved-changes question)
 *   open-checkpoint     compare it with the graph, node by node (as Load checkpoint's Check), in the Training panel
 *   import-onnx         import the ONNX model as a new project (after the unsaved-changes question), its weights
 *                       waiting in the per-node report (File ▸ Import ▸ ONNX Model)
 *   open-image          the engine has no way to hand the page an image file's pixels: say to drop it on the
 *                       window instead (hooks/useGlobalDrop.ts takes dropped images)
 *   close-request       actions/closeRequest.ts
 */
import { useStore } from '../state/store';
import { MENU_ACTIONS } from '../../engine/contract/api';
import { baseName } from '../state/paths';
import { isTextField } from '../state/textField';
import { actionCopy } from './actionCopy';
import { actionDelete } from './actionDelete';
import { actionPaste } from './actionPaste';
import { actionRedo } from './actionRedo';
import { actionSelectAll } from './actionSelectAll';
import { checkpointReportForGraph } from './actionTrain';
import { importOnnxModel } from './actionExport';
import { actionUndo } from './actionUndo';
import { closeRequest } from './closeRequest';
import { guardUnsaved, openPath } from './projectOps';
import { actionContext, listActions, reportError, run } from './registry';
import type { Action, ActionContext } from './types';

const MENU_NAMES: ReadonlySet<string> = new Set(MENU_ACTIONS);

const EDIT: Readonly<Record<string, Action>> = { undo: actionUndo, redo: actionRedo, copy: actionCopy, paste: actionPaste, selectAll: actionSelectAll };

function editCommand(name: string): void {
  const s = useStore.getState();
  // a text field (or a dialog's field) got the edit from Chromium already; a dialog is modal for the canvas too
  if (isTextField(document.activeElement as HTMLElement | null) || s.dialog !== null || s.quickAdd !== null) return;
  if (name === 'cut') {
    if (run(actionCopy, undefined)) run(actionDelete, undefined);
    return;
  }
  const action = EDIT[name];
  if (action) run(action, undefined);
  else console.warn(`netloom: unknown edit command "${name}"`);
}

function needPath(command: string, path: string | undefined): path is string {
  if (path) return true;
  useStore.getState().toast({ kind: 'error', message: `The app asked to ${command.replace('-', ' ')} without naming a file.` });
  return false;
}

async function openCheckpoint(ctx: ActionContext, path: string): Promise<void> {
  const s = ctx.state();
  s.setPanel('training', true);
  if (s.nodes.length === 0) {
    s.toast({ kind: 'error', message: `${baseName(path)} holds weights, but the canvas has no model to compare them with.`, hint: 'Open or draw the model first, then open the checkpoint again (File › Import Weights…).' });
    return;
  }
  const report = await checkpointReportForGraph(ctx, path);
  ctx.state().setCkptReport(report);
}

function openImage(path: string): void {
  const s = useStore.getState();
  if (s.run.runId !== null) s.setPanel('training', true);
  s.toast({
    kind: 'info',
    message: `To try ${baseName(path)} in the inference playground, drag it onto the Netloom window.`,
    hint: s.run.runId === null ? 'Train a model first: the playground uses the run’s weights.' : 'Dropped images go to the playground in the Training panel.',
  });
}

/** Handles one app.command; failures become toasts. */
export async function handleAppCommand(command: string, path?: string): Promise<void> {
  const ctx = actionContext();
  if (!ctx) return;
  try {
    if (command.startsWith('edit.')) {
      editCommand(command.slice('edit.'.length));
      return;
    }
    switch (command) {
      case 'close-request':
        await closeRequest(ctx);
        return;
      case 'open-project':
        if (needPath(command, path)) guardUnsaved(() => void openPath(ctx, path).catch((e) => reportError(e, 'Open project')), 'Opening another project');
        return;
      case 'open-checkpoint':
        if (needPath(command, path)) await openCheckpoint(ctx, path);
        return;
      case 'import-onnx':
        if (needPath(command, path)) guardUnsaved(() => void importOnnxModel(ctx, path).catch((e) => reportError(e, 'Import ONNX model')), 'Importing an ONNX model');
        return;
      case 'open-image':
        if (needPath(command, path)) openImage(path);
        return;
    }
    const action = MENU_NAMES.has(command) ? listActions().find((a) => a.name === command) : undefined;
    if (!action) {
      console.warn(`netloom: unknown app command "${command}"`);
      return;
    }
    if (ctx.state().dialog !== null) return; // modal: the menus show the item disabled meanwhile
    run(action as Action, undefined);
  } catch (e) {
    reportError(e, command);
  }
}
