/**
 * What a screen reader announces for an edge: the layers it joins by name and type, and the
 * tensor it carries ("linear_relu_stack.0 (Linear) to linear_relu_stack.1 (ReLU), 64×512"),
 * instead of React Flow's default "Edge from n_1a1afb5c to n_…" (ids mean nothing to a user).
 */
import { useMemo } from 'react';
import { fmtShape, type GraphEdge } from '../state/graph';
import { useStore } from '../state/store';

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

/** The store's edges with their ariaLabel; an edge object is kept while its label is unchanged. */
export function useLabelledEdges(edges: readonly GraphEdge[]): GraphEdge[] {
  const analysis = useStore((s) => s.analysis);
  // names and types only, as a string: dragging a node (new node objects every frame) must not
  // hand React Flow a new edge list every frame
  const ends = useStore((s) => s.nodes.map((n) => `${n.id}\t${n.data.name}\t${n.data.type}`).join('\n'));
  return useMemo(() => {
    const byId = new Map(ends.split('\n').map((l) => l.split('\t')).map(([id, name, type]) => [id, { name, type }]));
    return edges.map((e) => {
      const ariaLabel = edgeAriaLabel({
        source: byId.get(e.source),
        target: byId.get(e.target),
        targetHandle: e.targetHandle ?? 'input',
        shape: analysis?.edgeShapes[e.id],
        problem: analysis?.issuesByEdge[e.id]?.[0]?.message,
      });
      return e.ariaLabel === ariaLabel ? e : { ...e, ariaLabel };
    });
  }, [edges, ends, analysis]);
}
