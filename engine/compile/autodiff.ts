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
import { operands, operandsOf, type OpName } from './ops.js';

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
    const { x, weight, bias, y } = operandsOf(f.op as 'linear_forward' | 'conv2d_forward' | 'conv_transpose2d_forward', f.bufs);
    const dy = g.gradOf(y);
    if (dy === undefined) return;
    const dx = g.contribute(x);
    const bufs = operands(op, { dy, x, weight, dx: dx.id, dweight: g.paramGrad(weight), dbias: g.paramGrad(bias) });
    g.emit(I(op, bufs, [...f.ints, flag(dx.accumulate)]));
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
  relu_forward: unary('relu_backward', (f) => [operandsOf('relu_forward', f.bufs).y]),
  max_pool2d_forward: unary('max_pool2d_backward', (f) => [operandsOf('max_pool2d_forward', f.bufs).indices]),
  avg_pool2d_forward: unary('avg_pool2d_backward', () => []),
  adaptive_avg_pool2d_forward: unary('adaptive_avg_pool2d_backward', () => []),
  softmax_forward: unary('softmax_backward', (f) => [operandsOf('softmax_forward', f.bufs).y]),
  concat_forward: unary('concat_backward', () => []),
  dropout_forward(f, g) {
    const { x, y, mask } = operandsOf('dropout_forward', f.bufs);
    const dy = g.gradOf(y);
    const dx = g.contribute(x);
    if (dy === undefined || dx.id < 0) return;
    const [features] = f.ints;
    g.emit(I('dropout_backward', operands('dropout_backward', { dy, mask, dx: dx.id }), [features, flag(dx.accumulate)]));
  },
  activation_forward(f, g) {
    const { x, y } = operandsOf('activation_forward', f.bufs);
    const dy = g.gradOf(y);
    const dx = g.contribute(x);
    if (dy === undefined || dx.id < 0) return;
    g.emit(I('activation_backward', operands('activation_backward', { dy, x, y, dx: dx.id }), [...f.ints, flag(dx.accumulate)], f.floats));
  },
  add_forward(f, g) {
    const { a, b, y } = operandsOf('add_forward', f.bufs);
    const dy = g.gradOf(y);
    if (dy === undefined) return;
    const [features] = f.ints;
    for (const src of [a, b]) {
      const d = g.contribute(src);
      if (d.id >= 0) g.emit(I('copy', operands('copy', { src: dy, dst: d.id }), [features, flag(d.accumulate)]));
    }
  },
  batch_norm_forward(f, g) {
    const { x, weight, bias, save_mean, save_invstd, y } = operandsOf('batch_norm_forward', f.bufs);
    const dy = g.gradOf(y);
    if (dy === undefined) return;
    const dx = g.contribute(x);
    const bufs = operands('batch_norm_backward', { dy, x, weight, save_mean, save_invstd, dx: dx.id, dweight: g.paramGrad(weight), dbias: g.paramGrad(bias) });
    g.emit(I('batch_norm_backward', bufs, [...f.ints, flag(dx.accumulate)]));
  },
  layer_norm_forward(f, g) {
    const { x, weight, bias, y, mean, rstd } = operandsOf('layer_norm_forward', f.bufs);
    const dy = g.gradOf(y);
    if (dy === undefined) return;
    const dx = g.contribute(x);
    const bufs = operands('layer_norm_backward', { dy, x, weight, mean, rstd, dx: dx.id, dweight: g.paramGrad(weight), dbias: g.paramGrad(bias) });
    g.emit(I('layer_norm_backward', bufs, [...f.ints, flag(dx.accumulate)]));
  },
  softmax_cross_entropy_forward(f, g) {
    const { logits, labels, probs, weight } = operandsOf('softmax_cross_entropy_forward', f.bufs);
    const d = g.contribute(logits);
    if (d.id < 0) return;
    const [classes, ignore, red] = f.ints;
    const bufs = operands('softmax_cross_entropy_backward', { probs, labels, dlogits: d.id, weight });
    g.emit(I('softmax_cross_entropy_backward', bufs, [classes, flag(d.accumulate), ignore, red], f.floats));
  },
  nll_loss_forward(f, g) {
    const { log_probs, labels, weight } = operandsOf('nll_loss_forward', f.bufs);
    const d = g.contribute(log_probs);
    if (d.id < 0) return;
    g.emit(I('nll_loss_backward', operands('nll_loss_backward', { labels, dlog_probs: d.id, weight }), [...f.ints, flag(d.accumulate)]));
  },
  point_loss_forward(f, g) {
    const { pred, target } = operandsOf('point_loss_forward', f.bufs);
    const dp = g.contribute(pred);
    const dt = g.contribute(target);
    if (dp.id < 0 && dt.id < 0) return;
    const bufs = operands('point_loss_backward', { pred, target, dpred: dp.id, dtarget: dt.id });
    g.emit(I('point_loss_backward', bufs, [...f.ints, flag(dp.accumulate), flag(dt.accumulate)], f.floats));
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
