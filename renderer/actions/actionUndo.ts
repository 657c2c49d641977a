import { selectCanUndo } from '../state/store';
import { mod, register } from './registry';

export const actionUndo = register({
  name: 'undo',
  label: 'Undo',
  category: 'Edit',
  keys: ['Ctrl+Z'],
  keyTest: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'z',
  predicate: (ctx) => selectCanUndo(ctx.state()),
  perform: (ctx) => ctx.state().undo(),
});
