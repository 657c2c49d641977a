import { fitReadable } from '../canvas/fit';
import { plainKey, register } from './registry';

/** Fits the graph to the canvas, but never below a zoom at which the layers can be read (canvas/fit.ts). */
export const actionFitView = register({
  name: 'fitView',
  label: 'Zoom to fit',
  category: 'View',
  keys: ['F'],
  keyTest: (e) => plainKey(e, 'f') && !e.shiftKey,
  perform(ctx) {
    fitReadable(ctx, { duration: 250 });
  },
});
