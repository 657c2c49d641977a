import type { Connection } from '@xyflow/react';
import { connectionProblem } from '../canvas/isValidConnection';
import { freshId } from '../state/graph';
import { register } from './registry';

/** Connects an output to an input port; refuses (with the reason as a toast) what the canvas would refuse. */
export const actionConnect = register<Connection>({
  name: 'connect',
  label: 'Connect',
  category: 'Canvas',
  perform(ctx, c) {
    const s = ctx.state();
    const problem = connectionProblem(s, c);
    if (problem) {
      s.toast({ kind: 'error', message: problem });
      return;
    }
    s.commit([{ kind: 'addEdge', edge: { id: freshId('e'), source: c.source, target: c.target, targetHandle: c.targetHandle ?? 'input' } }], 'Connect');
  },
});
