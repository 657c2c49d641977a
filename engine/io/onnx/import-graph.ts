/**
 * The state of an ONNX import while its nodes are read: what each ONNX value is (a constant, the
 * output of a canvas node with its per-sample shape, or broken by an unsupported operator upstream),
 * the canvas nodes and edges made so far, their weights, and the problems found (all reported at once).
 * Every canvas node's output shape is inferred by its catalog entry as it is added, so an operator
 * read later (BatchNormalization on 2-D or 4-D, a Reshape) can depend on it.
 */
import { NetloomError } from '../../errors.js';
import { fmtShape, layerSpec, type Shape } from '../../graph/catalog.js';
import type { EdgeDoc, NodeDoc } from '../../graph/document.js';
import type { TensorF32 } from '../safetensors.js';
import { REEXPORT_HINT } from './codec.js';
import { NodeNamer } from './naming.js';
import type { AttributeProto, NodeProto } from './schema.js';
import { decodeTensor, type DecodedTensor } from './tensors.js';

export type Value = { kind: 'const'; tensor: DecodedTensor } | { kind: 'layer'; id: string; shape: Shape } | { kind: 'broken' };

/** A layer to put on the canvas for one or more ONNX nodes. */
export interface LayerRequest {
  type: string;
  params: Record<string, unknown>;
  /** ONNX values feeding it, in port order */
  inputs: string[];
  /** the ONNX value it produces */
  output: string;
  /** the ONNX node it stands for (its name names the layer when no initialiser prefix does) */
  node: NodeProto;
  /** the module prefix of its initialisers, when they carry one */
  prefix?: string;
  /** its weights by state-dict leaf ("weight", "running_mean") */
  tensors?: Record<string, TensorF32>;
}

export const attr = (n: NodeProto, name: string): AttributeProto | undefined => n.attribute?.find((a) => a.name === name);
export const attrInt = (n: NodeProto, name: string, dflt: number): number => attr(n, name)?.i ?? dflt;
export const attrFloat = (n: NodeProto, name: string, dflt: number): number => attr(n, name)?.f ?? dflt;
export const attrInts = (n: NodeProto, name: string): number[] | undefined => attr(n, name)?.ints;
export const attrString = (n: NodeProto, name: string): string | undefined => {
  const s = attr(n, name)?.s;
  return s ? new TextDecoder().decode(s) : undefined;
};

/** "Conv (node /layer1/conv1/Conv)" */
export const describe = (n: NodeProto): string => `${n.op_type ?? '?'} (node ${n.name || n.output?.[0] || 'without a name'})`;

/** A problem with one ONNX node that stops the import; collected, then reported with the others. */
export class NodeProblem extends Error {}

export class ImportBuilder {
  readonly values = new Map<string, Value>();
  readonly nodes: NodeDoc[] = [];
  readonly edges: EdgeDoc[] = [];
  readonly tensors: Record<string, TensorF32> = Object.create(null) as Record<string, TensorF32>;
  readonly notes: string[] = [];
  readonly problems: string[] = [];
  readonly namer: NodeNamer;
  /** ONNX nodes already read as part of an earlier pattern (a GELU's Erf, a Linear's bias Add) */
  readonly consumed = new Set<NodeProto>();
  /** ONNX nodes whose weights the exporter renamed (`onnx::Conv_123`: torch does after folding a BatchNorm) */
  readonly renamed = new Set<NodeProto>();
  private readonly renamedLayers: string[] = [];
  private readonly consumers = new Map<string, NodeProto[]>();

  constructor(readonly source: string, readonly graphNodes: readonly NodeProto[], readonly opset: number) {
    this.namer = new NodeNamer(graphNodes.map((n) => n.name ?? ''));
    for (const n of graphNodes) for (const i of n.input ?? []) if (i) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
  }

  consumersOf(value: string): NodeProto[] {
    return this.consumers.get(value) ?? [];
  }

  /** The only consumer of `value`, when it has exactly one. */
  soleConsumer(value: string): NodeProto | undefined {
    const c = this.consumersOf(value);
    return c.length === 1 ? c[0] : undefined;
  }

  setConst(name: string, t: DecodedTensor): void {
    this.values.set(name, { kind: 'const', tensor: t });
  }

  constOf(name: string | undefined): DecodedTensor | undefined {
    const v = name ? this.values.get(name) : undefined;
    return v?.kind === 'const' ? v.tensor : undefined;
  }

  /** A constant input the operator needs; a missing or computed one is a problem of this node. */
  needConst(n: NodeProto, index: number, what: string): DecodedTensor {
    const t = this.constOf(n.input?.[index]);
    if (!t) throw new NodeProblem(`${describe(n)}: its ${what} is computed in the graph, not a constant; Netloom layers need constant weights`);
    return t;
  }

  /** A Constant node's value (the `value` tensor, or value_float(s) / value_int(s)). */
  constantValue(n: NodeProto): DecodedTensor {
    const t = attr(n, 'value')?.t;
    if (t) return decodeTensor(t, `the value of ${describe(n)}`, this.source);
    const f = attr(n, 'value_float')?.f, fs = attr(n, 'value_floats')?.floats, i = attr(n, 'value_int')?.i, is = attr(n, 'value_ints')?.ints;
    if (f !== undefined) return { dims: [], data: Float64Array.of(f), integer: false };
    if (i !== undefined) return { dims: [], data: Float64Array.of(i), integer: true };
    if (fs || is) return { dims: [(fs ?? is)!.length], data: Float64Array.from((fs ?? is)!), integer: !fs };
    throw new NodeProblem(`${describe(n)} has no value Netloom can read (sparse or string constants are not supported)`);
  }

  /** The canvas value an operator reads; undefined when it is broken upstream (already reported). */
  layerValue(n: NodeProto, name: string | undefined): { id: string; shape: Shape } | undefined {
    const v = name ? this.values.get(name) : undefined;
    if (v?.kind === 'layer') return v;
    if (v?.kind === 'broken') return undefined;
    throw new NodeProblem(v ? `${describe(n)} applies a layer to a constant, which Netloom cannot express` : `${describe(n)} reads ${name}, which no node produces`);
  }

  /** `output` is `input` under another name (Identity, Dropout, a zero Pad). */
  alias(output: string, input: string): void {
    const v = this.values.get(input);
    if (v) this.values.set(output, v);
  }

  /** Marks a node's outputs as unusable after a problem, so later nodes do not report it again. */
  breakOutputs(n: NodeProto): void {
    for (const o of n.output ?? []) this.values.set(o, { kind: 'broken' });
  }

  /** Adds a canvas layer, infers its shape and binds its output value; false when an input is broken. */
  addLayer(r: LayerRequest): boolean {
    const ins = r.inputs.map((i) => this.layerValue(r.node, i));
    if (ins.some((i) => i === undefined)) {
      this.values.set(r.output, { kind: 'broken' });
      return false;
    }
    const spec = layerSpec(r.type)!;
    const parsed = spec.params.safeParse(r.params);
    if (!parsed.success) throw new NodeProblem(`${describe(r.node)}: as a ${r.type}, ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const shapes = ins.map((i) => i!.shape);
    const inferred = spec.infer({ ...parsed.data }, shapes, { fmt: (s) => fmtShape(s) });
    if (!inferred.ok) throw new NodeProblem(`${describe(r.node)}: as a ${r.type}, ${inferred.message}`);
    this.checkTensors(r, { ...parsed.data, ...inferred.resolved }, shapes);
    const name = this.namer.name(r.node.name, r.prefix, r.type.toLowerCase());
    const id = `n${this.nodes.length}`;
    this.nodes.push({ id, type: r.type, name, params: r.params });
    if (this.renamed.has(r.node)) this.renamedLayers.push(name);
    ins.forEach((src, k) => this.edges.push({ id: `e${this.edges.length}`, source: src!.id, target: id, ...(ins.length > 1 ? { targetHandle: `in${k}` } : {}) }));
    for (const [leaf, t] of Object.entries(r.tensors ?? {})) this.tensors[`${name}.${leaf}`] = t;
    this.values.set(r.output, { kind: 'layer', id, shape: inferred.shape });
    return true;
  }

  /**
   * The weights read must be exactly the tensors the catalog gives the layer (keys and shapes), so the
   * project's state dict loads strictly: a bias of the wrong length is this node's problem, not a
   * failed load later.
   */
  private checkTensors(r: LayerRequest, params: Record<string, unknown>, shapes: Shape[]): void {
    const want = layerSpec(r.type)!.tensors?.(params, shapes) ?? [];
    const have = r.tensors ?? {};
    for (const t of want) {
      const got = have[t.key];
      if (!got) throw new NodeProblem(`${describe(r.node)}: as a ${r.type} it needs a ${t.key} tensor, and the model has none`);
      if (got.shape.length !== t.shape.length || got.shape.some((d, i) => d !== t.shape[i]))
        throw new NodeProblem(`${describe(r.node)}: its ${t.key} has the shape [${got.shape.join(', ')}] where a ${r.type} needs [${t.shape.join(', ')}]`);
    }
    const extra = Object.keys(have).filter((k) => !want.some((t) => t.key === k));
    if (extra.length) throw new NodeProblem(`${describe(r.node)}: as a ${r.type} it has no ${extra.join(', ')}`);
  }

  /** Throws every problem found, each on its own line; notes the layers named from their ONNX nodes. */
  finish(): void {
    const k = this.renamedLayers.length;
    if (k)
      this.notes.push(`The exporter renamed the weights of ${k} layer${k > 1 ? 's' : ''} (${this.renamedLayers.join(', ')}), so they are named from their ONNX nodes. ` +
        'torch.onnx.export does this when it folds a BatchNorm into the convolution before it: such a convolution has a bias and no BatchNorm follows; it computes the same, but trains differently. Export with do_constant_folding=False to keep the BatchNorm layers.');
    if (this.problems.length)
      throw new NetloomError('NL_UNSUPPORTED', `${this.source}: Netloom cannot import ${this.problems.length} operator${this.problems.length > 1 ? 's' : ''}:\n${this.problems.map((p) => `  - ${p}`).join('\n')}`,
        'Netloom imports feed-forward networks of its layers (Linear, Conv, pooling, BatchNorm, LayerNorm, activations, Flatten, Add, Concat); rebuild the rest on the canvas.');
  }
}

/** A float32 tensor for the state dict from an ONNX tensor's values (optionally reshaped). */
export function f32(t: DecodedTensor, shape: readonly number[] = t.dims): TensorF32 {
  return { shape: [...shape], data: Float32Array.from(t.data) };
}

export function badModel(source: string, message: string, hint = REEXPORT_HINT): NetloomError {
  return new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${message}`, hint);
}
