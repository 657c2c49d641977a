import { chooseAndSave } from './hostDialogs';
import { mod, register } from './registry';

/** Save as: the host's Save dialog (native in the desktop app, the web one otherwise). */
export const actionSaveAs = register({
  name: 'saveAs',
  label: 'Save as…',
  category: 'File',
  keys: ['Ctrl+Shift+S'],
  keyTest: (e) => mod(e) && e.shiftKey && e.key.toLowerCase() === 's',
  keyInInputs: true,
  async perform(ctx) {
    await chooseAndSave(ctx);
  },
});
