/**
 * The canvas document as data: React Flow nodes/edges carry the project's graph, and every edit
 * is a list of GraphChange records (xyflow NodeChange style) that can be applied and inverted.
 * Conversions to and from the project JSON (api.ts GraphDto) live here too.
 */
import type { Edge, Node } from '@xyflow/react';
import type { EdgeDto, GraphDto, GroupDto, LayerDto, NodeDto } from '../../engine/contract/api';

/** What a layer node carries: the project file's node fields except id and position. */
export type LayerData = {
  type: string;
  name: string;
  /** parameters as the user set them (plus required values); the analysis supplies resolved ones */
  params: Record<string, unknown>;
  /** the innermost group (submodule) holding the layer; `name` is then relative to it (state/groups.ts) */
  group?: string;
};
export type LayerNode = Node<LayerData, 'layer'>;
export type GraphEdge = Edge<Record<string, never>, 'shape'>;

export interface Position {
  x: number;
  y: number;
}
export interface DocNode extends LayerData {
  id: string;
  position: Position;
}
export interface DocEdge {
  id: string;
  source: string;
  target: string;
  /** React Flow handle id on the target: "input", "target", or "in0".."in7" */
  targetHandle: string;
}

/** `type` changes only between compatible layers (a loss for another loss: same ports in use). */
export type NodePatch = Partial<Pick<DocNode, 'type' | 'name' | 'params' | 'position' | 'group'>>;

/** A group as the canvas holds it: the project file's GroupDto with `collapsed` always set. */
export type DocGroup = Omit<GroupDto, 'collapsed'> & { collapsed: boolean };
/** A key present with `undefined` clears it (moving a group to the top level clears `parent`). */
export type GroupPatch = Partial<Pick<DocGroup, 'name' | 'parent' | 'collapsed' | 'repeat' | 'position'>>;

/** One edit. Each record holds enough to undo itself (before and after). */
export type GraphChange =
  | { kind: 'addNode'; node: DocNode }
  | { kind: 'removeNode'; node: DocNode }
  | { kind: 'updateNode'; id: string; before: NodePatch; after: NodePatch }
  | { kind: 'addEdge'; edge: DocEdge }
  | { kind: 'removeEdge'; edge: DocEdge }
  | { kind: 'addGroup'; group: DocGroup }
  | { kind: 'removeGroup'; group: DocGroup }
  | { kind: 'updateGroup'; id: string; before: GroupPatch; after: GroupPatch }
  /** the project's training section (not part of the graph, but undoable with it) */
  | { kind: 'setTraining'; before: Record<string, unknown> | undefined; after: Record<string, unknown> | undefined };

export function invertChanges(changes: readonly GraphChange[]): GraphChange[] {
  return [...changes].reverse().map((c): GraphChange => {
    switch (c.kind) {
      case 'addNode':
        return { kind: 'removeNode', node: c.node };
      case 'removeNode':
        return { kind: 'addNode', node: c.node };
      case 'updateNode':
        return { kind: 'updateNode', id: c.id, before: c.after, after: c.before };
      case 'addEdge':
        return { kind: 'removeEdge', edge: c.edge };
      case 'removeEdge':
        return { kind: 'addEdge', edge: c.edge };
      case 'addGroup':
        return { kind: 'removeGroup', group: c.group };
      case 'removeGroup':
        return { kind: 'addGroup', group: c.group };
      case 'updateGroup':
        return { kind: 'updateGroup', id: c.id, before: c.after, after: c.before };
      case 'setTraining':
        return { kind: 'setTraining', before: c.after, after: c.before };
    }
  });
}

/** The training section after changes: the last setTraining's value, or `current` when there is none. */
export function trainingAfter(current: Record<string, unknown> | undefined, changes: readonly GraphChange[]): Record<string, unknown> | undefined {
  let t = current;
  for (const c of changes) if (c.kind === 'setTraining') t = c.after;
  return t;
}

export function toFlowNode(n: DocNode, selected = false): LayerNode {
  const data: LayerData = { type: n.type, name: n.name, params: n.params, ...(n.group ? { group: n.group } : {}) };
  return { id: n.id, type: 'layer', position: { ...n.position }, data, selected };
}
export function toFlowEdge(e: DocEdge, selected = false): GraphEdge {
  return { id: e.id, source: e.source, target: e.target, targetHandle: e.targetHandle, type: 'shape', selected };
}
export function docNode(n: LayerNode): DocNode {
  return { id: n.id, type: n.data.type, name: n.data.name, params: n.data.params, position: { x: n.position.x, y: n.position.y }, ...(n.data.group ? { group: n.data.group } : {}) };
}
export function docEdge(e: GraphEdge): DocEdge {
  return { id: e.id, source: e.source, target: e.target, targetHandle: e.targetHandle ?? 'input' };
}

/**
 * Applies changes to the flow arrays. Selection and measured sizes of untouched nodes survive;
 * nodes and edges that an undo brings back come back selected, so the user sees what changed.
 */
export function applyChanges(
  nodes: LayerNode[],
  edges: GraphEdge[],
  changes: readonly GraphChange[],
  opts: { selectAdded?: boolean } = {},
): { nodes: LayerNode[]; edges: GraphEdge[] } {
  let ns = nodes;
  let es = edges;
  const added = opts.selectAdded ?? false;
  if (added && changes.some((c) => c.kind === 'addNode' || c.kind === 'addEdge')) {
    ns = ns.map((n) => (n.selected ? { ...n, selected: false } : n));
    es = es.map((e) => (e.selected ? { ...e, selected: false } : e));
  }
  for (const c of changes) {
    switch (c.kind) {
      case 'addNode':
        ns = [...ns.filter((n) => n.id !== c.node.id), toFlowNode(c.node, added)];
        break;
      case 'removeNode':
        ns = ns.filter((n) => n.id !== c.node.id);
        break;
      case 'updateNode':
        ns = ns.map((n) => {
          if (n.id !== c.id) return n;
          const { position, ...data } = c.after;
          return { ...n, position: position ? { ...position } : n.position, data: { ...n.data, ...data } };
        });
        break;
      case 'addEdge':
        es = [...es.filter((e) => e.id !== c.edge.id), toFlowEdge(c.edge, added && !changes.some((x) => x.kind === 'addNode'))];
        break;
      case 'removeEdge':
        es = es.filter((e) => e.id !== c.edge.id);
        break;
      case 'setTraining':
      case 'addGroup':
      case 'removeGroup':
      case 'updateGroup':
        break; // the store applies these to the project (trainingAfter) and to its groups (applyGroupChanges)
    }
  }
  return { nodes: ns, edges: es };
}

/** The groups after changes; a patch key holding `undefined` removes that field. */
export function applyGroupChanges(groups: DocGroup[], changes: readonly GraphChange[]): DocGroup[] {
  let gs = groups;
  for (const c of changes) {
    if (c.kind === 'addGroup') gs = [...gs.filter((g) => g.id !== c.group.id), { ...c.group }];
    else if (c.kind === 'removeGroup') gs = gs.filter((g) => g.id !== c.group.id);
    else if (c.kind === 'updateGroup')
      gs = gs.map((g) => {
        if (g.id !== c.id) return g;
        const next: DocGroup = { ...g, ...c.after };
        for (const k of Object.keys(c.after) as (keyof GroupPatch)[]) if (c.after[k] === undefined) delete next[k];
        return next;
      });
  }
  return gs;
}

// ---- ids and names -------------------------------------------------------------------------------

export function freshId(prefix: string): string {
  const rnd = globalThis.crypto?.randomUUID?.().slice(0, 8) ?? Math.random().toString(36).slice(2, 10);
  return `${prefix}_${rnd}`;
}

/** PyTorch module-path rule for names (engine/graph/document.ts NODE_NAME_RE). */
export const NODE_NAME_RE = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

const NAME_PREFIX: Record<string, string> = {
  Input: 'input',
  Linear: 'fc',
  Conv1d: 'conv',
  Conv2d: 'conv',
  ConvTranspose2d: 'deconv',
  MaxPool2d: 'pool',
  AvgPool2d: 'pool',
  AdaptiveAvgPool2d: 'avgpool',
  BatchNorm1d: 'bn',
  BatchNorm2d: 'bn',
  LayerNorm: 'ln',
  Dropout: 'dropout',
  Flatten: 'flatten',
  Reshape: 'reshape',
};

/** A fresh, unused name for a new layer of `type`: fc1, fc2, conv1, relu1, loss_fn ... */
export function newName(type: string, isLoss: boolean, taken: Set<string>): string {
  const base = isLoss ? 'loss_fn' : (NAME_PREFIX[type] ?? type.toLowerCase());
  if ((type === 'Input' || type === 'Flatten' || isLoss) && !taken.has(base)) return base;
  for (let i = 1; ; i++) if (!taken.has(`${base}${i}`)) return `${base}${i}`;
}

/** A unique variant of `name` for a pasted copy: fc1 -> fc2, linear_relu_stack.0 -> linear_relu_stack.5, relu -> relu_1. */
export function uniqueName(name: string, taken: Set<string>): string {
  if (!taken.has(name)) return name;
  const m = name.match(/^(.*?)(\d+)$/);
  const stem = m ? m[1] : `${name}_`;
  let i = m ? Number(m[2]) + 1 : 1;
  while (taken.has(`${stem}${i}`)) i++;
  return `${stem}${i}`;
}

// ---- ports ---------------------------------------------------------------------------------------

/** Whether a layer takes a variable number of inputs through numbered handles in0, in1, ... */
export const isVariadic = (layer: LayerDto | undefined) => !!layer && layer.arity.max > 1 && layer.ports.length === 1;

/** The target handle ids a node shows, given the handles its edges use. */
export function targetHandles(layer: LayerDto | undefined, used: readonly string[]): string[] {
  if (!layer || layer.arity.max === 0) return [];
  if (isVariadic(layer)) {
    const highest = used.reduce((m, h) => Math.max(m, Number(h.match(/^in(\d+)$/)?.[1] ?? -1)), -1);
    const count = Math.min(layer.arity.max, Math.max(layer.arity.min, highest + 2));
    return Array.from({ length: count }, (_, i) => `in${i}`);
  }
  return layer.ports.slice(0, Math.max(1, layer.arity.max));
}

// ---- project JSON <-> canvas -----------------------------------------------------------------------

/** The graph in project-file form: positions kept, "input" handles omitted, params as edited, groups when there are any. */
export function toGraphDto(nodes: readonly LayerNode[], edges: readonly GraphEdge[], groups: readonly DocGroup[] = []): GraphDto {
  return {
    ...(groups.length ? { groups: groups.map(groupDto) } : {}),
    nodes: nodes.map((n): NodeDto => ({
      id: n.id,
      type: n.data.type,
      name: n.data.name,
      params: n.data.params,
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      ...(n.data.group ? { group: n.data.group } : {}),
    })),
    edges: edges.map((e): EdgeDto => (e.targetHandle && e.targetHandle !== 'input' ? { id: e.id, source: e.source, target: e.target, targetHandle: e.targetHandle } : { id: e.id, source: e.source, target: e.target })),
  };
}

/**
 * Reads a project's graph onto the canvas. Edges without an id get one; edges into Add/Concat
 * without a handle get in0, in1, ... in document order (the order the engine uses for them).
 */
export function fromGraphDto(graph: GraphDto, catalog: Record<string, LayerDto>): { nodes: DocNode[]; edges: DocEdge[]; hadPositions: boolean } {
  const hadPositions = graph.nodes.length > 0 && graph.nodes.every((n) => n.position);
  const nodes = graph.nodes.map((n, i): DocNode => ({ id: n.id, type: n.type, name: n.name, params: n.params ?? {}, position: n.position ?? { x: 0, y: i * 110 }, ...(n.group ? { group: n.group } : {}) }));
  const typeOf = new Map(nodes.map((n) => [n.id, n.type]));
  const nextIn = new Map<string, number>();
  const usedIds = new Set<string>();
  const edges = graph.edges.map((e): DocEdge => {
    const id = e.id && !usedIds.has(e.id) ? e.id : freshId('e');
    usedIds.add(id);
    let handle = e.targetHandle;
    const layer = catalog[typeOf.get(e.target) ?? ''];
    if (!handle) {
      if (isVariadic(layer)) {
        const k = nextIn.get(e.target) ?? 0;
        handle = `in${k}`;
        nextIn.set(e.target, k + 1);
      } else handle = 'input';
    } else if (isVariadic(layer)) {
      const k = Number(handle.match(/^in(\d+)$/)?.[1] ?? -1);
      nextIn.set(e.target, Math.max(nextIn.get(e.target) ?? 0, k + 1));
    }
    return { id, source: e.source, target: e.target, targetHandle: handle };
  });
  return { nodes, edges, hadPositions };
}

/** A group in project-file form: positions rounded, defaults left out. */
export function groupDto(g: DocGroup): GroupDto {
  return {
    id: g.id,
    name: g.name,
    ...(g.parent ? { parent: g.parent } : {}),
    ...(g.collapsed ? { collapsed: true } : {}),
    ...(g.repeat !== undefined ? { repeat: g.repeat } : {}),
    ...(g.position ? { position: { x: Math.round(g.position.x), y: Math.round(g.position.y) } } : {}),
  };
}

/** The project file's groups as the canvas holds them. */
export function fromGroupDtos(groups: readonly GroupDto[] | undefined): DocGroup[] {
  return (groups ?? []).map((g) => ({
    id: g.id,
    name: g.name,
    collapsed: g.collapsed ?? false,
    ...(g.parent ? { parent: g.parent } : {}),
    ...(g.repeat !== undefined ? { repeat: g.repeat } : {}),
    ...(g.position ? { position: { ...g.position } } : {}),
  }));
}

/** Whether adding source -> target would close a cycle (target already reaches source). */
export function wouldCycle(edges: readonly { source: string; target: string }[], source: string, target: string): boolean {
  if (source === target) return true;
  const out = new Map<string, string[]>();
  for (const e of edges) out.set(e.source, [...(out.get(e.source) ?? []), e.target]);
  const seen = new Set<string>();
  const stack = [target];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === source) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(out.get(id) ?? []));
  }
  return false;
}

/** "64×1×28×28" */
export function fmtShape(shape: readonly number[] | null | undefined): string {
  if (!shape) return '?';
  if (shape.length === 0) return 'scalar';
  return shape.join('×');
}

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function fmtBytes(b: number): string {
  if (b < 1024) return `${b} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = b / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

export function fmtFlops(f: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  for (const [k, s] of units) if (f >= k) return `${(f / k).toFixed(f / k >= 100 ? 0 : 2)} ${s}`;
  return `${f}`;
}
