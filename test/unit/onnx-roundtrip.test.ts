/**
 * exportOnnx -> importOnnx without a runtime: a project using every layer the export maps (branches,
 * composite GELU/SiLU, BatchNorm in both ranks) comes back with the same layers, names, shapes,
 * parameters and weights, passes analyzeForTraining and loads strictly onto its compiled program.
 * Export refusals name the node and the layer. (test/parity/onnx.test.ts runs these models in
 * onnxruntime and PyTorch.)
 */
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import { OptimizerSchema } from '../../engine/contract/optimizers.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { decodeModel } from '../../engine/io/onnx/codec.js';
import { NodeNamer, scopeOf } from '../../engine/io/onnx/naming.js';
import { exportOnnx } from '../../engine/io/onnx-export.js';
import { importOnnxBytes } from '../../engine/io/onnx-import.js';
import { loadReport } from '../../engine/train/checkpoints.js';
import { thrown } from '../support/rejection.js';
import { exportInput, project, zoo } from './onnx-fixtures.js';

describe('exportOnnx -> importOnnx', () => {
  it('brings back every layer with its name, shape, parameters and weights', () => {
    const input = exportInput(zoo());
    const bytes = exportOnnx(input);
    const model = decodeModel(bytes, 'zoo.onnx');
    expect(model.opset_import).toEqual([{ domain: '', version: 17 }]);
    expect(model.ir_version).toBe(8);
    expect(model.producer_name).toBe('netloom');
    expect(model.graph!.input![0].type!.tensor_type!.shape!.dim).toEqual([{ dim_param: 'N' }, { dim_value: 1 }, { dim_value: 8 }, { dim_value: 8 }]);
    expect(model.graph!.output!.map((o) => o.name)).toEqual(['output']);
    expect(model.graph!.node!.filter((n) => n.op_type === 'Gemm').map((n) => n.name)).toEqual(['fc', 'head']);

    const r = importOnnxBytes(bytes, 'zoo.onnx');
    const original = input.analysis.order.filter((n) => !['Dropout', 'Identity'].includes(n.doc.type));
    const back = analyzeForTraining(r.project.graph, 'imported');
    const byName = new Map(back.order.map((n) => [n.doc.name, n]));
    expect(back.order.map((n) => n.doc.name).sort()).toEqual(original.map((n) => n.doc.name).sort());
    for (const n of original) {
      const m = byName.get(n.doc.name)!;
      // an AdaptiveAvgPool2d to a size other than 1 is an AveragePool in ONNX, and comes back as the AvgPool2d it equals
      expect(m.doc.type, n.doc.name).toBe(n.doc.name === 'squeeze' ? 'AvgPool2d' : n.doc.type);
      expect(m.outShape, n.doc.name).toEqual(n.outShape);
    }
    expect(byName.get('features.2')!.params.negative_slope).toBe(0.2);
    expect(byName.get('elu')!.params.alpha).toBe(0.5);
    expect(byName.get('gelu_tanh')!.params.approximate).toBe('tanh');
    expect(byName.get('gelu')!.params.approximate).toBe('none');
    expect(byName.get('norm')!.params.eps).toBe(1e-6);
    expect(byName.get('smooth')!.params.count_include_pad).toBe(true);
    expect(byName.get('squeeze')!.doc.params).toMatchObject({ kernel_size: [4, 4], stride: [4, 4] }) // 8x8 to 2x2;
    expect(byName.get('head')!.params.bias).toBe(false);

    for (const [k, v] of input.weights) expect(r.tensors[k]?.data, k).toEqual(v);
    const program = compileGraph(back, { batchSize: 2, optimizer: OptimizerSchema.parse({ type: 'SGD' }), train: false });
    const report = loadReport(r.project.graph.nodes, program.params, r.tensors);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(r.notes).toEqual(['ONNX models hold no loss: Netloom added a CrossEntropyLoss after the model\'s output "output"; change it if the model was trained with another.',
      'The input is [1, 8, 8]: choose a dataset of that shape in the training settings (the default, FashionMNIST, is 1x28x28).']);
  });

  it('lays the graph out top to bottom, branches side by side', () => {
    const r = importOnnxBytes(exportOnnx(exportInput(zoo())), 'zoo.onnx');
    const at = new Map(r.project.graph.nodes.map((n) => [n.name, n.position!]));
    expect(at.get('input')).toEqual({ x: 0, y: 0 });
    expect(at.get('features.0')!.y).toBe(100);
    expect(new Set(['gelu', 'gelu_tanh', 'silu'].map((n) => at.get(n)!.y)).size).toBe(1);
    expect(new Set(['gelu', 'gelu_tanh', 'silu'].map((n) => at.get(n)!.x)).size).toBe(3);
    for (const e of r.project.graph.edges) expect(at.get(r.project.graph.nodes.find((n) => n.id === e.target)!.name)!.y).toBeGreaterThan(at.get(r.project.graph.nodes.find((n) => n.id === e.source)!.name)!.y);
  });

  it('a CSV project: standardisation as Sub/Div in front and metadata; the import drops it with a note', () => {
    const p = project([3], [{ type: 'Linear', name: 'fc', params: { out_features: 2 } } as never]);
    const standardize = { columns: ['a', 'b', 'c'], mean: [1, 2, 3], std: [0.5, 1, 2] };
    const bytes = exportOnnx({ ...exportInput(p), standardize });
    const m = decodeModel(bytes, 'csv.onnx');
    expect(m.graph!.node!.slice(0, 2).map((n) => [n.op_type, n.input])).toEqual([['Sub', ['input', 'standardize/mean']], ['Div', ['standardize/centered', 'standardize/std']]]);
    expect(m.metadata_props).toContainEqual({ key: 'netloom.standardize', value: JSON.stringify(standardize) });
    const r = importOnnxBytes(bytes, 'csv.onnx');
    expect(r.project.graph.nodes.map((n) => n.type)).toEqual(['Input', 'Linear', 'CrossEntropyLoss']);
    expect(r.notes[0]).toMatch(/^The model standardises its input \(\(x - mean\) \/ std\) before the first layer; those nodes were left out/);
  });
});

describe('export refusals name the node and the layer', () => {
  const one = (layer: Record<string, unknown>, shape = [2, 8, 8]) =>
    project(shape, [layer as never, { type: 'Flatten', name: 'flat', params: {} } as never, { type: 'Linear', name: 'fc', params: { out_features: 3 } } as never]);

  it('a built-in dataset comes back with the model when its samples fit the input; otherwise a note asks for one', () => {
    const mnist = project([1, 28, 28], [{ type: 'Flatten', name: 'flatten' }, { type: 'Linear', name: 'fc', params: { in_features: 'auto', out_features: 10 } } as never]);
    mnist.training.dataset = 'mnist';
    const back = importOnnxBytes(exportOnnx(exportInput(mnist)), 'mnist.onnx');
    expect(back.project.training.dataset).toBe('mnist');
    expect(back.notes.join('\n')).not.toMatch(/choose a dataset/);
    expect(back.notes.join('\n')).toMatch(/added a CrossEntropyLoss after the model's output "output";/);

    // the name is kept only where it fits: a dataset whose samples have another shape is not chosen
    const wide = project([1, 8, 8], [{ type: 'Flatten', name: 'flatten' }, { type: 'Linear', name: 'fc', params: { in_features: 'auto', out_features: 3 } } as never]);
    wide.training.dataset = 'mnist';
    const other = importOnnxBytes(exportOnnx(exportInput(wide)), 'wide.onnx');
    expect(other.notes.join('\n')).toMatch(/The input is \[1, 8, 8\]: choose a dataset of that shape/);
  });

  it('without weights', () => {
    const { weights: _w, ...input } = exportInput(one({ type: 'ReLU', name: 'act', params: {} }));
    expect(thrown(() => exportOnnx(input))).toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: 'test: ONNX export needs the model\'s weights, and none were given' });
  });

  it('settings ONNX cannot express', () => {
    expect(thrown(() => exportOnnx(exportInput(one({ type: 'AdaptiveAvgPool2d', name: 'squeeze', params: { output_size: 3 } })))).message)
      .toBe('test: AdaptiveAvgPool2d at node squeeze cannot be exported to ONNX: output size 3x3 does not divide the input 8x8, so its windows differ in size and ONNX has no operator for it');
    expect(thrown(() => exportOnnx(exportInput(one({ type: 'AvgPool2d', name: 'pool', params: { kernel_size: 2, divisor_override: 3 } })))).message)
      .toBe('test: AvgPool2d at node pool cannot be exported to ONNX: divisor_override has no ONNX equivalent');
    expect(thrown(() => exportOnnx(exportInput(one({ type: 'BatchNorm2d', name: 'bn', params: { track_running_stats: false } })))).code).toBe('NL_UNSUPPORTED');
  });
});

describe('names', () => {
  it('torch scopes become module paths, nn.Sequential children included', () => {
    expect(scopeOf('/layer2/downsample/downsample.0/Conv')).toEqual({ path: 'layer2.downsample.0', leaf: 'Conv' });
    expect(scopeOf('/linear_relu_stack/linear_relu_stack.1/Relu')).toEqual({ path: 'linear_relu_stack.1', leaf: 'Relu' });
    const namer = new NodeNamer(['/layer1/conv1/Conv', '/layer1/Add', '/relu1/Relu', '/Add']);
    expect(namer.name('/layer1/Add', undefined, 'add')).toBe('layer1.add');
    expect(namer.name('/relu1/Relu', undefined, 'relu')).toBe('relu1');
    expect(namer.name('/Add', undefined, 'add')).toBe('add');
    expect(namer.name('/other/Add', undefined, 'add')).toBe('other');
    expect(namer.name(undefined, 'fc1', 'linear')).toBe('fc1');
    expect(namer.name(undefined, 'fc1', 'linear')).toBe('fc1_2');
    expect(namer.name('weird name!', undefined, 'x')).toBe('weird_name_');
    expect(namer.name('', undefined, 'relu')).toBe('relu');
  });
});
