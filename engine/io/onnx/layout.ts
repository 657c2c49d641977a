/**
 * Canvas positions for an imported graph, top to bottom as the templates are drawn: each node one row
 * below its deepest input (a layered layout in topological order), the nodes of a row side by side and
 * centred, so parallel branches (a residual block's shortcut) sit next to each other.
 */
import type { EdgeDoc, NodeDoc } from '../../graph/document.js';

const ROW = 100;
const COLUMN = 220;

/** Sets `position` on every node; `nodes` must be in topological order. */
export function layoutTopDown(nodes: NodeDoc[], edges: readonly EdgeDoc[]): void {
  const depth = new Map<string, number>();
  for (const n of nodes) {
    const ins = edges.filter((e) => e.target === n.id).map((e) => depth.get(e.source) ?? 0);
    depth.set(n.id, ins.length ? Math.max(...ins) + 1 : 0);
  }
  const rows = new Map<number, NodeDoc[]>();
  for (const n of nodes) rows.set(depth.get(n.id)!, [...(rows.get(depth.get(n.id)!) ?? []), n]);
  for (const [d, row] of rows) row.forEach((n, i) => { n.position = { x: (i - (row.length - 1) / 2) * COLUMN, y: d * ROW }; });
}
