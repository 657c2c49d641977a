/**
 * compileGraph: analysed graph + optimizer + batch size -> CompiledProgram (forward, reverse-mode
 * backward, optimizer step, memory plan). The result is encoded by program.ts and run natively.
 */
import type { Analysis } from '../graph/analyze.js';
import type { OptimizerDoc } from '../graph/document.js';
import { buildBackward } from './autodiff.js';
import { ProgramBuilder } from './builder.js';
import type { CompiledProgram } from './ir.js';
import { lowerGraph } from './lower.js';
import { buildOptimizer } from './optim.js';
import { planMemory } from './plan.js';

export interface CompileOptions {
  batchSize: number;
  optimizer: OptimizerDoc;
  /** false: forward only (inference / evaluation programs) */
  train?: boolean;
  planMemory?: boolean;
}

export function compileGraph(a: Analysis, o: CompileOptions): CompiledProgram {
  const b = new ProgramBuilder();
  const low = lowerGraph(a, b);
  const train = o.train ?? true;

  // A buffer needs a gradient when a parameter influences it.
  const requires = new Set<number>(low.params.map((p) => p.buffer));
  for (const ins of low.forward) {
    const outs = outputsOf(ins.op, ins.bufs);
    if (inputsOf(ins.op, ins.bufs).some((x) => requires.has(x))) outs.forEach((y) => requires.add(y));
  }
  const paramGrads = new Map(low.params.map((p) => [p.buffer, p.grad]));
  const backward = train ? buildBackward(low.forward, b, (buf) => requires.has(buf) && !paramGrads.has(buf), paramGrads) : [];
  const { step, states } = train ? buildOptimizer(o.optimizer, low.params, b) : { step: [], states: [] };

  const arena16 = planMemory(b.buffers, [...low.forward, ...backward, ...step], low.io, o.batchSize, o.planMemory ?? true);
  return {
    maxBatch: o.batchSize,
    buffers: b.buffers,
    forward: low.forward,
    backward,
    step,
    io: low.io,
    params: low.params,
    states,
    arena16,
    inputShape: low.inputShape,
    classes: low.classes,
  };
}

/** Operand roles per op: which buffers an instruction reads and which it writes. */
function inputsOf(op: string, bufs: number[]): number[] {
  switch (op) {
    case 'linear_forward': return bufs.slice(0, 3).filter((b) => b >= 0);
    case 'relu_forward': return [bufs[0]];
    case 'softmax_cross_entropy_forward': return bufs.slice(0, 2);
    default: return [];
  }
}
function outputsOf(op: string, bufs: number[]): number[] {
  switch (op) {
    case 'linear_forward': return [bufs[3]];
    case 'relu_forward': return [bufs[1]];
    case 'softmax_cross_entropy_forward': return bufs.slice(2);
    default: return [];
  }
}
