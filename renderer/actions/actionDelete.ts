/**
 * Delete and "delete, keeping the chain". A plain Delete on a layer in the middle of a chain
 * (one edge in, one edge out) reconnects its input to its output, as node editors do
 * (Blender's dissolve, Unreal's delete-and-reconnect): what a user deleting conv2 out of
 * LeNet-5 means is "the network without conv2", not two halves and a dozen amber callouts.
 * Shift+Delete deletes without reconnecting, for the rare case where the break is wanted.
 * Either way it is one undo step; the new edge is re-inferred like any other and flagged red
 * (never refused) when its shapes do not fit.
 */
import { planDeletion } from '../canvas/deletion';
import { actionUndo } from './actionUndo';
import { register, run } from './registry';
import type { ActionContext } from './types';

function performDelete(ctx: ActionContext, reconnect: boolean): void {
  const s = ctx.state();
  const plan = planDeletion(s, reconnect);
  s.commit(plan.changes, reconnect && plan.bridges.length ? 'Delete and reconnect' : 'Delete');
  if (plan.bridges.length) {
    const what = plan.deleted.length <= 3 ? plan.deleted.join(', ') : `${plan.deleted.length} layers`;
    const joined = plan.bridges.map((b) => `${b.from} → ${b.to}`).join(', ');
    // short, with the way back on the toast itself (Ctrl+Z does the same)
    s.toast({ kind: 'info', message: `Deleted ${what}; reconnected ${joined}`, hint: 'Shift+Delete deletes without reconnecting.', action: { label: 'Undo', perform: () => run(actionUndo, undefined) } });
  }
}

const hasSelection = (ctx: ActionContext) => ctx.state().nodes.some((n) => n.selected) || ctx.state().edges.some((e) => e.selected);
const plainKey = (e: KeyboardEvent) => (e.key === 'Delete' || e.key === 'Backspace') && !e.ctrlKey && !e.metaKey && !e.altKey;

/** Deletes the selected nodes (with their edges) and edges; a run in the middle of a chain is bridged. */
export const actionDelete = register({
  name: 'delete',
  label: 'Delete selection, reconnecting a layer in the middle of a chain (its input to its output)',
  category: 'Edit',
  keys: ['Delete', 'Backspace'],
  keyTest: (e) => plainKey(e) && !e.shiftKey,
  predicate: hasSelection,
  perform: (ctx) => performDelete(ctx, true),
});

/** Deletes the selection and leaves the chain broken. */
export const actionDeleteOnly = register({
  name: 'deleteOnly',
  label: 'Delete selection without reconnecting',
  category: 'Edit',
  keys: ['Shift+Delete', 'Shift+Backspace'],
  keyTest: (e) => plainKey(e) && e.shiftKey,
  predicate: hasSelection,
  perform: (ctx) => performDelete(ctx, false),
});
