import { copySelection } from './clipboard';
import { mod, register } from './registry';

export const actionCopy = register({
  name: 'copy',
  label: 'Copy',
  category: 'Edit',
  keys: ['Ctrl+C'],
  keyTest: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'c',
  predicate: (ctx) => ctx.state().nodes.some((n) => n.selected),
  perform(ctx) {
    const s = ctx.state();
    const k = copySelection(s.nodes, s.edges, s.groups);
    s.toast({ kind: 'info', message: `Copied ${k} layer${k === 1 ? '' : 's'}` });
  },
});
