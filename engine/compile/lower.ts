/**
 * Lowering: analysed graph -> forward instructions, one rule per layer type. Views (Flatten,
 * Reshape, Identity, Dropout(p=0)) reuse their input's buffer instead of copying.
 */
import { NetloomError } from '../errors.js';
import type { Analysis, AnalyzedNode } from '../graph/analyze.js';
import type { Shape } from '../graph/catalog.js';
import type { ConvGeometry } from '../graph/catalog/conv.js';
import type { PoolGeometry } from '../graph/catalog/pool.js';
import { ProgramBuilder } from './builder.js';
import type { ConstBinding, Instr, ParamBinding, ProgramIO, TargetSpec } from './ir.js';
import { ACTIVATION, POINT_LOSS, REDUCTION } from './kernel-codes.js';
import { floatAttrs, intAttrs, operands, type FloatAttrName, type IntAttrName, type OpName, type OperandName } from './ops.js';

export interface Value {
  buffer: number;
  shape: Shape;
}

/** What the dataset supplies besides the input, when it is more than class labels. */
export interface LowerOptions {
  /** regression targets per sample: point losses with no target edge read these (see pointLoss) */
  targets?: TargetSpec;
}

export interface Lowered {
  forward: Instr[];
  params: ParamBinding[];
  constants: ConstBinding[];
  io: ProgramIO;
  values: Map<string, Value>;
  inputShape: Shape;
  /** classes the labels index (0 when the labels are not used) */
  classes: number;
  task: 'classification' | 'regression';
}

const numel = (s: Shape) => s.reduce((a, b) => a * b, 1);
const reductionOf = (n: AnalyzedNode) => REDUCTION[n.params.reduction as keyof typeof REDUCTION];

interface LowerCtx {
  b: ProgramBuilder;
  forward: Instr[];
  params: ParamBinding[];
  constants: ConstBinding[];
  io: ProgramIO;
  classes: number;
  task: 'classification' | 'regression';
  salt: number;
  targets?: TargetSpec;
}

type LowerRule = (n: AnalyzedNode, ins: Value[], ctx: LowerCtx) => Value;

/** Appends a forward instruction; operands (-1: absent) and attributes are given by their ops.def names. */
const emit = <N extends OpName>(
  ctx: LowerCtx,
  op: N,
  bufs: Record<OperandName<N>, number>,
  ints: Record<IntAttrName<N>, number>,
  floats: Record<FloatAttrName<N>, number>,
) => ctx.forward.push(ProgramBuilder.instr(op, operands(op, bufs), intAttrs(op, ints), floatAttrs(op, floats)));

/** Creates the node's parameter and state buffers; returns them by state-dict suffix. */
function tensors(n: AnalyzedNode, ins: Value[], ctx: LowerCtx): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of n.spec.tensors?.(n.params, ins.map((v) => v.shape)) ?? []) {
    const key = `${n.doc.name}.${t.key}`;
    const elems = Math.max(numel(t.shape), 1);
    const learnable = (t.kind ?? 'param') === 'param';
    const buffer = ctx.b.buffer(key, learnable ? 'param' : 'param-buffer', elems, false, t.dtype === 'i64' ? 'i32' : 'f32');
    const grad = learnable ? ctx.b.buffer(`grad(${key})`, 'param-grad', elems, false) : -1;
    ctx.params.push({ key, shape: t.shape, buffer, grad, init: t.init, learnable, dtype: t.dtype ?? 'f32' });
    out.set(t.key, buffer);
  }
  return out;
}

const out = (ctx: LowerCtx, n: AnalyzedNode, elems: number, dtype: 'f32' | 'i32' = 'f32', suffix = 'out') =>
  ctx.b.buffer(`${n.doc.name}:${suffix}`, 'activation', elems, true, dtype);

/** avg_pool2d's geometry attributes (max_pool2d takes a PoolGeometry as it is: its fields are the attribute names). */
const avgPoolAttrs = (g: PoolGeometry) => ({
  c: g.c, h: g.h, w: g.w, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw, ho: g.ho, wo: g.wo,
  count_include_pad: g.countIncludePad ? 1 : 0,
  divisor_override: g.divisorOverride,
});

function labels(ctx: LowerCtx): number {
  if (ctx.io.labels < 0) ctx.io.labels = ctx.b.buffer('labels', 'labels', 1, true, 'i32');
  return ctx.io.labels;
}

function lossOutputs(n: AnalyzedNode, ctx: LowerCtx, withCorrect: boolean) {
  const loss = ctx.b.buffer(`${n.doc.name}:loss`, 'scalar', 1, false);
  const correct = withCorrect ? ctx.b.buffer(`${n.doc.name}:correct`, 'scalar', 1, false, 'i32') : -1;
  ctx.io.loss = loss;
  ctx.io.correct = correct;
  return { loss, correct };
}

function classWeight(n: AnalyzedNode, ctx: LowerCtx): number {
  const w = n.params.weight as number[] | null;
  if (!w) return -1;
  const buffer = ctx.b.buffer(`${n.doc.name}.weight(const)`, 'const', w.length, false);
  ctx.constants.push({ buffer, data: Float32Array.from(w) });
  return buffer;
}

const view: LowerRule = (n, [x]) => ({ buffer: x.buffer, shape: n.outShape! });

function activation(kind: number, alpha: (n: AnalyzedNode) => number): LowerRule {
  return (n, [x], ctx) => {
    const f = numel(x.shape);
    const y = out(ctx, n, f);
    emit(ctx, 'activation_forward', { x: x.buffer, y }, { kind, features: f }, { alpha: alpha(n) });
    return { buffer: y, shape: x.shape };
  };
}

function softmaxRule(log: boolean): LowerRule {
  return (n, [x], ctx) => {
    const d = (n.params._dim as number) - 1; // per-sample axis
    const f = numel(x.shape);
    const y = out(ctx, n, f);
    emit(ctx, 'softmax_forward', { x: x.buffer, y }, { outer: numel(x.shape.slice(0, d)), dim: x.shape[d], inner: numel(x.shape.slice(d + 1)), log: log ? 1 : 0 }, {});
    return { buffer: y, shape: x.shape };
  };
}

function convRule(op: 'conv2d_forward' | 'conv_transpose2d_forward'): LowerRule {
  return (n, [x], ctx) => {
    const g = n.params._conv as ConvGeometry;
    const p = tensors(n, [x], ctx);
    const y = out(ctx, n, numel(n.outShape!));
    emit(ctx, op, { x: x.buffer, weight: p.get('weight')!, bias: p.get('bias') ?? -1, y }, g, {}); // its fields are the attribute names
    return { buffer: y, shape: n.outShape! };
  };
}

function batchNorm(n: AnalyzedNode, [x]: Value[], ctx: LowerCtx): Value {
  const c = x.shape[0];
  const p = tensors(n, [x], ctx);
  const saveMean = ctx.b.buffer(`${n.doc.name}:save_mean`, 'activation', c, false);
  const saveInvstd = ctx.b.buffer(`${n.doc.name}:save_invstd`, 'activation', c, false);
  const y = out(ctx, n, numel(x.shape));
  const momentum = n.params.momentum as number | null;
  emit(
    ctx,
    'batch_norm_forward',
    {
      x: x.buffer,
      weight: p.get('weight') ?? -1,
      bias: p.get('bias') ?? -1,
      running_mean: p.get('running_mean') ?? -1,
      running_var: p.get('running_var') ?? -1,
      num_batches_tracked: p.get('num_batches_tracked') ?? -1,
      save_mean: saveMean,
      save_invstd: saveInvstd,
      y,
    },
    { channels: c, inner: numel(x.shape) / c },
    { eps: n.params.eps as number, momentum: momentum === null ? -1 : momentum },
  );
  return { buffer: y, shape: x.shape };
}

const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? '' : 's'}`;

function classLoss(n: AnalyzedNode, [x]: Value[], ctx: LowerCtx): Value {
  if (ctx.targets) {
    const t = ctx.targets;
    throw new NetloomError('NL_BAD_GRAPH',
      `${n.doc.type} at node ${n.doc.name}: ${t.source} is a regression dataset (its target ${t.names.length === 1 ? 'column' : 'columns'} ${t.names.join(', ')} ${t.names.length === 1 ? 'holds' : 'hold'} numbers), but ${n.doc.type} needs class labels`,
      `Use MSELoss (or L1Loss / SmoothL1Loss) for a numeric target, or set the dataset's task to "classification" if ${t.names.join(', ')} ${t.names.length === 1 ? 'names' : 'name'} classes.`);
  }
  const classes = x.shape[0];
  const lab = labels(ctx);
  const weight = classWeight(n, ctx);
  const { loss, correct } = lossOutputs(n, ctx, true);
  const ignore = n.params.ignore_index as number;
  const red = reductionOf(n);
  if (n.doc.type === 'CrossEntropyLoss') {
    const probs = ctx.b.buffer(`${n.doc.name}:probs`, 'activation', classes, true);
    emit(ctx, 'softmax_cross_entropy_forward', { logits: x.buffer, labels: lab, probs, loss, correct, weight }, { classes, ignore_index: ignore, reduction: red }, { label_smoothing: n.params.label_smoothing as number });
    ctx.io.probs = probs;
  } else {
    emit(ctx, 'nll_loss_forward', { log_probs: x.buffer, labels: lab, loss, correct, weight }, { classes, ignore_index: ignore, reduction: red }, {});
  }
  Object.assign(ctx.io, { logits: x.buffer });
  ctx.classes = classes;
  ctx.task = 'classification';
  return { buffer: loss, shape: [] };
}

/**
 * Point losses compare the prediction with, in order of precedence: the value on the target edge
 * (an autoencoder's input); the dataset's regression targets (a regression CSV); the class labels
 * one-hot encoded (F.one_hot(y, C).float()).
 */
function pointLoss(n: AnalyzedNode, [x, t]: Value[], ctx: LowerCtx): Value {
  const f = numel(x.shape);
  let target: number;
  if (t) {
    target = t.buffer;
  } else if (ctx.targets) {
    const spec = ctx.targets;
    if (f !== spec.width)
      throw new NetloomError('NL_BAD_GRAPH',
        `${n.doc.type} at node ${n.doc.name}: the model outputs ${plural(f, 'value')} per sample but ${spec.source} has ${plural(spec.width, 'target column')} (${spec.names.join(', ')})`,
        `Set out_features of the last Linear layer to ${spec.width}, so that it predicts ${spec.width === 1 ? 'one number' : `${spec.width} numbers`} per sample.`);
    if (ctx.io.targets < 0) ctx.io.targets = ctx.b.buffer('targets', 'targets', spec.width, true);
    target = ctx.io.targets;
  } else {
    target = ctx.b.buffer(`${n.doc.name}:one_hot`, 'activation', f, true);
    emit(ctx, 'one_hot', { labels: labels(ctx), y: target }, { classes: f }, {});
    ctx.classes = f;
  }
  const { loss } = lossOutputs(n, ctx, false);
  const kind = POINT_LOSS[n.doc.type as keyof typeof POINT_LOSS];
  emit(ctx, 'point_loss_forward', { pred: x.buffer, target, loss }, { kind, features: f, reduction: reductionOf(n) }, { beta: (n.params.beta as number | undefined) ?? 1 });
  ctx.io.logits = x.buffer;
  ctx.task = 'regression';
  return { buffer: loss, shape: [] };
}

/** One row per layer type: how it becomes instructions. */
const LOWER: Record<string, LowerRule> = {
  Input(n, _ins, ctx) {
    const shape = n.outShape!;
    const buffer = ctx.b.buffer(`${n.doc.name}:out`, 'input', numel(shape), true);
    ctx.io.input = buffer;
    return { buffer, shape };
  },
  Flatten: view,
  Reshape: view,
  Identity: view,
  Linear(n, [x], ctx) {
    const p = tensors(n, [x], ctx);
    const o = n.params.out_features as number;
    const y = out(ctx, n, o);
    emit(ctx, 'linear_forward', { x: x.buffer, weight: p.get('weight')!, bias: p.get('bias') ?? -1, y }, { in_features: n.params.in_features as number, out_features: o }, {});
    return { buffer: y, shape: [o] };
  },
  Conv2d: convRule('conv2d_forward'),
  Conv1d: convRule('conv2d_forward'),
  ConvTranspose2d: convRule('conv_transpose2d_forward'),
  MaxPool2d(n, [x], ctx) {
    const g = n.params._pool as PoolGeometry;
    const e = numel(n.outShape!);
    const y = out(ctx, n, e);
    const idx = out(ctx, n, e, 'i32', 'indices');
    emit(ctx, 'max_pool2d_forward', { x: x.buffer, y, indices: idx }, g, {});
    return { buffer: y, shape: n.outShape! };
  },
  AvgPool2d(n, [x], ctx) {
    const y = out(ctx, n, numel(n.outShape!));
    emit(ctx, 'avg_pool2d_forward', { x: x.buffer, y }, avgPoolAttrs(n.params._pool as PoolGeometry), {});
    return { buffer: y, shape: n.outShape! };
  },
  AdaptiveAvgPool2d(n, [x], ctx) {
    const [c, h, w] = x.shape;
    const [, ho, wo] = n.outShape!;
    const y = out(ctx, n, numel(n.outShape!));
    emit(ctx, 'adaptive_avg_pool2d_forward', { x: x.buffer, y }, { c, h, w, ho, wo }, {});
    return { buffer: y, shape: n.outShape! };
  },
  BatchNorm1d: batchNorm,
  BatchNorm2d: batchNorm,
  LayerNorm(n, [x], ctx) {
    const cols = numel(n.params._normalized as number[]);
    const rows = numel(x.shape) / cols;
    const p = tensors(n, [x], ctx);
    const y = out(ctx, n, numel(x.shape));
    const mean = out(ctx, n, rows, 'f32', 'mean');
    const rstd = out(ctx, n, rows, 'f32', 'rstd');
    emit(ctx, 'layer_norm_forward', { x: x.buffer, weight: p.get('weight') ?? -1, bias: p.get('bias') ?? -1, y, mean, rstd }, { rows, cols }, { eps: n.params.eps as number });
    return { buffer: y, shape: x.shape };
  },
  Dropout(n, [x], ctx) {
    if ((n.params.p as number) === 0) return { buffer: x.buffer, shape: x.shape };
    const f = numel(x.shape);
    const y = out(ctx, n, f);
    const mask = out(ctx, n, f, 'f32', 'mask');
    emit(ctx, 'dropout_forward', { x: x.buffer, y, mask }, { features: f, salt: ++ctx.salt }, { p: n.params.p as number });
    return { buffer: y, shape: x.shape };
  },
  ReLU(n, [x], ctx) {
    const f = numel(x.shape);
    const y = out(ctx, n, f);
    emit(ctx, 'relu_forward', { x: x.buffer, y }, { features: f }, {});
    return { buffer: y, shape: x.shape };
  },
  LeakyReLU: activation(ACTIVATION.LeakyReLU, (n) => n.params.negative_slope as number),
  ELU: activation(ACTIVATION.ELU, (n) => n.params.alpha as number),
  GELU: (n, ins, ctx) => activation(n.params.approximate === 'tanh' ? ACTIVATION.GELU_TANH : ACTIVATION.GELU, () => 0)(n, ins, ctx),
  SiLU: activation(ACTIVATION.SiLU, () => 0),
  Sigmoid: activation(ACTIVATION.Sigmoid, () => 0),
  Tanh: activation(ACTIVATION.Tanh, () => 0),
  Softmax: softmaxRule(false),
  LogSoftmax: softmaxRule(true),
  Add(n, ins, ctx) {
    const f = numel(ins[0].shape);
    let acc = ins[0].buffer;
    for (const [k, v] of ins.slice(1).entries()) {
      const y = out(ctx, n, f, 'f32', k === ins.length - 2 ? 'out' : `sum${k}`);
      emit(ctx, 'add_forward', { a: acc, b: v.buffer, y }, { features: f }, {});
      acc = y;
    }
    return { buffer: acc, shape: ins[0].shape };
  },
  Concat(n, ins, ctx) {
    const axis = n.params._axis as number;
    const shape = n.outShape!;
    const y = out(ctx, n, numel(shape));
    const outer = numel(shape.slice(0, axis));
    const yInner = numel(shape.slice(axis));
    let offset = 0;
    for (const v of ins) {
      const xInner = numel(v.shape.slice(axis));
      emit(ctx, 'concat_forward', { x: v.buffer, y }, { outer, x_inner: xInner, y_inner: yInner, offset }, {});
      offset += xInner;
    }
    return { buffer: y, shape };
  },
  CrossEntropyLoss: classLoss,
  NLLLoss: classLoss,
  MSELoss: pointLoss,
  L1Loss: pointLoss,
  SmoothL1Loss: pointLoss,
  BCEWithLogitsLoss: pointLoss,
};

export function lowerGraph(a: Analysis, b: ProgramBuilder, o: LowerOptions = {}): Lowered {
  if (o.targets && !(Number.isInteger(o.targets.width) && o.targets.width > 0))
    throw new NetloomError('NL_INVALID_ARGUMENT', `a dataset must supply at least one regression target per sample, got ${o.targets.width}`, 'Choose a numeric target column.');
  const ctx: LowerCtx = {
    b,
    forward: [],
    params: [],
    constants: [],
    io: { input: -1, labels: -1, logits: -1, probs: -1, loss: -1, correct: -1, targets: -1 },
    classes: 0,
    task: 'regression',
    salt: 0,
    targets: o.targets,
  };
  const values = new Map<string, Value>();
  for (const n of a.order) {
    const rule = LOWER[n.doc.type];
    if (!rule) throw new NetloomError('NL_BAD_GRAPH', `${n.doc.type} at node ${n.doc.name} cannot be compiled yet`, 'Replace it with a supported layer.');
    values.set(n.doc.id, rule(n, n.inputs.map((i) => values.get(i)!), ctx));
  }
  const input = values.get(a.inputId!)!;
  return { forward: ctx.forward, params: ctx.params, constants: ctx.constants, io: ctx.io, values, inputShape: input.shape, classes: ctx.classes, task: ctx.task };
}
