import { plainKey, register } from './registry';

export const actionFitView = register({
  name: 'fitView',
  label: 'Zoom to fit',
  category: 'View',
  keys: ['F'],
  keyTest: (e) => plainKey(e, 'f') && !e.shiftKey,
  perform(ctx) {
    void ctx.flow?.fitView({ padding: 0.15, duration: 250, maxZoom: 1.2 });
  },
});
