/**
 * Lowering: analysed graph -> forward instructions. Each node maps to kernel instructions over
 * buffers; views (Flatten, ReLU's shape) reuse their input's buffer instead of copying.
 */
import { NetloomError } from '../errors.js';
import type { Analysis, AnalyzedNode } from '../graph/analyze.js';
import type { Shape } from '../graph/catalog.js';
import { ProgramBuilder } from './builder.js';
import type { Instr, ParamBinding, ProgramIO } from './ir.js';

export interface Value {
  buffer: number;
  shape: Shape;
}

export interface Lowered {
  forward: Instr[];
  params: ParamBinding[];
  io: ProgramIO;
  values: Map<string, Value>;
  inputShape: Shape;
  classes: number;
}

const numel = (s: Shape) => s.reduce((a, b) => a * b, 1);

type LowerRule = (n: AnalyzedNode, ins: Value[], ctx: LowerCtx) => Value;

interface LowerCtx {
  b: ProgramBuilder;
  forward: Instr[];
  params: ParamBinding[];
  io: ProgramIO;
}

function paramBuffers(n: AnalyzedNode, ins: Value[], ctx: LowerCtx): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of n.spec.tensors?.(n.params, ins.map((v) => v.shape)) ?? []) {
    const key = `${n.doc.name}.${t.key}`;
    const elems = numel(t.shape);
    const buffer = ctx.b.buffer(key, 'param', elems, false);
    const grad = ctx.b.buffer(`grad(${key})`, 'param-grad', elems, false);
    ctx.params.push({ key, shape: t.shape, buffer, grad, init: t.init });
    out.set(t.key, buffer);
  }
  return out;
}

/** One row per layer type: how it becomes instructions. */
const LOWER: Record<string, LowerRule> = {
  Input(n, _ins, ctx) {
    const shape = n.outShape!;
    const buffer = ctx.b.buffer(`${n.doc.name}:out`, 'input', numel(shape), true);
    ctx.io.input = buffer;
    return { buffer, shape };
  },
  Flatten(n, [x]) {
    return { buffer: x.buffer, shape: n.outShape! }; // a view: same memory, new shape
  },
  Linear(n, [x], ctx) {
    const p = paramBuffers(n, [x], ctx);
    const out = n.params.out_features as number;
    const y = ctx.b.buffer(`${n.doc.name}:out`, 'activation', out, true);
    ctx.forward.push(ProgramBuilder.instr('linear_forward', [x.buffer, p.get('weight')!, p.get('bias') ?? -1, y], [n.params.in_features as number, out]));
    return { buffer: y, shape: [out] };
  },
  ReLU(n, [x], ctx) {
    const elems = numel(x.shape);
    const y = ctx.b.buffer(`${n.doc.name}:out`, 'activation', elems, true);
    ctx.forward.push(ProgramBuilder.instr('relu_forward', [x.buffer, y], [elems]));
    return { buffer: y, shape: x.shape };
  },
  CrossEntropyLoss(n, [logits], ctx) {
    const classes = logits.shape[0];
    const labels = ctx.b.buffer('labels', 'labels', 1, true, 'i32');
    const probs = ctx.b.buffer(`${n.doc.name}:probs`, 'activation', classes, true);
    const loss = ctx.b.buffer(`${n.doc.name}:loss`, 'scalar', 1, false);
    const correct = ctx.b.buffer(`${n.doc.name}:correct`, 'scalar', 1, false, 'i32');
    ctx.forward.push(ProgramBuilder.instr('softmax_cross_entropy_forward', [logits.buffer, labels, probs, loss, correct], [classes]));
    Object.assign(ctx.io, { labels, logits: logits.buffer, probs, loss, correct });
    return { buffer: loss, shape: [] };
  },
};

export function lowerGraph(a: Analysis, b: ProgramBuilder): Lowered {
  const ctx: LowerCtx = { b, forward: [], params: [], io: { input: -1, labels: -1, logits: -1, probs: -1, loss: -1, correct: -1 } };
  const values = new Map<string, Value>();
  for (const n of a.order) {
    const rule = LOWER[n.doc.type];
    if (!rule) throw new NetloomError('NL_BAD_GRAPH', `${n.doc.type} at node ${n.doc.name} cannot be compiled yet`, 'Replace it with a supported layer.');
    const ins = n.inputs.map((i) => values.get(i)!);
    values.set(n.doc.id, rule(n, ins, ctx));
  }
  const input = values.get(a.inputId!)!;
  const logitsShape = a.byId.get(a.lossId!)!.inputs.map((i) => values.get(i)!.shape)[0];
  return { forward: ctx.forward, params: ctx.params, io: ctx.io, values, inputShape: input.shape, classes: logitsShape[0] };
}
