/**
 * Edits of one group, each one undo step: rename (every key under it follows, since the names inside are
 * relative), repeat (an nn.Sequential of N copies, or a plain submodule), collapse and expand. Collapsing
 * puts the group's node where its layers were; expanding after that node was moved moves the layers with it.
 */
import { membersBounds } from '../canvas/groupView';
import type { GraphChange } from '../state/graph';
import { contains, groupNameProblem, MAX_REPEAT } from '../state/groups';
import { register } from './registry';

export const actionRenameGroup = register<{ id: string; name: string }>({
  name: 'renameGroup',
  label: 'Rename group',
  category: 'Edit',
  perform(ctx, { id, name }) {
    const s = ctx.state();
    const g = s.groups.find((x) => x.id === id);
    if (!g || g.name === name) return;
    const problem = groupNameProblem(name, g.parent, s.nodes, s.groups, id);
    if (problem) throw new Error(problem);
    s.commit([{ kind: 'updateGroup', id, before: { name: g.name }, after: { name } }], 'Rename group', { mergeKey: `group-name:${id}` });
  },
});

export const actionSetGroupRepeat = register<{ id: string; repeat: number | undefined }>({
  name: 'setGroupRepeat',
  label: 'Repeat group',
  category: 'Edit',
  perform(ctx, { id, repeat }) {
    const s = ctx.state();
    const g = s.groups.find((x) => x.id === id);
    if (!g || g.repeat === repeat) return;
    if (repeat !== undefined && !(Number.isInteger(repeat) && repeat >= 1 && repeat <= MAX_REPEAT)) throw new Error(`Repeat must be a whole number from 1 to ${MAX_REPEAT}.`);
    s.commit([{ kind: 'updateGroup', id, before: { repeat: g.repeat }, after: { repeat } }], 'Repeat group', { mergeKey: `group-repeat:${id}` });
  },
});

export const actionToggleGroup = register<{ id: string }>({
  name: 'toggleGroup',
  label: 'Collapse or expand group',
  category: 'Canvas',
  perform(ctx, { id }) {
    const s = ctx.state();
    const g = s.groups.find((x) => x.id === id);
    if (!g) return;
    const at = membersBounds(s.nodes, s.groups, id);
    if (!g.collapsed) {
      s.commit([{ kind: 'updateGroup', id, before: { collapsed: false, position: g.position }, after: { collapsed: true, position: at ?? g.position } }], 'Collapse group');
      return;
    }
    const changes: GraphChange[] = [{ kind: 'updateGroup', id, before: { collapsed: true }, after: { collapsed: false } }];
    // the collapsed node was dragged: its layers follow it
    const dx = g.position && at ? g.position.x - at.x : 0;
    const dy = g.position && at ? g.position.y - at.y : 0;
    if (dx || dy)
      for (const n of s.nodes.filter((m) => contains(s.groups, id, m.data.group)))
        changes.push({ kind: 'updateNode', id: n.id, before: { position: { ...n.position } }, after: { position: { x: n.position.x + dx, y: n.position.y + dy } } });
    s.commit(changes, 'Expand group');
  },
});
