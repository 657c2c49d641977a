/**
 * One emitter per layer family: the Python a person would write for a catalog layer, from its
 * resolved parameters (analysis.order[i].params: "auto" sizes already filled in). Layers with
 * state or behaviour become nn modules (`nn.Conv2d(1, 32, 3, padding=1)`), written with torch's
 * defaults left out; Reshape, Add and Concat are tensor operations in forward(). Losses go to
 * train.py as the criterion.
 */
import { NetloomError } from '../../errors.js';
import type { AnalyzedNode } from '../../graph/analyze.js';
import { pyArgs, pyList, pyNum, pyStr, pyValue } from './python.js';

/** How a node appears in model.py: a registered module, or an expression over its inputs' variables. */
export type LayerCode = { kind: 'module'; ctor: string } | { kind: 'op'; expr: (inputs: readonly string[]) => string } | { kind: 'input' };

type Params = Record<string, unknown>;

/** torch's `int or tuple`: a pair of equal sizes reads best as one number. */
function size(v: unknown): string {
  if (Array.isArray(v) && v.length === 2 && v[0] === v[1]) return pyValue(v[0]);
  return pyValue(v);
}

const same = (a: unknown, b: unknown) => size(a) === size(b);

/** `key=value` unless the value is torch's default (then left out). */
function kw(p: Params, key: string, dflt: unknown, fmt: (v: unknown) => string = size): [string, string | undefined] {
  return [key, p[key] === undefined || same(p[key], dflt) ? undefined : fmt(p[key])];
}

const float = (v: unknown) => pyNum(v as number, 'float');
const nn = (cls: string, args = '') => ({ kind: 'module' as const, ctor: `nn.${cls}(${args})` });

function conv(cls: string, p: Params, extra: Array<[string, string | undefined]>): LayerCode {
  return nn(cls, pyArgs([pyValue(p.in_channels), pyValue(p.out_channels), size(p.kernel_size)], [
    kw(p, 'stride', 1),
    kw(p, 'padding', 0),
    ...extra,
    kw(p, 'groups', 1),
    kw(p, 'bias', true),
  ]));
}

function batchNorm(cls: string, p: Params): LayerCode {
  return nn(cls, pyArgs([pyValue(p.num_features)], [
    kw(p, 'eps', 1e-5, float),
    // momentum=None (a cumulative average) must be written out: it is not the default 0.1
    ['momentum', p.momentum === 0.1 ? undefined : p.momentum === null ? 'None' : float(p.momentum)],
    kw(p, 'affine', true),
    kw(p, 'track_running_stats', true),
  ]));
}

// inplace=True is never written: Netloom plans its own memory, and in PyTorch an in-place
// activation would overwrite a value that another branch of the graph may still read.
const EMITTERS: Readonly<Record<string, (p: Params) => LayerCode>> = {
  Input: () => ({ kind: 'input' }),
  Linear: (p) => nn('Linear', pyArgs([pyValue(p.in_features), pyValue(p.out_features)], [kw(p, 'bias', true)])),
  Conv2d: (p) => conv('Conv2d', p, [kw(p, 'dilation', 1)]),
  Conv1d: (p) => conv('Conv1d', p, [kw(p, 'dilation', 1)]),
  ConvTranspose2d: (p) => conv('ConvTranspose2d', p, [kw(p, 'output_padding', 0), kw(p, 'dilation', 1)]),
  MaxPool2d: (p) => nn('MaxPool2d', pyArgs([size(p.kernel_size)], [kw(p, 'stride', null), kw(p, 'padding', 0), kw(p, 'dilation', 1), kw(p, 'ceil_mode', false)])),
  AvgPool2d: (p) => nn('AvgPool2d', pyArgs([size(p.kernel_size)], [
    kw(p, 'stride', null), kw(p, 'padding', 0), kw(p, 'ceil_mode', false), kw(p, 'count_include_pad', true), kw(p, 'divisor_override', null),
  ])),
  AdaptiveAvgPool2d: (p) => nn('AdaptiveAvgPool2d', size(p.output_size)),
  BatchNorm1d: (p) => batchNorm('BatchNorm1d', p),
  BatchNorm2d: (p) => batchNorm('BatchNorm2d', p),
  LayerNorm: (p) => {
    const shape = p._normalized as number[];
    return nn('LayerNorm', pyArgs([shape.length === 1 ? pyValue(shape[0]) : pyList(shape)], [kw(p, 'eps', 1e-5, float), kw(p, 'elementwise_affine', true)]));
  },
  ReLU: () => nn('ReLU'),
  LeakyReLU: (p) => nn('LeakyReLU', same(p.negative_slope, 0.01) ? '' : float(p.negative_slope)),
  ELU: (p) => nn('ELU', pyArgs([], [kw(p, 'alpha', 1, float)])),
  GELU: (p) => nn('GELU', pyArgs([], [kw(p, 'approximate', 'none')])),
  SiLU: () => nn('SiLU'),
  Sigmoid: () => nn('Sigmoid'),
  Tanh: () => nn('Tanh'),
  // dim is always written: torch warns about an implicit one
  Softmax: (p) => nn('Softmax', `dim=${pyValue(p.dim)}`),
  LogSoftmax: (p) => nn('LogSoftmax', `dim=${pyValue(p.dim)}`),
  Dropout: (p) => nn('Dropout', same(p.p, 0.5) ? '' : `p=${float(p.p)}`),
  Flatten: (p) => nn('Flatten', pyArgs([], [kw(p, 'start_dim', 1), kw(p, 'end_dim', -1)])),
  Identity: () => nn('Identity'),
  Reshape: (p) => ({ kind: 'op', expr: ([x]) => `${x}.reshape(${x}.shape[0], ${(p.shape as number[]).map((d) => pyValue(d)).join(', ')})` }),
  Add: () => ({ kind: 'op', expr: (xs) => xs.join(' + ') }),
  Concat: (p) => ({ kind: 'op', expr: (xs) => `torch.cat([${xs.join(', ')}], dim=${pyValue(p.dim)})` }),
};

/** The Python for node `n` (not a loss). An unknown type is a bug in the catalog's coverage here. */
export function layerCode(n: AnalyzedNode): LayerCode {
  const emit = EMITTERS[n.doc.type];
  if (!emit)
    throw new NetloomError('NL_UNSUPPORTED', `PyTorch code export has no translation for the ${n.doc.type} layer at node ${n.doc.name}`,
      'Export safetensors or ONNX instead, and report the missing layer.');
  return emit(n.params);
}

/** The criterion for loss node `n`: `nn.CrossEntropyLoss(label_smoothing=0.1)`. */
export function criterionCode(n: AnalyzedNode): string {
  const p = n.params;
  const common: Array<[string, string | undefined]> = [kw(p, 'reduction', 'mean', (v) => pyStr(v as string))];
  switch (n.doc.type) {
    case 'CrossEntropyLoss':
    case 'NLLLoss':
      return `nn.${n.doc.type}(${pyArgs([], [
        // class weights must be a float tensor: 1.0, not 1
        ['weight', p.weight ? `torch.tensor([${(p.weight as number[]).map((w) => pyNum(w, 'float')).join(', ')}])` : undefined],
        kw(p, 'ignore_index', -100),
        ...common,
        ...(n.doc.type === 'CrossEntropyLoss' ? [kw(p, 'label_smoothing', 0, float)] : []),
      ])})`;
    case 'SmoothL1Loss':
      return `nn.SmoothL1Loss(${pyArgs([], [...common, kw(p, 'beta', 1, float)])})`;
    case 'MSELoss':
    case 'L1Loss':
    case 'BCEWithLogitsLoss':
      return `nn.${n.doc.type}(${pyArgs([], common)})`;
    default:
      throw new NetloomError('NL_UNSUPPORTED', `PyTorch code export has no translation for the ${n.doc.type} loss at node ${n.doc.name}`,
        'Export safetensors or ONNX instead, and report the missing loss.');
  }
}
