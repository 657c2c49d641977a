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
  code: 'GROUP_UNKNOWN' | 'GROUP_CYCLE' | 'GROUP_REPEAT_PORTS' | 'GROUP_DUPLICATE_NAME' | 'GROUP_TOO_LARGE' | 'GROUP_BAD_REPEAT';
  message: string;
  hint: string;
}

/** One group around a flat node: which group, the module path of the instance holding it, its copy there. */
export interface GroupScope {
  groupId: string;
  /** the instance's module path: "layer1", "stage.1.block" (a repeat's path without its own copy index) */
  path: string;
  /** the copy of a repeated group the node belongs to (`<path>.<copy>`); absent for a plain group */
  copy?: number;
}

export interface FlatGraph {
  /** nodes under full names, edges between flat ids; no groups */
  graph: { nodes: NodeDoc[]; edges: EdgeDoc[] };
  /**
   * every group's full module path, by group id ("layer1", "encoder.block"; a repeat's path has no copy index).
   * A group inside a repeated group gets the path of its first instance ("layer2.0.downsample"): the prefix
   * its keys really have in copy 0, and the only one when the repeat is 1 (torchvision's layout).
   */
  paths: Map<string, string>;
  /** flat node ids of each group's contents (all copies, nested groups included), by group id */
  members: Map<string, string[]>;
  /** the groups around each flat node, outermost first (absent for a top-level node): what the summary nests by */
  scopes: Map<string, GroupScope[]>;
  problems: GroupProblem[];
}

/**
 * The most nodes a flat graph may have. Nested repeats multiply (64 x 64 x 64 copies of a block is millions of
 * layers): past this the outer repeat is refused as a problem, before anything that large is built.
 */
export const MAX_FLAT_NODES = 20_000;

/** A node while repeats are expanded: `copies` holds its copy index in every repeated group it was copied through. */
interface WorkNode {
  doc: NodeDoc;
  /** its groups, outermost first (ids of known groups only) */
  chain: readonly string[];
  copies: Map<string, number>;
}

/** An edge while repeats are expanded; an endpoint is a WorkNode index, or the raw id when no node has it. */
interface WorkEdge {
  doc: EdgeDoc;
  /** its index in the document: an edge without an id is "edge #<index>" */
  index: number;
  source: number | string;
  target: number | string;
  copies: Map<string, number>;
}

/** The groups after their own checks: effective parents (bad ones dropped), chains outermost first. */
interface GroupTable {
  byId: Map<string, GroupDoc>;
  chain: Map<string, string[]>;
  problems: GroupProblem[];
}

const groupProblem = (groupId: string, code: GroupProblem['code'], message: string, hint: string): GroupProblem => ({ groupId, code, message, hint });

/** Checks ids, parents and cycles, and works out each group's chain of ancestors. */
function groupTable(groups: readonly GroupDoc[]): GroupTable {
  const byId = new Map<string, GroupDoc>();
  const problems: GroupProblem[] = [];
  for (const g of groups) {
    if (byId.has(g.id))
      problems.push(groupProblem(g.id, 'GROUP_DUPLICATE_NAME', `two groups share the id "${g.id}" (${byId.get(g.id)!.name} and ${g.name})`,
        'Give every group a unique id (the project file was edited by hand or is damaged).'));
    else byId.set(g.id, g);
  }
  const parent = new Map<string, string | undefined>();
  for (const g of byId.values()) {
    if (g.parent !== undefined && !byId.has(g.parent)) {
      problems.push(groupProblem(g.id, 'GROUP_UNKNOWN', `group ${g.name} is inside the group "${g.parent}", but there is no such group`,
        'Ungroup it and group it again, or delete the parent field in the project file.'));
      parent.set(g.id, undefined);
    } else parent.set(g.id, g.parent);
  }
  // A parent chain that comes back to itself has no outermost group: every group on the loop is reported and
  // treated as top-level, so the rest of the analysis still sees its nodes.
  const onCycle = new Set<string>();
  for (const g of byId.values()) {
    const seen: string[] = [];
    let at: string | undefined = g.id;
    while (at !== undefined && !seen.includes(at) && !onCycle.has(at)) {
      seen.push(at);
      at = parent.get(at);
    }
    if (at !== undefined && seen.includes(at)) for (const id of seen.slice(seen.indexOf(at))) onCycle.add(id);
  }
  for (const id of onCycle) {
    problems.push(groupProblem(id, 'GROUP_CYCLE', `group ${byId.get(id)!.name} is inside itself (its parent groups loop: ${[...onCycle].map((c) => byId.get(c)!.name).join(' -> ')})`,
      'Ungroup one of these groups: a submodule cannot contain itself.'));
    parent.set(id, undefined);
  }
  const chain = new Map<string, string[]>();
  const chainOf = (id: string): string[] => {
    const known = chain.get(id);
    if (known) return known;
    const p = parent.get(id);
    const c = [...(p === undefined ? [] : chainOf(p)), id];
    chain.set(id, c);
    return c;
  };
  for (const id of byId.keys()) chainOf(id);
  return { byId, chain, problems };
}

/** Two groups, or a group and a node, under one parent with one name would share a module path. */
function siblingNameProblems(t: GroupTable, nodes: readonly WorkNode[]): GroupProblem[] {
  const problems: GroupProblem[] = [];
  const parentKey = (chain: readonly string[]) => chain.at(-1) ?? '';
  const taken = new Map<string, string>();
  for (const n of nodes) taken.set(`${parentKey(n.chain)}/${n.doc.name}`, `node ${n.doc.name}`);
  for (const g of t.byId.values()) {
    const key = `${parentKey(t.chain.get(g.id)!.slice(0, -1))}/${g.name}`;
    const other = taken.get(key);
    if (other !== undefined)
      problems.push(groupProblem(g.id, 'GROUP_DUPLICATE_NAME', `group ${g.name} has the same name as ${other} beside it: both would be the submodule "${g.name}"`,
        'Rename one of them: module paths (and so state-dict keys) must be unique.'));
    else taken.set(key, `group ${g.name}`);
  }
  return problems;
}

/** How one repeated group is wired: the one outside source feeding it and the one inside node leaving it. */
function repeatPorts(g: GroupDoc, nodes: readonly WorkNode[], edges: readonly WorkEdge[]): { entry: number; exit: number } | GroupProblem {
  const inside = (e: number | string) => typeof e === 'number' && nodes[e].chain.includes(g.id);
  const outside = (e: number | string) => typeof e === 'number' && !nodes[e].chain.includes(g.id);
  const entries = [...new Set(edges.filter((e) => inside(e.target) && outside(e.source)).map((e) => e.source as number))];
  const exits = [...new Set(edges.filter((e) => inside(e.source) && outside(e.target)).map((e) => e.source as number))];
  if (entries.length === 1 && exits.length === 1) return { entry: entries[0], exit: exits[0] };
  const names = (ks: number[]) => (ks.length ? ` (${ks.map((k) => nodes[k].doc.name).join(', ')})` : '');
  return groupProblem(g.id, 'GROUP_REPEAT_PORTS',
    `group ${g.name} repeats its contents ${g.repeat} time${g.repeat === 1 ? '' : 's'} (an nn.Sequential of blocks), so exactly one layer outside it must feed it and exactly one layer inside it must lead out of it; ${entries.length} feed it${names(entries)} and ${exits.length} lead out${names(exits)}`,
    'Group a block with one input and one output (its input may feed several layers inside, as in a residual block), or remove the repeat.');
}

/** Appends copies 1..N-1 of a repeated group's contents, chained output to input (the rules in the header). */
function expandRepeat(g: GroupDoc, count: number, ports: { exit: number }, nodes: WorkNode[], edges: WorkEdge[]): void {
  const contents = nodes.map((n, k) => k).filter((k) => nodes[k].chain.includes(g.id));
  for (const k of contents) nodes[k].copies.set(g.id, 0);
  const isIn = (e: number | string) => typeof e === 'number' && nodes[e].chain.includes(g.id);
  const internal = edges.filter((e) => isIn(e.source) && isIn(e.target));
  const entering = edges.filter((e) => isIn(e.target) && typeof e.source === 'number' && !isIn(e.source));
  const leaving = edges.filter((e) => isIn(e.source) && typeof e.target === 'number' && !isIn(e.target));
  for (const e of [...internal, ...entering]) e.copies.set(g.id, 0);
  let exit = ports.exit;
  for (let i = 1; i < count; i++) {
    const copyOf = new Map<number, number>();
    for (const k of contents) {
      copyOf.set(k, nodes.length);
      nodes.push({ doc: nodes[k].doc, chain: nodes[k].chain, copies: new Map(nodes[k].copies).set(g.id, i) });
    }
    const copyEdge = (e: WorkEdge, source: number) =>
      edges.push({ ...e, source, target: copyOf.get(e.target as number)!, copies: new Map(e.copies).set(g.id, i) });
    for (const e of internal) copyEdge(e, copyOf.get(e.source as number)!);
    for (const e of entering) copyEdge(e, exit);
    exit = copyOf.get(ports.exit)!;
  }
  for (const e of leaving) e.source = exit;
}

/** The copy number of a node or edge copied through these repeats: mixed radix, outermost group first. */
function copyIndex(copies: ReadonlyMap<string, number>, t: GroupTable, counts: ReadonlyMap<string, number>): number {
  const outerFirst = [...copies.keys()].sort((a, b) => t.chain.get(a)!.length - t.chain.get(b)!.length);
  return outerFirst.reduce((k, g) => k * (counts.get(g) ?? 1) + copies.get(g)!, 0);
}

/** The module path of each instance around a node, and the node's full name. */
function scopesOf(n: WorkNode, t: GroupTable): { scopes: GroupScope[]; fullName: string } {
  const scopes: GroupScope[] = [];
  let prefix = '';
  for (const id of n.chain) {
    const g = t.byId.get(id)!;
    const path = prefix ? `${prefix}.${g.name}` : g.name;
    const copy = g.repeat === undefined ? undefined : (n.copies.get(id) ?? 0);
    scopes.push(copy === undefined ? { groupId: id, path } : { groupId: id, path, copy });
    prefix = copy === undefined ? path : `${path}.${copy}`;
  }
  return { scopes, fullName: prefix ? `${prefix}.${n.doc.name}` : n.doc.name };
}

/** The graph with its groups expanded (see the rules above). Never throws on a malformed group: it reports it. */
export function flattenGroups(graph: GraphDoc): FlatGraph {
  const groups = graph.groups ?? [];
  if (groups.length === 0 && graph.nodes.every((n) => n.group === undefined))
    return { graph: { nodes: graph.nodes, edges: graph.edges }, paths: new Map(), members: new Map(), scopes: new Map(), problems: [] };
  const t = groupTable(groups);
  const problems = [...t.problems];
  const unknownMembers = new Map<string, number[]>();
  const nodes: WorkNode[] = graph.nodes.map((doc, k) => {
    if (doc.group === undefined) return { doc, chain: [], copies: new Map() };
    const chain = t.chain.get(doc.group);
    if (chain) return { doc, chain, copies: new Map() };
    unknownMembers.set(doc.group, [...(unknownMembers.get(doc.group) ?? []), k]);
    return { doc, chain: [], copies: new Map() };
  });
  for (const [id, ks] of unknownMembers)
    problems.push(groupProblem(id, 'GROUP_UNKNOWN', `${ks.map((k) => `node ${graph.nodes[k].name}`).join(', ')} ${ks.length === 1 ? 'is' : 'are'} in the group "${id}", but there is no such group`,
      'Group the layers again, or delete their group field in the project file.'));
  problems.push(...siblingNameProblems(t, nodes));

  // Edges to a node id that appears twice go to the first (analysis reports the duplicate id).
  const firstIndex = new Map<string, number>();
  nodes.forEach((n, k) => firstIndex.has(n.doc.id) || firstIndex.set(n.doc.id, k));
  const edges: WorkEdge[] = graph.edges.map((doc, index) => ({ doc, index, source: firstIndex.get(doc.source) ?? doc.source, target: firstIndex.get(doc.target) ?? doc.target, copies: new Map() }));

  // Innermost repeats first: an outer repeat then copies the inner one's copies along with the rest.
  const counts = new Map<string, number>();
  const repeats = [...t.byId.values()].filter((g) => g.repeat !== undefined).sort((a, b) => t.chain.get(b.id)!.length - t.chain.get(a.id)!.length);
  for (const g of repeats) {
    if (!nodes.some((n) => n.chain.includes(g.id))) continue;
    // the document's schema allows 1 to 64; a canvas edit reaches analysis through the API unchecked
    if (!Number.isInteger(g.repeat) || g.repeat! < 1 || g.repeat! > 64) {
      problems.push(groupProblem(g.id, 'GROUP_BAD_REPEAT', `group ${g.name} repeats its contents ${g.repeat} times; a repeat is a whole number from 1 to 64`,
        'Set the repeat to a number from 1 to 64, or remove it.'));
      continue;
    }
    const ports = repeatPorts(g, nodes, edges);
    const size = nodes.length + nodes.filter((n) => n.chain.includes(g.id)).length * (g.repeat! - 1);
    if ('code' in ports) problems.push(ports);
    else if (size > MAX_FLAT_NODES)
      problems.push(groupProblem(g.id, 'GROUP_TOO_LARGE', `group ${g.name} repeated ${g.repeat} times would make ${size.toLocaleString('en-US')} layers (the most Netloom builds is ${MAX_FLAT_NODES.toLocaleString('en-US')})`,
        'Lower its repeat, or the repeat of a group inside it.'));
    else {
      counts.set(g.id, g.repeat!);
      expandRepeat(g, g.repeat!, ports, nodes, edges);
    }
  }
  return assemble(graph, t, nodes, edges, counts, problems, unknownMembers);
}

/** Names, ids and maps of the expanded graph. */
function assemble(graph: GraphDoc, t: GroupTable, nodes: readonly WorkNode[], edges: readonly WorkEdge[], counts: ReadonlyMap<string, number>,
  problems: GroupProblem[], unknownMembers: ReadonlyMap<string, number[]>): FlatGraph {
  const flatId = (id: string, copies: ReadonlyMap<string, number>) => {
    const k = copyIndex(copies, t, counts);
    return k === 0 ? id : `${id}@${k}`;
  };
  const ids = nodes.map((n) => flatId(n.doc.id, n.copies));
  const members = new Map<string, string[]>([...t.byId.keys()].map((id) => [id, []]));
  const scopes = new Map<string, GroupScope[]>();
  const paths = new Map<string, string>();
  const flatNodes = nodes.map((n, k): NodeDoc => {
    const { scopes: s, fullName } = scopesOf(n, t);
    for (const sc of s) {
      members.get(sc.groupId)!.push(ids[k]);
      if (!paths.has(sc.groupId) && [...n.copies.values()].every((c) => c === 0)) paths.set(sc.groupId, sc.path);
    }
    if (s.length) scopes.set(ids[k], s);
    const { group: _group, ...rest } = n.doc;
    return { ...rest, id: ids[k], name: fullName };
  });
  for (const [id, ks] of unknownMembers) members.set(id, ks.map((k) => ids[k]));
  // An empty group still has a path: its ancestors' names and its own.
  for (const g of t.byId.values()) if (!paths.has(g.id)) paths.set(g.id, t.chain.get(g.id)!.map((c) => t.byId.get(c)!.name).join('.'));
  const endpoint = (e: number | string) => (typeof e === 'number' ? ids[e] : e);
  const flatEdges = edges.map((e): EdgeDoc => {
    const k = copyIndex(e.copies, t, counts);
    const id = k === 0 ? e.doc.id : `${e.doc.id ?? `edge #${e.index}`}@${k}`;
    const out: EdgeDoc = { ...e.doc, source: endpoint(e.source), target: endpoint(e.target) };
    if (id === undefined) delete out.id;
    else out.id = id;
    return out;
  });
  return { graph: { nodes: flatNodes, edges: flatEdges }, paths, members, scopes, problems };
}

/** The document id and copy a flat id came from (`conv@2` -> { id: 'conv', copy: 2 }). */
export function flatOrigin(flatId: string): FlatOrigin {
  const at = flatId.lastIndexOf('@');
  if (at > 0 && /^[1-9][0-9]*$/.test(flatId.slice(at + 1))) return { id: flatId.slice(0, at), copy: Number(flatId.slice(at + 1)) };
  return { id: flatId, copy: 0 };
}

export type { GroupDoc };
