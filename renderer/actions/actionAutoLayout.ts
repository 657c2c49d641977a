import type { ElkNode } from 'elkjs/lib/elk-api';
import type { DocGroup, GraphChange, GraphEdge, LayerNode } from '../state/graph';
import { absolutePositions, elkGraphParts } from '../canvas/groupLayout';
import { fitReadable } from '../canvas/fit';
import { ELK_DIRECTION, LAYER_GAP, useLayoutPrefs, type LayoutDirection } from '../state/layoutPrefs';
import { plainKey, register } from './registry';
import type { ActionContext } from './types';

type Elk = { layout(g: ElkNode): Promise<ElkNode> };
let elk: Promise<Elk> | null = null;
function getElk(): Promise<Elk> {
  // loaded on first use: elkjs is large and most sessions never lay out
  elk ??= import('elkjs/lib/elk.bundled.js').then((m) => {
    const Ctor = ((m as unknown as { default?: unknown }).default ?? m) as new () => Elk;
    return new Ctor();
  });
  return elk;
}

/**
 * New positions for every node: ELK layered, top to bottom (or left to right: the user's preference,
 * state/layoutPrefs.ts), ports in order; a group's layers kept together (canvas/groupLayout.ts).
 */
export async function layoutPositions(
  nodes: LayerNode[],
  edges: GraphEdge[],
  groups: readonly DocGroup[] = [],
  direction: LayoutDirection = useLayoutPrefs.getState().direction,
): Promise<Map<string, { x: number; y: number }>> {
  const spacing = { 'elk.spacing.nodeNode': '48', 'elk.layered.spacing.nodeNodeBetweenLayers': String(LAYER_GAP[direction]) };
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': ELK_DIRECTION[direction],
      ...spacing,
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.crossingMinimization.semiInteractive': 'true',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
    },
    ...elkGraphParts(nodes, edges, groups, spacing),
  };
  return absolutePositions(await (await getElk()).layout(graph));
}

/** Lays the graph out (one undo step) in the given direction, then fits it at a readable zoom. */
async function layOut(ctx: ActionContext, direction: LayoutDirection, label: string): Promise<void> {
  const s = ctx.state();
  const pos = await layoutPositions(s.nodes, s.edges, s.groups, direction);
  const now = ctx.state();
  const changes: GraphChange[] = [];
  for (const n of now.nodes) {
    const p = pos.get(n.id);
    if (p && (p.x !== n.position.x || p.y !== n.position.y)) changes.push({ kind: 'updateNode', id: n.id, before: { position: { ...n.position } }, after: { position: p } });
  }
  // a collapsed group moves as its node (its layers follow it when it is expanded)
  for (const g of now.groups) {
    const p = pos.get(`group:${g.id}`);
    if (p && (p.x !== g.position?.x || p.y !== g.position?.y)) changes.push({ kind: 'updateGroup', id: g.id, before: { position: g.position }, after: { position: p } });
  }
  now.commit(changes, label);
  requestAnimationFrame(() => fitReadable(ctx));
}

const hasNodes = (ctx: ActionContext) => ctx.state().nodes.length > 0;

/** Lays out in the direction last chosen (the user's preference, state/layoutPrefs.ts). */
export const actionAutoLayout = register({
  name: 'autoLayout',
  label: 'Auto-layout',
  category: 'Canvas',
  keys: ['L'],
  keyTest: (e) => plainKey(e, 'l') && !e.shiftKey,
  predicate: hasNodes,
  perform: (ctx) => layOut(ctx, useLayoutPrefs.getState().direction, 'Auto-layout'),
});

/** Switches the remembered direction to the other one and lays out that way. */
export const actionFlipLayout = register({
  name: 'flipLayout',
  label: 'Switch layout direction (top to bottom / left to right)',
  category: 'Canvas',
  keys: ['Shift+L'],
  keyTest: (e) => plainKey(e, 'l') && e.shiftKey,
  predicate: hasNodes,
  perform(ctx) {
    const next: LayoutDirection = useLayoutPrefs.getState().direction === 'down' ? 'right' : 'down';
    useLayoutPrefs.getState().setDirection(next);
    return layOut(ctx, next, next === 'right' ? 'Layout left to right' : 'Layout top to bottom');
  },
});
