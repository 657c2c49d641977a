/**
 * The compiled form of a graph before it is encoded for the native runtime: numbered buffers and
 * three instruction lists (forward, backward, optimizer step). See native/core/program.h for how
 * the runtime reads it.
 */
import type { Shape } from '../graph/catalog.js';
import type { OpName } from './ops.js';

export type BufferRole =
  | 'input'
  | 'labels'
  | 'activation'
  | 'activation-grad'
  | 'param'
  | 'param-grad'
  | 'optim-state'
  | 'scalar';

export interface BufferSpec {
  id: number;
  dtype: 'f32' | 'i32';
  /** per-sample element count when batched, total otherwise */
  elems: number;
  batched: boolean;
  role: BufferRole;
  /** human-readable, for errors and debugging: "fc1.weight", "relu1:out", "grad(fc1:out)" */
  name: string;
  /** offset in 16-word units, assigned by the planner */
  offset16: number;
}

export interface Instr {
  op: OpName;
  /** operand buffer ids; -1 = absent optional operand */
  bufs: number[];
  ints: number[];
  floats: number[];
}

/** A learnable tensor: state-dict key, its buffer and how to initialise it. */
export interface ParamBinding {
  key: string;
  shape: Shape;
  buffer: number;
  grad: number;
  init: import('../graph/catalog.js').InitSpec;
}

/** An optimizer state tensor as torch names it in optimizer.state_dict(). */
export interface StateBinding {
  param: string;
  key: string; // momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq
  buffer: number;
  shape: Shape;
}

export interface ProgramIO {
  input: number;
  labels: number;
  logits: number;
  probs: number;
  loss: number;
  correct: number;
}

export interface CompiledProgram {
  maxBatch: number;
  buffers: BufferSpec[];
  forward: Instr[];
  backward: Instr[];
  step: Instr[];
  io: ProgramIO;
  params: ParamBinding[];
  states: StateBinding[];
  /** arena size in 16-word units */
  arena16: number;
  /** per-sample input shape and class count, for checking datasets against the model */
  inputShape: Shape;
  classes: number;
}
