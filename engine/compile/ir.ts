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
  | 'targets'
  | 'activation'
  | 'activation-grad'
  | 'param'
  | 'param-buffer'
  | 'param-grad'
  | 'const'
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

/** A state-dict tensor: key, buffer, how to initialise it; learnable ones have a gradient. */
export interface ParamBinding {
  key: string;
  shape: Shape;
  buffer: number;
  /** gradient buffer; -1 for state buffers (BatchNorm's running stats) */
  grad: number;
  init: import('../graph/catalog.js').InitSpec;
  learnable: boolean;
  /** state-dict dtype; i64 tensors (num_batches_tracked) live in an int32 buffer */
  dtype: 'f32' | 'i64';
}

/** A constant the program reads (CrossEntropyLoss class weights), uploaded once. */
export interface ConstBinding {
  buffer: number;
  data: Float32Array;
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
  /** int32 class indices, one per sample (the dataset's labels) */
  labels: number;
  logits: number;
  probs: number;
  loss: number;
  correct: number;
  /** float regression targets, a row per sample (a regression CSV's target columns); -1 = none */
  targets: number;
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
  constants: ConstBinding[];
  /** classification: class-index targets, accuracy reported; regression: tensor targets */
  task: 'classification' | 'regression';
  /** gradient buffer of the input batch when compiled with inputGrad, else -1 */
  inputGrad: number;
  /** arena size in 16-word units */
  arena16: number;
  /** per-sample input shape, for checking datasets against the model */
  inputShape: Shape;
  /** classes the dataset labels index (0 when the program does not read labels) */
  classes: number;
}

/**
 * Regression targets a dataset supplies with each sample (a regression CSV's target column): a point
 * loss with no target edge compares the model's output with them instead of one-hot labels.
 */
export interface TargetSpec {
  /** values per sample */
  width: number;
  /** the target columns' names, for messages ("price") */
  names: string[];
  /** what holds them, for messages ("the CSV") */
  source: string;
}
