/**
 * What a Delete changes (pure, for actionDelete): the selected nodes and their edges go; a run of
 * deleted nodes with exactly one edge in from a kept node and one edge out to a kept node is
 * bridged by an edge from that input to that output, so the chain survives the cut.
 */
import { docEdge, docNode, freshId, type DocEdge, type DocGroup, type GraphChange, type GraphEdge, type LayerNode } from '../state/graph';
import { emptiedGroups } from '../state/groups';
import type { State } from '../state/store';
import { connectionProblem } from './isValidConnection';

export interface DeletionPlan {
  changes: GraphChange[];
  /** the edges added to bridge deleted runs, with the names they join (for the toast) */
  bridges: { edge: DocEdge; from: string; to: string }[];
  /** names of the deleted layers */
  deleted: string[];
}

/**
 * Groups the deleted nodes into runs connected by edges among themselves; a run with exactly
 * one edge coming in from a kept node and one going out to a kept node is bridged by an edge
 * from that input to that output (same target port), if the canvas would accept it.
 */
export function planDeletion(s: Pick<State, 'nodes' | 'edges' | 'catalogByType'> & { groups?: readonly DocGroup[] }, reconnect: boolean, makeId: () => string = () => freshId('e')): DeletionPlan {
  const ids = new Set(s.nodes.filter((n) => n.selected).map((n) => n.id));
  const removed = s.edges.filter((e) => e.selected || ids.has(e.source) || ids.has(e.target));
  const changes: GraphChange[] = removed.map((e) => ({ kind: 'removeEdge', edge: docEdge(e) }));
  const nodes = s.nodes.filter((n) => ids.has(n.id));
  for (const n of nodes) changes.push({ kind: 'removeNode', node: docNode(n) });
  // a group left with no layer goes with them (deleting a selected group deletes it and its layers;
  // Ungroup is the way to keep the layers), innermost first so undo brings parents back before children
  for (const g of emptiedGroups(s.nodes, s.groups ?? [], ids)) changes.push({ kind: 'removeGroup', group: g });
  const bridges: DeletionPlan['bridges'] = [];
  if (reconnect) {
    const kept = { ...s, nodes: s.nodes.filter((n) => !ids.has(n.id)), edges: s.edges.filter((e) => !removed.includes(e)) };
    for (const run of runsOf(ids, s.edges)) {
      const bridge = bridgeFor(run, ids, s.edges, kept, makeId);
      if (!bridge) continue;
      kept.edges = [...kept.edges, { ...bridge, type: 'shape' }];
      changes.push({ kind: 'addEdge', edge: bridge });
      bridges.push({ edge: bridge, from: nameOf(s.nodes, bridge.source), to: nameOf(s.nodes, bridge.target) });
    }
  }
  return { changes, bridges, deleted: nodes.map((n) => n.data.name) };
}

const nameOf = (nodes: readonly LayerNode[], id: string) => nodes.find((n) => n.id === id)?.data.name ?? id;

/** The deleted nodes split into groups joined by edges between deleted nodes (union-find). */
function runsOf(ids: ReadonlySet<string>, edges: readonly GraphEdge[]): Set<string>[] {
  const parent = new Map([...ids].map((id) => [id, id]));
  const find = (x: string): string => (parent.get(x) === x ? x : find(parent.get(x)!));
  for (const e of edges) if (ids.has(e.source) && ids.has(e.target)) parent.set(find(e.source), find(e.target));
  const runs = new Map<string, Set<string>>();
  for (const id of ids) {
    const root = find(id);
    if (!runs.has(root)) runs.set(root, new Set());
    runs.get(root)!.add(id);
  }
  return [...runs.values()];
}

function bridgeFor(run: ReadonlySet<string>, ids: ReadonlySet<string>, edges: readonly GraphEdge[], kept: Pick<State, 'nodes' | 'edges' | 'catalogByType'>, makeId: () => string): DocEdge | null {
  const into = edges.filter((e) => run.has(e.target) && !ids.has(e.source));
  const out = edges.filter((e) => run.has(e.source) && !ids.has(e.target));
  if (into.length !== 1 || out.length !== 1) return null;
  const c = { source: into[0].source, sourceHandle: null, target: out[0].target, targetHandle: out[0].targetHandle ?? 'input' };
  if (connectionProblem(kept, c)) return null;
  return { id: makeId(), source: c.source, target: c.target, targetHandle: c.targetHandle };
}
