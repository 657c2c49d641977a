/**
 * Groups are PyTorch submodules. This module turns a graph with groups into the flat graph the rest of the
 * engine knows (analysis, compile, checkpoints, export): every node under its full module path.
 *
 * The rules (the document side is GroupSchema in document.ts):
 * - A node with `group: g` has a name relative to g. Its full name is the path of g, a dot, and its name:
 *   group `encoder` holding node `conv1` gives `encoder.conv1`, so its weight is `encoder.conv1.weight`,
 *   exactly as an `nn.Module` attribute `self.encoder = Encoder()` whose `self.conv1` would make it.
 * - Groups nest through `parent`; a group's path is its ancestors' paths and its own name, dot-joined.
 * - A group with `repeat: N` is an nn.Sequential of N copies of its contents (what it holds directly and in
 *   nested groups): copy i's path is `<group path>.<i>`, so node `conv1` in group `layer1` (repeat 2) becomes
 *   `layer1.0.conv1` and `layer1.1.conv1`, each with its own weights. The copies are chained: the edges that
 *   enter the group feed copy 0; copy i + 1 is fed, in their place, by the one node of copy i whose output
 *   leaves the group; the edges that leave the group leave from copy N - 1. A repeated group must therefore
 *   have exactly one source outside it feeding it (it may feed several nodes inside, as a residual block's
 *   input does) and exactly one node inside it whose output leaves it; otherwise analysis reports it.
 *   `repeat: 1` is an nn.Sequential of one block (torchvision's `layer1.0.conv1` with one BasicBlock).
 * - Ids: copy 0 of a node or edge keeps its id, so the canvas finds its shapes and problems as before; copy
 *   i >= 1 is `<id>@<i>`. `flatOrigin` maps a flat id back.
 * - A graph without groups flattens to itself (same objects' values; names unchanged).
 */
import type { EdgeDoc, GraphDoc, GroupDoc, NodeDoc } from './document.js';

/** What the flat graph's node or edge `flatId` was drawn as: the document's id and the copy index (0 outside repeats). */
export interface FlatOrigin {
  id: string;
  copy: number;
}

/** A group problem found while flattening; analysis turns each into an issue on the group's nodes. */
export interface GroupProblem {
  groupId: string;
  code: 'GROUP_UNKNOWN' | 'GROUP_CYCLE' | 'GROUP_REPEAT_PORTS' | 'GROUP_DUPLICATE_NAME';
  message: string;
  hint: string;
}

export interface FlatGraph {
  /** nodes under full names, edges between flat ids; no groups */
  graph: { nodes: NodeDoc[]; edges: EdgeDoc[] };
  /** every group's full module path, by group id ("layer1", "encoder.block"; a repeat's path has no copy index) */
  paths: Map<string, string>;
  /** flat node ids of each group's contents (all copies, nested groups included), by group id */
  members: Map<string, string[]>;
  problems: GroupProblem[];
}

/** The graph with its groups expanded (see the rules above). Never throws on a malformed group: it reports it. */
export function flattenGroups(graph: GraphDoc): FlatGraph {
  void graph;
  throw new Error('flattenGroups: not implemented yet');
}

/** The document id and copy a flat id came from (`conv@2` -> { id: 'conv', copy: 2 }). */
export function flatOrigin(flatId: string): FlatOrigin {
  const at = flatId.lastIndexOf('@');
  if (at > 0 && /^[1-9][0-9]*$/.test(flatId.slice(at + 1))) return { id: flatId.slice(0, at), copy: Number(flatId.slice(at + 1)) };
  return { id: flatId, copy: 0 };
}

export type { GroupDoc };
