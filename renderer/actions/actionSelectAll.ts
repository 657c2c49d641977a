import { mod, register } from './registry';

export const actionSelectAll = register({
  name: 'selectAll',
  label: 'Select all',
  category: 'Edit',
  keys: ['Ctrl+A'],
  keyTest: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'a',
  perform(ctx) {
    const s = ctx.state();
    s.select(s.nodes.map((n) => n.id), s.edges.map((e) => e.id));
  },
});
