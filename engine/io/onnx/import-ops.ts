/**
 * ONNX operators -> catalog layers, one reader per operator type. A reader adds the layer (through
 * ImportBuilder.addLayer, which infers its shape) or aliases its output (Identity, Dropout), and
 * throws a NodeProblem for a setting Netloom has no layer for. Patterns of several operators (a
 * GELU, SiLU, MatMul + Add) are matched from their first node and mark the rest consumed.
 */
import type { TensorF32 } from '../safetensors.js';
import { attrFloat, attrInt, attrInts, attrString, describe, f32, NodeProblem, type ImportBuilder } from './import-graph.js';
import { initialiserPrefix } from './naming.js';
import { GELU_ERF, GELU_TANH, matchChain, SILU } from './patterns.js';
import type { NodeProto } from './schema.js';
import type { DecodedTensor } from './tensors.js';

type Reader = (b: ImportBuilder, n: NodeProto) => void;

const out = (n: NodeProto) => n.output?.[0] ?? '';

/** The shortest decimal with the same float32 value: ONNX stores 0.2 as 0.20000000298023224, the canvas shows 0.2. */
export function tidy(f: number): number {
  for (let p = 1; p <= 9; p++) {
    const v = Number(f.toPrecision(p));
    if (Math.fround(v) === Math.fround(f)) return v;
  }
  return f;
}
const numel = (dims: readonly number[]) => dims.reduce((a, c) => a * c, 1);

/** pads [b1, b2, ..., e1, e2, ...] as one per spatial dimension; refused when begin and end differ (Netloom pads symmetrically). */
function symmetricPads(n: NodeProto, rank: number): number[] {
  const pads = attrInts(n, 'pads') ?? new Array<number>(2 * rank).fill(0);
  const begin = pads.slice(0, rank), end = pads.slice(rank);
  if (begin.some((p, i) => p !== end[i])) throw new NodeProblem(`${describe(n)} pads unevenly (pads [${pads.join(', ')}]); Netloom layers pad both sides alike`);
  return begin;
}

function checkAutoPad(n: NodeProto): void {
  const mode = attrString(n, 'auto_pad');
  if (mode && mode !== 'NOTSET' && mode !== 'VALID') throw new NodeProblem(`${describe(n)} uses auto_pad=${mode}; export it with explicit pads`);
}

/** The state-dict prefix of the weight initialiser, or undefined where the exporter renamed it (then a note says so). */
function weightPrefix(b: ImportBuilder, n: NodeProto, index: number, leaf = 'weight'): string | undefined {
  const prefix = initialiserPrefix(n.input?.[index], leaf);
  if (!prefix && n.input?.[index]?.startsWith('onnx::')) b.renamed.add(n);
  return prefix;
}

function transpose(t: DecodedTensor): DecodedTensor {
  const [r, c] = t.dims;
  const data = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = t.data[i * c + j];
  return { dims: [c, r], data, integer: false };
}

function linear(b: ImportBuilder, n: NodeProto, w: DecodedTensor, bias: DecodedTensor | undefined, output: string, prefix: string | undefined): void {
  const [outF, inF] = w.dims;
  if (bias && bias.data.length !== outF) throw new NodeProblem(`${describe(n)}: its bias has ${bias.data.length} values for ${outF} outputs`);
  const tensors: Record<string, TensorF32> = { weight: f32(w) };
  if (bias) tensors.bias = f32(bias, [outF]);
  b.addLayer({ type: 'Linear', params: { in_features: inF, out_features: outF, bias: !!bias }, inputs: [n.input![0]], output, node: n, prefix, tensors });
}

const gemm: Reader = (b, n) => {
  if (attrInt(n, 'transA', 0) !== 0 || attrFloat(n, 'alpha', 1) !== 1 || attrFloat(n, 'beta', 1) !== 1)
    throw new NodeProblem(`${describe(n)} is a Gemm with transA, alpha or beta other than nn.Linear's (transA=0, alpha=beta=1)`);
  let w = b.needConst(n, 1, 'weight (input B)');
  if (w.dims.length !== 2) throw new NodeProblem(`${describe(n)}: its weight has shape [${w.dims.join(', ')}], not a matrix`);
  if (attrInt(n, 'transB', 0) === 0) w = transpose(w);
  const bias = n.input?.[2] ? b.needConst(n, 2, 'bias (input C)') : undefined;
  linear(b, n, w, bias, out(n), weightPrefix(b, n, 1));
};

/** MatMul by a constant [in, out] matrix, with the bias Add that follows it when there is one: a Linear. */
const matmul: Reader = (b, n) => {
  const w = b.needConst(n, 1, 'weight (second input)');
  if (w.dims.length !== 2) throw new NodeProblem(`${describe(n)}: only a MatMul by a constant matrix is a Linear layer (its second input has shape [${w.dims.join(', ')}])`);
  const next = b.soleConsumer(out(n));
  const other = next?.op_type === 'Add' ? next.input?.find((i) => i !== out(n)) : undefined;
  const bias = b.constOf(other);
  const fused = next && bias && bias.data.length === w.dims[1] ? next : undefined;
  if (fused) b.consumed.add(fused);
  linear(b, n, transpose(w), fused ? bias : undefined, fused ? out(fused) : out(n), initialiserPrefix(n.input?.[1], 'weight'));
};

const conv: Reader = (b, n) => {
  checkAutoPad(n);
  const w = b.needConst(n, 1, 'weight');
  const rank = w.dims.length - 2;
  if (rank !== 1 && rank !== 2) throw new NodeProblem(`${describe(n)} is a ${rank}-D convolution; Netloom has Conv1d and Conv2d`);
  const group = attrInt(n, 'group', 1);
  const kernel = w.dims.slice(2);
  const strides = attrInts(n, 'strides') ?? kernel.map(() => 1);
  const dilations = attrInts(n, 'dilations') ?? kernel.map(() => 1);
  const pads = symmetricPads(n, rank);
  const bias = n.input?.[2] ? b.needConst(n, 2, 'bias') : undefined;
  const one = (v: number[]) => (rank === 1 ? v[0] : v);
  const params = { in_channels: w.dims[1] * group, out_channels: w.dims[0], kernel_size: one(kernel), stride: one(strides), padding: one(pads), dilation: one(dilations), groups: group, bias: !!bias };
  const tensors: Record<string, TensorF32> = { weight: f32(w) };
  if (bias) tensors.bias = f32(bias);
  b.addLayer({ type: rank === 1 ? 'Conv1d' : 'Conv2d', params, inputs: [n.input![0]], output: out(n), node: n, prefix: weightPrefix(b, n, 1), tensors });
};

const convTranspose: Reader = (b, n) => {
  checkAutoPad(n);
  if (attrInts(n, 'output_shape')) throw new NodeProblem(`${describe(n)} gives output_shape; export it with pads and output_padding`);
  const w = b.needConst(n, 1, 'weight');
  if (w.dims.length !== 4) throw new NodeProblem(`${describe(n)} is not 2-D; Netloom has ConvTranspose2d`);
  const group = attrInt(n, 'group', 1);
  const bias = n.input?.[2] ? b.needConst(n, 2, 'bias') : undefined;
  const params = {
    in_channels: w.dims[0], out_channels: w.dims[1] * group, kernel_size: w.dims.slice(2), stride: attrInts(n, 'strides') ?? [1, 1],
    padding: symmetricPads(n, 2), output_padding: attrInts(n, 'output_padding') ?? [0, 0], groups: group, bias: !!bias, dilation: attrInts(n, 'dilations') ?? [1, 1],
  };
  const tensors: Record<string, TensorF32> = { weight: f32(w) };
  if (bias) tensors.bias = f32(bias);
  b.addLayer({ type: 'ConvTranspose2d', params, inputs: [n.input![0]], output: out(n), node: n, prefix: weightPrefix(b, n, 1), tensors });
};

function pool(type: 'MaxPool2d' | 'AvgPool2d'): Reader {
  return (b, n) => {
    checkAutoPad(n);
    const kernel = attrInts(n, 'kernel_shape');
    if (!kernel || kernel.length !== 2) throw new NodeProblem(`${describe(n)} is not a 2-D pooling`);
    if ((n.output?.length ?? 1) > 1 && n.output![1]) throw new NodeProblem(`${describe(n)} also returns the indices of the maxima, which Netloom does not compute`);
    const params: Record<string, unknown> = { kernel_size: kernel, stride: attrInts(n, 'strides') ?? [1, 1], padding: symmetricPads(n, 2), ceil_mode: attrInt(n, 'ceil_mode', 0) === 1 };
    if (type === 'MaxPool2d') params.dilation = attrInts(n, 'dilations') ?? [1, 1];
    else params.count_include_pad = attrInt(n, 'count_include_pad', 0) === 1;
    b.addLayer({ type, params, inputs: [n.input![0]], output: out(n), node: n });
  };
}

/** torch writes AvgPool2d(count_include_pad=True) as a constant Pad before the AveragePool: zero pads are dropped, others go into the pooling. */
const pad: Reader = (b, n) => {
  const mode = attrString(n, 'mode') ?? 'constant';
  const pads = b.constOf(n.input?.[1]);
  const value = n.input?.[2] ? b.constOf(n.input[2])?.data[0] : 0;
  if (mode !== 'constant' || !pads || value !== 0 || n.input?.[3]) throw new NodeProblem(`${describe(n)} is a ${mode} Pad Netloom has no layer for`);
  if (pads.data.every((p) => p === 0)) return b.alias(out(n), n.input![0]);
  const next = b.soleConsumer(out(n));
  const p = [...pads.data];
  const rank = p.length / 2;
  const spatial = [p[rank - 2], p[rank - 1]];
  const symmetric = rank === 4 && p[0] === 0 && p[1] === 0 && p[4] === 0 && p[5] === 0 && p[2] === p[6] && p[3] === p[7];
  if (next?.op_type !== 'AveragePool' || !symmetric || (attrInts(next, 'pads') ?? []).some((v) => v !== 0))
    throw new NodeProblem(`${describe(n)} pads by [${p.join(', ')}] where Netloom can only pad inside a pooling or convolution layer`);
  b.consumed.add(next);
  const kernel = attrInts(next, 'kernel_shape') ?? [1, 1];
  const params = { kernel_size: kernel, stride: attrInts(next, 'strides') ?? [1, 1], padding: spatial, ceil_mode: attrInt(next, 'ceil_mode', 0) === 1, count_include_pad: true };
  b.addLayer({ type: 'AvgPool2d', params, inputs: [n.input![0]], output: out(next), node: next });
};

const batchNorm: Reader = (b, n) => {
  if (attrInt(n, 'training_mode', 0) === 1) throw new NodeProblem(`${describe(n)} runs in training mode; export the model in eval() mode`);
  const [scale, shift, mean, variance] = [1, 2, 3, 4].map((i) => b.needConst(n, i, ['scale', 'shift', 'mean', 'variance'][i - 1]));
  const x = b.layerValue(n, n.input?.[0]);
  if (!x) return b.breakOutputs(n);
  const c = mean.data.length;
  const momentum = tidy(1 - tidy(attrFloat(n, 'momentum', 0.9))); // ONNX's momentum weighs the old statistics, torch's the new
  const eps = tidy(attrFloat(n, 'epsilon', 1e-5));
  const tensors: Record<string, TensorF32> = {
    weight: f32(scale, [c]), bias: f32(shift, [c]), running_mean: f32(mean, [c]), running_var: f32(variance, [c]),
    num_batches_tracked: { shape: [], data: new Float32Array(1), dtype: 'I64' },
  };
  b.addLayer({ type: x.shape.length === 3 ? 'BatchNorm2d' : 'BatchNorm1d', params: { num_features: c, eps, momentum }, inputs: [n.input![0]], output: out(n), node: n, prefix: initialiserPrefix(n.input?.[1], 'weight'), tensors });
};

const layerNorm: Reader = (b, n) => {
  const x = b.layerValue(n, n.input?.[0]);
  if (!x) return b.breakOutputs(n);
  const rank = x.shape.length + 1;
  const axis = attrInt(n, 'axis', -1);
  const first = axis < 0 ? axis + rank : axis;
  if (first < 1) throw new NodeProblem(`${describe(n)} normalises over the batch dimension too (axis ${axis})`);
  const normalized = x.shape.slice(first - 1);
  const scale = b.needConst(n, 1, 'scale');
  const shift = n.input?.[2] ? b.needConst(n, 2, 'shift') : undefined;
  const tensors: Record<string, TensorF32> = { weight: f32(scale, normalized), bias: shift ? f32(shift, normalized) : { shape: normalized, data: new Float32Array(numel(normalized)) } };
  const eps = tidy(attrFloat(n, 'epsilon', 1e-5));
  b.addLayer({ type: 'LayerNorm', params: { normalized_shape: normalized, eps, elementwise_affine: true }, inputs: [n.input![0]], output: out(n), node: n, prefix: initialiserPrefix(n.input?.[1], 'weight'), tensors });
};

/** A one-operator activation. */
function activation(type: string, params: (n: NodeProto) => Record<string, unknown> = () => ({})): Reader {
  return (b, n) => b.addLayer({ type, params: params(n), inputs: [n.input![0]], output: out(n), node: n });
}

/**
 * A GELU or SiLU pattern starting at `n` on one of its inputs: one layer for the whole chain, named
 * from the chain's last node (torch's "/act/Mul_1": the module's scope).
 */
function patterns(b: ImportBuilder, n: NodeProto): boolean {
  for (const x of new Set(n.input ?? [])) {
    if (b.values.get(x)?.kind !== 'layer') continue;
    for (const [steps, type, params] of [[GELU_ERF, 'GELU', { approximate: 'none' }], [GELU_TANH, 'GELU', { approximate: 'tanh' }], [SILU, 'SiLU', {}]] as const) {
      const chain = matchChain(b, n, x, steps);
      if (!chain) continue;
      chain.forEach((c) => b.consumed.add(c));
      const last = chain[chain.length - 1];
      b.addLayer({ type, params: { ...params }, inputs: [x], output: out(last), node: { ...last, name: last.name ?? n.name } });
      return true;
    }
  }
  return false;
}

/** Mul, Div, Erf and Sigmoid start patterns; Sigmoid alone is a layer, the others are not. */
function patternOr(fallback: Reader | undefined): Reader {
  return (b, n) => {
    if (patterns(b, n)) return;
    if (fallback) return fallback(b, n);
    throw new NodeProblem(`${describe(n)}: Netloom has no layer for an elementwise ${n.op_type} outside the GELU and SiLU patterns`);
  };
}

const add: Reader = (b, n) => {
  if ((n.input ?? []).some((i) => b.constOf(i))) throw new NodeProblem(`${describe(n)} adds a constant, which Netloom has no layer for`);
  b.addLayer({ type: 'Add', params: {}, inputs: [...n.input!], output: out(n), node: n });
};

const reshape: Reader = (b, n) => {
  const x = b.layerValue(n, n.input?.[0]);
  const shape = b.needConst(n, 1, 'shape');
  if (!x) return b.breakOutputs(n);
  const t = [...shape.data];
  if (t.length < 2 || (t[0] !== 0 && t[0] !== -1) || (t[0] === -1 && t.slice(1).includes(-1)))
    throw new NodeProblem(`${describe(n)} reshapes to [${t.join(', ')}], which does not keep the batch dimension in front`);
  if (attrInt(n, 'allowzero', 0) === 1 && t.slice(1).includes(0)) throw new NodeProblem(`${describe(n)} makes an empty dimension (allowzero)`);
  const rest = t.slice(1).map((d, i) => (d === 0 ? x.shape[i] : d));
  if (rest.length === 1) return void b.addLayer({ type: 'Flatten', params: { start_dim: 1, end_dim: -1 }, inputs: [n.input![0]], output: out(n), node: n });
  b.addLayer({ type: 'Reshape', params: { shape: rest }, inputs: [n.input![0]], output: out(n), node: n });
};

const flatten: Reader = (b, n) => {
  const axis = attrInt(n, 'axis', 1);
  const x = b.layerValue(n, n.input?.[0]);
  if (!x) return b.breakOutputs(n);
  const start = axis < 0 ? axis + x.shape.length + 1 : axis;
  if (start < 1) throw new NodeProblem(`${describe(n)} flattens the batch dimension (axis ${axis})`);
  b.addLayer({ type: 'Flatten', params: { start_dim: start, end_dim: -1 }, inputs: [n.input![0]], output: out(n), node: n });
};

/** Softmax and LogSoftmax: opset 13 normalises along `axis` (default -1) as torch does; earlier opsets flatten first (default 1). */
function along(type: string): Reader {
  return (b, n) => {
    const axis = attrInt(n, 'axis', b.opset >= 13 ? -1 : 1);
    b.addLayer({ type, params: { dim: axis }, inputs: [n.input![0]], output: out(n), node: n });
  };
}

export const READERS: Readonly<Record<string, Reader>> = {
  Gemm: gemm,
  MatMul: matmul,
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool('MaxPool2d'),
  AveragePool: pool('AvgPool2d'),
  Pad: pad,
  GlobalAveragePool: (b, n) => void b.addLayer({ type: 'AdaptiveAvgPool2d', params: { output_size: 1 }, inputs: [n.input![0]], output: out(n), node: n }),
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  Relu: activation('ReLU'),
  LeakyRelu: activation('LeakyReLU', (n) => ({ negative_slope: tidy(attrFloat(n, 'alpha', 0.01)) })),
  Elu: activation('ELU', (n) => ({ alpha: tidy(attrFloat(n, 'alpha', 1)) })),
  Sigmoid: patternOr(activation('Sigmoid')),
  Tanh: activation('Tanh'),
  Softmax: along('Softmax'),
  LogSoftmax: along('LogSoftmax'),
  Div: patternOr(undefined),
  Mul: patternOr(undefined),
  Erf: patternOr(undefined),
  // Sub is read only in a standardisation in front of the first layer (onnx-import.ts); anywhere else it is refused
  Sub: (_b, n) => {
    throw new NodeProblem(`${describe(n)}: Netloom has no layer for an elementwise Sub (it reads one only in an input standardisation)`);
  },
  Flatten: flatten,
  Reshape: reshape,
  Add: add,
  Sum: add,
  Concat: (b, n) => void b.addLayer({ type: 'Concat', params: { dim: attrInt(n, 'axis', 1) }, inputs: [...n.input!], output: out(n), node: n }),
  Identity: (b, n) => b.alias(out(n), n.input![0]),
  Dropout: (b, n) => b.alias(out(n), n.input![0]),
};
