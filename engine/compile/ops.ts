/**
 * The Program opcodes, mirroring native/core/ops.def row for row (test/unit/ops.test.ts checks
 * this list against the addon's opNames()). Operand and attribute counts are fixed per op.
 */
export interface OpInfo {
  readonly name: string;
  readonly buffers: number;
  readonly ints: number;
  readonly floats: number;
}

export const OPS = [
  { name: 'linear_forward', buffers: 4, ints: 2, floats: 0 },
  { name: 'linear_backward', buffers: 6, ints: 3, floats: 0 },
  { name: 'relu_forward', buffers: 2, ints: 1, floats: 0 },
  { name: 'relu_backward', buffers: 3, ints: 2, floats: 0 },
  { name: 'softmax_cross_entropy_forward', buffers: 5, ints: 1, floats: 0 },
  { name: 'softmax_cross_entropy_backward', buffers: 3, ints: 2, floats: 0 },
  { name: 'sgd_step', buffers: 3, ints: 2, floats: 4 },
  { name: 'adam_step', buffers: 5, ints: 3, floats: 5 },
] as const satisfies readonly OpInfo[];

export type OpName = (typeof OPS)[number]['name'];

const OPCODES = new Map<string, number>(OPS.map((o, i) => [o.name, i]));

export function opcode(name: OpName): number {
  return OPCODES.get(name)!;
}

export function opInfo(name: OpName): OpInfo {
  return OPS[opcode(name)];
}
