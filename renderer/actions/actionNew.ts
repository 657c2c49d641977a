import { guardUnsaved } from './projectOps';
import { mod, register } from './registry';

/** New project: pick a template (or an empty canvas) in the New dialog. */
export const actionNew = register({
  name: 'new',
  label: 'New project…',
  category: 'File',
  keys: ['Ctrl+N'],
  keyTest: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'n',
  keyInInputs: true,
  perform(ctx) {
    guardUnsaved(() => ctx.state().setDialog({ kind: 'new' }), 'Starting a new project');
  },
});
