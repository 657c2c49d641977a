import { canvasPoint } from '../canvas/pointer';
import { register } from './registry';

/** Opens the quick-add search at the pointer; Enter there adds the highlighted layer at that point. */
export const actionQuickAdd = register({
  name: 'quickAdd',
  label: 'Quick-add a layer at the pointer',
  category: 'Canvas',
  keys: ['A', '/', 'Space'],
  keyTest: (e) => !e.ctrlKey && !e.metaKey && !e.altKey && (e.key === 'a' || e.key === 'A' || e.key === '/' || e.key === ' '),
  predicate: (ctx) => ctx.flow !== null && ctx.state().catalog.length > 0,
  perform(ctx) {
    const p = canvasPoint();
    const flow = ctx.flow!.screenToFlowPosition(p);
    ctx.state().setQuickAdd({ screen: p, flow });
  },
});
