/**
 * The canvas clipboard: selected nodes plus the edges between them, as project-file data. Kept
 * in memory (and mirrored to the system clipboard as JSON where the browser allows it), so a
 * paste works the same in Electron and in a browser tab.
 */
import { docEdge, docNode, freshId, uniqueName, type DocEdge, type DocGroup, type DocNode, type GraphChange, type GraphEdge, type LayerNode } from '../state/graph';
import { memberIds } from '../state/groups';

export interface ClipboardData {
  nodes: DocNode[];
  edges: DocEdge[];
  /** the groups whose layers were all copied: they paste as groups (with unique names) */
  groups?: DocGroup[];
}

let clip: ClipboardData | null = null;
let pasteCount = 0;

/** The groups every layer of which is among `ids` (those a copy carries as groups). */
export function wholeGroups(nodes: readonly LayerNode[], groups: readonly DocGroup[], ids: ReadonlySet<string>): DocGroup[] {
  return groups.filter((g) => {
    const m = memberIds(nodes, groups, g.id);
    return m.length > 0 && m.every((id) => ids.has(id));
  });
}

export function copySelection(nodes: LayerNode[], edges: GraphEdge[], groups: readonly DocGroup[] = []): number {
  const picked = nodes.filter((n) => n.selected);
  if (picked.length === 0) return 0;
  const ids = new Set(picked.map((n) => n.id));
  clip = { nodes: picked.map(docNode), edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map(docEdge), groups: wholeGroups(nodes, groups, ids) };
  pasteCount = 0;
  try {
    void navigator.clipboard?.writeText(JSON.stringify({ netloom: 'nodes', ...clip })).catch(() => {});
  } catch {
    // no system clipboard: the in-memory copy is enough
  }
  return picked.length;
}

export const hasClipboard = () => clip !== null && clip.nodes.length > 0;

/**
 * Changes that add a copy of `data`: fresh ids, offset so the copy is visible, names unique where they
 * land. A copied group pastes as a new group beside the original (a unique name among its siblings:
 * block -> block_1, layer1 -> layer2); the layers inside it keep their names, since the group's name
 * already sets them apart. A layer copied without its group lands in that group, if it still exists.
 */
export function pasteChanges(data: ClipboardData | null, existing: LayerNode[], offset?: number, existingGroups: readonly DocGroup[] = []): GraphChange[] {
  const src = data ?? clip;
  if (!src) return [];
  const step = offset ?? 40 * ++pasteCount;
  const copied = src.groups ?? [];
  const groupMap = new Map(copied.map((g) => [g.id, freshId('g')]));
  const live = new Set(existingGroups.map((g) => g.id));
  const home = (g: string | undefined) => (g && groupMap.has(g) ? groupMap.get(g) : g && live.has(g) ? g : undefined);
  // names taken at each level (group id, or '' for the top level): layers' first segments and groups
  const taken = new Map<string, Set<string>>();
  const at = (g: string | undefined) => taken.get(g ?? '') ?? taken.set(g ?? '', new Set()).get(g ?? '')!;
  for (const n of existing) at(n.data.group).add(n.data.name).add(n.data.name.split('.')[0]);
  for (const g of existingGroups) at(g.parent).add(g.name);
  const changes: GraphChange[] = [];
  for (const g of copied) {
    const parent = home(g.parent);
    const name = groupMap.has(g.parent ?? '') ? g.name : uniqueName(g.name, at(parent));
    at(parent).add(name);
    const { parent: _p, ...rest } = g;
    changes.push({ kind: 'addGroup', group: { ...rest, id: groupMap.get(g.id)!, name, ...(parent ? { parent } : {}), ...(g.position ? { position: { x: g.position.x + step, y: g.position.y + step } } : {}) } });
  }
  const idMap = new Map<string, string>();
  for (const n of src.nodes) {
    const id = freshId('n');
    idMap.set(n.id, id);
    const group = home(n.group);
    const name = group && groupMap.has(n.group ?? '') ? n.name : uniqueName(n.name, at(group));
    at(group).add(name);
    const { group: _g, ...rest } = n;
    changes.push({ kind: 'addNode', node: { ...rest, id, name, params: structuredClone(n.params), position: { x: n.position.x + step, y: n.position.y + step }, ...(group ? { group } : {}) } });
  }
  for (const e of src.edges)
    changes.push({ kind: 'addEdge', edge: { ...e, id: freshId('e'), source: idMap.get(e.source)!, target: idMap.get(e.target)! } });
  return changes;
}
