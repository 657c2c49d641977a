/**
 * React Flow's changes to the canvas nodes that stand for groups (canvas/groupView.ts), turned into
 * store edits: a collapsed group's node selected selects its layers, dragged moves the group, measured
 * keeps its size for the frames around it. Frames are not selectable or draggable, so only their
 * measurements arrive, and are not needed (their size is computed).
 */
import type { NodeChange } from '@xyflow/react';
import { memberIds } from '../state/groups';
import { useStore } from '../state/store';
import { groupOfViewId, type CanvasNode, type Size } from './groupView';

type SetSizes = (f: (prev: Record<string, Size>) => Record<string, Size>) => void;

export function routeGroupChanges(changes: readonly NodeChange<CanvasNode>[], setSizes: SetSizes): void {
  for (const c of changes) {
    if (!('id' in c) || !c.id.startsWith('group:')) continue;
    const id = groupOfViewId(c.id)!;
    const s = useStore.getState();
    if (c.type === 'dimensions' && c.dimensions) {
      const d = c.dimensions;
      setSizes((prev) => (prev[c.id]?.width === d.width && prev[c.id]?.height === d.height ? prev : { ...prev, [c.id]: { width: d.width, height: d.height } }));
    } else if (c.type === 'position' && c.position) {
      s.moveGroup(id, c.position);
    } else if (c.type === 'select') {
      if (c.selected) {
        // a plain click deselected the others in the same batch: then this group is the selection
        const others = s.nodes.some((n) => n.selected && !memberIds(s.nodes, s.groups, id).includes(n.id));
        s.selectGroup(id, others);
      } else {
        const members = new Set(memberIds(s.nodes, s.groups, id));
        s.onNodesChange([...members].map((m) => ({ type: 'select', id: m, selected: false })));
      }
    }
  }
}
