/**
 * Auto-layout with groups: each expanded group is an ELK compound node holding its layers and nested
 * groups, so a layered layout keeps a submodule's layers together, in a box with room for the frame's
 * header; a collapsed group is one leaf of its node's size. ELK places children relative to their
 * parent; absolutePositions adds the offsets back.
 */
import type { ElkNode } from 'elkjs/lib/elk-api';
import type { DocGroup, GraphEdge, LayerNode } from '../state/graph';
import { COLLAPSED_SIZE, FRAME_HEADER, FRAME_PAD, collapsedId, hiddenBy, reroute } from './groupView';

const LAYER = { width: 220, height: 84 };

/**
 * ELK's children and edges for the canvas as drawn (collapsed groups as single nodes). `spacing`: ELK
 * spacing options for every group's box too; ELK reads them from each compound node, not from the root,
 * so without them a group's layers were packed 20 px apart, too close for the edge labels between them.
 */
export function elkGraphParts(
  nodes: readonly LayerNode[],
  edges: GraphEdge[],
  groups: readonly DocGroup[],
  spacing: Readonly<Record<string, string>> = {},
): { children: ElkNode[]; edges: { id: string; sources: string[]; targets: string[] }[] } {
  const hidden = hiddenBy(nodes, groups);
  const box = (g: DocGroup): ElkNode => ({
    id: `box:${g.id}`,
    layoutOptions: { ...spacing, 'elk.padding': `[top=${FRAME_PAD + FRAME_HEADER + 8},left=${FRAME_PAD + 4},bottom=${FRAME_PAD + 4},right=${FRAME_PAD + 4}]` },
    children: [],
  });
  const boxes = new Map(groups.filter((g) => !g.collapsed).map((g) => [g.id, box(g)]));
  const root: ElkNode[] = [];
  // a child lands in its group's box when that group is drawn expanded, else at the top level
  const place = (parent: string | undefined, child: ElkNode) => (parent && boxes.has(parent) ? boxes.get(parent)!.children!.push(child) : root.push(child));
  for (const g of groups) {
    if (isInsideCollapsed(groups, g)) continue;
    if (g.collapsed) place(g.parent, { id: collapsedId(g.id), ...COLLAPSED_SIZE, ...(g.position ?? {}) });
    else place(g.parent, boxes.get(g.id)!);
  }
  for (const n of nodes) {
    if (hidden.has(n.id)) continue;
    const size = n.measured?.width ? { width: n.measured.width, height: n.measured.height ?? LAYER.height } : LAYER;
    place(n.data.group, { id: n.id, ...size, x: n.position.x, y: n.position.y });
  }
  return { children: root, edges: reroute(edges, hidden).map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })) };
}

function isInsideCollapsed(groups: readonly DocGroup[], g: DocGroup): boolean {
  for (let p = g.parent, k = 0; p && k < 100; k++) {
    const pg = groups.find((x) => x.id === p);
    if (pg?.collapsed) return true;
    p = pg?.parent;
  }
  return false;
}

/** Every leaf's position in canvas coordinates (layers by id, collapsed groups by `group:<id>`). */
export function absolutePositions(out: ElkNode, dx = 0, dy = 0, into = new Map<string, { x: number; y: number }>()): Map<string, { x: number; y: number }> {
  for (const c of out.children ?? []) {
    const x = dx + (c.x ?? 0);
    const y = dy + (c.y ?? 0);
    if (c.id.startsWith('box:')) absolutePositions(c, x, y, into);
    else into.set(c.id, { x: Math.round(x), y: Math.round(y) });
  }
  return into;
}
