import { selectCanRedo } from '../state/store';
import { mod, register } from './registry';

export const actionRedo = register({
  name: 'redo',
  label: 'Redo',
  category: 'Edit',
  keys: ['Ctrl+Shift+Z', 'Ctrl+Y'],
  keyTest: (e) => mod(e) && ((e.shiftKey && e.key.toLowerCase() === 'z') || (!e.shiftKey && e.key.toLowerCase() === 'y')),
  predicate: (ctx) => selectCanRedo(ctx.state()),
  perform: (ctx) => ctx.state().redo(),
});
