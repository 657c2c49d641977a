/**
 * Structure-aware mutations of a Netloom project (engine/graph/document.ts): edits a user, a
 * careless script or a hostile file could make while keeping the file's skeleton, so the damage
 * gets past the schema into shape inference, compilation, the memory estimate and training.
 * Node kinds and parameter names come from the engine's own catalog.
 */
import { CATALOG } from '../../engine/graph/catalog.js';
import { layerDefaults } from '../../engine/host/catalog-dto.js';
import type { Gen } from './gen.js';
import { deepNesting, describe, interestingValue, setOwn, type JsonLike } from './mutate-json.js';

type Obj = Record<string, JsonLike>;
type NodeLike = { id: JsonLike; type: JsonLike; name: JsonLike; params: Obj } & Obj;
type EdgeLike = { source: JsonLike; target: JsonLike } & Obj;

/** Every layer type with its starting parameters (PyTorch's defaults). */
const LAYERS: { type: string; defaults: Obj }[] = [...CATALOG.values()].map((spec) => ({ type: spec.type, defaults: layerDefaults(spec) as Obj }));
const LAYER_TYPES = LAYERS.map((l) => l.type);

/** Paths a project's dataset may name; set by the corpus (absolute paths into the fuzz folder). */
export interface ProjectPaths {
  csvFiles: { path: string; label: string; columns: string[] }[];
  /** an existing folder that is no dataset, and one that does not exist */
  folders: string[];
}

const SIZES = [0, -1, 1, 2, 3, 7, 28, 64, 1000, 3000, 65536, 2 ** 31, 2 ** 53, 1.5, 1e308];

/** A value for parameter `key` whose default is `current`: nearby, extreme, or another type. */
function paramValue(g: Gen, key: string, current: JsonLike): JsonLike {
  if (g.chance(0.2)) return interestingValue(g);
  if (key === 'shape' || key === 'normalized_shape')
    return g.pick<JsonLike>([[], [0], [-1], [4], [784], [1, 28, 28], [3, 32, 32], [1, 3000, 3000], [2 ** 31], [1e6, 1e6], [1, 1, 1, 1, 1, 1, 1], [-1, 28], [1.5], ['a'], 'auto']);
  if (typeof current === 'boolean') return g.pick<JsonLike>([!current, 'true', 0, null]);
  if (typeof current === 'string' && current !== 'auto') return g.pick<JsonLike>(['zeros', 'reflect', 'circular', 'replicate', 'same', 'valid', 'tanh', 'none', 'sum', 'mean', '', 'x']);
  if (Array.isArray(current)) return g.pick<JsonLike>([[], [g.pick(SIZES)], [g.pick(SIZES), g.pick(SIZES)], [1, 2, 3]]);
  if (key === 'p' || key === 'momentum' || key === 'label_smoothing' || key === 'negative_slope')
    return g.pick([0, 1, -0.1, 1.1, 0.999999, 1e-45, 1e308]);
  if (key === 'dim' || key === 'start_dim' || key === 'end_dim') return g.pick([-5, -2, -1, 0, 1, 2, 3, 4, 100, 2 ** 31]);
  return g.pick<JsonLike>([...SIZES, [g.pick(SIZES), g.pick(SIZES)], 'auto']);
}

const NAMES = ['fc1', 'a.b', 'a..b', '.a', 'a.', '', '0', '__proto__', 'constructor', 'weight', 'x'.repeat(5000), 'ü', 'a b', 'optimizer.state', 'loss_fn'];

function nodesOf(p: Obj): NodeLike[] {
  const graph = p.graph as Obj | undefined;
  return Array.isArray(graph?.nodes) ? (graph!.nodes as NodeLike[]).filter((n) => n !== null && typeof n === 'object' && !Array.isArray(n)) : [];
}

function edgesOf(p: Obj): EdgeLike[] {
  const graph = p.graph as Obj | undefined;
  if (!graph || typeof graph !== 'object') return [];
  if (!Array.isArray(graph.edges)) graph.edges = [];
  return graph.edges as EdgeLike[];
}

function training(p: Obj): Obj {
  if (p.training === null || typeof p.training !== 'object' || Array.isArray(p.training)) p.training = {};
  return p.training as Obj;
}

function scheduler(g: Gen, nested = true): JsonLike {
  const type = g.pick(['StepLR', 'MultiStepLR', 'ExponentialLR', 'CosineAnnealingLR', 'OneCycleLR', 'LinearLR', ...(nested ? ['SequentialLR'] : []), 'NoSuchLR']);
  const fields: Obj = { type };
  const num = () => g.pick<JsonLike>([0, -1, 1, 2, 0.1, 0.5, 1e-300, 1e308, 2 ** 53, 1.5, 'auto', null]);
  const keys = ['step_size', 'gamma', 'milestones', 'T_max', 'eta_min', 'max_lr', 'total_steps', 'pct_start', 'div_factor', 'final_div_factor', 'start_factor', 'end_factor', 'total_iters', 'base_momentum', 'max_momentum', 'interval'];
  for (const k of keys) {
    if (!g.chance(0.35)) continue;
    fields[k] = k === 'milestones' ? g.pick<JsonLike>([[], [1], [3, 2], [1, 1], [2 ** 31], [1, 1e9]])
      : k === 'interval' ? g.pick(['epoch', 'step', 'batch', ''])
        : num();
  }
  if (type === 'SequentialLR') {
    fields.schedulers = Array.from({ length: g.range(0, 3) }, () => scheduler(g, g.chance(0.2)));
    fields.milestones ??= g.pick<JsonLike>([[], [1], [2, 1]]);
  }
  return fields;
}

function datasetDoc(g: Gen, paths: ProjectPaths): JsonLike {
  const csv = g.pick(paths.csvFiles);
  return g.weighted<() => JsonLike>([
    [2, () => g.pick(['mnist', 'fashion-mnist', 'kmnist', 'cifar10', 'imagenet', ''])],
    [4, () => {
      const doc: Obj = { type: 'csv', path: csv.path, label: g.chance(0.8) ? csv.label : g.pick([...csv.columns, 'missing', '', '__proto__']) };
      if (g.chance(0.3)) doc.features = g.pick<JsonLike>(['all-but-label', [], [csv.label], csv.columns.slice(0, g.int(csv.columns.length) + 1), ['nope'], [csv.columns[0], csv.columns[0]]]);
      if (g.chance(0.3)) doc.task = g.pick(['classification', 'regression', 'clustering']);
      if (g.chance(0.3)) doc.validation_fraction = g.pick([0, 1, 0.5, 1e-9, 0.999999, -0.1, 2]);
      if (g.chance(0.2)) doc.delimiter = g.pick([',', ';', '\t', '|', '']);
      if (g.chance(0.2)) doc.header = g.pick([true, false]);
      if (g.chance(0.2)) doc.standardize = g.pick([true, false]);
      return doc;
    }],
    [1, () => ({ type: 'image-folder', path: g.pick(paths.folders), ...(g.chance(0.5) ? { size: g.pick<JsonLike>([[28, 28], [0, 0], [4096, 4096], [1, 1]]) } : {}), mode: g.pick(['grey', 'rgb', 'cmyk']) })],
    // never download: the fuzzer must not reach the network, so `download` is left out (false)
    [1, () => ({ type: 'torchvision', name: g.pick(['mnist', 'fashion-mnist', 'kmnist', 'cifar10']), ...(g.chance(0.7) ? { root: g.pick(paths.folders) } : {}) })],
  ])();
}

/** Conv2d(out_channels 1, kernel_size 1, padding 3000) after the Input: issue 10 item 1's 2^31-element activation. */
function giantConv(p: Obj): string {
  const nodes = nodesOf(p);
  const input = nodes.find((n) => n.type === 'Input');
  if (!input) return 'giant conv (no Input)';
  const edges = edgesOf(p);
  const out = edges.filter((e) => e.source === input.id);
  nodes.push({ id: 'fuzz_conv', type: 'Conv2d', name: 'fuzz_conv', params: { in_channels: 'auto', out_channels: 1, kernel_size: 1, padding: 3000 } });
  (p.graph as Obj).nodes = nodes;
  for (const e of out) e.source = 'fuzz_conv';
  edges.push({ id: 'fuzz_conv_in', source: input.id, target: 'fuzz_conv' });
  return 'Conv2d padding 3000 after the Input';
}

export type ProjectOp = (g: Gen, p: Obj, paths: ProjectPaths) => string;

export const PROJECT_OPS: Record<string, readonly [number, ProjectOp]> = {
  setParam: [10, (g, p) => {
    const n = nodesOf(p);
    if (!n.length) return 'no node';
    const node = g.pick(n);
    if (node.params === null || typeof node.params !== 'object' || Array.isArray(node.params)) node.params = {};
    const known = LAYERS.find((l) => l.type === node.type)?.defaults ?? {};
    const keys = [...new Set([...Object.keys(known), ...Object.keys(node.params)])];
    const key = keys.length && g.chance(0.9) ? g.pick(keys) : g.pick(['bogus', '__proto__', 'constructor', '']);
    const v = paramValue(g, key, node.params[key] ?? known[key] ?? null);
    setOwn(node.params, key, v);
    return `${String(node.id)}.params.${key} = ${describe(v)}`;
  }],
  changeType: [3, (g, p) => {
    const n = nodesOf(p);
    if (!n.length) return 'no node';
    const node = g.pick(n);
    node.type = g.chance(0.9) ? g.pick(LAYER_TYPES) : g.pick(['Conv3d', 'input', '', 'Transformer', '__proto__']);
    if (g.chance(0.5)) node.params = { ...(LAYERS.find((l) => l.type === node.type)?.defaults ?? {}) };
    return `${String(node.id)}.type = ${String(node.type)}`;
  }],
  insertNode: [4, (g, p) => {
    const nodes = nodesOf(p);
    const edges = edgesOf(p);
    const layer = g.pick(LAYERS);
    const id = `fuzz_${g.int(1e6)}`;
    nodes.push({ id, type: layer.type, name: id, params: { ...layer.defaults } });
    (p.graph as Obj).nodes = nodes;
    if (edges.length) {
      const e = g.pick(edges);
      edges.push({ source: id, target: e.target });
      e.target = id;
    }
    return `insert ${layer.type}`;
  }],
  removeNode: [2, (g, p) => {
    const nodes = nodesOf(p);
    if (!nodes.length) return 'no node';
    const node = nodes.splice(g.int(nodes.length), 1)[0];
    (p.graph as Obj).nodes = nodes;
    if (g.chance(0.5)) (p.graph as Obj).edges = edgesOf(p).filter((e) => e.source !== node.id && e.target !== node.id);
    return `remove node ${String(node.id)}`;
  }],
  removeEdge: [2, (g, p) => {
    const edges = edgesOf(p);
    if (!edges.length) return 'no edge';
    edges.splice(g.int(edges.length), 1);
    return 'remove an edge';
  }],
  danglingEdge: [2, (g, p) => {
    const nodes = nodesOf(p);
    const some = nodes.length ? String(g.pick(nodes).id) : 'x';
    const e: EdgeLike = g.chance(0.5) ? { source: some, target: 'no_such_node' } : { source: 'no_such_node', target: some };
    edgesOf(p).push(e);
    return `edge ${String(e.source)} -> ${String(e.target)}`;
  }],
  cycle: [3, (g, p) => {
    const nodes = nodesOf(p);
    if (nodes.length < 2) return 'no cycle';
    const i = g.int(nodes.length);
    const j = g.chance(0.2) ? i : g.int(i + 1);
    edgesOf(p).push({ source: nodes[i].id, target: nodes[j].id, ...(g.chance(0.3) ? { targetHandle: g.pick(['in0', 'in1', 'target', 'in99', '']) } : {}) });
    return `edge ${String(nodes[i].id)} -> ${String(nodes[j].id)} (back)`;
  }],
  duplicate: [2, (g, p) => {
    const nodes = nodesOf(p);
    if (!nodes.length) return 'no node';
    const copy = JSON.parse(JSON.stringify(g.pick(nodes))) as NodeLike;
    if (g.chance(0.5)) copy.name = `${String(copy.name)}_2`;
    else copy.id = `${String(copy.id)}_2`;
    nodes.push(copy);
    (p.graph as Obj).nodes = nodes;
    return `duplicate node ${String(copy.id)} / ${String(copy.name)}`;
  }],
  rename: [2, (g, p) => {
    const nodes = nodesOf(p);
    if (!nodes.length) return 'no node';
    const node = g.pick(nodes);
    const field = g.pick(['name', 'id'] as const);
    node[field] = g.pick(NAMES);
    return `${field} = ${describe(node[field])}`;
  }],
  handle: [1, (g, p) => {
    const edges = edgesOf(p);
    if (!edges.length) return 'no edge';
    const e = g.pick(edges);
    e.targetHandle = g.pick(['in0', 'in1', 'in2', 'target', 'in-1', 'in1e9', '']);
    return `targetHandle = ${String(e.targetHandle)}`;
  }],
  training: [6, (g, p) => {
    const t = training(p);
    const key = g.pick(['batch_size', 'epochs', 'seed', 'shuffle', 'drop_last', 'clip_grad_norm', 'device', 'optimizer.lr', 'optimizer.type', 'optimizer.momentum', 'optimizer.betas', 'optimizer.eps', 'optimizer.weight_decay']);
    const values: Record<string, JsonLike[]> = {
      batch_size: [0, -1, 1, 2, 3, 1.5, 2 ** 20, 2 ** 20 + 1, 2 ** 31, 1e308],
      epochs: [0, -1, 1.5, 2 ** 31, 1e308],
      seed: [-1, 2 ** 53 - 1, 2 ** 53, 2 ** 64, 0.5],
      shuffle: ['yes', 1, null],
      drop_last: [true, 'no'],
      clip_grad_norm: [0, -1, 1e-45, 1e308, null, 'inf'],
      device: ['cuda', 'cpu', 'auto', 'tpu', ''],
      'optimizer.lr': [0, -1, 1e308, 1e300, 5e-324, 1e-45, 1e38, 3.4e38, 3.5e38, 10],
      'optimizer.type': ['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'LBFGS', ''],
      'optimizer.momentum': [0, 1, 1e308, -0.5, 0.999999999],
      'optimizer.betas': [[0, 0], [1, 1], [0.9], [0.9, 0.999, 0.5], [-1, 2], [0.999999999, 0.999999999]],
      'optimizer.eps': [0, 1e-320, 1e308, -1],
      'optimizer.weight_decay': [0, 1e308, -1, 1e10],
    };
    const v = g.chance(0.15) ? interestingValue(g) : g.pick(values[key]);
    if (key.startsWith('optimizer.')) {
      if (t.optimizer === null || typeof t.optimizer !== 'object' || Array.isArray(t.optimizer)) t.optimizer = { type: 'SGD' };
      setOwn(t.optimizer as Obj, key.slice('optimizer.'.length), v);
    } else setOwn(t, key, v);
    return `training.${key} = ${describe(v)}`;
  }],
  scheduler: [2, (g, p) => {
    const s = scheduler(g);
    training(p).scheduler = s;
    return `scheduler ${describe(s)}`;
  }],
  dataset: [4, (g, p, paths) => {
    const d = datasetDoc(g, paths);
    training(p).dataset = d;
    return `dataset ${describe(d)}`;
  }],
  header: [1, (g, p) => {
    const key = g.pick(['version', 'format', 'name'] as const);
    const v = key === 'version' ? g.pick<JsonLike>([0, 2, 999, -1, 1.5, '1']) : key === 'format' ? g.pick<JsonLike>(['netloom', 'netloom-project ', '']) : g.pick<JsonLike>(['', 'x'.repeat(100_000), '\u0000', '😀']);
    p[key] = v;
    return `${key} = ${describe(v)}`;
  }],
  bigGraph: [1, (g, p) => {
    // many nodes in a chain behind the Input (graph algorithms' size, not memory)
    const nodes = nodesOf(p);
    const input = nodes.find((n) => n.type === 'Input');
    if (!input) return 'no Input';
    const edges = edgesOf(p);
    const n = g.pick([200, 2000]);
    const out = edges.filter((e) => e.source === input.id);
    let prev = input.id;
    for (let i = 0; i < n; i++) {
      const id = `chain_${i}`;
      nodes.push({ id, type: 'Identity', name: id, params: {} });
      edges.push({ source: prev, target: id });
      prev = id;
    }
    for (const e of out) e.source = prev;
    (p.graph as Obj).nodes = nodes;
    return `chain of ${n} Identity nodes`;
  }],
  deepParams: [1, (g, p) => {
    const nodes = nodesOf(p);
    if (!nodes.length) return 'no node';
    const node = g.pick(nodes);
    const depth = g.pick([1000, 5000, 20_000]);
    node.params = { ...(node.params ?? {}), nested: deepNesting(depth, g.pick(['array', 'object'] as const)) };
    return `${String(node.id)}.params nested ${depth} deep`;
  }],
  giant: [1, (_g, p) => giantConv(p)],
};

const OPS = Object.values(PROJECT_OPS);
const OP_NAMES = Object.keys(PROJECT_OPS);

/** One to a few structural edits of project `p` (changed in place). */
export function mutateProject(g: Gen, p: Obj, paths: ProjectPaths, maxOps = 3): string[] {
  const what: string[] = [];
  const n = g.small(maxOps);
  for (let i = 0; i < n; i++) {
    const k = g.weighted(OPS.map(([w], idx) => [w, idx] as const));
    what.push(`${OP_NAMES[k]}: ${OPS[k][1](g, p, paths)}`);
  }
  return what;
}
