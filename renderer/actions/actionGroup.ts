/**
 * Group (Ctrl/Cmd+G): the selected layers become a PyTorch submodule. The name is asked for first
 * (dialogs/GroupNameDialog.tsx, checked live as an nn.Module attribute); the grouping itself is
 * planGroup's change list, one undo step. Layers already in a group make a group nested in it.
 */
import { planGroup, suggestGroupName } from '../state/groups';
import { mod, register } from './registry';
import type { ActionContext } from './types';

const selectedIds = (ctx: ActionContext) => ctx.state().nodes.filter((n) => n.selected).map((n) => n.id);

export const actionGroup = register({
  name: 'group',
  label: 'Group the selected layers as a submodule (their state-dict prefix)',
  category: 'Edit',
  keys: ['Ctrl+G'],
  keyTest: (e) => mod(e) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'g',
  predicate: (ctx) => selectedIds(ctx).length > 0,
  disabledReason: (ctx) => (selectedIds(ctx).length ? null : 'Select the layers to group first (Shift+click or Shift+drag)'),
  perform(ctx) {
    const s = ctx.state();
    const selected = selectedIds(ctx);
    s.setDialog({ kind: 'group-name', selected, suggested: suggestGroupName(s.nodes, s.groups, selected) });
  },
});

/** The dialog's answer: groups `selected` as `name` (throws the reason when it cannot). */
export const actionGroupAs = register<{ selected: string[]; name: string }>({
  name: 'groupAs',
  label: 'Group as',
  category: 'Edit',
  perform(ctx, { selected, name }) {
    const s = ctx.state();
    const plan = planGroup(s.nodes, s.groups, selected, name);
    if (!plan.ok) throw new Error(plan.message);
    s.commit(plan.changes, `Group as ${name}`);
    s.selectGroup(plan.group.id);
  },
});
