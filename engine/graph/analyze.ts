/**
 * Graph analysis: structure checks, topological order and shape inference in one pass.
 *
 * Never throws for user mistakes: every problem becomes a GraphIssue on the node (or edge) it
 * concerns, with a message that says what is wrong and a hint that says what to do, so the
 * canvas can draw it and the CLI can print it. Training refuses a graph with issues.
 */
import { NetloomError } from '../errors.js';
import { CATALOG, fmtShape, layerSpec, type LayerSpec, type Shape, type ShapeCtx } from './catalog.js';
import type { EdgeDoc, GraphDoc, NodeDoc } from './document.js';
import { documentIssues } from './group-issues.js';
import { flattenGroups, type FlatGraph, type GroupProblem } from './groups.js';

export type IssueCode =
  | 'duplicate-id'
  | 'duplicate-name'
  | 'unknown-type'
  | 'bad-param'
  | 'dangling-edge'
  | 'too-many-inputs'
  | 'missing-input'
  | 'cycle'
  | 'no-input'
  | 'no-loss'
  | 'several-inputs'
  | 'several-losses'
  | 'unreachable'
  | 'shape'
  | GroupProblem['code'];

export interface GraphIssue {
  code: IssueCode;
  nodeId?: string;
  edgeId?: string;
  message: string;
  hint: string;
  /** a one-click fix: set this parameter to this value */
  fix?: { param: string; value: unknown };
}

export interface AnalyzedNode {
  doc: NodeDoc;
  spec: LayerSpec;
  /** parameters with defaults filled and "auto" values resolved */
  params: Record<string, unknown>;
  inputs: string[];
  outShape?: Shape;
}

/**
 * A graph analysed on its flat form (groups expanded, engine/graph/groups.ts): `order` and `byId` hold the flat
 * nodes, under their full module paths and flat ids (copy 0 keeps the drawn id, copy i >= 1 is `<id>@<i>`), which
 * is what compiling, checkpoints and exports need; `issues` are on the drawn ids (engine/graph/group-issues.ts).
 */
export interface Analysis {
  issues: GraphIssue[];
  /** topological order of the nodes that parsed (cycles excluded) */
  order: AnalyzedNode[];
  byId: Map<string, AnalyzedNode>;
  /** the flat graph analysed, with each group's path, members and problems */
  flat: FlatGraph;
  inputId?: string;
  lossId?: string;
}

const label = (n: NodeDoc) => `${n.type} at node ${n.name}`;

export interface AnalyzeOptions {
  /** batch size used to print shapes ([64,784]); unknown prints [N,784] */
  batchSize?: number;
}

/**
 * Input order of a node's incoming edges: ports named "in<k>" sort by k, a "target" port comes
 * last, and otherwise the order of the edges in the document is kept.
 */
function portRank(handle: string | undefined, index: number): number {
  if (handle === 'target') return 1e9 + index;
  const m = handle?.match(/(\d+)$/);
  return m ? Number(m[1]) * 1e6 + index : index;
}

/** Analyses a graph with groups on its flat form and reports the issues on the graph as drawn. */
export function analyzeGraph(graph: GraphDoc, opts: AnalyzeOptions = {}): Analysis {
  const flat = flattenGroups(graph);
  const a = analyzeFlat(flat.graph, opts);
  return { ...a, flat, issues: documentIssues(graph, flat, a.issues) };
}

/** The checks and shape inference on a graph without groups. */
function analyzeFlat(graph: FlatGraph['graph'], opts: AnalyzeOptions): Omit<Analysis, 'flat'> {
  const ctx: ShapeCtx = { fmt: (s) => fmtShape(s, opts.batchSize) };
  const issues: GraphIssue[] = [];
  const byId = new Map<string, AnalyzedNode>();
  const names = new Map<string, string>();

  for (const n of graph.nodes) {
    if (byId.has(n.id)) {
      issues.push({ code: 'duplicate-id', nodeId: n.id, message: `two nodes share the id "${n.id}"`, hint: 'Give every node a unique id.' });
      continue;
    }
    const other = names.get(n.name);
    if (other !== undefined)
      issues.push({ code: 'duplicate-name', nodeId: n.id, message: `${label(n)}: the name "${n.name}" is also used by node ${other}`, hint: 'Rename one of them: names become state-dict keys and must be unique.' });
    names.set(n.name, n.id);
    const spec = layerSpec(n.type);
    if (!spec) {
      issues.push({
        code: 'unknown-type',
        nodeId: n.id,
        message: `node ${n.name} has the unknown layer type "${n.type}"`,
        hint: `Known layer types: ${[...CATALOG.keys()].join(', ')}.`,
      });
      continue;
    }
    const parsed = spec.params.safeParse(n.params ?? {});
    if (!parsed.success) {
      for (const i of parsed.error.issues) {
        const param = i.path.join('.') || '(params)';
        issues.push({ code: 'bad-param', nodeId: n.id, message: `${label(n)}: ${param}: ${i.message}`, hint: spec.paramDocs[param] ? `${param} is the ${spec.paramDocs[param]}.` : 'Check the parameter in the inspector.' });
      }
      continue;
    }
    byId.set(n.id, { doc: n, spec, params: { ...parsed.data }, inputs: [] });
  }

  const consumers = new Map<string, string[]>();
  const incoming = new Map<string, { source: string; rank: number }[]>();
  for (const [k, e] of graph.edges.entries()) {
    const eid = e.id ?? `edge #${k}`;
    const known = (id: string) => byId.has(id) || graph.nodes.some((n) => n.id === id);
    if (!known(e.source) || !known(e.target)) {
      const missing = !known(e.source) ? e.source : e.target;
      issues.push({ code: 'dangling-edge', edgeId: eid, message: `edge ${eid} connects ${e.source} -> ${e.target}, but there is no node "${missing}"`, hint: 'Delete the edge or restore the node.' });
      continue;
    }
    if (e.source === e.target) {
      issues.push({ code: 'cycle', edgeId: eid, nodeId: e.source, message: `edge ${eid} connects node ${e.source} to itself`, hint: 'Remove the edge: the graph must not have cycles.' });
      continue;
    }
    const t = byId.get(e.target);
    if (t) incoming.set(e.target, [...(incoming.get(e.target) ?? []), { source: e.source, rank: portRank(e.targetHandle, k) }]);
    consumers.set(e.source, [...(consumers.get(e.source) ?? []), e.target]);
  }

  for (const n of byId.values()) {
    n.inputs = (incoming.get(n.doc.id) ?? []).sort((a, b) => a.rank - b.rank).map((i) => i.source);
    const { min, max } = n.spec.arity;
    const takes = min === max ? `${min}` : max >= 8 ? `${min} or more` : `${min} to ${max}`;
    if (n.inputs.length > max)
      issues.push({ code: 'too-many-inputs', nodeId: n.doc.id, message: `${label(n.doc)} takes ${takes} input${max === 1 ? '' : 's'} but ${n.inputs.length} are connected`, hint: 'Remove the extra connections.' });
    else if (n.inputs.length < min)
      issues.push({ code: 'missing-input', nodeId: n.doc.id, message: n.inputs.length === 0 ? `${label(n.doc)} has no input connected` : `${label(n.doc)} needs ${takes} inputs but ${n.inputs.length} ${n.inputs.length === 1 ? 'is' : 'are'} connected`, hint: min > 1 ? `Connect ${min} branches to it.` : 'Connect the previous layer to it.' });
  }

  // Kahn's algorithm over the nodes that parsed; whatever remains sits on a cycle.
  const indeg = new Map<string, number>();
  for (const n of byId.values()) indeg.set(n.doc.id, n.inputs.filter((i) => byId.has(i)).length);
  const queue = [...byId.values()].filter((n) => indeg.get(n.doc.id) === 0).map((n) => n.doc.id);
  const order: AnalyzedNode[] = [];
  while (queue.length) {
    const id = queue.shift()!;
    order.push(byId.get(id)!);
    for (const c of consumers.get(id) ?? []) {
      if (!indeg.has(c)) continue;
      indeg.set(c, indeg.get(c)! - 1);
      if (indeg.get(c) === 0) queue.push(c);
    }
  }
  if (order.length < byId.size) {
    const stuck = [...byId.values()].filter((n) => !order.includes(n)).map((n) => n.doc.name);
    issues.push({ code: 'cycle', nodeId: [...byId.values()].find((n) => !order.includes(n))!.doc.id, message: `the graph has a cycle through nodes ${stuck.join(', ')}`, hint: 'Remove one of the connections that loops back.' });
  }

  const inputs = order.filter((n) => n.spec.arity.max === 0);
  const losses = order.filter((n) => n.spec.isLoss);
  if (inputs.length === 0) issues.push({ code: 'no-input', message: 'the graph has no Input node', hint: 'Add an Input node and connect it to the first layer.' });
  if (inputs.length > 1) issues.push({ code: 'several-inputs', nodeId: inputs[1].doc.id, message: `the graph has ${inputs.length} Input nodes (${inputs.map((n) => n.doc.name).join(', ')})`, hint: 'Keep one Input node.' });
  if (losses.length === 0) issues.push({ code: 'no-loss', message: 'the graph has no loss node', hint: 'Add a CrossEntropyLoss after the last layer.' });
  if (losses.length > 1) issues.push({ code: 'several-losses', nodeId: losses[1].doc.id, message: `the graph has ${losses.length} loss nodes`, hint: 'Keep one loss node.' });

  // Shape inference in topological order; a node whose inputs have no shape is skipped silently
  // (its upstream problem is already reported).
  for (const n of order) {
    const ins = n.inputs.map((i) => byId.get(i)?.outShape);
    if (ins.length < n.spec.arity.min || ins.length > n.spec.arity.max || ins.some((s) => s === undefined)) continue;
    const r = n.spec.infer(n.params, ins as Shape[], ctx);
    if (r.ok) {
      n.outShape = r.shape;
      if (r.resolved) Object.assign(n.params, r.resolved);
    } else {
      issues.push({ code: 'shape', nodeId: n.doc.id, message: `${label(n.doc)}: ${r.message}`, hint: r.hint, fix: r.fix });
    }
  }

  // Every node must lie on the path from the input to the loss, or it would be silently ignored.
  if (inputs.length === 1 && losses.length === 1) {
    const toLoss = new Set<string>();
    const stack = [losses[0].doc.id];
    while (stack.length) {
      const id = stack.pop()!;
      if (toLoss.has(id)) continue;
      toLoss.add(id);
      stack.push(...(byId.get(id)?.inputs ?? []));
    }
    for (const n of order)
      if (!toLoss.has(n.doc.id))
        issues.push({ code: 'unreachable', nodeId: n.doc.id, message: `${label(n.doc)} does not lead to the loss ${losses[0].doc.name}`, hint: 'Connect it into the chain that ends in the loss, or delete it.' });
  }

  return { issues, order, byId, inputId: inputs.length === 1 ? inputs[0].doc.id : undefined, lossId: losses.length === 1 ? losses[0].doc.id : undefined };
}

/** Analysis that must be clean (for compiling): throws NL_BAD_GRAPH listing every issue. */
export function analyzeForTraining(graph: GraphDoc, source: string, opts: AnalyzeOptions = {}): Analysis {
  const a = analyzeGraph(graph, opts);
  if (a.issues.length) {
    const lines = a.issues.map((i) => `  - ${i.message}\n    fix: ${i.hint}`);
    throw new NetloomError('NL_BAD_GRAPH', `${source}: the network has ${a.issues.length} problem${a.issues.length > 1 ? 's' : ''}:\n${lines.join('\n')}`,
      'Fix the problems above in the project file or on the canvas.');
  }
  return a;
}

export { fmtShape };
export type { EdgeDoc };
