/**
 * importOnnx on hand-built graphs in the shapes other exporters write: MatMul + Add and a Reshape by
 * a Constant shape (torch for x.view(N, -1) with a fixed batch, Keras/tf2onnx), torch's own GELU
 * (tanh) operator order with its Constant nodes after the operators that read them, BatchNorm
 * initialisers torch deduplicated behind Identity nodes, and a Pad folded into the AveragePool after it.
 */
import { describe, expect, it } from 'vitest';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { encodeModel } from '../../engine/io/onnx/codec.js';
import { DataType, type NodeProto, type TensorProto } from '../../engine/io/onnx/schema.js';
import { floatTensor, int64Tensor } from '../../engine/io/onnx/tensors.js';
import { importOnnxBytes } from '../../engine/io/onnx-import.js';
import { node, seeded } from './onnx-fixtures.js';

function model(inputDims: number[], nodes: NodeProto[], initializer: TensorProto[]) {
  const dims = (d: number[]) => ({ elem_type: DataType.FLOAT, shape: { dim: [{ dim_param: 'N' }, ...d.map((v) => ({ dim_value: v }))] } });
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 17 }],
    graph: { name: 'main_graph', node: nodes, initializer, input: [{ name: 'x', type: { tensor_type: dims(inputDims) } }], output: [{ name: 'y', type: { tensor_type: dims([]) } }] },
  });
}
const constant = (name: string, t: TensorProto): NodeProto => node('Constant', [], [name], `/${name}/Constant`, { attribute: [{ name: 'value', type: 4, t }] });
const scalar = (v: number) => floatTensor('', [], Float32Array.of(v));
const layers = (r: ReturnType<typeof importOnnxBytes>) => r.project.graph.nodes.map((n) => [n.type, n.name]);

describe('importOnnx reads other exporters\' patterns', () => {
  it('Reshape by a Constant [0, -1] after 4-D is a Flatten; MatMul + Add is a Linear with the weight transposed', () => {
    const w = seeded(18 * 4, 3);
    const bytes = model([2, 3, 3], [
      constant('shape', int64Tensor('', [2], [0, -1])),
      node('Reshape', ['x', 'shape'], ['flat'], '/Reshape'),
      node('MatMul', ['flat', 'dense.weight'], ['mm'], '/dense/MatMul'),
      node('Add', ['mm', 'dense.bias'], ['y'], '/dense/Add'),
    ], [floatTensor('dense.weight', [18, 4], w), floatTensor('dense.bias', [4], seeded(4, 4))]);
    const r = importOnnxBytes(bytes, 'keras.onnx');
    expect(layers(r)).toEqual([['Input', 'input'], ['Flatten', 'reshape'], ['Linear', 'dense'], ['CrossEntropyLoss', 'loss_fn']]);
    expect(r.project.name).toBe('keras');
    expect(r.tensors['dense.weight'].shape).toEqual([4, 18]);
    expect(r.tensors['dense.weight'].data[1 * 18 + 5]).toBe(w[5 * 4 + 1]);
    expect(r.tensors['dense.bias'].data).toEqual(seeded(4, 4));
    expect(r.project.training.dataset).toBe('fashion-mnist'); // the default, with a note: the input is not 1x28x28
    expect(r.notes).toContain('The input is [2, 3, 3]: choose a dataset of that shape in the training settings (the default, FashionMNIST, is 1x28x28).');
  });

  it('torch\'s tanh GELU, operands in its order and its Constant nodes written after their readers', () => {
    const bytes = model([4], [
      node('Mul', ['x', 'x'], ['sq'], '/act/Mul'),
      node('Mul', ['x', 'sq'], ['cube'], '/act/Mul_1'),
      node('Mul', ['c_kappa', 'cube'], ['k'], '/act/Mul_2'),
      node('Add', ['x', 'k'], ['inner'], '/act/Add'),
      node('Mul', ['c_beta', 'inner'], ['b'], '/act/Mul_3'),
      node('Tanh', ['b'], ['t'], '/act/Tanh'),
      node('Add', ['c_one', 't'], ['one'], '/act/Add_1'),
      node('Mul', ['x', 'one'], ['xm'], '/act/Mul_4'),
      node('Mul', ['c_half', 'xm'], ['g'], '/act/Mul_5'),
      constant('c_kappa', scalar(0.044715)), constant('c_beta', scalar(Math.sqrt(2 / Math.PI))), constant('c_one', scalar(1)), constant('c_half', scalar(0.5)),
      node('Gemm', ['g', 'fc.weight'], ['y'], '/fc/Gemm', { attribute: [{ name: 'transB', type: 2, i: 1 }] }),
    ], [floatTensor('fc.weight', [3, 4], seeded(12, 1))]);
    const r = importOnnxBytes(bytes, 'gelu.onnx');
    expect(layers(r)).toEqual([['Input', 'input'], ['GELU', 'act'], ['Linear', 'fc'], ['CrossEntropyLoss', 'loss_fn']]);
    expect(r.project.graph.nodes[1].params).toEqual({ approximate: 'tanh' });
  });

  it('a GELU whose constant is not 0.5 is no GELU: its operators are named as unsupported', () => {
    const bytes = model([4], [
      node('Div', ['x', 'c_sqrt2'], ['d'], '/act/Div'), node('Erf', ['d'], ['e'], '/act/Erf'), node('Add', ['e', 'c_one'], ['a'], '/act/Add'),
      node('Mul', ['x', 'a'], ['m'], '/act/Mul'), node('Mul', ['m', 'c_q'], ['y'], '/act/Mul_1'),
      constant('c_sqrt2', scalar(Math.SQRT2)), constant('c_one', scalar(1)), constant('c_q', scalar(0.25)),
    ], []);
    expect(() => importOnnxBytes(bytes, 'm.onnx')).toThrow(/Netloom cannot import 5 operators:\n {2}- Div \(node \/act\/Div\)/);
  });

  it('BatchNorm initialisers torch shared behind Identity nodes are named from the Identity outputs', () => {
    const ones = floatTensor('bn.weight', [3], Float32Array.of(1, 1, 1));
    const zeros = floatTensor('bn.bias', [3], new Float32Array(3));
    const bytes = model([3], [
      node('Identity', ['bn.weight'], ['bn.running_var'], 'Identity_0'),
      node('Identity', ['bn.bias'], ['bn.running_mean'], 'Identity_1'),
      node('BatchNormalization', ['x', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], ['y'], '/bn/BatchNormalization',
        { attribute: [{ name: 'epsilon', type: 1, f: 1e-3 }, { name: 'momentum', type: 1, f: 0.99 }] }),
    ], [ones, zeros]);
    const r = importOnnxBytes(bytes, 'bn.onnx');
    expect(layers(r)).toEqual([['Input', 'input'], ['BatchNorm1d', 'bn'], ['CrossEntropyLoss', 'loss_fn']]);
    expect(r.project.graph.nodes[1].params).toEqual({ num_features: 3, eps: 0.001, momentum: 0.01 });
    expect(Object.keys(r.tensors)).toEqual(['bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked']);
    expect(r.tensors['bn.running_var'].data).toEqual(Float32Array.of(1, 1, 1));
    expect(r.tensors['bn.num_batches_tracked']).toEqual({ shape: [], data: new Float32Array(1), dtype: 'I64' });
  });

  it('a constant Pad before an AveragePool is its padding (count_include_pad); a zero Pad disappears', () => {
    const bytes = model([2, 6, 6], [
      node('Pad', ['x', 'zero'], ['p0'], '/pad0/Pad'),
      node('Pad', ['p0', 'pads'], ['p1'], '/pool/Pad'),
      node('AveragePool', ['p1'], ['pooled'], '/pool/AveragePool', { attribute: [{ name: 'kernel_shape', type: 7, ints: [3, 3] }, { name: 'strides', type: 7, ints: [2, 2] }] }),
      node('GlobalAveragePool', ['pooled'], ['g'], '/gap/GlobalAveragePool'),
      node('Flatten', ['g'], ['y'], '/flatten/Flatten'),
    ], [int64Tensor('zero', [8], new Array(8).fill(0)), int64Tensor('pads', [8], [0, 0, 1, 1, 0, 0, 1, 1])]);
    const r = importOnnxBytes(bytes, 'pool.onnx');
    expect(layers(r)).toEqual([['Input', 'input'], ['AvgPool2d', 'pool'], ['AdaptiveAvgPool2d', 'gap'], ['Flatten', 'flatten'], ['CrossEntropyLoss', 'loss_fn']]);
    expect(r.project.graph.nodes[1].params).toMatchObject({ kernel_size: [3, 3], stride: [2, 2], padding: [1, 1], count_include_pad: true });
    expect(analyzeForTraining(r.project.graph, 'pool').byId.get(r.project.graph.nodes[1].id)!.outShape).toEqual([2, 3, 3]);
  });
});

describe('weights that do not fit the layer are the node\'s problem', () => {
  it('a Conv bias of the wrong length, named with its node', () => {
    const bytes = model([1, 5, 5], [
      node('Conv', ['x', 'c.weight', 'c.bias'], ['h'], '/c/Conv', { attribute: [{ name: 'kernel_shape', type: 7, ints: [3, 3] }] }),
      node('Flatten', ['h'], ['y'], '/flatten/Flatten'),
    ], [floatTensor('c.weight', [2, 1, 3, 3], seeded(18, 1)), floatTensor('c.bias', [3], seeded(3, 2))]);
    expect(() => importOnnxBytes(bytes, 'c.onnx')).toThrow('c.onnx: Netloom cannot import 1 operator:\n  - Conv (node /c/Conv): its bias has the shape [3] where a Conv2d needs [2]');
  });
});
