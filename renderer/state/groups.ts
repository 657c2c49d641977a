/**
 * Groups on the canvas: the pure rules behind Group, Ungroup, rename and repeat. A group is a PyTorch
 * submodule (engine/graph/groups.ts has the engine's rules): a node in group `g` has a name relative to
 * `g`, so its state-dict key is `<path of g>.<name>.weight`. Every edit here is a GraphChange list, so
 * each gesture is one undo step and the store never holds a half-made group.
 */
import { freshId, uniqueName, type DocGroup, type GraphChange, type LayerNode } from './graph';

/** One attribute name of an nn.Module path (engine/graph/document.ts GROUP_NAME_RE). */
export const GROUP_NAME_RE = /^[A-Za-z0-9_]+$/;
export const MAX_REPEAT = 64;

type Named = Pick<LayerNode, 'id'> & { data: { name: string; group?: string } };

/** The group's ancestors' ids, innermost first (stops on a cycle or an unknown parent). */
export function ancestors(groups: readonly DocGroup[], id: string | undefined): string[] {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const out: string[] = [];
  for (let g = id ? byId.get(id) : undefined; g && !out.includes(g.id); g = g.parent ? byId.get(g.parent) : undefined) out.push(g.id);
  return out;
}

/** The module path of a group ("layer1", "encoder.block"); a repeat's path has no copy index. */
export function groupPath(groups: readonly DocGroup[], id: string): string {
  const byId = new Map(groups.map((g) => [g.id, g]));
  return ancestors(groups, id)
    .reverse()
    .map((g) => byId.get(g)!.name)
    .join('.');
}

/**
 * The path as copy 0 shows it in the state dict: every repeated group on the way gets its index
 * (`layer1.0.conv1` for node conv1 in repeated group layer1).
 */
export function fullName(groups: readonly DocGroup[], group: string | undefined, name: string): string {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const parts = ancestors(groups, group)
    .reverse()
    .map((id) => byId.get(id)!)
    .map((g) => (g.repeat !== undefined ? `${g.name}.0` : g.name));
  return [...parts, name].join('.');
}

/** The key prefixes of a repeated group's copies: `layer1.0.`, `layer1.1.`, ... */
export function copyPrefixes(groups: readonly DocGroup[], id: string): string[] {
  const g = groups.find((x) => x.id === id);
  if (!g || g.repeat === undefined) return [];
  const parent = g.parent ? fullName(groups, g.parent, g.name) : g.name;
  return Array.from({ length: g.repeat }, (_, i) => `${parent}.${i}.`);
}

/** Whether group `id` is `inner` or holds it (directly or through nested groups). */
export function contains(groups: readonly DocGroup[], id: string, inner: string | undefined): boolean {
  return ancestors(groups, inner).includes(id);
}

/** Ids of the nodes in group `id`, nested groups included. */
export function memberIds(nodes: readonly Named[], groups: readonly DocGroup[], id: string): string[] {
  return nodes.filter((n) => contains(groups, id, n.data.group)).map((n) => n.id);
}

/** The names a new child of `parent` may not take: sibling groups' names and sibling nodes' first segments. */
function siblingNames(nodes: readonly Named[], groups: readonly DocGroup[], parent: string | undefined, exceptGroup?: string): Set<string> {
  const taken = new Set<string>();
  for (const g of groups) if (g.parent === parent && g.id !== exceptGroup) taken.add(g.name);
  for (const n of nodes) if (n.data.group === parent) taken.add(n.data.name.split('.')[0]);
  return taken;
}

/** Why `name` cannot name a group under `parent`, or null when it can (an nn.Module attribute, unique there). */
export function groupNameProblem(name: string, parent: string | undefined, nodes: readonly Named[], groups: readonly DocGroup[], selfId?: string, movingIn: readonly string[] = []): string | null {
  if (!name) return 'A name is required: it becomes the state-dict prefix of every layer in the group (encoder.conv1.weight).';
  if (!GROUP_NAME_RE.test(name)) return 'Use one attribute name: letters, digits and _ (no dots), like encoder or layer1.';
  const others = nodes.filter((n) => !movingIn.includes(n.id));
  if (siblingNames(others, groups, parent, selfId).has(name)) return `"${name}" is already used here by another layer or group; a submodule's attributes must be unique.`;
  return null;
}

/** A repeat count as typed: null (a plain submodule), N in 1..64, or the reason it is not one. */
export function parseRepeat(text: string): { ok: true; value: number | undefined } | { ok: false; message: string } {
  const t = text.trim();
  if (t === '') return { ok: true, value: undefined };
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > MAX_REPEAT) return { ok: false, message: `Repeat must be a whole number from 1 to ${MAX_REPEAT}, or empty for a plain submodule.` };
  return { ok: true, value: Number(t) };
}

export interface GroupPlan {
  ok: true;
  group: DocGroup;
  changes: GraphChange[];
}
export type GroupRefusal = { ok: false; message: string };

/** The deepest group holding every one of the given nodes (undefined: the top level). */
export function commonParent(groups: readonly DocGroup[], nodeGroups: readonly (string | undefined)[]): string | undefined {
  if (nodeGroups.length === 0) return undefined;
  const chains = nodeGroups.map((g) => ancestors(groups, g));
  return chains[0].find((id) => chains.every((c) => c.includes(id)));
}

/** A name to offer: the selection's shared first name segment (`encoder` of encoder.conv1, encoder.fc), else block1, block2 ... */
export function suggestGroupName(nodes: readonly Named[], groups: readonly DocGroup[], selected: readonly string[]): string {
  const picked = nodes.filter((n) => selected.includes(n.id));
  const parent = commonParent(groups, picked.map((n) => n.data.group));
  const direct = picked.filter((n) => n.data.group === parent);
  const heads = new Set(direct.map((n) => (n.data.name.includes('.') ? n.data.name.split('.')[0] : '')));
  const taken = siblingNames(nodes.filter((n) => !selected.includes(n.id)), groups, parent);
  if (heads.size === 1 && !heads.has('') && !taken.has([...heads][0])) return [...heads][0];
  return uniqueName('block1', taken);
}

/**
 * Groups the selected nodes as a new submodule `name` inside their deepest common group. A selected node
 * directly in that group moves into the new one, and a name that starts with `<name>.` loses that prefix
 * (so `encoder.conv1` grouped as `encoder` keeps its key `encoder.conv1.weight`). A nested group moves in
 * whole when all of its layers are selected; a group selected only in part is refused.
 */
export function planGroup(nodes: readonly Named[], groups: readonly DocGroup[], selected: readonly string[], name: string, id = freshId('g')): GroupPlan | GroupRefusal {
  const picked = nodes.filter((n) => selected.includes(n.id));
  if (picked.length === 0) return { ok: false, message: 'Select the layers to group first.' };
  const parent = commonParent(groups, picked.map((n) => n.data.group));
  const problem = groupNameProblem(name, parent, nodes, groups, undefined, picked.filter((n) => n.data.group === parent).map((n) => n.id));
  if (problem) return { ok: false, message: problem };
  // the groups directly under `parent` that the selection reaches into: each must be selected whole
  const children = groups.filter((g) => g.parent === parent && picked.some((n) => contains(groups, g.id, n.data.group)));
  for (const c of children) {
    const missing = memberIds(nodes, groups, c.id).filter((m) => !selected.includes(m));
    if (missing.length) return { ok: false, message: `Only part of group "${c.name}" is selected: select all of its layers (click its header) or none.` };
  }
  const group: DocGroup = { id, name, collapsed: false, ...(parent ? { parent } : {}) };
  const changes: GraphChange[] = [{ kind: 'addGroup', group }];
  for (const n of picked.filter((p) => p.data.group === parent)) {
    const local = n.data.name.startsWith(`${name}.`) ? n.data.name.slice(name.length + 1) : n.data.name;
    changes.push({ kind: 'updateNode', id: n.id, before: { group: n.data.group, name: n.data.name }, after: { group: id, name: local } });
  }
  for (const c of children) changes.push({ kind: 'updateGroup', id: c.id, before: { parent: c.parent }, after: { parent: id } });
  return { ok: true, group, changes };
}

/**
 * Dissolves a group: its layers move to its parent with the group's name in front (`conv1` in `encoder`
 * becomes `encoder.conv1`: the same key, as long as the group was not repeated); its nested groups move up
 * (their keys lose this group's prefix, since a group's name has no dots).
 */
export function planUngroup(nodes: readonly Named[], groups: readonly DocGroup[], id: string): GraphChange[] {
  const g = groups.find((x) => x.id === id);
  if (!g) return [];
  const changes: GraphChange[] = [];
  for (const n of nodes.filter((m) => m.data.group === id))
    changes.push({ kind: 'updateNode', id: n.id, before: { group: id, name: n.data.name }, after: { group: g.parent, name: `${g.name}.${n.data.name}` } });
  for (const c of groups.filter((x) => x.parent === id)) changes.push({ kind: 'updateGroup', id: c.id, before: { parent: id }, after: { parent: g.parent } });
  changes.push({ kind: 'removeGroup', group: g });
  return changes;
}

/** Groups left with no layer (directly or nested) once `removedNodes` are gone: removed with them, innermost first. */
export function emptiedGroups(nodes: readonly Named[], groups: readonly DocGroup[], removedNodes: ReadonlySet<string>): DocGroup[] {
  const kept = nodes.filter((n) => !removedNodes.has(n.id));
  const empty = groups.filter((g) => memberIds(kept, groups, g.id).length === 0);
  return empty.sort((a, b) => ancestors(groups, b.id).length - ancestors(groups, a.id).length);
}
