/** An edge labelled with the shape it carries (its source's output at the current batch size). */
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from '@xyflow/react';
import { memo } from 'react';
import { fmtShape, type GraphEdge } from '../state/graph';
import { useStore } from '../state/store';

function ShapeEdgeView({ id, source, target, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, selected, markerEnd }: EdgeProps<GraphEdge>) {
  const shape = useStore((s) => s.analysis?.edgeShapes[id]);
  const issue = useStore((s) => s.analysis?.issuesByEdge[id]?.[0]);
  const sourceName = useStore((s) => s.nodes.find((n) => n.id === source)?.data.name ?? source);
  const targetName = useStore((s) => s.nodes.find((n) => n.id === target)?.data.name ?? target);
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const text = shape === undefined ? '' : fmtShape(shape);
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} className={`shape-edge${issue ? ' has-issue' : ''}${selected ? ' selected' : ''}`} />
      {(text || issue) && (
        <EdgeLabelRenderer>
          <div
            className={`edge-label${issue ? ' has-issue' : ''}${selected ? ' selected' : ''}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
            data-testid={`edge-label-${sourceName}-${targetName}`}
            title={issue ? issue.message : `tensor shape ${text}`}
          >
            {issue && !shape ? '!' : text}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

export const ShapeEdge = memo(ShapeEdgeView);
