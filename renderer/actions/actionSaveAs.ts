import { mod, register } from './registry';

export const actionSaveAs = register({
  name: 'saveAs',
  label: 'Save as…',
  category: 'File',
  keys: ['Ctrl+Shift+S'],
  keyTest: (e) => mod(e) && e.shiftKey && e.key.toLowerCase() === 's',
  keyInInputs: true,
  perform(ctx) {
    ctx.state().setDialog({ kind: 'save' });
  },
});
