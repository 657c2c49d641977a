/**
 * ONNX export: the model as an ONNX ModelProto (IR 8, opset 17), its weights as initialisers named
 * by their state-dict keys, one ONNX node per layer named as the Netloom node (composite layers add
 * suffixed helpers), the loss left out. The graph input "input" has a symbolic batch dimension "N"
 * and the Input node's per-sample shape; the output "output" is what feeds the loss (the logits).
 * A CSV project's standardisation is written as Sub/Div nodes in front, so the model takes raw
 * features, and as metadata (netloom.standardize, as layout.md fixes it).
 */
import { NetloomError } from '../errors.js';
import type { AnalyzedNode } from '../graph/analyze.js';
import type { Shape } from '../graph/catalog.js';
import type { ModelExportInput } from './model-export.js';
import { encodeModel } from './onnx/codec.js';
import { DATASET_KEY, NUM_BATCHES_KEY, ONNX_INPUT, ONNX_IR_VERSION, ONNX_OPSET, ONNX_OUTPUT, STANDARDIZE_KEY } from './onnx/conventions.js';
import { EMITTERS, type EmitCtx } from './onnx/export-ops.js';
import { DataType, type NodeProto, type TensorProto, type ValueInfoProto } from './onnx/schema.js';
import { floatTensor, int64Tensor } from './onnx/tensors.js';

export { ONNX_INPUT, ONNX_IR_VERSION, ONNX_OPSET, ONNX_OUTPUT } from './onnx/conventions.js';

const valueInfo = (name: string, shape: Shape): ValueInfoProto => ({
  name,
  type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_param: 'N' }, ...shape.map((d) => ({ dim_value: d }))] } } },
});

/** The nodes the logits depend on: the loss's target branch (an autoencoder's flattened input) stays out. */
function ancestors(input: ModelExportInput, logits: AnalyzedNode): Set<string> {
  const seen = new Set<string>();
  const stack = [logits.doc.id];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(input.analysis.byId.get(id)?.inputs ?? []));
  }
  return seen;
}

class GraphWriter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();

  constructor(private readonly source: string) {}

  initializer(t: TensorProto): string {
    if (this.names.has(t.name!)) throw new NetloomError('NL_INVALID_ARGUMENT', `${this.source}: two ONNX initialisers would be called ${t.name}`, 'Rename the node whose name collides.');
    this.names.add(t.name!);
    this.initializers.push(t);
    return t.name!;
  }
}

/**
 * The state dict as initialisers, in Netloom's order; every entry must have its weights. Integer
 * state (BatchNorm's num_batches_tracked) is used by no ONNX operator, and runtimes warn about unused
 * initialisers: it goes into the metadata instead (NUM_BATCHES_KEY), where the ONNX checkpoint reader
 * finds it, so an export still loads back as a complete state dict. Every other initialiser (a
 * layer's constant, the standardisation) has a '/' in its name: no state-dict key has one.
 */
function writeWeights(input: ModelExportInput, w: GraphWriter, source: string): Record<string, number> {
  const counters: Record<string, number> = {};
  const weights = input.weights;
  if (!weights)
    throw new NetloomError('NL_INVALID_ARGUMENT', `${source}: ONNX export needs the model's weights, and none were given`, 'Train the model or load a checkpoint first, then export.');
  for (const e of input.state) {
    const values = weights.get(e.key);
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (!values || values.length !== n)
      throw new NetloomError('NL_INVALID_ARGUMENT', `${source}: the weights lack ${e.key} ${values ? `(${values.length} values for shape [${e.shape.join(', ')}])` : ''}`.trim(),
        'Load a checkpoint that matches the model (Import Weights), then export again.');
    if (e.dtype === 'i64') counters[e.key] = values[0];
    else w.initializer(floatTensor(e.key, e.shape, values));
  }
  return counters;
}

/** Sub/Div by the training split's statistics in front of the first layer; returns the standardised value. */
function writeStandardize(input: ModelExportInput, w: GraphWriter, inShape: Shape, source: string): string {
  const s = input.standardize;
  if (!s) return ONNX_INPUT;
  if (inShape.length !== 1 || s.mean.length !== inShape[0] || s.std.length !== inShape[0])
    throw new NetloomError('NL_INVALID_ARGUMENT', `${source}: the standardisation has ${s.mean.length} features but the Input takes [${inShape.join(', ')}]`, 'Check the CSV dataset\'s feature columns against the Input shape.');
  const mean = w.initializer(floatTensor('standardize/mean', [s.mean.length], Float32Array.from(s.mean)));
  const std = w.initializer(floatTensor('standardize/std', [s.std.length], Float32Array.from(s.std)));
  w.nodes.push({ name: 'standardize/Sub', op_type: 'Sub', input: [ONNX_INPUT, mean], output: ['standardize/centered'] });
  w.nodes.push({ name: 'standardize/Div', op_type: 'Div', input: ['standardize/centered', std], output: ['standardize/output'] });
  return 'standardize/output';
}

function emitCtx(n: AnalyzedNode, input: ModelExportInput, w: GraphWriter, values: Map<string, string>, output: string, source: string): EmitCtx {
  const name = n.doc.name;
  return {
    name, type: n.doc.type, params: n.params, output,
    inputs: n.inputs.map((id) => values.get(id)!),
    inShapes: n.inputs.map((id) => input.analysis.byId.get(id)!.outShape!),
    outShape: n.outShape!,
    weight: (key) => {
      const full = `${name}.${key}`;
      if (!input.state.some((e) => e.key === full)) throw new NetloomError('NL_INTERNAL', `${source}: node ${name} has no state-dict entry ${full}`, 'This is a bug in Netloom: please report it with the project file.');
      return full;
    },
    constant: (suffix, dims, data) => w.initializer(floatTensor(`${name}/${suffix}`, dims, Float32Array.from(data))),
    int64: (suffix, v) => w.initializer(int64Tensor(`${name}/${suffix}`, [v.length], v)),
    add: (op, ins, outs, attrs = [], nodeName = name) => { w.nodes.push({ name: nodeName, op_type: op, input: ins, output: outs, attribute: attrs }); },
    tmp: (suffix) => `${name}/${suffix}_output`, // constants are `${name}/${suffix}`: no clash
    refuse: (why, hint) => { throw new NetloomError('NL_UNSUPPORTED', `${source}: ${n.doc.type} at node ${name} cannot be exported to ONNX: ${why}`, hint); },
  };
}

/** The model as an ONNX ModelProto (opset 17, dynamic batch dimension), with its weights as initialisers. */
export function exportOnnx(input: ModelExportInput): Uint8Array {
  const source = input.project.name || 'the project';
  const { analysis } = input;
  const inputNode = analysis.inputId ? analysis.byId.get(analysis.inputId) : undefined;
  const loss = analysis.lossId ? analysis.byId.get(analysis.lossId) : undefined;
  if (!inputNode || !loss || analysis.issues.length)
    throw new NetloomError('NL_BAD_GRAPH', `${source}: the network has problems and cannot be exported`, 'Fix the problems shown on the canvas first.');
  const logits = analysis.byId.get(loss.inputs[0])!;
  const keep = ancestors(input, logits);
  const unsupported = analysis.order.filter((n) => keep.has(n.doc.id) && n !== inputNode && !EMITTERS[n.doc.type]);
  if (unsupported.length)
    throw new NetloomError('NL_UNSUPPORTED', `${source}: ONNX has no operator for ${unsupported.map((n) => `${n.doc.type} (node ${n.doc.name})`).join(', ')}`, 'Replace those layers to export this model to ONNX; safetensors and .pt exports take every layer.');

  const w = new GraphWriter(source);
  const counters = writeWeights(input, w, source);
  const values = new Map<string, string>([[inputNode.doc.id, writeStandardize(input, w, inputNode.outShape!, source)]]);
  for (const n of analysis.order) {
    if (!keep.has(n.doc.id) || n === inputNode) continue;
    const output = n === logits ? ONNX_OUTPUT : `${n.doc.name}/output`;
    EMITTERS[n.doc.type](emitCtx(n, input, w, values, output, source));
    values.set(n.doc.id, output);
  }
  if (logits === inputNode) w.nodes.push({ name: 'output', op_type: 'Identity', input: [values.get(inputNode.doc.id)!], output: [ONNX_OUTPUT] });

  const metadata = [{ key: 'producer', value: 'netloom' }, { key: 'project', value: input.project.name }];
  if (Object.keys(counters).length) metadata.push({ key: NUM_BATCHES_KEY, value: JSON.stringify(counters) });
  if (input.standardize) metadata.push({ key: STANDARDIZE_KEY, value: JSON.stringify(input.standardize) });
  // a built-in dataset's name, so that an import of this file trains and evaluates on it again
  if (typeof input.project.training.dataset === 'string') metadata.push({ key: DATASET_KEY, value: input.project.training.dataset });
  return encodeModel({
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'netloom',
    graph: {
      name: input.project.name || 'netloom',
      node: w.nodes,
      initializer: w.initializers,
      input: [valueInfo(ONNX_INPUT, inputNode.outShape!)],
      output: [valueInfo(ONNX_OUTPUT, logits.outShape!)],
    },
    metadata_props: metadata,
  });
}
