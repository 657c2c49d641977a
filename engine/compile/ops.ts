/**
 * The Program opcodes, mirroring native/core/ops.def row for row (test/unit/ops.test.ts checks
 * this list against the addon's opNames()). Operand and attribute counts are fixed per op;
 * `reads`/`writes` give the operand positions an instruction reads and writes (gradient flow and
 * memory planning use them). Operand layouts are documented in ops.def.
 */
export interface OpInfo {
  readonly name: string;
  readonly buffers: number;
  readonly ints: number;
  readonly floats: number;
  readonly reads: readonly number[];
  readonly writes: readonly number[];
}

const GEOM = 17; // conv geometry ints
const POOL = 13;

export const OPS = [
  { name: 'linear_forward', buffers: 4, ints: 2, floats: 0, reads: [0, 1, 2], writes: [3] },
  { name: 'linear_backward', buffers: 6, ints: 3, floats: 0, reads: [0, 1, 2], writes: [3, 4, 5] },
  { name: 'relu_forward', buffers: 2, ints: 1, floats: 0, reads: [0], writes: [1] },
  { name: 'relu_backward', buffers: 3, ints: 2, floats: 0, reads: [0, 1], writes: [2] },
  { name: 'softmax_cross_entropy_forward', buffers: 6, ints: 3, floats: 1, reads: [0, 1, 5], writes: [2, 3, 4] },
  { name: 'softmax_cross_entropy_backward', buffers: 4, ints: 4, floats: 1, reads: [0, 1, 3], writes: [2] },
  { name: 'sgd_step', buffers: 3, ints: 2, floats: 4, reads: [0, 1, 2], writes: [0, 2] },
  { name: 'adam_step', buffers: 5, ints: 3, floats: 5, reads: [0, 1, 2, 3, 4], writes: [0, 2, 3, 4] },
  { name: 'conv2d_forward', buffers: 4, ints: GEOM, floats: 0, reads: [0, 1, 2], writes: [3] },
  { name: 'conv2d_backward', buffers: 6, ints: GEOM + 1, floats: 0, reads: [0, 1, 2], writes: [3, 4, 5] },
  { name: 'conv_transpose2d_forward', buffers: 4, ints: GEOM, floats: 0, reads: [0, 1, 2], writes: [3] },
  { name: 'conv_transpose2d_backward', buffers: 6, ints: GEOM + 1, floats: 0, reads: [0, 1, 2], writes: [3, 4, 5] },
  { name: 'max_pool2d_forward', buffers: 3, ints: POOL, floats: 0, reads: [0], writes: [1, 2] },
  { name: 'max_pool2d_backward', buffers: 3, ints: POOL + 1, floats: 0, reads: [0, 1], writes: [2] },
  { name: 'avg_pool2d_forward', buffers: 2, ints: POOL, floats: 0, reads: [0], writes: [1] },
  { name: 'avg_pool2d_backward', buffers: 2, ints: POOL + 1, floats: 0, reads: [0], writes: [1] },
  { name: 'adaptive_avg_pool2d_forward', buffers: 2, ints: 5, floats: 0, reads: [0], writes: [1] },
  { name: 'adaptive_avg_pool2d_backward', buffers: 2, ints: 6, floats: 0, reads: [0], writes: [1] },
  { name: 'batch_norm_forward', buffers: 9, ints: 2, floats: 2, reads: [0, 1, 2, 3, 4, 5], writes: [3, 4, 5, 6, 7, 8] },
  { name: 'batch_norm_backward', buffers: 8, ints: 3, floats: 0, reads: [0, 1, 2, 3, 4], writes: [5, 6, 7] },
  { name: 'layer_norm_forward', buffers: 6, ints: 2, floats: 1, reads: [0, 1, 2], writes: [3, 4, 5] },
  { name: 'layer_norm_backward', buffers: 8, ints: 3, floats: 0, reads: [0, 1, 2, 3, 4], writes: [5, 6, 7] },
  { name: 'dropout_forward', buffers: 3, ints: 2, floats: 1, reads: [0], writes: [1, 2] },
  { name: 'dropout_backward', buffers: 3, ints: 2, floats: 0, reads: [0, 1], writes: [2] },
  { name: 'activation_forward', buffers: 2, ints: 2, floats: 1, reads: [0], writes: [1] },
  { name: 'activation_backward', buffers: 4, ints: 3, floats: 1, reads: [0, 1, 2], writes: [3] },
  { name: 'softmax_forward', buffers: 2, ints: 4, floats: 0, reads: [0], writes: [1] },
  { name: 'softmax_backward', buffers: 3, ints: 5, floats: 0, reads: [0, 1], writes: [2] },
  { name: 'add_forward', buffers: 3, ints: 1, floats: 0, reads: [0, 1], writes: [2] },
  { name: 'copy', buffers: 2, ints: 2, floats: 0, reads: [0], writes: [1] },
  { name: 'concat_forward', buffers: 2, ints: 4, floats: 0, reads: [0], writes: [1] },
  { name: 'concat_backward', buffers: 2, ints: 5, floats: 0, reads: [0], writes: [1] },
  { name: 'nll_loss_forward', buffers: 5, ints: 3, floats: 0, reads: [0, 1, 4], writes: [2, 3] },
  { name: 'nll_loss_backward', buffers: 3, ints: 4, floats: 0, reads: [0, 2], writes: [1] },
  { name: 'point_loss_forward', buffers: 3, ints: 3, floats: 1, reads: [0, 1], writes: [2] },
  { name: 'point_loss_backward', buffers: 4, ints: 5, floats: 1, reads: [0, 1], writes: [2, 3] },
  { name: 'one_hot', buffers: 2, ints: 1, floats: 0, reads: [0], writes: [1] },
  { name: 'rmsprop_step', buffers: 5, ints: 2, floats: 5, reads: [0, 1, 2, 3, 4], writes: [0, 2, 3, 4] },
  { name: 'adagrad_step', buffers: 3, ints: 1, floats: 4, reads: [0, 1, 2], writes: [0, 2] },
  { name: 'grad_norm_sq', buffers: 2, ints: 1, floats: 0, reads: [0, 1], writes: [1] },
  { name: 'clip_grad', buffers: 2, ints: 0, floats: 1, reads: [0, 1], writes: [0] },
] as const satisfies readonly OpInfo[];

export type OpName = (typeof OPS)[number]['name'];

const OPCODES = new Map<string, number>(OPS.map((o, i) => [o.name, i]));

export function opcode(name: OpName): number {
  return OPCODES.get(name)!;
}

export function opInfo(name: OpName): OpInfo {
  return OPS[opcode(name)];
}

/** Buffers an instruction reads / writes (absent optional operands left out). */
export function readsOf(op: OpName, bufs: readonly number[]): number[] {
  return opInfo(op).reads.map((i) => bufs[i]).filter((b) => b >= 0);
}
export function writesOf(op: OpName, bufs: readonly number[]): number[] {
  return opInfo(op).writes.map((i) => bufs[i]).filter((b) => b >= 0);
}
