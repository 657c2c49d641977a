import { chooseAndSave } from './hostDialogs';
import { saveTo } from './projectOps';
import { mod, register } from './registry';

/** Save: to the project's file, or through Save as when it has none yet. */
export const actionSave = register({
  name: 'save',
  label: 'Save',
  category: 'File',
  keys: ['Ctrl+S'],
  keyTest: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 's',
  keyInInputs: true,
  async perform(ctx) {
    const path = ctx.state().project.path;
    if (!path) await chooseAndSave(ctx);
    else await saveTo(ctx, path, { overwrite: true }); // the project's own file
  },
});
