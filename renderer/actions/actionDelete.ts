/**
 * Delete and "delete, keeping the chain". A plain Delete on a layer in the middle of a chain
 * (one edge in, one edge out) reconnects its input to its output, as node editors do
 * (Blender's dissolve, Unreal's delete-and-reconnect): what a user deleting conv2 out of
 * LeNet-5 means is "the network without conv2", not two halves and a dozen amber callouts.
 * Shift+Delete deletes without reconnecting, for the rare case where the break is wanted.
 * Either way it is one undo step; the new edge is re-inferred like any other and flagged red
 * (never refused) when its shapes do not fit.
 */
import { connectionProblem } from '../canvas/isValidConnection';
import { docEdge, docNode, freshId, type DocEdge, type GraphChange, type GraphEdge, type LayerNode } from '../state/graph';
import type { State } from '../state/store';
import { register } from './registry';
import type { ActionContext } from './types';

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
export function planDeletion(s: Pick<State, 'nodes' | 'edges' | 'catalogByType'>, reconnect: boolean, makeId: () => string = () => freshId('e')): DeletionPlan {
  const ids = new Set(s.nodes.filter((n) => n.selected).map((n) => n.id));
  const removed = s.edges.filter((e) => e.selected || ids.has(e.source) || ids.has(e.target));
  const changes: GraphChange[] = removed.map((e) => ({ kind: 'removeEdge', edge: docEdge(e) }));
  const nodes = s.nodes.filter((n) => ids.has(n.id));
  for (const n of nodes) changes.push({ kind: 'removeNode', node: docNode(n) });
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

function performDelete(ctx: ActionContext, reconnect: boolean): void {
  const s = ctx.state();
  const plan = planDeletion(s, reconnect);
  s.commit(plan.changes, reconnect && plan.bridges.length ? 'Delete and reconnect' : 'Delete');
  if (plan.bridges.length) {
    const what = plan.deleted.length <= 3 ? plan.deleted.join(', ') : `${plan.deleted.length} layers`;
    const joined = plan.bridges.map((b) => `${b.from} → ${b.to}`).join(', ');
    s.toast({ kind: 'info', message: `Deleted ${what}; reconnected ${joined} (Ctrl+Z to undo, Shift+Delete deletes without reconnecting)` });
  }
}

const hasSelection = (ctx: ActionContext) => ctx.state().nodes.some((n) => n.selected) || ctx.state().edges.some((e) => e.selected);
const plainKey = (e: KeyboardEvent) => (e.key === 'Delete' || e.key === 'Backspace') && !e.ctrlKey && !e.metaKey && !e.altKey;

/** Deletes the selected nodes (with their edges) and edges; a run in the middle of a chain is bridged. */
export const actionDelete = register({
  name: 'delete',
  label: 'Delete selection, reconnecting a layer in the middle of a chain (its input to its output)',
  category: 'Edit',
  keys: ['Delete', 'Backspace'],
  keyTest: (e) => plainKey(e) && !e.shiftKey,
  predicate: hasSelection,
  perform: (ctx) => performDelete(ctx, true),
});

/** Deletes the selection and leaves the chain broken. */
export const actionDeleteOnly = register({
  name: 'deleteOnly',
  label: 'Delete selection without reconnecting',
  category: 'Edit',
  keys: ['Shift+Delete', 'Shift+Backspace'],
  keyTest: (e) => plainKey(e) && e.shiftKey,
  predicate: hasSelection,
  perform: (ctx) => performDelete(ctx, false),
});
