/**
 * Reverse-mode autodiff over the forward instruction list: one rule per forward opcode
 * (tinygrad's pm_gradient as a table). Walking the forward list backwards, each rule reads the
 * gradient of its instruction's output and emits the instructions that produce the gradients of
 * its inputs. A buffer that feeds several instructions receives several contributions: the first
 * writes, the others accumulate (the `accumulate` flag every backward kernel takes).
 */
import { ProgramBuilder } from './builder.js';
import type { Instr } from './ir.js';
import type { OpName } from './ops.js';

export interface GradCtx {
  /** gradient buffer of a forward buffer, if one has been produced (else the op is dead) */
  gradOf(buffer: number): number | undefined;
  /** where to write a contribution to `buffer`'s gradient; -1 if `buffer` needs no gradient */
  contribute(buffer: number): { id: number; accumulate: boolean };
  /** the gradient buffer of a parameter */
  paramGrad(buffer: number): number;
  emit(i: Instr): void;
}

type BackwardRule = (fwd: Instr, g: GradCtx) => void;

const RULES: Partial<Record<OpName, BackwardRule>> = {
  linear_forward(f, g) {
    const [x, w, b, y] = f.bufs;
    const dy = g.gradOf(y);
    if (dy === undefined) return;
    const dx = g.contribute(x);
    g.emit(ProgramBuilder.instr('linear_backward', [dy, x, w, dx.id, g.paramGrad(w), b >= 0 ? g.paramGrad(b) : -1], [...f.ints, dx.accumulate ? 1 : 0]));
  },
  relu_forward(f, g) {
    const [x, y] = f.bufs;
    const dy = g.gradOf(y);
    const dx = g.contribute(x);
    if (dy === undefined || dx.id < 0) return;
    g.emit(ProgramBuilder.instr('relu_backward', [dy, y, dx.id], [f.ints[0], dx.accumulate ? 1 : 0]));
  },
  softmax_cross_entropy_forward(f, g) {
    // The loss is the root: d(loss)/d(loss) = 1, folded into the kernel.
    const [logits, labels, probs] = f.bufs;
    const dl = g.contribute(logits);
    if (dl.id < 0) return;
    g.emit(ProgramBuilder.instr('softmax_cross_entropy_backward', [probs, labels, dl.id], [f.ints[0], dl.accumulate ? 1 : 0]));
  },
};

/**
 * Builds the backward instruction list.
 * @param needsGrad buffers whose gradient is wanted or must flow through (activations downstream
 *        of a parameter); the input batch needs none.
 */
export function buildBackward(forward: Instr[], b: ProgramBuilder, needsGrad: (buffer: number) => boolean, paramGrads: Map<number, number>): Instr[] {
  const grads = new Map<number, number>();
  const out: Instr[] = [];
  const ctx: GradCtx = {
    gradOf: (buf) => grads.get(buf),
    contribute(buf) {
      if (!needsGrad(buf)) return { id: -1, accumulate: false };
      const have = grads.get(buf);
      if (have !== undefined) return { id: have, accumulate: true };
      const src = b.buffers[buf];
      const id = b.buffer(`grad(${src.name})`, 'activation-grad', src.elems, src.batched);
      grads.set(buf, id);
      return { id, accumulate: false };
    },
    paramGrad(buf) {
      const g = paramGrads.get(buf);
      if (g === undefined) throw new Error(`internal: buffer ${buf} is not a parameter`);
      return g;
    },
    emit: (i) => out.push(i),
  };
  for (let k = forward.length - 1; k >= 0; k--) {
    const rule = RULES[forward[k].op];
    if (!rule) throw new Error(`internal: no backward rule for ${forward[k].op}`);
    rule(forward[k], ctx);
  }
  return out;
}
