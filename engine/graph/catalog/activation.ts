/** Activations, elementwise or along one dimension (Softmax, LogSoftmax). */
import { z } from 'zod';
import { fail, float32, ok, type LayerSpec } from './types.js';

function elementwise(type: string, doc: string, params: z.ZodType<Record<string, unknown>>, paramDocs: Record<string, string> = {}): LayerSpec {
  const inplace = { inplace: 'accepted for PyTorch compatibility; Netloom plans memory itself' };
  return { type, group: 'Activation', doc, paramDocs: { ...inplace, ...paramDocs }, params, arity: { min: 1, max: 1 }, ports: ['input'], infer: (_p, [inp]) => ok(inp) };
}

export const ReLU = elementwise('ReLU', 'nn.ReLU: max(x, 0).', z.object({ inplace: z.boolean().default(false) }).strict(), { inplace: 'accepted for PyTorch compatibility; Netloom plans memory itself' });
export const LeakyReLU = elementwise('LeakyReLU', 'nn.LeakyReLU: x if x > 0 else negative_slope * x.', z.object({ negative_slope: float32().default(0.01), inplace: z.boolean().default(false) }).strict(), { negative_slope: 'slope for negative inputs' });
export const ELU = elementwise('ELU', 'nn.ELU: x if x > 0 else alpha * (exp(x) - 1).', z.object({ alpha: float32().default(1.0), inplace: z.boolean().default(false) }).strict(), { alpha: 'value approached for very negative inputs (negated)' });
export const GELU = elementwise('GELU', 'nn.GELU: x * Φ(x), exact or with the tanh approximation.', z.object({ approximate: z.enum(['none', 'tanh']).default('none') }).strict(), { approximate: '"none" (erf) or "tanh"' });
export const SiLU = elementwise('SiLU', 'nn.SiLU (swish): x * sigmoid(x).', z.object({ inplace: z.boolean().default(false) }).strict());
export const Sigmoid = elementwise('Sigmoid', 'nn.Sigmoid: 1 / (1 + exp(-x)).', z.object({}).strict());
export const Tanh = elementwise('Tanh', 'nn.Tanh.', z.object({}).strict());

function along(type: string, doc: string): LayerSpec {
  return {
    type,
    group: 'Activation',
    doc,
    paramDocs: { dim: 'dimension to normalise along (counting the batch as 0, as in PyTorch; negative counts from the end)' },
    params: z.object({ dim: z.number().int().default(1) }).strict(),
    arity: { min: 1, max: 1 },
    ports: ['input'],
    infer(p, [inp], { fmt }) {
      const rank = inp.length + 1;
      const d = (p.dim as number) < 0 ? (p.dim as number) + rank : (p.dim as number);
      if (d < 1 || d >= rank)
        return fail(`dim ${p.dim} is ${d === 0 ? 'the batch dimension' : 'outside'} the input ${fmt(inp)}`, 'Use dim=1 (the features of a flat input) or -1 (the last dimension).', { param: 'dim', value: -1 });
      return ok(inp, { _dim: d });
    },
  };
}

export const Softmax = along('Softmax', 'nn.Softmax: exponentials normalised to sum to 1 along dim.');
export const LogSoftmax = along('LogSoftmax', 'nn.LogSoftmax: log of Softmax, computed stably (pair it with NLLLoss).');
