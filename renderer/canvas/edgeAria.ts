/**
 * What a screen reader announces for an edge: the layers it joins by name and type, and the
 * tensor it carries ("linear_relu_stack.0 (Linear) to linear_relu_stack.1 (ReLU), 64×512"),
 * instead of React Flow's default "Edge from n_1a1afb5c to n_…" (ids mean nothing to a user).
 */
import { fmtShape } from '../state/graph';

export interface EdgeEnds {
  source?: { name: string; type: string };
  target?: { name: string; type: string };
  targetHandle: string;
  shape?: readonly number[] | null;
  problem?: string;
}

export function edgeAriaLabel(e: EdgeEnds): string {
  const end = (n: EdgeEnds['source']) => (n ? `${n.name} (${n.type})` : 'a removed layer');
  // the port matters only where a layer has several (a loss's target, Add's in0, in1, …)
  const port = e.targetHandle === 'input' ? '' : ` port ${e.targetHandle}`;
  const shape = e.shape ? `, ${fmtShape(e.shape)}` : '';
  const problem = e.problem ? `; problem: ${e.problem}` : '';
  return `${end(e.source)} to ${end(e.target)}${port}${shape}${problem}`;
}
