/**
 * The issues of a flattened graph, told on the graph as drawn (engine/graph/groups.ts has the flattening).
 *
 * Analysis runs on the flat graph, where a repeated group's copies are nodes of their own (`conv@2`). The canvas
 * only knows the document's ids, so every issue moves to the id its node or edge was drawn as; one of copy i >= 1
 * says "(copy i)" next to the node it names (and offers no one-click fix: it would change every copy), and an issue every copy repeats (a bad parameter is bad in each) is
 * told once. Group problems become issues on the group's nodes, or one issue of the graph for an empty group.
 */
import type { GraphIssue } from './analyze.js';
import type { GraphDoc } from './document.js';
import { flatOrigin, type FlatGraph, type FlatOrigin } from './groups.js';

/** Maps flat ids back to the document, trusting a document id over its look (a drawn id may contain "@2"). */
function originOf(known: ReadonlySet<string>): (flatId: string) => FlatOrigin {
  return (flatId) => (known.has(flatId) ? { id: flatId, copy: 0 } : flatOrigin(flatId));
}

/** Puts "(copy i)" after the node's full name where the message names it, else in front. */
function tellCopy(message: string, name: string | undefined, copy: number): string {
  const at = name === undefined ? -1 : message.indexOf(`node ${name}`);
  if (at < 0) return `(copy ${copy}) ${message}`;
  const end = at + `node ${name}`.length;
  return `${message.slice(0, end)} (copy ${copy})${message.slice(end)}`;
}

/** The flat graph's issues on document ids, repeats told once, and the group problems as issues. */
export function documentIssues(graph: GraphDoc, flat: FlatGraph, issues: readonly GraphIssue[]): GraphIssue[] {
  if (flat.graph.nodes === graph.nodes && flat.problems.length === 0) return [...issues];
  const nodeOrigin = originOf(new Set(graph.nodes.map((n) => n.id)));
  const edgeOrigin = originOf(new Set(graph.edges.flatMap((e, k) => [e.id ?? `edge #${k}`])));
  const names = new Map(flat.graph.nodes.map((n) => [n.id, n.name]));
  const told = new Set<string>();
  const out: GraphIssue[] = [];
  for (const issue of issues) {
    const node = issue.nodeId === undefined ? undefined : nodeOrigin(issue.nodeId);
    const edge = issue.edgeId === undefined ? undefined : edgeOrigin(issue.edgeId);
    const key = `${issue.code}|${node?.id ?? ''}|${edge?.id ?? ''}`;
    const copy = Math.max(node?.copy ?? 0, edge?.copy ?? 0);
    // Global issues (no Input, no loss) have no node and are told as they are.
    if (copy > 0 && told.has(key)) continue;
    if (node || edge) told.add(key);
    const moved: GraphIssue = { ...issue };
    if (node) moved.nodeId = node.id;
    if (edge) moved.edgeId = edge.id;
    if (copy > 0) {
      moved.message = tellCopy(issue.message, issue.nodeId === undefined ? undefined : names.get(issue.nodeId), copy);
      // A one-click fix edits the drawn node, so every copy: what would mend copy i would break copy 0.
      delete moved.fix;
    }
    out.push(moved);
  }
  for (const p of flat.problems) {
    const on = [...new Set((flat.members.get(p.groupId) ?? []).map((id) => nodeOrigin(id).id))];
    if (on.length === 0) out.push({ code: p.code, message: p.message, hint: p.hint });
    for (const nodeId of on) out.push({ code: p.code, nodeId, message: p.message, hint: p.hint });
  }
  return out;
}
