/**
 * The canvas clipboard: selected nodes plus the edges between them, as project-file data. Kept
 * in memory (and mirrored to the system clipboard as JSON where the browser allows it), so a
 * paste works the same in Electron and in a browser tab.
 */
import { docEdge, docNode, freshId, uniqueName, type DocEdge, type DocNode, type GraphChange, type GraphEdge, type LayerNode } from '../state/graph';

export interface ClipboardData {
  nodes: DocNode[];
  edges: DocEdge[];
}

let clip: ClipboardData | null = null;
let pasteCount = 0;

export function copySelection(nodes: LayerNode[], edges: GraphEdge[]): number {
  const picked = nodes.filter((n) => n.selected);
  if (picked.length === 0) return 0;
  const ids = new Set(picked.map((n) => n.id));
  clip = { nodes: picked.map(docNode), edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map(docEdge) };
  pasteCount = 0;
  try {
    void navigator.clipboard?.writeText(JSON.stringify({ netloom: 'nodes', ...clip })).catch(() => {});
  } catch {
    // no system clipboard: the in-memory copy is enough
  }
  return picked.length;
}

export const hasClipboard = () => clip !== null && clip.nodes.length > 0;

/** Changes that add a copy of `data`: fresh ids, unique names, offset so the copy is visible. */
export function pasteChanges(data: ClipboardData | null, existing: LayerNode[], offset?: number): GraphChange[] {
  const src = data ?? clip;
  if (!src) return [];
  const step = offset ?? 40 * ++pasteCount;
  const taken = new Set(existing.map((n) => n.data.name));
  const idMap = new Map<string, string>();
  const changes: GraphChange[] = [];
  for (const n of src.nodes) {
    const id = freshId('n');
    idMap.set(n.id, id);
    const name = uniqueName(n.name, taken);
    taken.add(name);
    changes.push({ kind: 'addNode', node: { ...n, id, name, params: structuredClone(n.params), position: { x: n.position.x + step, y: n.position.y + step } } });
  }
  for (const e of src.edges)
    changes.push({ kind: 'addEdge', edge: { ...e, id: freshId('e'), source: idMap.get(e.source)!, target: idMap.get(e.target)! } });
  return changes;
}
