/**
 * How each catalog layer is written as ONNX (opset 17) operators: one emitter per layer type. An
 * emitter reads the analysed node (parameters resolved, shapes known) and adds nodes through the
 * EmitCtx; a layer setting ONNX cannot express is refused naming the node. Composite layers (GELU,
 * SiLU) use the operator patterns torch.onnx.export writes for them, so importOnnx reads both back.
 */
import type { ConvGeometry } from '../../graph/catalog/conv.js';
import type { PoolGeometry } from '../../graph/catalog/pool.js';
import { pair, type Shape } from '../../graph/catalog/types.js';
import { AttrType, type AttributeProto } from './schema.js';

export interface EmitCtx {
  /** the Netloom node's name (the ONNX node's name, the prefix of its initialisers) */
  name: string;
  type: string;
  params: Record<string, unknown>;
  inputs: string[];
  inShapes: Shape[];
  outShape: Shape;
  /** the value the layer must produce */
  output: string;
  /** the initialiser holding state-dict entry `<name>.<key>` */
  weight(key: string): string;
  /** a float32 constant initialiser `<name>/<suffix>` */
  constant(suffix: string, dims: readonly number[], data: ArrayLike<number>): string;
  /** an int64 constant initialiser `<name>/<suffix>` (a shape) */
  int64(suffix: string, values: readonly number[]): string;
  /** a node; nodeName defaults to the layer's name (helpers of a composite get suffixed names) */
  add(op: string, inputs: string[], outputs: string[], attrs?: AttributeProto[], nodeName?: string): void;
  /** an intermediate value `<name>/<suffix>` */
  tmp(suffix: string): string;
  /** the ONNX form of this layer cannot be made: throws naming the node and why */
  refuse(why: string, hint: string): never;
}

export const int = (name: string, i: number): AttributeProto => ({ name, type: AttrType.INT, i });
export const ints = (name: string, v: readonly number[]): AttributeProto => ({ name, type: AttrType.INTS, ints: [...v] });
export const float = (name: string, f: number): AttributeProto => ({ name, type: AttrType.FLOAT, f });

type Emitter = (c: EmitCtx) => void;

const unary = (op: string, attrs: (c: EmitCtx) => AttributeProto[] = () => []): Emitter => (c) => c.add(op, [c.inputs[0]], [c.output], attrs(c));

function conv(c: EmitCtx): void {
  const g = c.params._conv as ConvGeometry;
  const oneD = c.type === 'Conv1d';
  const inputs = [c.inputs[0], c.weight('weight'), ...(c.params.bias ? [c.weight('bias')] : [])];
  c.add('Conv', inputs, [c.output], oneD
    ? [ints('kernel_shape', [g.kw]), ints('strides', [g.sw]), ints('pads', [g.pw0, g.pw1]), ints('dilations', [g.dw]), int('group', g.groups)]
    : [ints('kernel_shape', [g.kh, g.kw]), ints('strides', [g.sh, g.sw]), ints('pads', [g.ph0, g.pw0, g.ph1, g.pw1]), ints('dilations', [g.dh, g.dw]), int('group', g.groups)]);
}

function convTranspose(c: EmitCtx): void {
  const g = c.params._conv as ConvGeometry;
  const inputs = [c.inputs[0], c.weight('weight'), ...(c.params.bias ? [c.weight('bias')] : [])];
  c.add('ConvTranspose', inputs, [c.output], [
    ints('kernel_shape', [g.kh, g.kw]), ints('strides', [g.sh, g.sw]), ints('pads', [g.ph0, g.pw0, g.ph1, g.pw1]),
    ints('output_padding', pair(c.params.output_padding)), ints('dilations', [g.dh, g.dw]), int('group', g.groups),
  ]);
}

function pool(op: 'MaxPool' | 'AveragePool'): Emitter {
  return (c) => {
    const g = c.params._pool as PoolGeometry;
    if (op === 'AveragePool' && g.divisorOverride) c.refuse('divisor_override has no ONNX equivalent', 'Set divisor_override to null before exporting to ONNX.');
    const attrs = [ints('kernel_shape', [g.kh, g.kw]), ints('strides', [g.sh, g.sw]), ints('pads', [g.ph, g.pw, g.ph, g.pw]), int('ceil_mode', c.params.ceil_mode ? 1 : 0)];
    if (op === 'MaxPool') attrs.push(ints('dilations', [g.dh, g.dw]));
    else attrs.push(int('count_include_pad', g.countIncludePad ? 1 : 0));
    c.add(op, [c.inputs[0]], [c.output], attrs);
  };
}

/** AdaptiveAvgPool2d: global pooling for 1x1, a plain AveragePool where the output size divides the input. */
function adaptiveAvgPool(c: EmitCtx): void {
  const [, h, w] = c.inShapes[0];
  const [, oh, ow] = c.outShape;
  if (oh === 1 && ow === 1) return c.add('GlobalAveragePool', [c.inputs[0]], [c.output]);
  if (h % oh !== 0 || w % ow !== 0)
    c.refuse(`output size ${oh}x${ow} does not divide the input ${h}x${w}, so its windows differ in size and ONNX has no operator for it`,
      `Use an output size that divides ${h}x${w} (or 1 for global pooling), or an AvgPool2d.`);
  const k = [h / oh, w / ow];
  c.add('AveragePool', [c.inputs[0]], [c.output], [ints('kernel_shape', k), ints('strides', k), ints('pads', [0, 0, 0, 0]), int('count_include_pad', 0)]);
}

/** BatchNorm in evaluation mode: the running statistics (no affine: scale 1, shift 0). */
function batchNorm(c: EmitCtx): void {
  if (!c.params.track_running_stats)
    c.refuse('track_running_stats=False normalises with the batch statistics even in evaluation, which ONNX inference has no operator for', 'Train with track_running_stats=True to export this model to ONNX.');
  const channels = c.inShapes[0][0];
  const scale = c.params.affine ? c.weight('weight') : c.constant('scale', [channels], new Float32Array(channels).fill(1));
  const shift = c.params.affine ? c.weight('bias') : c.constant('shift', [channels], new Float32Array(channels));
  c.add('BatchNormalization', [c.inputs[0], scale, shift, c.weight('running_mean'), c.weight('running_var')], [c.output],
    [float('epsilon', c.params.eps as number), float('momentum', 1 - ((c.params.momentum as number | null) ?? 0.1))]);
}

function layerNorm(c: EmitCtx): void {
  const ns = c.params._normalized as number[];
  const size = ns.reduce((a, b) => a * b, 1);
  const scale = c.params.elementwise_affine ? c.weight('weight') : c.constant('scale', ns, new Float32Array(size).fill(1));
  const inputs = [c.inputs[0], scale, ...(c.params.elementwise_affine ? [c.weight('bias')] : [])];
  c.add('LayerNormalization', inputs, [c.output], [int('axis', -ns.length), float('epsilon', c.params.eps as number)]);
}

/** GELU: opset 17 has no Gelu; torch writes x * 0.5 * (1 + erf(x / sqrt 2)) this way, and the tanh form alike. */
function gelu(c: EmitCtx): void {
  const x = c.inputs[0];
  if (c.params.approximate === 'tanh') {
    const sq = c.tmp('sq'), cube = c.tmp('cube'), scaled = c.tmp('kappa'), inner = c.tmp('inner'), beta = c.tmp('beta'), th = c.tmp('tanh'), one = c.tmp('onep'), xm = c.tmp('xmul');
    c.add('Mul', [x, x], [sq], [], `${c.name}/Mul_sq`);
    c.add('Mul', [x, sq], [cube], [], `${c.name}/Mul_cube`);
    c.add('Mul', [cube, c.constant('kappa', [], [0.044715])], [scaled], [], `${c.name}/Mul_kappa`);
    c.add('Add', [x, scaled], [inner], [], `${c.name}/Add_inner`);
    c.add('Mul', [inner, c.constant('beta', [], [Math.sqrt(2 / Math.PI)])], [beta], [], `${c.name}/Mul_beta`);
    c.add('Tanh', [beta], [th], [], `${c.name}/Tanh`);
    c.add('Add', [th, c.constant('one', [], [1])], [one], [], `${c.name}/Add_one`);
    c.add('Mul', [x, one], [xm], [], `${c.name}/Mul_x`);
    c.add('Mul', [xm, c.constant('half', [], [0.5])], [c.output], [], c.name);
    return;
  }
  const div = c.tmp('div'), erf = c.tmp('erf'), one = c.tmp('onep'), xm = c.tmp('xmul');
  c.add('Div', [x, c.constant('sqrt2', [], [Math.SQRT2])], [div], [], `${c.name}/Div`);
  c.add('Erf', [div], [erf], [], `${c.name}/Erf`);
  c.add('Add', [erf, c.constant('one', [], [1])], [one], [], `${c.name}/Add`);
  c.add('Mul', [x, one], [xm], [], `${c.name}/Mul`);
  c.add('Mul', [xm, c.constant('half', [], [0.5])], [c.output], [], c.name);
}

function silu(c: EmitCtx): void {
  const s = c.tmp('sigmoid');
  c.add('Sigmoid', [c.inputs[0]], [s], [], `${c.name}/Sigmoid`);
  c.add('Mul', [c.inputs[0], s], [c.output], [], c.name);
}

/** Flatten and Reshape: a Reshape to the per-sample output shape, the batch kept by a 0 (copy that dimension). */
function reshape(c: EmitCtx): void {
  c.add('Reshape', [c.inputs[0], c.int64('shape', [0, ...c.outShape])], [c.output]);
}

function add(c: EmitCtx): void {
  c.add(c.inputs.length === 2 ? 'Add' : 'Sum', c.inputs, [c.output]);
}

/** The emitters by catalog type; a type missing here (the losses, Input) is not an inference layer. */
export const EMITTERS: Readonly<Record<string, Emitter>> = {
  Linear: (c) => c.add('Gemm', [c.inputs[0], c.weight('weight'), ...(c.params.bias ? [c.weight('bias')] : [])], [c.output],
    [float('alpha', 1), float('beta', 1), int('transB', 1)]),
  Conv2d: conv,
  Conv1d: conv,
  ConvTranspose2d: convTranspose,
  MaxPool2d: pool('MaxPool'),
  AvgPool2d: pool('AveragePool'),
  AdaptiveAvgPool2d: adaptiveAvgPool,
  BatchNorm1d: batchNorm,
  BatchNorm2d: batchNorm,
  LayerNorm: layerNorm,
  ReLU: unary('Relu'),
  LeakyReLU: unary('LeakyRelu', (c) => [float('alpha', c.params.negative_slope as number)]),
  ELU: unary('Elu', (c) => [float('alpha', c.params.alpha as number)]),
  GELU: gelu,
  SiLU: silu,
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  // _dim counts the batch (the analysis resolved a negative dim), as ONNX's axis does
  Softmax: unary('Softmax', (c) => [int('axis', c.params._dim as number)]),
  LogSoftmax: unary('LogSoftmax', (c) => [int('axis', c.params._dim as number)]),
  // inference: dropout does nothing; an Identity keeps the node's name in the graph
  Dropout: unary('Identity'),
  Identity: unary('Identity'),
  Flatten: reshape,
  Reshape: reshape,
  Add: add,
  Concat: (c) => c.add('Concat', c.inputs, [c.output], [int('axis', (c.params._axis as number) + 1)]),
};
