import { register } from './registry';

export const actionHelp = register({
  name: 'help',
  label: 'Keyboard shortcuts',
  category: 'Help',
  keys: ['?'],
  keyTest: (e) => e.key === '?' && !e.ctrlKey && !e.metaKey,
  perform(ctx) {
    const s = ctx.state();
    s.setHelp(!s.helpOpen);
  },
});
