import { hasClipboard, pasteChanges } from './clipboard';
import { mod, register } from './registry';

export const actionPaste = register({
  name: 'paste',
  label: 'Paste',
  category: 'Edit',
  keys: ['Ctrl+V'],
  keyTest: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'v',
  predicate: () => hasClipboard(),
  perform(ctx) {
    const s = ctx.state();
    s.commit(pasteChanges(null, s.nodes, undefined, s.groups), 'Paste', { selectAdded: true });
  },
});
