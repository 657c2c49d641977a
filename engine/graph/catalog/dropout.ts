import { z } from 'zod';
import { ok, type LayerSpec } from './types.js';

export const Dropout: LayerSpec = {
  type: 'Dropout',
  group: 'Dropout',
  doc: 'nn.Dropout: during training zeroes each element with probability p and scales the rest by 1/(1-p); does nothing in evaluation.',
  paramDocs: { p: 'probability of zeroing an element (between 0 and 1)', inplace: 'accepted for PyTorch compatibility' },
  params: z
    .object({
      p: z.number().min(0, 'must be between 0 and 1 (a probability)').max(1, 'must be between 0 and 1 (a probability)').default(0.5),
      inplace: z.boolean().default(false),
    })
    .strict(),
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer: (_p, [inp]) => ok(inp),
};
