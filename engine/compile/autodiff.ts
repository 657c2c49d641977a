/**
 * Reverse-mode autodiff over the forward instruction list: one rule per forward opcode
 * (tinygrad's pm_gradient as a table). Walking the forward list backwards, each rule reads the
 * gradient of its instruction's output and emits the instructions that produce the gradients of
 * its inputs. A buffer that feeds several instructions receives several contributions: the first
 * writes, the others accumulate (the `accumulate` flag every backward kernel takes).
 * Loss instructions are the roots: d(loss)/d(loss) = 1 is folded into their kernels.
 */
import { ProgramBuilder } from './builder.js';
import type { Instr } from './ir.js';
import type { OpName } from './ops.js';

export interface GradCtx {
  /** gradient buffer of a forward buffer, if one has been produced (else the op is dead) */
  gradOf(buffer: number): number | undefined;
  /** where to write a contribution to `buffer`'s gradient; id -1 if `buffer` needs no gradient */
  contribute(buffer: number): { id: number; accumulate: boolean };
  /** the gradient buffer of a learnable parameter (-1 for an absent optional operand) */
  paramGrad(buffer: number): number;
  emit(i: Instr): void;
}

type BackwardRule = (fwd: Instr, g: GradCtx) => void;

const I = ProgramBuilder.instr;
const flag = (b: boolean) => (b ? 1 : 0);

/** Rule for ops shaped [x, w, b?, y] -> backward [dy, x, w, dx?, dw, db?] + ints + accumulate. */
function weighted(op: 'linear_backward' | 'conv2d_backward' | 'conv_transpose2d_backward'): BackwardRule {
  return (f, g) => {
    const [x, w, b, y] = f.bufs;
    const dy = g.gradOf(y);
    if (dy === undefined) return;
    const dx = g.contribute(x);
    g.emit(I(op, [dy, x, w, dx.id, g.paramGrad(w), g.paramGrad(b)], [...f.ints, flag(dx.accumulate)]));
  };
}

/** Rule for single-input ops whose backward is [dy, ...saved, dx] with ints + accumulate. */
function unary(op: OpName, saved: (f: Instr) => number[], floats = false): BackwardRule {
  return (f, g) => {
    const [x, y] = f.bufs;
    const dy = g.gradOf(y);
    if (dy === undefined) return;
    const dx = g.contribute(x);
    if (dx.id < 0) return;
    g.emit(I(op, [dy, ...saved(f), dx.id], [...f.ints, flag(dx.accumulate)], floats ? f.floats : []));
  };
}

const RULES: Partial<Record<OpName, BackwardRule>> = {
  linear_forward: weighted('linear_backward'),
  conv2d_forward: weighted('conv2d_backward'),
  conv_transpose2d_forward: weighted('conv_transpose2d_backward'),
  relu_forward: unary('relu_backward', (f) => [f.bufs[1]]),
  max_pool2d_forward: unary('max_pool2d_backward', (f) => [f.bufs[2]]),
  avg_pool2d_forward: unary('avg_pool2d_backward', () => []),
  adaptive_avg_pool2d_forward: unary('adaptive_avg_pool2d_backward', () => []),
  softmax_forward: unary('softmax_backward', (f) => [f.bufs[1]]),
  concat_forward: unary('concat_backward', () => []),
  dropout_forward(f, g) {
    const [x, y, mask] = f.bufs;
    const dy = g.gradOf(y);
    const dx = g.contribute(x);
    if (dy === undefined || dx.id < 0) return;
    g.emit(I('dropout_backward', [dy, mask, dx.id], [f.ints[0], flag(dx.accumulate)]));
  },
  activation_forward(f, g) {
    const [x, y] = f.bufs;
    const dy = g.gradOf(y);
    const dx = g.contribute(x);
    if (dy === undefined || dx.id < 0) return;
    g.emit(I('activation_backward', [dy, x, y, dx.id], [...f.ints, flag(dx.accumulate)], f.floats));
  },
  add_forward(f, g) {
    const [a, b, y] = f.bufs;
    const dy = g.gradOf(y);
    if (dy === undefined) return;
    for (const src of [a, b]) {
      const d = g.contribute(src);
      if (d.id >= 0) g.emit(I('copy', [dy, d.id], [f.ints[0], flag(d.accumulate)]));
    }
  },
  batch_norm_forward(f, g) {
    const [x, gamma, beta, , , , saveMean, saveInvstd, y] = f.bufs;
    const dy = g.gradOf(y);
    if (dy === undefined) return;
    const dx = g.contribute(x);
    g.emit(I('batch_norm_backward', [dy, x, gamma, saveMean, saveInvstd, dx.id, g.paramGrad(gamma), g.paramGrad(beta)], [...f.ints, flag(dx.accumulate)]));
  },
  layer_norm_forward(f, g) {
    const [x, gamma, beta, y, mean, rstd] = f.bufs;
    const dy = g.gradOf(y);
    if (dy === undefined) return;
    const dx = g.contribute(x);
    g.emit(I('layer_norm_backward', [dy, x, gamma, mean, rstd, dx.id, g.paramGrad(gamma), g.paramGrad(beta)], [...f.ints, flag(dx.accumulate)]));
  },
  softmax_cross_entropy_forward(f, g) {
    const [logits, labels, probs, , , weight] = f.bufs;
    const d = g.contribute(logits);
    if (d.id < 0) return;
    const [classes, ignore, red] = f.ints;
    g.emit(I('softmax_cross_entropy_backward', [probs, labels, d.id, weight], [classes, flag(d.accumulate), ignore, red], f.floats));
  },
  nll_loss_forward(f, g) {
    const [logp, labels, , , weight] = f.bufs;
    const d = g.contribute(logp);
    if (d.id < 0) return;
    g.emit(I('nll_loss_backward', [labels, d.id, weight], [...f.ints, flag(d.accumulate)]));
  },
  point_loss_forward(f, g) {
    const [pred, target] = f.bufs;
    const dp = g.contribute(pred);
    const dt = g.contribute(target);
    if (dp.id < 0 && dt.id < 0) return;
    g.emit(I('point_loss_backward', [pred, target, dp.id, dt.id], [...f.ints, flag(dp.accumulate), flag(dt.accumulate)], f.floats));
  },
  one_hot() {
    // labels carry no gradient
  },
};

/**
 * Builds the backward instruction list.
 * @param needsGrad buffers whose gradient must flow (activations downstream of a parameter);
 *        the input batch and the labels need none.
 */
export function buildBackward(
  forward: Instr[],
  b: ProgramBuilder,
  needsGrad: (buffer: number) => boolean,
  paramGrads: Map<number, number>,
  grads = new Map<number, number>(),
): Instr[] {
  const out: Instr[] = [];
  const ctx: GradCtx = {
    gradOf: (buf) => grads.get(buf),
    contribute(buf) {
      if (buf < 0 || !needsGrad(buf)) return { id: -1, accumulate: false };
      const have = grads.get(buf);
      if (have !== undefined) return { id: have, accumulate: true };
      const src = b.buffers[buf];
      const id = b.buffer(`grad(${src.name})`, 'activation-grad', src.elems, src.batched);
      grads.set(buf, id);
      return { id, accumulate: false };
    },
    paramGrad(buf) {
      if (buf < 0) return -1;
      const g = paramGrads.get(buf);
      if (g === undefined) throw new Error(`internal: buffer ${buf} is not a learnable parameter`);
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
