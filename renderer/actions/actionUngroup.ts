/**
 * Ungroup (Ctrl/Cmd+Shift+G): dissolves the selected group (its header clicked, or its collapsed node),
 * or else the innermost group holding the selected layers. Its layers keep their keys: `conv1` in
 * `encoder` becomes `encoder.conv1` one level up (planUngroup). One undo step.
 */
import { planUngroup } from '../state/groups';
import { mod, register } from './registry';
import type { ActionContext } from './types';

/** The group Ungroup acts on: the selected group, else the one group all selected layers are directly in. */
export function groupToUngroup(ctx: ActionContext): string | null {
  const s = ctx.state();
  if (s.selectedGroup) return s.selectedGroup;
  const groups = new Set(s.nodes.filter((n) => n.selected).map((n) => n.data.group));
  const [only] = [...groups];
  return groups.size === 1 && only ? only : null;
}

export const actionUngroup = register<{ id?: string } | undefined>({
  name: 'ungroup',
  label: 'Ungroup: dissolve the selected group, keeping its layers',
  category: 'Edit',
  keys: ['Ctrl+Shift+G'],
  keyTest: (e) => mod(e) && e.shiftKey && !e.altKey && e.key.toLowerCase() === 'g',
  predicate: (ctx) => groupToUngroup(ctx) !== null,
  perform(ctx, arg) {
    const s = ctx.state();
    const id = arg?.id ?? groupToUngroup(ctx);
    if (!id) return;
    const name = s.groups.find((g) => g.id === id)?.name ?? id;
    s.commit(planUngroup(s.nodes, s.groups, id), `Ungroup ${name}`, { selectAdded: false });
  },
});
