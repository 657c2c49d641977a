/**
 * Shared by the ONNX unit tests: a project's ModelExportInput with seeded weights (compiled, never run:
 * no native addon), and a small hand-built ModelProto to damage or extend.
 */
import { compileGraph } from '../../engine/compile/compile.js';
import { OptimizerSchema } from '../../engine/contract/optimizers.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { parseProject, type NodeDoc, type ProjectDoc } from '../../engine/graph/document.js';
import type { ModelExportInput } from '../../engine/io/model-export.js';
import { DataType, type ModelProto, type NodeProto, type TensorProto } from '../../engine/io/onnx/schema.js';
import { floatTensor } from '../../engine/io/onnx/tensors.js';

/** A chain project: Input(shape) -> layers... -> CrossEntropyLoss, or with explicit edges for branches. */
export function project(shape: number[], layers: Omit<NodeDoc, 'id' | 'params'>[] | NodeDoc[], edges?: { source: string; target: string; targetHandle?: string }[]): ProjectDoc {
  const nodes: NodeDoc[] = [
    { id: 'input', type: 'Input', name: 'input', params: { shape } },
    ...layers.map((l, i) => ({ id: (l as NodeDoc).id ?? `l${i}`, params: {}, ...l })),
    { id: 'loss', type: 'CrossEntropyLoss', name: 'loss_fn', params: {} },
  ];
  const chain = nodes.slice(1).map((n, i) => ({ source: nodes[i].id, target: n.id }));
  return parseProject({ format: 'netloom-project', version: 1, name: 'test', graph: { nodes, edges: edges ?? chain } }, 'test');
}

/** Deterministic values in [-0.5, 0.5) (an LCG): weights that are neither the initial ones nor zero. */
export function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

/** What an exporter gets for `p`: analysis, the compiled program's state dict and seeded weights (running_var > 0, a count for num_batches_tracked). */
export function exportInput(p: ProjectDoc): ModelExportInput & { weights: Map<string, Float32Array> } {
  const analysis = analyzeForTraining(p.graph, 'test', { batchSize: 4 });
  const program = compileGraph(analysis, { batchSize: 4, optimizer: OptimizerSchema.parse({ type: 'SGD' }), train: false });
  const state = program.params.map((q) => ({ key: q.key, shape: [...q.shape], kind: q.learnable ? ('param' as const) : ('buffer' as const), dtype: q.dtype }));
  const weights = new Map(state.map((e, i) => {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const v = seeded(n, 17 + i);
    return [e.key, e.key.endsWith('running_var') ? v.map((x) => 1 + x) : e.dtype === 'i64' ? Float32Array.of(42) : v];
  }));
  return { project: p, analysis, state, weights };
}

export const node = (op_type: string, input: string[], output: string[], name = `/${op_type.toLowerCase()}/${op_type}`, extra: Partial<NodeProto> = {}): NodeProto => ({ op_type, input, output, name, ...extra });

/** A valid model: input [N, 4] -> Gemm(fc.weight [3, 4], fc.bias) -> output, with the given extra nodes and initialisers. */
export function tinyModel(o: { nodes?: NodeProto[]; initializers?: TensorProto[]; output?: string } = {}): ModelProto {
  const f32 = (dims: number[]) => ({ elem_type: DataType.FLOAT, shape: { dim: dims.map((d) => (d < 0 ? { dim_param: 'N' } : { dim_value: d })) } });
  return {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'test',
    graph: {
      name: 'tiny',
      node: [node('Gemm', ['input', 'fc.weight', 'fc.bias'], [o.nodes?.length ? 'fc_out' : 'output'], '/fc/Gemm', { attribute: [{ name: 'transB', type: 2, i: 1 }] }), ...(o.nodes ?? [])],
      initializer: [floatTensor('fc.weight', [3, 4], seeded(12, 1)), floatTensor('fc.bias', [3], seeded(3, 2)), ...(o.initializers ?? [])],
      input: [{ name: 'input', type: { tensor_type: f32([-1, 4]) } }],
      output: [{ name: o.output ?? 'output', type: { tensor_type: f32([-1, 3]) } }],
    },
    metadata_props: [{ key: 'producer', value: 'test' }],
  };
}

/** Every exportable layer type, with branches into Concat and Add. */
export function zoo(): ProjectDoc {
  const layers = [
    { id: 'c1', type: 'Conv2d', name: 'features.0', params: { out_channels: 4, kernel_size: 3, padding: 1 } },
    { id: 'bn', type: 'BatchNorm2d', name: 'features.1', params: {} },
    { id: 'lr', type: 'LeakyReLU', name: 'features.2', params: { negative_slope: 0.2 } },
    { id: 'ct', type: 'ConvTranspose2d', name: 'up', params: { out_channels: 2, kernel_size: 3, stride: 2, padding: 1, output_padding: 1 } },
    { id: 'mp', type: 'MaxPool2d', name: 'pool', params: { kernel_size: 2 } },
    { id: 'ap', type: 'AvgPool2d', name: 'smooth', params: { kernel_size: 3, stride: 1, padding: 1 } },
    { id: 'aap', type: 'AdaptiveAvgPool2d', name: 'squeeze', params: { output_size: 2 } },
    { id: 'fl', type: 'Flatten', name: 'flatten', params: {} },
    { id: 'fc', type: 'Linear', name: 'fc', params: { out_features: 16 } },
    { id: 'g1', type: 'GELU', name: 'gelu', params: {} },
    { id: 'g2', type: 'GELU', name: 'gelu_tanh', params: { approximate: 'tanh' } },
    { id: 'si', type: 'SiLU', name: 'silu', params: {} },
    { id: 'cat', type: 'Concat', name: 'cat', params: { dim: 1 } },
    { id: 'ln', type: 'LayerNorm', name: 'norm', params: { eps: 1e-6 } },
    { id: 'bn1', type: 'BatchNorm1d', name: 'bn1d', params: {} },
    { id: 'el', type: 'ELU', name: 'elu', params: { alpha: 0.5 } },
    { id: 'sg', type: 'Sigmoid', name: 'gate', params: {} },
    { id: 'th', type: 'Tanh', name: 'tanh', params: {} },
    { id: 'add', type: 'Add', name: 'join', params: {} },
    { id: 'rs', type: 'Reshape', name: 'seq', params: { shape: [3, 16] } },
    { id: 'c1d', type: 'Conv1d', name: 'conv1d', params: { out_channels: 4, kernel_size: 3, padding: 1 } },
    { id: 'sm', type: 'Softmax', name: 'attn', params: { dim: -1 } },
    { id: 'fl2', type: 'Flatten', name: 'flat2', params: {} },
    { id: 'dr', type: 'Dropout', name: 'drop', params: { p: 0.3 } },
    { id: 'id', type: 'Identity', name: 'tap', params: {} },
    { id: 'ls', type: 'LogSoftmax', name: 'logp', params: {} },
    { id: 'out', type: 'Linear', name: 'head', params: { out_features: 10, bias: false } },
  ];
  const chain = (...ids: string[]) => ids.slice(1).map((t, i) => ({ source: ids[i], target: t }));
  const edges = [
    ...chain('input', 'c1', 'bn', 'lr', 'ct', 'mp', 'ap', 'aap', 'fl', 'fc', 'g1'),
    ...chain('fc', 'g2'), ...chain('fc', 'si'),
    { source: 'g1', target: 'cat', targetHandle: 'in0' }, { source: 'g2', target: 'cat', targetHandle: 'in1' }, { source: 'si', target: 'cat', targetHandle: 'in2' },
    ...chain('cat', 'ln', 'bn1', 'el', 'sg'), ...chain('el', 'th'),
    { source: 'sg', target: 'add', targetHandle: 'in0' }, { source: 'th', target: 'add', targetHandle: 'in1' },
    ...chain('add', 'rs', 'c1d', 'sm', 'fl2', 'dr', 'id', 'ls', 'out', 'loss'),
  ];
  return project([1, 8, 8], layers, edges);
}

