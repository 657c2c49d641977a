/**
 * File ▸ Export and File ▸ Import ▸ ONNX Model as registered actions (the desktop menu sends their names; the
 * toolbar's Import and Export menus run them in both hosts). Export opens the export dialog in one format
 * (dialogs/CheckpointDialog.tsx; safetensors is the Training panel's Save checkpoint, actionTrain.ts);
 * the ONNX import opens the model as a new, unsaved project whose weights wait in the per-node report.
 */
import type { ExportFormatDto, Result } from '../../engine/contract/api';
import { baseName } from '../state/paths';
import { guardUnsaved, showProject } from './projectOps';
import { checkpointReportForGraph } from './actionTrain';
import { register } from './registry';
import type { Action, ActionContext } from './types';

/** Training or starting: the weights change under an export (and the engine refuses to read them then). */
const training = (ctx: ActionContext) => ctx.state().run.state === 'running' || ctx.state().run.starting;
/** A run whose weights can be read now. */
const runSettled = (ctx: ActionContext) => ctx.state().run.runId !== null && !training(ctx);
const noRunReason = (ctx: ActionContext) =>
  runSettled(ctx) ? null : training(ctx) ? 'Pause or stop training first.' : 'Train the model first (or load weights and evaluate them).';
const codeReason = (ctx: ActionContext) => (ctx.state().nodes.length === 0 ? 'Draw or open a model first.' : training(ctx) ? 'Pause or stop training first.' : null);

function exportAction({ name, label }: { name: string; label: string }, format: Exclude<ExportFormatDto, 'safetensors'>): Action {
  return register({
    name,
    label,
    category: 'File',
    // PyTorch code needs no weights: only a model, and no training going on (the weights would be mid-step)
    predicate: format === 'pytorch' ? (ctx) => codeReason(ctx) === null : runSettled,
    disabledReason: format === 'pytorch' ? codeReason : noRunReason,
    perform(ctx) {
      ctx.state().setDialog({ kind: 'checkpoint', format });
    },
  });
}

export const actionExportPt = exportAction({ name: 'exportPt', label: 'Export PyTorch state dict (.pt)' }, 'pt');
export const actionExportOnnx = exportAction({ name: 'exportOnnx', label: 'Export ONNX model' }, 'onnx');
export const actionExportPytorch = exportAction({ name: 'exportPytorch', label: 'Export PyTorch code (folder)' }, 'pytorch');

/**
 * Opens an imported ONNX model (the engine's importOnnx answer for `path`): the project goes on the canvas, new and
 * unsaved, laid out like a template; its weights (a file of their own) get the per-node report against that graph,
 * so the user sees what fits and starts or evaluates from them as from any checkpoint. The import's notes (what it
 * assumed) go with the report and the toast.
 */
export async function openImportedOnnx(ctx: ActionContext, path: string, r: Result<'importOnnx'>): Promise<void> {
  await showProject(ctx, r.project, null, { layout: true });
  const report = await checkpointReportForGraph(ctx, r.weights);
  const s = ctx.state();
  s.setPanel('training', true);
  s.setCkptReport({ ...report, label: `weights of ${baseName(path)}`, notes: [...r.notes, ...(report.notes ?? [])] });
  s.toast({ kind: 'success', message: `Imported ONNX model ${path}: ${r.project.graph.nodes.length} layers, weights ready to load`, ...(r.notes.length ? { hint: r.notes.join(' ') } : {}) });
}

/** Imports an ONNX model and opens it (a file dropped on the desktop window; the dialog shows its own errors). */
export async function importOnnxModel(ctx: ActionContext, path: string): Promise<void> {
  await openImportedOnnx(ctx, path, await ctx.api.importOnnx({ path }));
}

export const actionImportOnnx = register({
  name: 'importOnnx',
  label: 'Import ONNX model',
  category: 'File',
  predicate: (ctx) => !training(ctx),
  disabledReason: (ctx) => (training(ctx) ? 'Pause or stop training first.' : null),
  perform(ctx) {
    // a new document replaces the canvas: ask about unsaved work first, as New and Open do
    guardUnsaved(() => ctx.state().setDialog({ kind: 'import-onnx' }), 'Importing an ONNX model');
  },
});
