/**
 * compileGraph: analysed graph + optimizer + batch size -> CompiledProgram (forward, reverse-mode
 * backward, optimizer step, memory plan). The result is encoded by program.ts and run natively.
 */
import type { Analysis } from '../graph/analyze.js';
import type { OptimizerDoc } from '../contract/optimizers.js';
import { buildBackward } from './autodiff.js';
import { ProgramBuilder } from './builder.js';
import type { CompiledProgram, TargetSpec } from './ir.js';
import { lowerGraph } from './lower.js';
import { buildOptimizer } from './optim.js';
import { readsOf, writesOf } from './ops.js';
import { planMemory } from './plan.js';

export interface CompileOptions {
  batchSize: number;
  optimizer: OptimizerDoc;
  /** torch.nn.utils.clip_grad_norm_ max_norm before each step (null/undefined: off) */
  clipGradNorm?: number | null;
  /** false: forward only (inference / evaluation programs) */
  train?: boolean;
  /** also compute the gradient of the loss with respect to the input batch (saliency, parity tests) */
  inputGrad?: boolean;
  planMemory?: boolean;
  /**
   * The dataset's regression targets (a regression CSV): a point loss with no target edge compares
   * the model's output with them (the width must match). Without it such a loss uses the class
   * labels one-hot encoded; class losses refuse it (they need class labels).
   */
  targets?: TargetSpec;
}

export function compileGraph(a: Analysis, o: CompileOptions): CompiledProgram {
  const b = new ProgramBuilder();
  const low = lowerGraph(a, b, { targets: o.targets });
  const train = o.train ?? true;

  // A buffer needs a gradient when a learnable parameter influences it. Only activations
  // propagate it (BatchNorm also writes its running statistics, which need none).
  const requires = new Set<number>(low.params.filter((p) => p.learnable).map((p) => p.buffer));
  for (const ins of low.forward)
    if (readsOf(ins.op, ins.bufs).some((x) => requires.has(x)))
      for (const y of writesOf(ins.op, ins.bufs)) if (b.buffers[y].role === 'activation') requires.add(y);
  if (o.inputGrad) {
    requires.add(low.io.input);
    for (const ins of low.forward)
      if (readsOf(ins.op, ins.bufs).some((x) => requires.has(x)))
        for (const y of writesOf(ins.op, ins.bufs)) if (b.buffers[y].role === 'activation') requires.add(y);
  }
  const paramGrads = new Map(low.params.filter((p) => p.learnable).map((p) => [p.buffer, p.grad]));
  const grads = new Map<number, number>();
  const backward = train ? buildBackward(low.forward, b, (buf) => requires.has(buf) && !paramGrads.has(buf), paramGrads, grads) : [];
  const opt = train ? buildOptimizer(o.optimizer, low.params, b, o.clipGradNorm ?? null) : { step: [], states: [], constants: [] };

  const inputGrad = o.inputGrad ? grads.get(low.io.input) ?? -1 : -1;
  // The input gradient is read after the step, so the planner must not reuse its memory.
  const pinned = { ...low.io, inputGrad };
  const arena16 = planMemory(b.buffers, [...low.forward, ...backward, ...opt.step], pinned, o.batchSize, o.planMemory ?? true);
  return {
    maxBatch: o.batchSize,
    buffers: b.buffers,
    forward: low.forward,
    backward,
    step: opt.step,
    io: low.io,
    params: low.params,
    states: opt.states,
    constants: [...low.constants, ...opt.constants],
    task: low.task,
    inputGrad,
    arena16,
    inputShape: low.inputShape,
    classes: low.classes,
  };
}
