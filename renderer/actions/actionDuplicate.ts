import { docEdge, docNode } from '../state/graph';
import { pasteChanges, wholeGroups } from './clipboard';
import { mod, register } from './registry';

/** Copies and pastes the selection in one step, without touching the clipboard. */
export const actionDuplicate = register({
  name: 'duplicate',
  label: 'Duplicate',
  category: 'Edit',
  keys: ['Ctrl+D'],
  keyTest: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'd',
  predicate: (ctx) => ctx.state().nodes.some((n) => n.selected),
  perform(ctx) {
    const s = ctx.state();
    const picked = s.nodes.filter((n) => n.selected);
    const ids = new Set(picked.map((n) => n.id));
    const data = { nodes: picked.map(docNode), edges: s.edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map(docEdge), groups: wholeGroups(s.nodes, s.groups, ids) };
    s.commit(pasteChanges(data, s.nodes, 40, s.groups), 'Duplicate', { selectAdded: true });
  },
});
