import { docEdge, docNode, type GraphChange } from '../state/graph';
import { register } from './registry';

/** Deletes the selected nodes (with their edges) and the selected edges, as one undo step. */
export const actionDelete = register({
  name: 'delete',
  label: 'Delete selection',
  category: 'Edit',
  keys: ['Delete', 'Backspace'],
  keyTest: (e) => (e.key === 'Delete' || e.key === 'Backspace') && !e.ctrlKey && !e.metaKey && !e.altKey,
  predicate: (ctx) => ctx.state().nodes.some((n) => n.selected) || ctx.state().edges.some((e) => e.selected),
  perform(ctx) {
    const s = ctx.state();
    const ids = new Set(s.nodes.filter((n) => n.selected).map((n) => n.id));
    const changes: GraphChange[] = [];
    for (const e of s.edges) if (e.selected || ids.has(e.source) || ids.has(e.target)) changes.push({ kind: 'removeEdge', edge: docEdge(e) });
    for (const n of s.nodes) if (ids.has(n.id)) changes.push({ kind: 'removeNode', node: docNode(n) });
    s.commit(changes, 'Delete');
  },
});
