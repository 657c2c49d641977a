/**
 * The graph diff: what changed between a reference (a saved project, the graph a run trained, or a checkpoint)
 * and the graph on the canvas. Pure: no Node imports, so it runs in the engine host and in a test alike.
 *
 * Direction: "from" is the reference, "to" is the current graph. A layer only the current graph has is
 * `added`; one only the reference has is `removed`; `out_features 512 -> 256` reads reference -> current.
 *
 * Matching (graphs): layers are matched by name first, because a name is a state-dict prefix (`fc1.weight`)
 * and so is what a checkpoint and PyTorch code see; the layers left over are matched by node id, which a
 * rename keeps, so a renamed layer is "renamed a -> b" rather than removed and added. Parameters are compared
 * after defaults and "auto" resolution (the analysis' params), so `bias` left at its default equals
 * `bias: true` written out, and `in_features: "auto"` equals the 784 it resolves to. Inputs are compared by
 * the names of the layers feeding each port, the reference's names mapped through the matching, so a rename
 * upstream is not reported as a changed connection.
 *
 * Groups: both graphs are flattened first (groups.ts), so layers are compared under their full module paths
 * (`encoder.conv1`) and a node's id on the canvas is its document id (a repeat's copy i >= 1 maps back to it).
 *
 * Checkpoints hold only weights: their diff (diffCheckpoint) is per layer with weights, by state-dict key and
 * tensor shape, on top of the per-node load report (train/checkpoints.ts loadReport).
 */
import { analyzeGraph } from './analyze.js';
import type { EdgeDoc, GraphDoc, NodeDoc } from './document.js';
import { flatOrigin, flattenGroups } from './groups.js';

export type LayerStatus = 'added' | 'removed' | 'changed' | 'renamed' | 'same';
export const LAYER_STATUSES: readonly LayerStatus[] = ['added', 'removed', 'changed', 'renamed', 'same'];

/** One changed property of a layer: a parameter, `type`, `inputs`, or (checkpoints) a state-dict key. null = absent. */
export interface LayerChange {
  param: string;
  from: unknown;
  to: unknown;
}

export interface LayerDiff {
  /** the current name (the reference's for a removed layer) */
  name: string;
  /** the canvas node (document id); absent for a removed layer */
  nodeId?: string;
  /** the reference's name of a renamed layer */
  baseName?: string;
  /** the current type (the reference's for a removed layer); '' when a checkpoint does not say */
  type: string;
  /** a removed layer's place in the reference drawing, where the canvas shows its ghost */
  position?: { x: number; y: number };
  status: LayerStatus;
  changes: LayerChange[];
}

/** A connection by layer names: the current names, or a removed layer's reference name. */
export interface EdgeRef {
  source: string;
  target: string;
  /** the target's port when it is not the only one ("in1", "target") */
  port?: string;
}

export interface GraphDiff {
  kind: 'graph' | 'checkpoint';
  /** current layers in graph order, then the removed ones */
  layers: LayerDiff[];
  edges: { added: EdgeRef[]; removed: EdgeRef[] };
  summary: Record<LayerStatus, number>;
  /** what the comparison could not see (a checkpoint has no layers without weights, no connections) */
  notes: string[];
}

// ---- graphs ---------------------------------------------------------------------------------------

/** A layer as compared: its flat node, its resolved params, its inputs by source id and port. */
interface Side {
  nodes: NodeDoc[];
  params: Map<string, Record<string, unknown>>;
  inputs: Map<string, { source: string; port: string }[]>;
  byId: Map<string, NodeDoc>;
}

/** Only ports that order several inputs mean something; a lone input's handle name ("input", absent) does not. */
const portOf = (e: EdgeDoc): string => (e.targetHandle === 'target' || /^in\d+$/.test(e.targetHandle ?? '') ? e.targetHandle! : '');

function flat(graph: GraphDoc): { nodes: NodeDoc[]; edges: EdgeDoc[] } {
  return graph.groups && graph.groups.length > 0 ? flattenGroups(graph).graph : { nodes: graph.nodes, edges: graph.edges };
}

function side(graph: GraphDoc): Side {
  const g = flat(graph);
  const analysis = analyzeGraph(g);
  const params = new Map<string, Record<string, unknown>>();
  for (const n of g.nodes) {
    const a = analysis.byId.get(n.id);
    // a node that did not parse (unknown type, bad params) is compared as written
    const p = a && a.doc === n ? a.params : n.params;
    params.set(n.id, Object.fromEntries(Object.entries(p).filter(([k]) => !k.startsWith('_'))));
  }
  const inputs = new Map<string, { source: string; port: string }[]>();
  for (const e of g.edges) {
    const list = inputs.get(e.target) ?? [];
    list.push({ source: e.source, port: portOf(e) });
    inputs.set(e.target, list);
  }
  return { nodes: g.nodes, params, inputs, byId: new Map(g.nodes.map((n) => [n.id, n])) };
}

/** A stable text of a value (object keys sorted), to compare resolved params structurally. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}

function paramChanges(from: Record<string, unknown>, to: Record<string, unknown>): LayerChange[] {
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])];
  return keys.filter((k) => canonical(from[k]) !== canonical(to[k])).map((k) => ({ param: k, from: from[k] ?? null, to: to[k] ?? null }));
}

/** "fc1", "fc1 -> in1": a node's inputs as text, sorted by port, in the given naming. */
function inputsText(list: readonly { source: string; port: string }[] | undefined, name: (id: string) => string): string {
  return (list ?? [])
    .map((i) => (i.port ? `${name(i.source)} -> ${i.port}` : name(i.source)))
    .sort()
    .join(', ');
}

/** Base layer id -> current layer id: by name first, then the leftovers by id (renames). */
function matchLayers(base: Side, cur: Side): Map<string, string> {
  const match = new Map<string, string>();
  const curByName = new Map(cur.nodes.map((n) => [n.name, n]));
  const taken = new Set<string>();
  for (const b of base.nodes) {
    const c = curByName.get(b.name);
    if (c && !taken.has(c.id)) {
      match.set(b.id, c.id);
      taken.add(c.id);
    }
  }
  for (const b of base.nodes) {
    if (match.has(b.id)) continue;
    const c = cur.byId.get(b.id);
    if (c && !taken.has(c.id)) {
      match.set(b.id, c.id);
      taken.add(c.id);
    }
  }
  return match;
}

function countStatuses(layers: readonly LayerDiff[]): Record<LayerStatus, number> {
  const summary: Record<LayerStatus, number> = { added: 0, removed: 0, changed: 0, renamed: 0, same: 0 };
  for (const l of layers) summary[l.status]++;
  return summary;
}

/** The edges of one side as "source|target|port" keys in the current naming. */
function edgeKeys(s: Side, name: (id: string) => string): Map<string, EdgeRef> {
  const out = new Map<string, EdgeRef>();
  for (const [target, list] of s.inputs)
    for (const i of list) {
      if (!s.byId.has(i.source) || !s.byId.has(target)) continue; // a dangling edge is the analysis' business
      const ref: EdgeRef = { source: name(i.source), target: name(target), ...(i.port ? { port: i.port } : {}) };
      out.set(`${ref.source}|${ref.target}|${i.port}`, ref);
    }
  return out;
}

/**
 * What changed from `reference` to `current` (see the file comment for the rules). Never throws on a broken
 * graph: a node that does not parse is compared as written.
 */
export function diffGraphs(current: GraphDoc, reference: GraphDoc): GraphDiff {
  const cur = side(current);
  const base = side(reference);
  const match = matchLayers(base, cur);
  const curToBase = new Map([...match].map(([b, c]) => [c, b]));
  // the reference's layers in current naming (removed ones keep their own name)
  const baseName = (id: string) => {
    const c = match.get(id);
    return c !== undefined ? cur.byId.get(c)!.name : (base.byId.get(id)?.name ?? id);
  };
  const curName = (id: string) => cur.byId.get(id)?.name ?? id;
  const layers: LayerDiff[] = [];
  for (const c of cur.nodes) {
    const nodeId = flatOrigin(c.id).id;
    const bId = curToBase.get(c.id);
    if (bId === undefined) {
      layers.push({ name: c.name, nodeId, type: c.type, status: 'added', changes: [] });
      continue;
    }
    const b = base.byId.get(bId)!;
    const changes: LayerChange[] = [];
    if (b.type !== c.type) changes.push({ param: 'type', from: b.type, to: c.type });
    changes.push(...paramChanges(base.params.get(b.id)!, cur.params.get(c.id)!));
    const fromInputs = inputsText(base.inputs.get(b.id), baseName);
    const toInputs = inputsText(cur.inputs.get(c.id), curName);
    if (fromInputs !== toInputs) changes.push({ param: 'inputs', from: fromInputs || null, to: toInputs || null });
    const renamed = b.name !== c.name;
    const status: LayerStatus = renamed ? 'renamed' : changes.length > 0 ? 'changed' : 'same';
    layers.push({ name: c.name, nodeId, ...(renamed ? { baseName: b.name } : {}), type: c.type, status, changes });
  }
  for (const b of base.nodes)
    if (!match.has(b.id)) layers.push({ name: b.name, type: b.type, status: 'removed', changes: [], ...(b.position ? { position: { ...b.position } } : {}) });
  const before = edgeKeys(base, baseName);
  const after = edgeKeys(cur, curName);
  const edges = {
    added: [...after].filter(([k]) => !before.has(k)).map(([, e]) => e),
    removed: [...before].filter(([k]) => !after.has(k)).map(([, e]) => e),
  };
  return { kind: 'graph', layers, edges, summary: countStatuses(layers), notes: [] };
}

// ---- checkpoints ----------------------------------------------------------------------------------

/** What diffCheckpoint needs of a load report (train/checkpoints.ts LoadReport, nodes of the flat graph). */
export interface CheckpointReportPart {
  nodes: readonly {
    nodeId: string;
    name: string;
    type: string;
    keys: readonly string[];
    missing: readonly string[];
    unexpected: readonly string[];
    mismatched: readonly { key: string; fileShape: readonly number[]; modelShape: readonly number[] }[];
  }[];
  /** file keys whose prefix names no layer of the graph */
  unassigned: readonly string[];
}

export const CHECKPOINT_NOTE = 'A checkpoint holds weights only: layers without weights (activations, Flatten, losses) and connections are not compared.';

/** `fc1.weight` -> `fc1` (parameter names never hold a dot; layer names may). */
const ownerOf = (key: string) => key.slice(0, Math.max(key.lastIndexOf('.'), 0));

/**
 * The graph against a checkpoint, per layer with weights: a layer whose keys the file lacks entirely is
 * `added`, one whose keys differ (missing, extra, another shape) is `changed` with one change per key
 * (from: the file's shape, to: the model's; null = absent), file keys under no layer's name are `removed`
 * layers. `shapes` are the file's tensor shapes by key; `modelShapes` the graph's.
 */
export function diffCheckpoint(
  report: CheckpointReportPart,
  shapes: Readonly<Record<string, { shape: readonly number[] }>>,
  modelShapes: ReadonlyMap<string, readonly number[]>,
): GraphDiff {
  const layers: LayerDiff[] = [];
  for (const n of report.nodes) {
    if (n.keys.length === 0 && n.unexpected.length === 0) continue;
    const nodeId = flatOrigin(n.nodeId).id;
    const changes: LayerChange[] = [
      ...n.mismatched.map((m) => ({ param: m.key, from: [...m.fileShape], to: [...m.modelShape] })),
      ...n.missing.map((k) => ({ param: k, from: null, to: [...(modelShapes.get(k) ?? [])] })),
      ...n.unexpected.map((k) => ({ param: k, from: [...(shapes[k]?.shape ?? [])], to: null })),
    ];
    const status: LayerStatus = n.keys.length > 0 && n.missing.length === n.keys.length && n.unexpected.length === 0 ? 'added' : changes.length > 0 ? 'changed' : 'same';
    layers.push({ name: n.name, nodeId, type: n.type, status, changes: status === 'added' ? [] : changes });
  }
  const removed = new Map<string, LayerChange[]>();
  for (const k of report.unassigned) {
    const owner = ownerOf(k) || k;
    removed.set(owner, [...(removed.get(owner) ?? []), { param: k, from: [...(shapes[k]?.shape ?? [])], to: null }]);
  }
  for (const [name, changes] of removed) layers.push({ name, type: '', status: 'removed', changes });
  return { kind: 'checkpoint', layers, edges: { added: [], removed: [] }, summary: countStatuses(layers), notes: [CHECKPOINT_NOTE] };
}
