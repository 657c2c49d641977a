/**
 * Netloom node names for imported ONNX nodes. A layer with weights is named by its initialisers'
 * prefix (`fc1.weight` -> "fc1"), which is its module path in the PyTorch model; where the exporter
 * renamed them (`onnx::Conv_123`, after folding a BatchNorm) the ONNX node name gives the path: torch
 * writes "/layer1/conv1/Conv" (scopes, then the operator), and for a module in an nn.Sequential the
 * child's scope repeats its parent's name ("/layer2/downsample/downsample.0/Conv" is
 * layer2.downsample.0). An operator called inside a module that holds others ("/layer1/Add") gets
 * the operator's name after the module's ("layer1.add"). A name without the leading '/' (Netloom's
 * export, other tools) is used as it is. Names are made valid (NODE_NAME_RE) and unique.
 */
import { NODE_NAME_RE } from '../../graph/document.js';

/** The module path and operator of an ONNX node name as torch writes it: "/layer1/conv1/Conv" -> ["layer1.conv1", "Conv"]. */
export function scopeOf(onnxName: string): { path: string; leaf: string } {
  const segments = onnxName.split('/').filter((s) => s.length > 0);
  const leaf = segments.pop() ?? '';
  let path = '';
  let last = '';
  for (const s of segments) {
    path = last && s.startsWith(`${last}.`) ? path + s.slice(last.length) : path ? `${path}.${s}` : s;
    last = s;
  }
  return { path, leaf };
}

/** `text` as a valid node name: other characters become '_', empty parts are dropped. */
export function sanitize(text: string): string {
  return text
    .split('.')
    .map((p) => p.replace(/[^A-Za-z0-9_]/g, '_'))
    .filter((p) => p.length > 0)
    .join('.');
}

/** The module prefix of a state-dict style initialiser name with the expected leaf: ("fc1.weight", "weight") -> "fc1". */
export function initialiserPrefix(name: string | undefined, leaf: string): string | undefined {
  if (!name || !name.endsWith(`.${leaf}`)) return undefined;
  const prefix = name.slice(0, -leaf.length - 1);
  return NODE_NAME_RE.test(prefix) ? prefix : undefined;
}

export class NodeNamer {
  private readonly used = new Set<string>();
  /** module paths that contain other modules (a scope some other node's path lies under) */
  private readonly containers = new Set<string>();

  /** `onnxNames`: every node name of the graph, to tell a module's own operator from one called inside a container. */
  constructor(onnxNames: readonly string[]) {
    for (const n of onnxNames) {
      const parts = scopeOf(n).path.split('.');
      for (let i = 1; i < parts.length; i++) this.containers.add(parts.slice(0, i).join('.'));
    }
  }

  /** A unique name: the initialiser prefix when given, else from the ONNX node's name, else `fallback`. */
  name(onnxName: string | undefined, prefix: string | undefined, fallback: string): string {
    let base = prefix;
    // a name without torch's leading '/' is taken as it is (Netloom's own export names nodes so)
    if (!base && onnxName && !onnxName.startsWith('/')) base = onnxName;
    if (!base && onnxName) {
      const { path, leaf } = scopeOf(onnxName);
      const own = sanitize(path);
      const op = sanitize(leaf.toLowerCase());
      base = own && !this.containers.has(path) ? own : own && op ? `${own}.${op}` : op || own;
    }
    base = sanitize(base || fallback) || fallback;
    let name = base;
    for (let k = 2; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Reserves a name (the Input node's, the loss's) so no layer takes it. */
  reserve(name: string): string {
    return this.name(undefined, name, name);
  }
}
