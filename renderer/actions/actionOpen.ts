import { guardUnsaved } from './projectOps';
import { mod, register } from './registry';

export const actionOpen = register({
  name: 'open',
  label: 'Open project…',
  category: 'File',
  keys: ['Ctrl+O'],
  keyTest: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'o',
  keyInInputs: true,
  perform(ctx) {
    guardUnsaved(() => ctx.state().setDialog({ kind: 'open' }), 'Opening another project');
  },
});
