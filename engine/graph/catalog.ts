/**
 * The layer catalog: every layer Netloom knows, with PyTorch's names, parameters, defaults and
 * initialisation, and the rule that gives its output shape from its input shapes.
 *
 * Shapes here are per sample (the batch dimension is implicit and shown by the UI as a prefix):
 * a FashionMNIST image is [1, 28, 28], a Linear(784, 512) output is [512].
 */
import { z } from 'zod';

export type Shape = readonly number[];

export type LayerGroup = 'Input & data' | 'Linear' | 'Activation' | 'Structure' | 'Loss';

/** How a parameter tensor is initialised (PyTorch's reset_parameters()). */
export type InitSpec =
  | { kind: 'kaiming_uniform'; a: number; fanIn: number } // bound = gain(a) * sqrt(3 / fan_in)
  | { kind: 'uniform'; bound: number };

export interface ParamTensor {
  /** state-dict suffix: "weight", "bias" */
  readonly key: string;
  readonly shape: Shape;
  readonly init: InitSpec;
}

/** Result of a shape rule: the output shape, or a problem with the fix. */
export type ShapeResult =
  | { ok: true; shape: Shape; resolved?: Record<string, unknown> }
  | { ok: false; message: string; hint: string; fix?: { param: string; value: unknown } };

export interface LayerSpec {
  readonly type: string;
  readonly group: LayerGroup;
  readonly doc: string;
  readonly paramDocs: Readonly<Record<string, string>>;
  /** zod schema with PyTorch defaults; parse() yields the full parameter set. */
  readonly params: z.ZodType<Record<string, unknown>>;
  readonly inputs: number;
  readonly isLoss?: boolean;
  /** Output shape from parameters and input shapes (all inputs connected). */
  infer(params: Record<string, unknown>, inputs: Shape[]): ShapeResult;
  /** Learnable tensors given the (resolved) parameters and input shapes. */
  tensors?(params: Record<string, unknown>, inputs: Shape[]): ParamTensor[];
}

const positiveInt = z.number().int().positive();

const product = (s: Shape) => s.reduce((a, b) => a * b, 1);

export const fmtShape = (s: Shape) => `[${s.join(', ')}]`;

const Input: LayerSpec = {
  type: 'Input',
  group: 'Input & data',
  doc: 'Where samples enter the network. Its shape comes from the dataset (FashionMNIST: 1x28x28).',
  paramDocs: { shape: 'shape of one sample, without the batch dimension' },
  params: z.object({ shape: z.array(positiveInt).min(1).max(4).default([1, 28, 28]) }).strict(),
  inputs: 0,
  infer: (p) => ({ ok: true, shape: p.shape as number[] }),
};

const Flatten: LayerSpec = {
  type: 'Flatten',
  group: 'Structure',
  doc: 'nn.Flatten: flattens dimensions start_dim..end_dim into one (a view, no copy).',
  paramDocs: {
    start_dim: 'first dimension to flatten (1 = the first after the batch dimension)',
    end_dim: 'last dimension to flatten (-1 = the last)',
  },
  params: z.object({ start_dim: z.number().int().default(1), end_dim: z.number().int().default(-1) }).strict(),
  inputs: 1,
  infer(p, [inp]) {
    // Dimensions count the batch like PyTorch does: full shape is [N, ...inp].
    const rank = inp.length + 1;
    const norm = (d: number) => (d < 0 ? d + rank : d);
    const s = norm(p.start_dim as number);
    const e = norm(p.end_dim as number);
    if (s < 0 || s >= rank || e < 0 || e >= rank || s > e)
      return { ok: false, message: `start_dim ${p.start_dim} / end_dim ${p.end_dim} do not fit an input of ${rank} dimensions`, hint: 'Use start_dim=1, end_dim=-1 to flatten everything but the batch.' };
    if (s === 0)
      return { ok: false, message: 'flattening the batch dimension (start_dim=0) is not supported', hint: 'Use start_dim=1.', fix: { param: 'start_dim', value: 1 } };
    const full = [0, ...inp];
    const out = [...full.slice(1, s), product(full.slice(s, e + 1)), ...full.slice(e + 1)];
    return { ok: true, shape: out };
  },
};

const Linear: LayerSpec = {
  type: 'Linear',
  group: 'Linear',
  doc: 'nn.Linear: y = x Wᵀ + b, applied to the last dimension.',
  paramDocs: {
    in_features: 'size of each input sample; "auto" infers it from the incoming shape',
    out_features: 'size of each output sample',
    bias: 'learn an additive bias',
  },
  params: z
    .object({
      in_features: z.union([z.literal('auto'), positiveInt]).default('auto'),
      out_features: positiveInt,
      bias: z.boolean().default(true),
    })
    .strict(),
  inputs: 1,
  infer(p, [inp]) {
    if (inp.length !== 1)
      return { ok: false, message: `expects a flat input [batch, features] but receives [batch, ${inp.join(', ')}]`, hint: 'Insert a Flatten layer before this Linear.' };
    const have = inp[0];
    if (p.in_features !== 'auto' && p.in_features !== have)
      return {
        ok: false,
        message: `in_features is ${p.in_features} but the incoming shape is [batch, ${have}]`,
        hint: `Set in_features to ${have}, or to "auto" to follow the input.`,
        fix: { param: 'in_features', value: have },
      };
    return { ok: true, shape: [p.out_features as number], resolved: { in_features: have } };
  },
  tensors(p, [inp]) {
    const fanIn = inp[inp.length - 1];
    const out = p.out_features as number;
    const t: ParamTensor[] = [{ key: 'weight', shape: [out, fanIn], init: { kind: 'kaiming_uniform', a: Math.sqrt(5), fanIn } }];
    if (p.bias) t.push({ key: 'bias', shape: [out], init: { kind: 'uniform', bound: fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0 } });
    return t;
  },
};

const ReLU: LayerSpec = {
  type: 'ReLU',
  group: 'Activation',
  doc: 'nn.ReLU: max(x, 0), elementwise.',
  paramDocs: { inplace: 'accepted for PyTorch compatibility; Netloom plans memory itself' },
  params: z.object({ inplace: z.boolean().default(false) }).strict(),
  inputs: 1,
  infer: (_p, [inp]) => ({ ok: true, shape: inp }),
};

const CrossEntropyLoss: LayerSpec = {
  type: 'CrossEntropyLoss',
  group: 'Loss',
  doc: 'nn.CrossEntropyLoss: softmax + negative log-likelihood of the target class, averaged over the batch. Targets come from the dataset labels.',
  paramDocs: { reduction: 'how per-sample losses combine (mean)' },
  params: z.object({ reduction: z.literal('mean').default('mean') }).strict(),
  inputs: 1,
  isLoss: true,
  infer(_p, [inp]) {
    if (inp.length !== 1)
      return { ok: false, message: `expects class scores [batch, classes] but receives [batch, ${inp.join(', ')}]`, hint: 'Feed it the output of a Linear layer with out_features = number of classes.' };
    return { ok: true, shape: [] };
  },
};

export const CATALOG: ReadonlyMap<string, LayerSpec> = new Map(
  [Input, Flatten, Linear, ReLU, CrossEntropyLoss].map((s) => [s.type, s]),
);

export function layerSpec(type: string): LayerSpec | undefined {
  return CATALOG.get(type);
}
