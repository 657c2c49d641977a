/** The canvas's edges with screen-reader names (edgeAria.ts), recomputed only when a name can change. */
import { useMemo } from 'react';
import type { GraphEdge } from '../state/graph';
import { useStore } from '../state/store';
import { edgeAriaLabel } from './edgeAria';

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
