/**
 * An expanded group: a labelled frame around its layers (canvas/groupView.ts computes the box). The
 * header shows the name, "×N" for a repeat (its copies' key prefixes in the tooltip), the parameter count
 * from the analysis (all copies) and the collapse button; clicking it selects the group's layers. The
 * frame's body lets clicks through to the canvas, so box selection and panning work inside it.
 */
import type { NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { actionToggleGroup } from '../actions/actionGroupProps';
import { run } from '../actions/registry';
import { fmtCount } from '../state/graph';
import { copyPrefixes, groupPath } from '../state/groups';
import { useStore } from '../state/store';
import type { GroupFrameNode } from './groupView';

function GroupFrameView({ data }: NodeProps<GroupFrameNode>) {
  const group = useStore((s) => s.groups.find((g) => g.id === data.groupId));
  const path = useStore((s) => groupPath(s.groups, data.groupId));
  const copies = useStore((s) => copyPrefixes(s.groups, data.groupId).join(', '));
  const params = useStore((s) => s.analysis?.groups[data.groupId]?.paramCount);
  const selected = useStore((s) => s.selectedGroup === data.groupId);
  if (!group) return null;
  const tip = `${path}: an nn.Module${group.repeat !== undefined ? `; ×${group.repeat} copies, keys ${copies}` : ''}. Click to select its layers.`;
  return (
    <div className={`group-frame depth-${data.depth % 3}${selected ? ' selected' : ''}`} data-testid={`group-frame-${group.name}`} data-group-id={group.id}>
      <div
        className="group-header"
        data-testid={`group-header-${group.name}`}
        title={tip}
        onClick={(e) => useStore.getState().selectGroup(group.id, e.shiftKey || e.metaKey || e.ctrlKey)}
      >
        <button
          className="group-toggle nodrag"
          data-testid={`group-collapse-${group.name}`}
          aria-label={`Collapse ${path}`}
          title="Collapse to one node"
          onClick={(e) => {
            e.stopPropagation();
            run(actionToggleGroup, { id: group.id });
          }}
        >
          ▾
        </button>
        <span className="group-name">{group.name}</span>
        {group.repeat !== undefined && (
          <span className="group-repeat" data-testid={`group-repeat-${group.name}`}>
            ×{group.repeat}
          </span>
        )}
        {params !== undefined && (
          <span className="group-params" data-testid={`group-params-${group.name}`} title="parameters (all copies)">
            {fmtCount(params)}
          </span>
        )}
      </div>
    </div>
  );
}

export const GroupFrame = memo(GroupFrameView);
