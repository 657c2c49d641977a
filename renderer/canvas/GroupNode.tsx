/**
 * A collapsed group: one node where the group was, with the shape entering and leaving it and its
 * parameter count (AnalysisDto.groups), "×N" for a repeat. The group's external edges are rerouted to
 * its one input and one output handle (canvas/groupView.ts); expand restores the layers.
 */
import { Handle, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { actionToggleGroup } from '../actions/actionGroupProps';
import { run } from '../actions/registry';
import { fmtCount, fmtShape } from '../state/graph';
import { groupPath, memberIds } from '../state/groups';
import { useStore } from '../state/store';
import type { GroupCollapsedNode } from './groupView';
import { usePortSides } from './ports';

function GroupNodeView({ id, data, selected }: NodeProps<GroupCollapsedNode>) {
  const group = useStore((s) => s.groups.find((g) => g.id === data.groupId));
  const path = useStore((s) => groupPath(s.groups, data.groupId));
  const info = useStore((s) => s.analysis?.groups[data.groupId]);
  const count = useStore((s) => memberIds(s.nodes, s.groups, data.groupId).length);
  // a problem on any hidden layer shows on the group, or it would vanish from view
  const problems = useStore((s) => memberIds(s.nodes, s.groups, data.groupId).reduce((k, id) => k + (s.analysis?.issuesByNode[id]?.length ?? 0), 0));
  const { sides } = usePortSides(id);
  if (!group) return null;
  return (
    <div className={`group-node${selected ? ' selected' : ''}${problems ? ' has-issue' : ''}`} data-testid={`group-node-${group.name}`} data-group-id={group.id}>
      <Handle id="input" type="target" position={sides.input} className="port port-in" />
      <div className="layer-head">
        <span className="layer-type">{group.repeat !== undefined ? `Sequential ×${group.repeat}` : 'Module'}</span>
        <span className="layer-params" data-testid={`group-node-params-${group.name}`} title="parameters (all copies)">
          {info ? fmtCount(info.paramCount) : '?'}
        </span>
      </div>
      <div className="layer-name" title={`${path}: ${count} layer${count === 1 ? '' : 's'}`}>
        {group.name}
        <button
          className="group-toggle nodrag"
          data-testid={`group-expand-${group.name}`}
          aria-label={`Expand ${path}`}
          title="Expand"
          onClick={(e) => {
            e.stopPropagation();
            run(actionToggleGroup, { id: group.id });
          }}
        >
          ▸
        </button>
      </div>
      <div className="group-shapes mono">
        <span data-testid={`group-in-${group.name}`} title="shape entering the group">
          {info ? fmtShape(info.inShape) : '?'}
        </span>
        <span className="muted"> → </span>
        <span data-testid={`group-out-${group.name}`} title="shape leaving the group">
          {info ? fmtShape(info.outShape) : '?'}
        </span>
      </div>
      {problems > 0 && <div className="layer-issue">{problems} problem{problems === 1 ? '' : 's'} inside: expand to see</div>}
      <Handle id="out" type="source" position={sides.output} className="port port-out" />
    </div>
  );
}

export const GroupNode = memo(GroupNodeView);
