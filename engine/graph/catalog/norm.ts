/** Normalization: nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm (parameters and buffers as torch). */
import { z } from 'zod';
import { fail, float32, ok, positiveInt, type LayerSpec, type ParamTensor } from './types.js';

const bnParams = z
  .object({
    num_features: z.union([z.literal('auto'), positiveInt]).default('auto'),
    eps: float32(z.number().positive()).default(1e-5),
    momentum: z.number().min(0).max(1).nullable().default(0.1),
    affine: z.boolean().default(true),
    track_running_stats: z.boolean().default(true),
  })
  .strict();

const bnDocs = {
  num_features: 'channels C of the input; "auto" infers them',
  eps: 'added to the variance for numerical stability',
  momentum: 'weight of the newest batch in the running statistics; null = cumulative average',
  affine: 'learn a per-channel scale (weight) and shift (bias)',
  track_running_stats: 'keep running mean/variance for evaluation (else batch statistics are used in eval too)',
};

function bnTensors(p: Record<string, unknown>, c: number): ParamTensor[] {
  const t: ParamTensor[] = [];
  if (p.affine) t.push({ key: 'weight', shape: [c], init: { kind: 'ones' } }, { key: 'bias', shape: [c], init: { kind: 'zeros' } });
  if (p.track_running_stats)
    t.push(
      { key: 'running_mean', shape: [c], init: { kind: 'zeros' }, kind: 'buffer' },
      { key: 'running_var', shape: [c], init: { kind: 'ones' }, kind: 'buffer' },
      { key: 'num_batches_tracked', shape: [], init: { kind: 'zeros' }, kind: 'buffer', dtype: 'i64' },
    );
  return t;
}

function channelCheck(p: Record<string, unknown>, c: number, shape: readonly number[], fmt: (s: readonly number[]) => string) {
  if (p.num_features !== 'auto' && p.num_features !== c)
    return fail(`num_features is ${p.num_features} but the input ${fmt(shape)} has ${c} channels`, `Set num_features to ${c}, or to "auto".`, { param: 'num_features', value: c });
  return ok(shape, { num_features: c });
}

export const BatchNorm1d: LayerSpec = {
  type: 'BatchNorm1d',
  group: 'Normalization',
  doc: 'nn.BatchNorm1d: normalises each feature over the batch (inputs [C] or [C, L]); batch statistics in training, running statistics in evaluation.',
  paramDocs: bnDocs,
  params: bnParams,
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer(p, [inp], { fmt }) {
    if (inp.length !== 1 && inp.length !== 2) return fail(`expects [batch, C] or [batch, C, L] but receives ${fmt(inp)}`, inp.length === 3 ? 'Use BatchNorm2d for images.' : 'Flatten the input first.');
    return channelCheck(p, inp[0], inp, fmt);
  },
  tensors: (p, [inp]) => bnTensors(p, inp[0]),
};

export const BatchNorm2d: LayerSpec = {
  type: 'BatchNorm2d',
  group: 'Normalization',
  doc: 'nn.BatchNorm2d: normalises each channel over the batch and the image; batch statistics in training, running statistics in evaluation.',
  paramDocs: bnDocs,
  params: bnParams,
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer(p, [inp], { fmt }) {
    if (inp.length !== 3) return fail(`expects an image input [batch, C, H, W] but receives ${fmt(inp)}`, inp.length < 3 ? 'Use BatchNorm1d for flat inputs.' : 'Reshape the input.');
    return channelCheck(p, inp[0], inp, fmt);
  },
  tensors: (p, [inp]) => bnTensors(p, inp[0]),
};

export const LayerNorm: LayerSpec = {
  type: 'LayerNorm',
  group: 'Normalization',
  doc: 'nn.LayerNorm: normalises each sample over its last dimensions.',
  paramDocs: {
    normalized_shape: 'the trailing dimensions to normalise over; "auto" = the last dimension',
    eps: 'added to the variance for numerical stability',
    elementwise_affine: 'learn a scale (weight) and shift (bias) per normalised element',
  },
  params: z
    .object({
      normalized_shape: z.union([z.literal('auto'), positiveInt, z.array(positiveInt).min(1)]).default('auto'),
      eps: float32(z.number().positive()).default(1e-5),
      elementwise_affine: z.boolean().default(true),
    })
    .strict(),
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer(p, [inp], { fmt }) {
    const ns = p.normalized_shape === 'auto' ? [inp[inp.length - 1]] : Array.isArray(p.normalized_shape) ? (p.normalized_shape as number[]) : [p.normalized_shape as number];
    const tail = inp.slice(inp.length - ns.length);
    if (ns.length > inp.length || tail.some((d, i) => d !== ns[i]))
      return fail(`normalized_shape [${ns.join(', ')}] does not match the end of the input ${fmt(inp)}`, `Set normalized_shape to [${inp.slice(-ns.length).join(', ')}] or "auto".`, { param: 'normalized_shape', value: 'auto' });
    return ok(inp, { _normalized: ns });
  },
  tensors(p, [inp]) {
    if (!p.elementwise_affine) return [];
    const ns = p.normalized_shape === 'auto' ? [inp[inp.length - 1]] : Array.isArray(p.normalized_shape) ? (p.normalized_shape as number[]) : [p.normalized_shape as number];
    return [{ key: 'weight', shape: ns, init: { kind: 'ones' } }, { key: 'bias', shape: ns, init: { kind: 'zeros' } }];
  },
};
