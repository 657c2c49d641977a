/**
 * The Program opcodes, mirroring native/core/ops.def row for row: the same names, in the same
 * order, with the same operand and attribute names (test/unit/op-table.test.ts parses ops.def and
 * compares; test/addon/ops.test.ts compares the names with the built addon's). The counts an
 * instruction must carry are the lengths of the name lists. `reads`/`writes` name the operands an
 * instruction reads and writes (gradient flow and memory planning use them); they are TypeScript's
 * own (the native side needs no data flow).
 */
export interface OpInfo {
  readonly name: string;
  /** operand (buffer) names, in position order */
  readonly operands: readonly string[];
  /** int attribute names, in position order */
  readonly intAttrs: readonly string[];
  /** float attribute names, in position order */
  readonly floatAttrs: readonly string[];
  readonly buffers: number;
  readonly ints: number;
  readonly floats: number;
  /** operand positions read / written */
  readonly reads: readonly number[];
  readonly writes: readonly number[];
}

function op<const N extends string, const B extends readonly string[], const I extends readonly string[], const F extends readonly string[]>(
  name: N,
  operands: B,
  intAttrs: I,
  floatAttrs: F,
  reads: readonly B[number][],
  writes: readonly B[number][],
) {
  return {
    name,
    operands,
    intAttrs,
    floatAttrs,
    buffers: operands.length,
    ints: intAttrs.length,
    floats: floatAttrs.length,
    reads: reads.map((r) => operands.indexOf(r)),
    writes: writes.map((w) => operands.indexOf(w)),
  };
}

const CONV = ['cin', 'h', 'w', 'cout', 'kh', 'kw', 'sh', 'sw', 'ph0', 'ph1', 'pw0', 'pw1', 'dh', 'dw', 'groups', 'ho', 'wo'] as const;
const MAX_POOL = ['c', 'h', 'w', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'dh', 'dw', 'ho', 'wo'] as const;
const AVG_POOL = ['c', 'h', 'w', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'ho', 'wo', 'count_include_pad', 'divisor_override'] as const;
const ADAPTIVE = ['c', 'h', 'w', 'ho', 'wo'] as const;
const LINEAR_FWD = ['x', 'weight', 'bias', 'y'] as const;
const LINEAR_BWD = ['dy', 'x', 'weight', 'dx', 'dweight', 'dbias'] as const;

export const OPS = [
  op('linear_forward', LINEAR_FWD, ['in_features', 'out_features'], [], ['x', 'weight', 'bias'], ['y']),
  op('linear_backward', LINEAR_BWD, ['in_features', 'out_features', 'accumulate_dx'], [], ['dy', 'x', 'weight'], ['dx', 'dweight', 'dbias']),
  op('relu_forward', ['x', 'y'], ['features'], [], ['x'], ['y']),
  op('relu_backward', ['dy', 'y', 'dx'], ['features', 'accumulate'], [], ['dy', 'y'], ['dx']),
  op('softmax_cross_entropy_forward', ['logits', 'labels', 'probs', 'loss', 'correct', 'weight'], ['classes', 'ignore_index', 'reduction'], ['label_smoothing'], ['logits', 'labels', 'weight'], ['probs', 'loss', 'correct']),
  op('softmax_cross_entropy_backward', ['probs', 'labels', 'dlogits', 'weight'], ['classes', 'accumulate', 'ignore_index', 'reduction'], ['label_smoothing'], ['probs', 'labels', 'weight'], ['dlogits']),
  op('sgd_step', ['param', 'grad', 'momentum_buffer'], ['nesterov', 'maximize'], ['lr', 'momentum', 'dampening', 'weight_decay'], ['param', 'grad', 'momentum_buffer'], ['param', 'momentum_buffer']),
  op('adam_step', ['param', 'grad', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'], ['amsgrad', 'maximize', 'decoupled'], ['lr', 'beta1', 'beta2', 'eps', 'weight_decay'], ['param', 'grad', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'], ['param', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']),
  op('conv2d_forward', LINEAR_FWD, CONV, [], ['x', 'weight', 'bias'], ['y']),
  op('conv2d_backward', LINEAR_BWD, [...CONV, 'accumulate_dx'], [], ['dy', 'x', 'weight'], ['dx', 'dweight', 'dbias']),
  op('conv_transpose2d_forward', LINEAR_FWD, CONV, [], ['x', 'weight', 'bias'], ['y']),
  op('conv_transpose2d_backward', LINEAR_BWD, [...CONV, 'accumulate_dx'], [], ['dy', 'x', 'weight'], ['dx', 'dweight', 'dbias']),
  op('max_pool2d_forward', ['x', 'y', 'indices'], MAX_POOL, [], ['x'], ['y', 'indices']),
  op('max_pool2d_backward', ['dy', 'indices', 'dx'], [...MAX_POOL, 'accumulate'], [], ['dy', 'indices'], ['dx']),
  op('avg_pool2d_forward', ['x', 'y'], AVG_POOL, [], ['x'], ['y']),
  op('avg_pool2d_backward', ['dy', 'dx'], [...AVG_POOL, 'accumulate'], [], ['dy'], ['dx']),
  op('adaptive_avg_pool2d_forward', ['x', 'y'], ADAPTIVE, [], ['x'], ['y']),
  op('adaptive_avg_pool2d_backward', ['dy', 'dx'], [...ADAPTIVE, 'accumulate'], [], ['dy'], ['dx']),
  op('batch_norm_forward', ['x', 'weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked', 'save_mean', 'save_invstd', 'y'], ['channels', 'inner'], ['eps', 'momentum'],
    ['x', 'weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'], ['running_mean', 'running_var', 'num_batches_tracked', 'save_mean', 'save_invstd', 'y']),
  op('batch_norm_backward', ['dy', 'x', 'weight', 'save_mean', 'save_invstd', 'dx', 'dweight', 'dbias'], ['channels', 'inner', 'accumulate_dx'], [], ['dy', 'x', 'weight', 'save_mean', 'save_invstd'], ['dx', 'dweight', 'dbias']),
  op('layer_norm_forward', ['x', 'weight', 'bias', 'y', 'mean', 'rstd'], ['rows', 'cols'], ['eps'], ['x', 'weight', 'bias'], ['y', 'mean', 'rstd']),
  op('layer_norm_backward', ['dy', 'x', 'weight', 'mean', 'rstd', 'dx', 'dweight', 'dbias'], ['rows', 'cols', 'accumulate_dx'], [], ['dy', 'x', 'weight', 'mean', 'rstd'], ['dx', 'dweight', 'dbias']),
  op('dropout_forward', ['x', 'y', 'mask'], ['features', 'salt'], ['p'], ['x'], ['y', 'mask']),
  op('dropout_backward', ['dy', 'mask', 'dx'], ['features', 'accumulate'], [], ['dy', 'mask'], ['dx']),
  op('activation_forward', ['x', 'y'], ['kind', 'features'], ['alpha'], ['x'], ['y']),
  op('activation_backward', ['dy', 'x', 'y', 'dx'], ['kind', 'features', 'accumulate'], ['alpha'], ['dy', 'x', 'y'], ['dx']),
  op('softmax_forward', ['x', 'y'], ['outer', 'dim', 'inner', 'log'], [], ['x'], ['y']),
  op('softmax_backward', ['dy', 'y', 'dx'], ['outer', 'dim', 'inner', 'log', 'accumulate'], [], ['dy', 'y'], ['dx']),
  op('add_forward', ['a', 'b', 'y'], ['features'], [], ['a', 'b'], ['y']),
  op('copy', ['src', 'dst'], ['features', 'accumulate'], [], ['src'], ['dst']),
  op('concat_forward', ['x', 'y'], ['outer', 'x_inner', 'y_inner', 'offset'], [], ['x'], ['y']),
  op('concat_backward', ['dy', 'dx'], ['outer', 'x_inner', 'y_inner', 'offset', 'accumulate'], [], ['dy'], ['dx']),
  op('nll_loss_forward', ['log_probs', 'labels', 'loss', 'correct', 'weight'], ['classes', 'ignore_index', 'reduction'], [], ['log_probs', 'labels', 'weight'], ['loss', 'correct']),
  op('nll_loss_backward', ['labels', 'dlog_probs', 'weight'], ['classes', 'ignore_index', 'reduction', 'accumulate'], [], ['labels', 'weight'], ['dlog_probs']),
  op('point_loss_forward', ['pred', 'target', 'loss'], ['kind', 'features', 'reduction'], ['beta'], ['pred', 'target'], ['loss']),
  op('point_loss_backward', ['pred', 'target', 'dpred', 'dtarget'], ['kind', 'features', 'reduction', 'accumulate_pred', 'accumulate_target'], ['beta'], ['pred', 'target'], ['dpred', 'dtarget']),
  op('one_hot', ['labels', 'y'], ['classes'], [], ['labels'], ['y']),
  op('rmsprop_step', ['param', 'grad', 'square_avg', 'momentum_buffer', 'grad_avg'], ['centered', 'maximize'], ['lr', 'alpha', 'eps', 'weight_decay', 'momentum'], ['param', 'grad', 'square_avg', 'momentum_buffer', 'grad_avg'], ['param', 'square_avg', 'momentum_buffer', 'grad_avg']),
  op('adagrad_step', ['param', 'grad', 'sum'], ['maximize'], ['lr', 'lr_decay', 'weight_decay', 'eps'], ['param', 'grad', 'sum'], ['param', 'sum']),
  op('grad_norm_sq', ['grad', 'norm_sq'], ['first'], [], ['grad', 'norm_sq'], ['norm_sq']),
  op('clip_grad', ['grad', 'norm_sq'], [], ['max_norm'], ['grad', 'norm_sq'], ['grad']),
] as const satisfies readonly OpInfo[];

export type OpName = (typeof OPS)[number]['name'];
type Row<N extends OpName> = Extract<(typeof OPS)[number], { name: N }>;
/** The operand names of op N ('x' | 'weight' | 'bias' | 'y' for linear_forward). */
export type OperandName<N extends OpName> = Row<N>['operands'][number];

const OPCODES = new Map<string, number>(OPS.map((o, i) => [o.name, i]));

export function opcode(name: OpName): number {
  return OPCODES.get(name)!;
}

export function opInfo(name: OpName): OpInfo {
  return OPS[opcode(name)];
}

/** The int and float attribute names of op N. */
export type IntAttrName<N extends OpName> = Row<N>['intAttrs'][number];
export type FloatAttrName<N extends OpName> = Row<N>['floatAttrs'][number];

const inOrder = (names: readonly string[], byName: object) => names.map((k) => (byName as Record<string, number>)[k]);

/** Operand ids in position order from ids given by name: every name of op N (types check it). */
export function operands<N extends OpName>(name: N, byName: Record<OperandName<N>, number>): number[] {
  return inOrder(opInfo(name).operands, byName);
}

/** Int / float attributes in position order from values given by name. */
export function intAttrs<N extends OpName>(name: N, byName: Record<IntAttrName<N>, number>): number[] {
  return inOrder(opInfo(name).intAttrs, byName);
}
export function floatAttrs<N extends OpName>(name: N, byName: Record<FloatAttrName<N>, number>): number[] {
  return inOrder(opInfo(name).floatAttrs, byName);
}

/** An instruction's operand ids by name (the inverse of operands()). */
export function operandsOf<N extends OpName>(name: N, bufs: readonly number[]): Record<OperandName<N>, number> {
  return Object.fromEntries(opInfo(name).operands.map((o, k) => [o, bufs[k]])) as Record<OperandName<N>, number>;
}

/** Buffers an instruction reads / writes (absent optional operands left out). */
export function readsOf(op: OpName, bufs: readonly number[]): number[] {
  return opInfo(op).reads.map((i) => bufs[i]).filter((b) => b >= 0);
}
export function writesOf(op: OpName, bufs: readonly number[]): number[] {
  return opInfo(op).writes.map((i) => bufs[i]).filter((b) => b >= 0);
}
