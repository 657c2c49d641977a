/**
 * The operator chains exporters write for layers ONNX opset 17 has no single operator for, matched
 * from their first node: GELU (torch: x * 0.5 * (1 + erf(x / sqrt 2)), and the tanh approximation
 * 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))), SiLU (x * sigmoid(x)), and a CSV
 * standardisation in front of the first layer ((x - mean) / std). Operands of Add and Mul may come in
 * either order; every intermediate value must feed only the next step, so nothing else reads it.
 */
import type { ImportBuilder } from './import-graph.js';
import type { NodeProto } from './schema.js';

/** One step: the operator and its other operand: the chain's input x, a scalar constant, a constant tensor, or none. */
export interface Step {
  op: string;
  other?: 'x' | number | 'tensor';
}

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

function otherMatches(b: ImportBuilder, name: string | undefined, x: string, other: Step['other']): boolean {
  if (other === 'x') return name === x;
  const t = b.constOf(name);
  if (!t) return false;
  if (other === 'tensor') return true;
  return t.data.length === 1 && near(t.data[0], other as number);
}

/** The step's node reads `current` (first operand for Div/Sub, either for Add/Mul) and its other operand fits. */
function stepMatches(b: ImportBuilder, n: NodeProto, step: Step, current: string, x: string): boolean {
  if (n.op_type !== step.op || (n.domain ?? '') !== '' || b.consumed.has(n)) return false;
  const ins = n.input ?? [];
  if (step.other === undefined) return ins.length === 1 && ins[0] === current;
  if (ins.length !== 2) return false;
  if (ins[0] === current && otherMatches(b, ins[1], x, step.other)) return true;
  const commutative = step.op === 'Add' || step.op === 'Mul';
  return commutative && ins[1] === current && otherMatches(b, ins[0], x, step.other);
}

/** The nodes of the chain `steps` starting at `first` on input x, or undefined when they do not match. */
export function matchChain(b: ImportBuilder, first: NodeProto, x: string, steps: readonly Step[]): NodeProto[] | undefined {
  const nodes: NodeProto[] = [];
  let current = x;
  let n: NodeProto | undefined = first;
  for (const [k, step] of steps.entries()) {
    if (!n || !stepMatches(b, n, step, current, x)) return undefined;
    nodes.push(n);
    current = n.output?.[0] ?? '';
    if (k < steps.length - 1) n = b.soleConsumer(current);
  }
  return nodes;
}

export const GELU_ERF: readonly Step[] = [{ op: 'Div', other: Math.SQRT2 }, { op: 'Erf' }, { op: 'Add', other: 1 }, { op: 'Mul', other: 'x' }, { op: 'Mul', other: 0.5 }];
export const GELU_TANH: readonly Step[] = [
  { op: 'Mul', other: 'x' }, { op: 'Mul', other: 'x' }, { op: 'Mul', other: 0.044715 }, { op: 'Add', other: 'x' },
  { op: 'Mul', other: Math.sqrt(2 / Math.PI) }, { op: 'Tanh' }, { op: 'Add', other: 1 }, { op: 'Mul', other: 'x' }, { op: 'Mul', other: 0.5 },
];
export const SILU: readonly Step[] = [{ op: 'Sigmoid' }, { op: 'Mul', other: 'x' }];
export const STANDARDIZE: readonly Step[] = [{ op: 'Sub', other: 'tensor' }, { op: 'Div', other: 'tensor' }];
