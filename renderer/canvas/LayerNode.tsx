/**
 * One layer on the canvas: type, name (the state-dict prefix), output shape and parameter count
 * from the analysis, one input handle per port and one output handle. A node with a problem is
 * drawn red with the message, and a one-click fix where the engine offers one.
 */
import { Handle, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { IssueDto } from '../../engine/contract/api';
import { actionApplyFix } from '../actions/actionApplyFix';
import { run } from '../actions/registry';
import { fmtCount, fmtShape, targetHandles, type LayerNode as LayerNodeType } from '../state/graph';
import { useStore } from '../state/store';
import { changeText, useDiff } from '../state/diff';
import { shortMessage } from './issueText';
import { spreadAlong, usePortSides } from './ports';

const EMPTY: IssueDto[] = [];

/**
 * Issues that only say the drawing is not finished yet (nothing connected, not leading to the
 * loss) are drawn amber; everything else (shapes, parameters, cycles, names) red.
 */
const INCOMPLETE = new Set(['missing-input', 'unreachable']);
export const isIncomplete = (issues: readonly IssueDto[]) => issues.length > 0 && issues.every((i) => INCOMPLETE.has(i.code));

export function groupClass(group: string | undefined): string {
  return `g-${(group ?? 'other').toLowerCase().replace(/[^a-z]+/g, '-')}`;
}

export function fixLabel(fix: { param: string; value: unknown }): string {
  const v = Array.isArray(fix.value) ? `[${fix.value.join(', ')}]` : typeof fix.value === 'string' ? `"${fix.value}"` : String(fix.value);
  return `Fix: set ${fix.param} = ${v}`;
}

function LayerNodeView({ id, data, selected }: NodeProps<LayerNodeType>) {
  const layer = useStore((s) => s.catalogByType[data.type]);
  const info = useStore((s) => s.analysis?.nodes[id]);
  const issues = useStore((s) => s.analysis?.issuesByNode[id] ?? EMPTY);
  const batch = useStore((s) => s.analysis?.batchSize);
  // keys of a loaded checkpoint report that do not fit this node (0 = none, or no report)
  const ckptIssues = useStore((s) => {
    const n = s.ckptReport?.nodes.find((r) => r.nodeId === id);
    return n ? n.missing.length + n.unexpected.length + n.mismatched.length : 0;
  });
  // the graph diff's mark (added / changed / renamed) and what changed, when a comparison is open
  const diff = useDiff((d) => (d.marks[id] ? d.result?.layers.find((l) => l.nodeId === id && l.status !== 'removed') : undefined));
  // a string key, so the node re-renders only when its own connections change
  const usedKey = useStore((s) =>
    s.edges
      .filter((e) => e.target === id)
      .map((e) => e.targetHandle ?? 'input')
      .sort()
      .join(','),
  );
  const handles = targetHandles(layer, usedKey ? usedKey.split(',') : []);
  const { direction, sides } = usePortSides(id, handles.length);

  const isLoss = layer?.isLoss ?? false;
  const problem = issues[0];
  const showPortLabels = handles.length > 1;
  const shape = info?.outShape;

  return (
    <div
      className={`layer-node ${groupClass(layer?.group)}${problem ? (isIncomplete(issues) ? ' incomplete' : ' has-issue') : ''}${selected ? ' selected' : ''}${ckptIssues ? ' ckpt-issue' : ''}${diff ? ` diff-${diff.status}` : ''}`}
      data-issue={problem ? (isIncomplete(issues) ? 'incomplete' : 'error') : undefined}
      data-testid={`node-${data.name}`}
      data-node-id={id}
      data-type={data.type}
      data-diff={diff?.status}
    >
      {handles.map((h, i) => (
        <Handle
          key={h}
          id={h}
          type="target"
          position={sides.input}
          className="port port-in"
          style={spreadAlong(direction, i, handles.length)}
          data-testid={`handle-${data.name}-${h}`}
          title={h}
        >
          {showPortLabels && <span className="port-label">{h}</span>}
        </Handle>
      ))}
      {ckptIssues > 0 && (
        <span className="ckpt-badge" data-testid={`ckpt-issue-${data.name}`} title={`${ckptIssues} checkpoint key(s) do not fit this node (see the Training panel)`}>
          {ckptIssues}
        </span>
      )}
      {diff && (
        <span className={`diff-badge diff-${diff.status}`} data-testid={`diff-badge-${data.name}`} title={[diff.baseName ? `renamed from ${diff.baseName}` : '', ...diff.changes.map(changeText)].filter(Boolean).join('\n') || diff.status}>
          {diff.status}
        </span>
      )}
      <div className="layer-head">
        <span className="layer-type">{data.type}</span>
        {info && info.paramCount > 0 && <span className="layer-params" title="trainable parameters">{fmtCount(info.paramCount)}</span>}
      </div>
      <div className="layer-name" title="name: the state-dict prefix">
        {data.name}
      </div>
      {/* The problem sits on the shape's line, inside the node: a callout beside the node spilled
          over its neighbours and under the minimap, and an extra line would make the node grow
          when the analysis lands, moving its output handle from under the user's pointer. One
          line with an ellipsis; the full text is the tooltip and the inspector's issue list. */}
      <div className="layer-foot">
        <div className="layer-shape" data-testid={`shape-${data.name}`} title={batch ? `output shape at batch size ${batch}` : 'output shape'}>
          {isLoss ? (shape ? 'loss: scalar' : '—') : shape ? fmtShape(shape) : '?'}
        </div>
        {problem && (
          <div className="layer-issue nodrag" data-testid={`issue-${data.name}`}>
            <span className="issue-message" title={issues.map((i) => i.message).join('\n')}>
              {shortMessage(problem.message)}
            </span>
            {issues.length > 1 && (
              <span className="issue-more" title={`${issues.length - 1} more in the inspector`}>
                +{issues.length - 1}
              </span>
            )}
          </div>
        )}
      </div>
      {problem?.fix && (
        <button className="btn-fix nodrag" data-testid={`fix-${data.name}`} onClick={() => run(actionApplyFix, problem)}>
          {fixLabel(problem.fix)}
        </button>
      )}
      {!isLoss && <Handle id="out" type="source" position={sides.output} className="port port-out" data-testid={`handle-${data.name}-out`} />}
    </div>
  );
}

export const LayerNode = memo(LayerNodeView);
