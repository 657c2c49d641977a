import { chooseAndOpen } from './hostDialogs';
import { guardUnsaved } from './projectOps';
import { mod, register, reportError } from './registry';

/** Open: after the unsaved-changes guard, the host's Open dialog (native in the desktop app, the web one otherwise). */
export const actionOpen = register({
  name: 'open',
  label: 'Open project…',
  category: 'File',
  keys: ['Ctrl+O'],
  keyTest: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'o',
  keyInInputs: true,
  perform(ctx) {
    guardUnsaved(() => void chooseAndOpen(ctx).catch((e) => reportError(e, 'Open project')), 'Opening another project');
  },
});
