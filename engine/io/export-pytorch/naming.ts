/**
 * Where each node's module lives in the generated nn.Module, so that its state-dict keys are
 * Netloom's one to one. A node name is a module path (`fc1`, `linear_relu_stack.0`,
 * `layer2.downsample.1`):
 *
 *   - a run `stack.0`, `stack.1`, ... of modules that form a chain (each feeds only the next)
 *     becomes `self.stack = nn.Sequential(...)`, exactly as the PyTorch quickstart writes it;
 *   - other dotted names become plain nn.Module containers: `self.layer1 = nn.Module()`, then
 *     `self.layer1.conv1 = nn.Conv2d(...)`;
 *   - a name that is no Python identifier (`0`, `class`) is registered with add_module() and read
 *     back with getattr(); one that nn.Module uses itself (`eval`, `training`) is put straight into
 *     `_modules`, the only place torch accepts it, so its keys still read `eval.weight`.
 *
 * Modules are registered in Netloom's topological order, so state_dict() follows Netloom's order
 * wherever the module hierarchy allows it (see parameterOrder for where it does not).
 */
import type { AnalyzedNode } from '../../graph/analyze.js';
import { layerCode } from './layers.js';
import { isAttributeName, isIdentifier, pyStr } from './python.js';

/** One registered module: a catalog layer, a chain (nn.Sequential) or a container (nn.Module()). */
export interface ModuleSlot {
  path: readonly string[];
  kind: 'layer' | 'sequential' | 'container';
  /** the layer's node (kind 'layer'), or the chain's nodes in index order (kind 'sequential') */
  nodes: readonly AnalyzedNode[];
  children: ModuleSlot[];
}

export interface ModuleTree {
  /** the top-level modules, in registration order */
  roots: ModuleSlot[];
  /** every registered slot, in registration order (parents before children) */
  registered: ModuleSlot[];
  /** node id -> the chain it belongs to (every member of a Sequential) */
  chainOf: ReadonlyMap<string, ModuleSlot>;
}

const isModule = (n: AnalyzedNode) => !n.spec.isLoss && layerCode(n).kind === 'module';
const parentOf = (name: string) => name.slice(0, Math.max(0, name.lastIndexOf('.')));
const lastSegment = (name: string) => name.slice(name.lastIndexOf('.') + 1);

/**
 * The Sequential chains: prefix -> members by index. A prefix qualifies when every node under it is
 * a module named `<prefix>.<digits>` and each member's only input is the previous member, whose
 * only consumer it is (so calling the Sequential computes exactly the chain).
 */
export function findChains(order: readonly AnalyzedNode[]): Map<string, AnalyzedNode[]> {
  const consumers = new Map<string, string[]>();
  for (const n of order) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n.doc.id]);
  const under = new Map<string, AnalyzedNode[]>();
  const names = new Set(order.map((n) => n.doc.name));
  for (const n of order) {
    const segs = n.doc.name.split('.');
    for (let k = 1; k < segs.length; k++) {
      const prefix = segs.slice(0, k).join('.');
      under.set(prefix, [...(under.get(prefix) ?? []), n]);
    }
  }
  const chains = new Map<string, AnalyzedNode[]>();
  for (const [prefix, nodes] of under) {
    if (names.has(prefix)) continue;
    const direct = nodes.every((n) => parentOf(n.doc.name) === prefix && /^\d+$/.test(lastSegment(n.doc.name)) && isModule(n));
    if (!direct) continue;
    const members = [...nodes].sort((a, b) => Number(lastSegment(a.doc.name)) - Number(lastSegment(b.doc.name)));
    const linked = members.every((m, k) => m.inputs.length === 1 && (k === 0 || (m.inputs[0] === members[k - 1].doc.id && consumers.get(members[k - 1].doc.id)?.length === 1)));
    if (linked) chains.set(prefix, members);
  }
  return chains;
}

/** Builds the module tree: chains first found, containers made as their first member registers. */
export function buildModuleTree(order: readonly AnalyzedNode[]): ModuleTree {
  const chains = findChains(order);
  const byName = new Map(order.map((n) => [n.doc.name, n]));
  const slots = new Map<string, ModuleSlot>();
  const registered: ModuleSlot[] = [];
  const roots: ModuleSlot[] = [];
  const chainOf = new Map<string, ModuleSlot>();

  const register = (name: string, make: () => Omit<ModuleSlot, 'path' | 'children'>): ModuleSlot => {
    const have = slots.get(name);
    if (have) return have;
    const parent = parentOf(name);
    // the parent first: a layer of that name, or else a container
    const up = parent ? register(parent, () => (byName.has(parent) && isModule(byName.get(parent)!) ? { kind: 'layer', nodes: [byName.get(parent)!] } : { kind: 'container', nodes: [] })) : undefined;
    const slot: ModuleSlot = { path: name.split('.'), children: [], ...make() };
    slots.set(name, slot);
    registered.push(slot);
    (up ? up.children : roots).push(slot);
    return slot;
  };

  for (const n of order) {
    if (!isModule(n)) continue;
    const prefix = parentOf(n.doc.name);
    const chain = prefix ? chains.get(prefix) : undefined;
    if (chain) {
      const slot = register(prefix, () => ({ kind: 'sequential', nodes: chain }));
      chainOf.set(n.doc.id, slot);
    } else {
      register(n.doc.name, () => ({ kind: 'layer', nodes: [n] }));
    }
  }
  return { roots, registered, chainOf };
}

/** How forward() and __init__ reach the module at `path`: self.layer1.conv1, getattr(self, "0"), self._modules["eval"]. */
export function moduleRef(path: readonly string[]): string {
  let ref = 'self';
  for (const seg of path) {
    if (isAttributeName(seg)) ref = `${ref}.${seg}`;
    else if (isIdentifier(seg) && !seg.startsWith('__')) ref = `${ref}._modules[${pyStr(seg)}]`;
    else ref = `getattr(${ref}, ${pyStr(seg)})`;
  }
  return ref;
}

/** The statement in __init__ that registers `module` (Python text) at `path`. */
export function registration(path: readonly string[], module: string): string {
  const parent = moduleRef(path.slice(0, -1));
  const seg = path[path.length - 1];
  if (isAttributeName(seg)) return `${parent}.${seg} = ${module}`;
  // nn.Module refuses its own attribute names in add_module(); _modules is where children live
  if (isIdentifier(seg) && !seg.startsWith('__')) return `${parent}._modules[${pyStr(seg)}] = ${module}  # "${seg}" is also an nn.Module attribute`;
  return `${parent}.add_module(${pyStr(seg)}, ${module})`;
}

/**
 * The state-dict keys in the order the generated module's state_dict() lists them: each module's
 * own tensors (parameters, then buffers, as the catalog lists them), then its children in
 * registration order. `keysOf` gives a layer node's keys.
 */
export function moduleStateOrder(tree: ModuleTree, keysOf: (n: AnalyzedNode) => readonly string[]): string[] {
  const out: string[] = [];
  const walk = (s: ModuleSlot) => {
    if (s.kind === 'layer') out.push(...keysOf(s.nodes[0]));
    if (s.kind === 'sequential') for (const m of s.nodes) out.push(...keysOf(m));
    s.children.forEach(walk);
  };
  tree.roots.forEach(walk);
  return out;
}
