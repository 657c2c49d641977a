/**
 * ONNX import onto the canvas: an ONNX model (opset 7 and later, the default operator set only) becomes
 * a project with one Netloom layer per operator (or per pattern of operators: a GELU, MatMul + Add), an
 * Input node with the graph input's per-sample shape, and a CrossEntropyLoss after the graph output
 * (ONNX holds no loss: a note says it was assumed), laid out top to bottom; its initialisers become
 * the state dict. Operators Netloom has no layer for are all named at once, each with its node.
 */
import { basename } from 'node:path';
import { NetloomError } from '../errors.js';
import { analyzeForTraining } from '../graph/analyze.js';
import { parseProject, PROJECT_FORMAT, PROJECT_VERSION, type ProjectDoc } from '../graph/document.js';
import { readNamedFile } from './read-file.js';
import { MAX_CHECKPOINT_BYTES, type TensorF32 } from './safetensors.js';
import { decodeModel } from './onnx/codec.js';
import { DATASET_KEY, NUM_BATCHES_KEY, STANDARDIZE_KEY } from './onnx/conventions.js';
import { BUILTIN_DATASETS, isBuiltinDataset, type BuiltinDatasetName } from '../contract/datasets.js';
import { badModel, describe, ImportBuilder, NodeProblem } from './onnx/import-graph.js';
import { READERS } from './onnx/import-ops.js';
import { layoutTopDown } from './onnx/layout.js';
import { matchChain, STANDARDIZE } from './onnx/patterns.js';
import type { GraphProto, ModelProto } from './onnx/schema.js';
import { decodeTensor } from './onnx/tensors.js';

export interface OnnxImport {
  /** a project with the ONNX graph's layers, laid out, node names from the initialisers' prefixes */
  project: ProjectDoc;
  /** its weights as a state dict keyed `<node name>.<param>` */
  tensors: Record<string, TensorF32>;
  /** what the user should know (a folded BatchNorm, an input shape assumed) */
  notes: string[];
}

const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);

/** The ai.onnx opset version; refuses other operator sets, local functions and sparse initialisers. */
export function checkModel(model: ModelProto, source: string): number {
  const other = (model.opset_import ?? []).filter((o) => !DEFAULT_DOMAINS.has(o.domain ?? ''));
  if (other.length)
    throw new NetloomError('NL_UNSUPPORTED', `${source}: the model uses the operator set${other.length > 1 ? 's' : ''} ${other.map((o) => `"${o.domain}"`).join(', ')}, which Netloom does not know`,
      'Export the model with the standard ONNX operators only (torch.onnx.export does by default; ONNX Runtime\'s optimised models add com.microsoft operators).');
  if ((model.functions?.length ?? 0) > 0) throw badModel(source, 'the model defines its own functions, which Netloom does not import', 'Export the model with its functions inlined (torch.onnx.export does by default).');
  const graph = model.graph;
  if (!graph || !(graph.node?.length)) throw badModel(source, 'the model has no graph, or a graph without nodes');
  if ((graph.sparse_initializer?.length ?? 0) > 0) throw badModel(source, 'the model holds sparse initialisers, which Netloom does not read', 'Store the weights densely.');
  return (model.opset_import ?? []).find((o) => DEFAULT_DOMAINS.has(o.domain ?? ''))?.version ?? 1;
}

/** Every operator Netloom has no reader for, named at once ("LSTM (node /rnn/LSTM)"). */
function refuseUnsupported(graph: GraphProto, source: string): void {
  const missing = (graph.node ?? []).filter((n) => !DEFAULT_DOMAINS.has(n.domain ?? '') || (n.op_type !== 'Constant' && !READERS[n.op_type ?? '']));
  if (!missing.length) return;
  const list = missing.map((n) => (DEFAULT_DOMAINS.has(n.domain ?? '') ? describe(n) : `${describe(n)} from the operator set "${n.domain}"`));
  throw new NetloomError('NL_UNSUPPORTED', `${source}: Netloom has no layer for ${missing.length} operator${missing.length > 1 ? 's' : ''}: ${list.join(', ')}`,
    'Rebuild those parts on the canvas, or change the model so that it uses Netloom\'s layers (see the layer list in the README).');
}

/** The one graph input that is not an initialiser, with its per-sample shape (the batch dimension dropped). */
function graphInput(graph: GraphProto, source: string): { name: string; shape: number[] } {
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !inits.has(i.name));
  if (inputs.length !== 1) throw badModel(source, `the model has ${inputs.length} inputs; Netloom models take one`, 'Export a model with a single input tensor.');
  const tensor = inputs[0].type?.tensor_type;
  const dims = tensor?.shape?.dim ?? [];
  if (tensor?.elem_type !== 1) throw badModel(source, `the input ${inputs[0].name} is not a float32 tensor`, 'Export the model with a float32 input.');
  const shape = dims.slice(1).map((d) => d.dim_value ?? 0);
  if (dims.length < 2 || dims.length > 5 || shape.some((d) => !Number.isSafeInteger(d) || d < 1))
    throw badModel(source, `the input ${inputs[0].name} has the shape [${dims.map((d) => d.dim_value ?? d.dim_param ?? '?').join(', ')}]; Netloom needs a batch dimension followed by 1 to 4 fixed sizes`,
      'Export with dynamic_axes on the batch dimension only.');
  return { name: inputs[0].name!, shape };
}

/**
 * The graph's operators read into canvas layers; every problem is collected and thrown together.
 * Constants are read first: a pattern matched from its first node (a GELU) needs the values of
 * Constant nodes torch writes between its operators.
 */
function readNodes(b: ImportBuilder, graph: GraphProto): void {
  const nodes = graph.node ?? [];
  const constants = nodes.filter((n) => n.op_type === 'Constant');
  const operators = nodes.filter((n) => n.op_type !== 'Constant');
  for (const n of [...constants, ...operators]) {
    if (b.consumed.has(n)) continue;
    try {
      if (n.op_type === 'Constant') b.setConst(n.output?.[0] ?? '', b.constantValue(n));
      else READERS[n.op_type!](b, n);
    } catch (e) {
      if (!(e instanceof NodeProblem)) throw e;
      b.problems.push(e.message);
      b.breakOutputs(n);
    }
  }
  b.finish();
}

/** A standardisation (x - mean) / std right after the input is the CSV dataset's job in Netloom: dropped, with a note. */
function dropStandardize(b: ImportBuilder, input: string, metadata: Map<string, string>): void {
  const first = b.soleConsumer(input);
  const chain = first && matchChain(b, first, input, STANDARDIZE);
  if (!chain) return;
  chain.forEach((n) => b.consumed.add(n));
  b.alias(chain[1].output![0], input);
  b.notes.push(`The model standardises its input ((x - mean) / std) before the first layer; those nodes were left out because a CSV dataset with standardize: true does it in Netloom${metadata.has(STANDARDIZE_KEY) ? ` (the statistics: ${metadata.get(STANDARDIZE_KEY)})` : ''}.`);
}

/**
 * The built-in dataset an imported model gets: the one Netloom's own export named (netloom.dataset) when
 * its samples have the model's input shape, else FashionMNIST for a 1x28x28 input; none for other shapes.
 */
function datasetFor(shape: readonly number[], metadata: Map<string, string>): BuiltinDatasetName | undefined {
  const fits = (name: BuiltinDatasetName) => BUILTIN_DATASETS[name].sampleShape.join() === shape.join();
  const named = metadata.get(DATASET_KEY);
  if (isBuiltinDataset(named) && fits(named)) return named;
  return fits('fashion-mnist') ? 'fashion-mnist' : undefined;
}

/** Netloom's own export keeps BatchNorm's num_batches_tracked in its metadata: put the counts back. */
function restoreCounters(tensors: Record<string, TensorF32>, metadata: Map<string, string>): void {
  let counts: unknown;
  try {
    counts = JSON.parse(metadata.get(NUM_BATCHES_KEY) ?? '{}');
  } catch {
    return;
  }
  for (const [k, v] of Object.entries(counts as Record<string, unknown>))
    if (tensors[k]?.dtype === 'I64' && typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) tensors[k].data[0] = v;
}

/** An ONNX model's bytes as a project; `source` names it in messages. */
export function importOnnxBytes(bytes: Uint8Array, source: string): OnnxImport {
  const model = decodeModel(bytes, source);
  const opset = checkModel(model, source);
  const graph = model.graph!;
  refuseUnsupported(graph, source);
  const metadata = new Map((model.metadata_props ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const b = new ImportBuilder(source, graph.node ?? [], opset);
  for (const t of graph.initializer ?? []) b.setConst(t.name ?? '', decodeTensor(t, `the initialiser ${t.name}`, source));
  const input = graphInput(graph, source);
  b.nodes.push({ id: 'input', type: 'Input', name: b.namer.reserve('input'), params: { shape: input.shape } });
  b.values.set(input.name, { kind: 'layer', id: 'input', shape: input.shape });
  dropStandardize(b, input.name, metadata);
  readNodes(b, graph);

  const outputs = graph.output ?? [];
  if (outputs.length !== 1) throw badModel(source, `the model has ${outputs.length} outputs; Netloom models have one (the logits)`, 'Export a model with a single output.');
  const logits = b.values.get(outputs[0].name ?? '');
  if (logits?.kind !== 'layer' || logits.id === 'input') throw badModel(source, `the output ${outputs[0].name} is not computed by any layer`);
  const classes = logits.shape.length === 1;
  const lossType = classes ? 'CrossEntropyLoss' : 'MSELoss';
  b.nodes.push({ id: 'loss', type: lossType, name: b.namer.reserve('loss_fn'), params: {} });
  b.edges.push({ id: `e${b.edges.length}`, source: logits.id, target: 'loss' });
  b.notes.push(`ONNX models hold no loss: Netloom added a ${lossType} after the model's output "${outputs[0].name}"${classes ? '' : ' (it is not a vector of class scores)'}; change it if the model was trained with another.`);
  const dataset = datasetFor(input.shape, metadata);
  if (!dataset) b.notes.push(`The input is [${input.shape.join(', ')}]: choose a dataset of that shape in the training settings (the default, FashionMNIST, is 1x28x28).`);
  restoreCounters(b.tensors, metadata);

  layoutTopDown(b.nodes, b.edges);
  const name = graph.name && graph.name !== 'main_graph' && graph.name !== 'torch_jit' ? graph.name : basename(source).replace(/\.onnx$/i, '');
  const project = parseProject({ format: PROJECT_FORMAT, version: PROJECT_VERSION, name, graph: { nodes: b.nodes, edges: b.edges }, training: dataset ? { dataset } : {} }, source);
  analyzeForTraining(project.graph, source);
  return { project, tensors: b.tensors, notes: b.notes };
}

/** Reads an ONNX model and turns it into a project; unsupported operators are refused, each by name and node. */
export async function importOnnx(path: string): Promise<OnnxImport> {
  const bytes = await readNamedFile(path, { maxBytes: MAX_CHECKPOINT_BYTES, what: 'model file', tooLarge: 'NL_BAD_CHECKPOINT', hint: 'Choose the .onnx model itself; Netloom reads models up to 2 GiB (ONNX files cannot be larger without external data).',
    notFound: 'ONNX model not found', ioHint: 'Check the path: choose the .onnx file that torch.onnx.export or Netloom wrote.' });
  return importOnnxBytes(bytes, path);
}
