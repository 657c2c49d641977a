import type { ElkNode } from 'elkjs/lib/elk-api';
import type { DocGroup, GraphChange, GraphEdge, LayerNode } from '../state/graph';
import { absolutePositions, elkGraphParts } from '../canvas/groupLayout';
import { fitReadable } from '../canvas/fit';
import { plainKey, register } from './registry';

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

/** New positions for every node: ELK layered, top to bottom, ports in order; a group's layers kept together (canvas/groupLayout.ts). */
export async function layoutPositions(nodes: LayerNode[], edges: GraphEdge[], groups: readonly DocGroup[] = []): Promise<Map<string, { x: number; y: number }>> {
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.spacing.nodeNode': '48',
      'elk.layered.spacing.nodeNodeBetweenLayers': '44',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.crossingMinimization.semiInteractive': 'true',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
    },
    ...elkGraphParts(nodes, edges, groups),
  };
  return absolutePositions(await (await getElk()).layout(graph));
}

export const actionAutoLayout = register({
  name: 'autoLayout',
  label: 'Auto-layout',
  category: 'Canvas',
  keys: ['L'],
  keyTest: (e) => plainKey(e, 'l') && !e.shiftKey,
  predicate: (ctx) => ctx.state().nodes.length > 0,
  async perform(ctx) {
    const s = ctx.state();
    const pos = await layoutPositions(s.nodes, s.edges, s.groups);
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
    now.commit(changes, 'Auto-layout');
    requestAnimationFrame(() => fitReadable(ctx));
  },
});
