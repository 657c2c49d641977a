/**
 * The model summary (torchinfo's table): per node its output shape with the batch in front, its
 * parameter count and its FLOPs, plus totals and memory estimates. Works on an Analysis, so a
 * graph with problems still gets a summary for the nodes whose shapes are known (the others get
 * a null shape and zero counts).
 *
 * FLOPs = 2 x multiply-adds of one forward pass over the whole batch N (torchinfo and fvcore
 * count multiply-adds; we double them, as papers usually quote FLOPs). Biases are not counted.
 *   Linear            2 * in * out * N
 *   Conv1d/Conv2d     2 * Cout * Ho * Wo * (Cin / groups) * kh * kw * N
 *   ConvTranspose2d   2 * Cin * H * W * (Cout / groups) * kh * kw * N   (counted on the input side)
 *   everything else   FLOPS_PER_ELEMENT[type] per element (see the table): of the output for
 *                     activations, norms, dropout and Add; of the window for Max/AvgPool2d
 *                     (kh * kw per output element); of the input for AdaptiveAvgPool2d and losses.
 *                     Views (Flatten, Reshape, Identity), Concat (a copy) and Input count 0.
 *
 * Memory (float32): paramBytes = 4 bytes per learnable value + the buffers (BatchNorm's running
 * statistics, num_batches_tracked as int64); activationBytes = every node's output at this batch
 * size, Input included (what backward keeps, before the memory planner shares buffers).
 */
import { numel, type ParamTensor, type Shape } from './catalog/types.js';
import type { ConvGeometry } from './catalog/conv.js';
import type { PoolGeometry } from './catalog/pool.js';
import type { Analysis, AnalyzedNode } from './analyze.js';
import { nestRows } from './summary-groups.js';

/** Rough cost per element of the ops that are not matrix products (see the header). */
export const FLOPS_PER_ELEMENT: Readonly<Record<string, number>> = {
  ReLU: 1,
  LeakyReLU: 2,
  ELU: 4,
  GELU: 5,
  SiLU: 4,
  Sigmoid: 4,
  Tanh: 4,
  Softmax: 5,
  LogSoftmax: 5,
  BatchNorm1d: 5,
  BatchNorm2d: 5,
  LayerNorm: 5,
  Dropout: 1,
  Add: 1, // per extra input
  MaxPool2d: 1, // per window element
  AvgPool2d: 1, // per window element
  AdaptiveAvgPool2d: 1, // per input element
  CrossEntropyLoss: 5,
  NLLLoss: 1,
  MSELoss: 3,
  L1Loss: 3,
  SmoothL1Loss: 4,
  BCEWithLogitsLoss: 5,
};

export const FLOAT_BYTES = 4;

export interface SummaryRow {
  nodeId: string;
  name: string;
  type: string;
  /** output shape with the batch in front; null when it could not be inferred */
  outShape: number[] | null;
  /** learnable values (weights and biases; not buffers) */
  params: number;
  flops: number;
  /** torchinfo's depth: 0 at the top level, +1 inside each group level (summary-groups.ts) */
  depth?: number;
  /** set on a group's (or a repeat copy's) own row; nodeId is then "" */
  groupId?: string;
}

export interface ModelSummary {
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  totalFlops: number;
  activationBytes: number;
  paramBytes: number;
}

/** Per-sample shape -> the shape PyTorch prints, batch in front. A loss's output is a scalar []. */
export function batchShape(node: AnalyzedNode, batchSize: number): number[] | null {
  if (!node.outShape) return null;
  return node.spec.isLoss ? [] : [batchSize, ...node.outShape];
}

/** The shapes of a node's inputs, or undefined when one of them is unknown. */
export function inputShapes(analysis: Analysis, node: AnalyzedNode): Shape[] | undefined {
  const shapes = node.inputs.map((i) => analysis.byId.get(i)?.outShape);
  return shapes.some((s) => s === undefined) ? undefined : (shapes as Shape[]);
}

/** The node's parameter and buffer tensors (empty when its shapes are unknown or it has none). */
export function nodeTensors(analysis: Analysis, node: AnalyzedNode): ParamTensor[] {
  const ins = inputShapes(analysis, node);
  if (!node.outShape || !ins || !node.spec.tensors) return [];
  return node.spec.tensors(node.params, ins);
}

const tensorBytes = (t: ParamTensor) => numel(t.shape) * (t.dtype === 'i64' ? 8 : FLOAT_BYTES);

/** Learnable values of a node. */
export function paramCount(analysis: Analysis, node: AnalyzedNode): number {
  return nodeTensors(analysis, node)
    .filter((t) => (t.kind ?? 'param') === 'param')
    .reduce((s, t) => s + numel(t.shape), 0);
}

/** FLOPs of one forward pass of this node over a batch (see the header for the rules). */
export function nodeFlops(analysis: Analysis, node: AnalyzedNode, batchSize: number): number {
  const ins = inputShapes(analysis, node);
  const out = node.outShape;
  if (!out || !ins) return 0;
  const n = batchSize;
  const p = node.params;
  const perElement = FLOPS_PER_ELEMENT[node.spec.type] ?? 0;
  switch (node.spec.type) {
    case 'Linear':
      return 2 * ins[0][0] * out[0] * n;
    case 'Conv1d':
    case 'Conv2d': {
      const g = p._conv as ConvGeometry;
      return 2 * g.cout * g.ho * g.wo * (g.cin / g.groups) * g.kh * g.kw * n;
    }
    case 'ConvTranspose2d': {
      const g = p._conv as ConvGeometry;
      return 2 * g.cin * g.h * g.w * (g.cout / g.groups) * g.kh * g.kw * n;
    }
    case 'MaxPool2d':
    case 'AvgPool2d': {
      const g = p._pool as PoolGeometry;
      return perElement * g.c * g.ho * g.wo * g.kh * g.kw * n;
    }
    case 'AdaptiveAvgPool2d':
      return perElement * numel(ins[0]) * n;
    case 'Add':
      return perElement * (ins.length - 1) * numel(out) * n;
    default:
      // Losses cost per element of the prediction; everything else per output element.
      return perElement * numel(node.spec.isLoss ? ins[0] : out) * n;
  }
}

/** The summary table in topological order, nested by groups (summary-groups.ts), with totals. */
export function summarize(analysis: Analysis, batchSize: number): ModelSummary {
  const rows: SummaryRow[] = [];
  let totalParams = 0;
  let bufferBytes = 0;
  let totalFlops = 0;
  let activationBytes = 0;
  for (const node of analysis.order) {
    const tensors = nodeTensors(analysis, node);
    const params = tensors.filter((t) => (t.kind ?? 'param') === 'param').reduce((s, t) => s + numel(t.shape), 0);
    bufferBytes += tensors.filter((t) => t.kind === 'buffer').reduce((s, t) => s + tensorBytes(t), 0);
    const flops = nodeFlops(analysis, node, batchSize);
    const outShape = batchShape(node, batchSize);
    if (outShape) activationBytes += numel(outShape) * FLOAT_BYTES;
    totalParams += params;
    totalFlops += flops;
    rows.push({ nodeId: node.doc.id, name: node.doc.name, type: node.spec.type, outShape, params, flops });
  }
  return {
    rows: nestRows(rows, analysis.flat),
    totalParams,
    // Netloom has no frozen layers yet: every learnable value is trained.
    trainableParams: totalParams,
    totalFlops,
    activationBytes,
    paramBytes: totalParams * FLOAT_BYTES + bufferBytes,
  };
}
