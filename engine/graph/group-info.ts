/**
 * What a collapsed group shows (AnalysisDto.groups): its module path, the shape entering and leaving it, its
 * parameters over all copies, its number of copies. Works on an Analysis of the flat graph, so a group with
 * problems still gets what can be known (the rest is null).
 */
import type { Analysis } from './analyze.js';
import type { GraphDoc } from './document.js';
import { batchShape, paramCount } from './summary.js';

export interface GroupInfo {
  id: string;
  path: string;
  /** batch in front; null when unknown, or when different shapes enter (or leave) it */
  inShape: number[] | null;
  outShape: number[] | null;
  paramCount: number;
  copies: number;
}

/** The one shape all these nodes' outputs have, or null (none, unknown, or several). */
function oneShape(analysis: Analysis, nodeIds: Iterable<string>, batchSize: number): number[] | null {
  const shapes = new Map<string, number[] | null>();
  for (const id of nodeIds) {
    const n = analysis.byId.get(id);
    const s = n ? batchShape(n, batchSize) : null;
    shapes.set(JSON.stringify(s), s);
  }
  return shapes.size === 1 ? [...shapes.values()][0] : null;
}

/**
 * Per group of the document: the shape crossing into it is its outside sources' output; the shape leaving it is
 * the output of its nodes that feed something outside. A group inside a repeat sees every copy's crossings, which
 * carry the same shapes when the repeat is well formed.
 */
export function groupInfos(graph: GraphDoc, analysis: Analysis, batchSize: number): GroupInfo[] {
  const { flat } = analysis;
  return (graph.groups ?? []).map((g) => {
    const members = new Set(flat.members.get(g.id) ?? []);
    const sources = new Set<string>();
    const exits = new Set<string>();
    for (const e of flat.graph.edges) {
      if (members.has(e.target) && !members.has(e.source)) sources.add(e.source);
      if (members.has(e.source) && !members.has(e.target)) exits.add(e.source);
    }
    let params = 0;
    for (const id of members) {
      const n = analysis.byId.get(id);
      if (n) params += paramCount(analysis, n);
    }
    return {
      id: g.id,
      path: flat.paths.get(g.id) ?? g.name,
      inShape: oneShape(analysis, sources, batchSize),
      outShape: oneShape(analysis, exits, batchSize),
      paramCount: params,
      copies: g.repeat ?? 1,
    };
  });
}
