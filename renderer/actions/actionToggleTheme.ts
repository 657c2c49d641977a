import { plainKey, register } from './registry';

export const actionToggleTheme = register({
  name: 'toggleTheme',
  label: 'Toggle light / dark theme',
  category: 'View',
  keys: ['T'],
  keyTest: (e) => plainKey(e, 't') && !e.shiftKey,
  perform(ctx) {
    const s = ctx.state();
    s.setTheme(s.theme === 'dark' ? 'light' : 'dark');
  },
});
