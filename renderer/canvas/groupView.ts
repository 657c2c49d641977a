/**
 * What React Flow draws for the groups, derived from the store on every render (never stored): an
 * expanded group is a frame around its members' current bounds, a collapsed one is a single node with
 * its external edges rerouted to it.
 *
 * Why drawn boxes and not React Flow parent/child nodes: the layers keep absolute positions, so
 * dragging, box selection, auto-layout, copy/paste and the project file (positions as before) need no
 * coordinate conversion, and a layer dragged out of the frame simply makes the frame grow: membership is
 * the `group` field, edited by Group/Ungroup, never by where a node was dropped.
 */
import type { Node } from '@xyflow/react';
import type { DocGroup, GraphEdge, LayerNode, Position } from '../state/graph';
import { ancestors } from '../state/groups';

export const FRAME_PAD = 14;
export const FRAME_HEADER = 30;
const LAYER_SIZE = { width: 220, height: 84 };
export const COLLAPSED_SIZE = { width: 240, height: 96 };

export type GroupFrameData = { groupId: string; depth: number };
export type GroupCollapsedData = { groupId: string };
export type GroupFrameNode = Node<GroupFrameData, 'groupFrame'>;
export type GroupCollapsedNode = Node<GroupCollapsedData, 'groupCollapsed'>;
export type CanvasNode = LayerNode | GroupFrameNode | GroupCollapsedNode;

export interface Size {
  width: number;
  height: number;
}
interface Box {
  x: number;
  y: number;
  x2: number;
  y2: number;
}

export const frameId = (groupId: string) => `frame:${groupId}`;
export const collapsedId = (groupId: string) => `group:${groupId}`;
/** The group a canvas node id stands for (a frame or a collapsed group), or null for a layer. */
export function groupOfViewId(id: string): string | null {
  const m = id.match(/^(?:frame|group):(.+)$/);
  return m ? m[1] : null;
}

/** The outermost collapsed group holding each layer that a collapsed group hides. */
export function hiddenBy(nodes: readonly LayerNode[], groups: readonly DocGroup[]): Map<string, string> {
  const collapsed = new Set(groups.filter((g) => g.collapsed).map((g) => g.id));
  const out = new Map<string, string>();
  for (const n of nodes) {
    const outer = ancestors(groups, n.data.group).filter((id) => collapsed.has(id)).pop();
    if (outer) out.set(n.id, outer);
  }
  return out;
}

const union = (a: Box | null, b: Box | null): Box | null => (!a ? b : !b ? a : { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), x2: Math.max(a.x2, b.x2), y2: Math.max(a.y2, b.y2) });

/** The bounds of a group's layers as they sit now (hidden ones included), for collapsing and expanding. */
export function membersBounds(nodes: readonly LayerNode[], groups: readonly DocGroup[], id: string): { x: number; y: number } | null {
  let box: Box | null = null;
  for (const n of nodes) {
    if (!ancestors(groups, n.data.group).includes(id)) continue;
    const s = n.measured?.width ? (n.measured as Size) : LAYER_SIZE;
    box = union(box, { x: n.position.x, y: n.position.y, x2: n.position.x + s.width, y2: n.position.y + s.height });
  }
  return box ? { x: box.x, y: box.y } : null;
}

/**
 * The nodes and edges React Flow gets: frames first (outer groups under inner ones), then the visible
 * layers and the collapsed groups. `sizes` are the measured sizes of collapsed groups' nodes.
 */
export function groupView(nodes: LayerNode[], edges: GraphEdge[], groups: readonly DocGroup[], sizes: Readonly<Record<string, Size>> = {}): { nodes: CanvasNode[]; edges: GraphEdge[] } {
  if (groups.length === 0) return { nodes, edges };
  const hidden = hiddenBy(nodes, groups);
  const visible = nodes.filter((n) => !hidden.has(n.id));
  const byGroup = new Map<string, Box | null>();
  const groupIds = new Set(groups.map((g) => g.id));
  const collapsedNodes: GroupCollapsedNode[] = [];
  for (const g of groups) {
    if (!g.collapsed || !ancestors(groups, g.id).slice(1).every((a) => !groups.find((x) => x.id === a)?.collapsed)) continue;
    const members = nodes.filter((n) => hidden.get(n.id) === g.id);
    const position: Position = g.position ?? membersBounds(nodes, groups, g.id) ?? { x: 0, y: 0 };
    const size = sizes[collapsedId(g.id)] ?? COLLAPSED_SIZE;
    const selected = members.length > 0 && members.every((n) => n.selected);
    collapsedNodes.push({ id: collapsedId(g.id), type: 'groupCollapsed', position: { ...position }, data: { groupId: g.id }, selected, ...(sizes[collapsedId(g.id)] ? { measured: size } : {}) });
    // its box counts towards the frames of the groups around it
    for (const a of ancestors(groups, g.id).slice(1)) byGroup.set(a, union(byGroup.get(a) ?? null, { x: position.x, y: position.y, x2: position.x + size.width, y2: position.y + size.height }));
  }
  for (const n of visible) {
    const s = n.measured?.width ? (n.measured as Size) : LAYER_SIZE;
    const box = { x: n.position.x, y: n.position.y, x2: n.position.x + s.width, y2: n.position.y + s.height };
    for (const a of ancestors(groups, n.data.group)) byGroup.set(a, union(byGroup.get(a) ?? null, box));
  }
  const frames: GroupFrameNode[] = [];
  // inner frames pad their own box: an outer frame must hold them with room for their header
  const sorted = [...groups].filter((g) => groupIds.has(g.id)).sort((a, b) => ancestors(groups, b.id).length - ancestors(groups, a.id).length);
  const frameBox = new Map<string, Box>();
  for (const g of sorted) {
    if (g.collapsed || hiddenByAncestor(groups, g.id)) continue;
    let box = byGroup.get(g.id) ?? null;
    for (const c of groups.filter((x) => x.parent === g.id)) box = union(box, frameBox.get(c.id) ?? null);
    if (!box) continue;
    const f = { x: box.x - FRAME_PAD, y: box.y - FRAME_PAD - FRAME_HEADER, x2: box.x2 + FRAME_PAD, y2: box.y2 + FRAME_PAD };
    frameBox.set(g.id, f);
    const depth = ancestors(groups, g.id).length - 1;
    frames.push({
      id: frameId(g.id),
      type: 'groupFrame',
      position: { x: f.x, y: f.y },
      width: f.x2 - f.x,
      height: f.y2 - f.y,
      data: { groupId: g.id, depth },
      draggable: false,
      selectable: false,
      connectable: false,
      focusable: false,
      className: 'group-frame-node',
      measured: { width: f.x2 - f.x, height: f.y2 - f.y },
    });
  }
  frames.sort((a, b) => a.data.depth - b.data.depth);
  return { nodes: [...frames, ...visible, ...collapsedNodes], edges: reroute(edges, hidden) };
}

function hiddenByAncestor(groups: readonly DocGroup[], id: string): boolean {
  return ancestors(groups, id)
    .slice(1)
    .some((a) => groups.find((g) => g.id === a)?.collapsed);
}

/** Edges with ends inside a collapsed group moved to its node; edges wholly inside one are not drawn. */
export function reroute(edges: GraphEdge[], hidden: ReadonlyMap<string, string>): GraphEdge[] {
  if (hidden.size === 0) return edges;
  const out: GraphEdge[] = [];
  for (const e of edges) {
    const s = hidden.get(e.source);
    const t = hidden.get(e.target);
    if (!s && !t) out.push(e);
    else if (s !== t) out.push({ ...e, source: s ? collapsedId(s) : e.source, target: t ? collapsedId(t) : e.target, targetHandle: t ? 'input' : e.targetHandle, sourceHandle: s ? 'out' : e.sourceHandle });
  }
  return out;
}

/**
 * Whether some group's frame, drawn where its layers are, would cover a layer outside that group: a
 * project whose positions were written without frames in mind (a hand-written template, a file from
 * before groups) is then laid out on opening, as one without positions is.
 */
export function framesCrowd(nodes: LayerNode[], groups: readonly DocGroup[]): boolean {
  if (groups.length === 0) return false;
  const view = groupView(nodes, [], groups);
  const layers = view.nodes.filter((n): n is LayerNode => n.type === 'layer');
  for (const f of view.nodes) {
    if (f.type !== 'groupFrame') continue;
    const box = { x: f.position.x, y: f.position.y, x2: f.position.x + f.width!, y2: f.position.y + f.height! };
    for (const n of layers) {
      if (ancestors(groups, n.data.group).includes(f.data.groupId)) continue;
      const s = n.measured?.width ? (n.measured as Size) : LAYER_SIZE;
      if (n.position.x < box.x2 && n.position.x + s.width > box.x && n.position.y < box.y2 && n.position.y + s.height > box.y) return true;
    }
  }
  return false;
}
