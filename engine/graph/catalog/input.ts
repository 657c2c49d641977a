import { z } from 'zod';
import { ok, positiveInt, type LayerSpec } from './types.js';

export const Input: LayerSpec = {
  type: 'Input',
  group: 'Input & data',
  doc: 'Where samples enter the network. Its shape is one sample of the dataset (FashionMNIST: 1x28x28).',
  paramDocs: { shape: 'shape of one sample, without the batch dimension' },
  params: z.object({ shape: z.array(positiveInt).min(1).max(4).default([1, 28, 28]) }).strict(),
  arity: { min: 0, max: 0 },
  ports: [],
  infer: (p) => ok(p.shape as number[]),
};
