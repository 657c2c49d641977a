import { z } from 'zod';
import { defaultInit, fail, ok, positiveInt, type LayerSpec } from './types.js';

export const Linear: LayerSpec = {
  type: 'Linear',
  group: 'Linear',
  doc: 'nn.Linear: y = x Wᵀ + b over the features of a flat input.',
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
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer(p, [inp], { fmt }) {
    if (inp.length !== 1) return fail(`expects a flat input [batch, features] but receives ${fmt(inp)}`, 'Insert a Flatten layer before this Linear.');
    const have = inp[0];
    if (p.in_features !== 'auto' && p.in_features !== have)
      return fail(`in_features is ${p.in_features} but the incoming shape is ${fmt(inp)}`, `Set in_features to ${have}, or to "auto" to follow the input.`, { param: 'in_features', value: have });
    return ok([p.out_features as number], { in_features: have });
  },
  tensors: (p, [inp]) => defaultInit([p.out_features as number, inp[0]], inp[0], p.bias as boolean),
};
