import type { ElkNode } from 'elkjs/lib/elk-api';
import type { GraphChange, GraphEdge, LayerNode } from '../state/graph';
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

/** New positions for every node: ELK layered, top to bottom, ports in order. */
export async function layoutPositions(nodes: LayerNode[], edges: GraphEdge[]): Promise<Map<string, { x: number; y: number }>> {
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.spacing.nodeNode': '48',
      'elk.layered.spacing.nodeNodeBetweenLayers': '44',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.crossingMinimization.semiInteractive': 'true',
    },
    children: nodes.map((n) => ({ id: n.id, width: n.measured?.width ?? 220, height: n.measured?.height ?? 84, x: n.position.x, y: n.position.y })),
    edges: edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  };
  const out = await (await getElk()).layout(graph);
  return new Map((out.children ?? []).map((c) => [c.id, { x: Math.round(c.x ?? 0), y: Math.round(c.y ?? 0) }]));
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
    const pos = await layoutPositions(s.nodes, s.edges);
    const now = ctx.state();
    const changes: GraphChange[] = [];
    for (const n of now.nodes) {
      const p = pos.get(n.id);
      if (p && (p.x !== n.position.x || p.y !== n.position.y)) changes.push({ kind: 'updateNode', id: n.id, before: { position: { ...n.position } }, after: { position: p } });
    }
    now.commit(changes, 'Auto-layout');
    requestAnimationFrame(() => fitReadable(ctx));
  },
});
