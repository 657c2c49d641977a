/**
 * Pooling: nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d. Output sizes follow torch's
 * pooling_output_shape (ceil_mode included); the resolved geometry goes to params._pool.
 */
import { z } from 'zod';
import { fail, intPair, ok, pair, positiveInt, type LayerSpec, type ShapeCtx, type ShapeResult } from './types.js';

export interface PoolGeometry {
  c: number; h: number; w: number;
  kh: number; kw: number; sh: number; sw: number;
  ph: number; pw: number; dh: number; dw: number;
  ho: number; wo: number;
  countIncludePad: boolean;
  divisorOverride: number;
}

function outSize(input: number, k: number, pad: number, stride: number, dil: number, ceil: boolean): number {
  const num = input + 2 * pad - dil * (k - 1) - 1 + (ceil ? stride - 1 : 0);
  let out = Math.floor(num / stride) + 1;
  if (ceil && (out - 1) * stride >= input + pad) out--;
  return out;
}

function poolShape(p: Record<string, unknown>, inp: readonly number[], ctx: ShapeCtx, dilation: [number, number], avg: boolean): ShapeResult {
  if (inp.length !== 3) return fail(`expects an image input [batch, channels, height, width] but receives ${ctx.fmt(inp)}`, 'Pool before flattening.');
  const [c, h, w] = inp;
  const [kh, kw] = pair(p.kernel_size);
  const [sh, sw] = p.stride === null || p.stride === undefined ? [kh, kw] : pair(p.stride);
  const [ph, pw] = pair(p.padding);
  if (ph > Math.floor(kh / 2) || pw > Math.floor(kw / 2))
    return fail(`padding ${ph}x${pw} must be at most half the kernel size ${kh}x${kw}`, `Use padding ${Math.floor(kh / 2)} or less.`, { param: 'padding', value: Math.floor(Math.min(kh, kw) / 2) });
  const ho = outSize(h, kh, ph, sh, dilation[0], p.ceil_mode as boolean);
  const wo = outSize(w, kw, pw, sw, dilation[1], p.ceil_mode as boolean);
  if (ho < 1 || wo < 1)
    return fail(`a ${kh}x${kw} window does not fit the input ${ctx.fmt(inp)}: the output would be ${ho}x${wo}`, 'Lower kernel_size, or remove an earlier pooling layer.');
  const geom: PoolGeometry = {
    c, h, w, kh, kw, sh, sw, ph, pw, dh: dilation[0], dw: dilation[1], ho, wo,
    countIncludePad: avg ? (p.count_include_pad as boolean) : false,
    divisorOverride: avg ? ((p.divisor_override as number | null) ?? 0) : 0,
  };
  return ok([c, ho, wo], { _pool: geom });
}

const poolDocs = {
  kernel_size: 'window size: n or [height, width]',
  stride: 'step between windows (default: kernel_size)',
  padding: 'implicit padding on each side (at most half the kernel)',
  ceil_mode: 'round the output size up instead of down',
};

export const MaxPool2d: LayerSpec = {
  type: 'MaxPool2d',
  group: 'Pooling',
  doc: 'nn.MaxPool2d: the maximum over each window.',
  paramDocs: { ...poolDocs, dilation: 'spacing between window elements' },
  params: z
    .object({
      kernel_size: intPair(1),
      stride: intPair(1).nullable().default(null),
      padding: intPair(0).default(0),
      dilation: intPair(1).default(1),
      ceil_mode: z.boolean().default(false),
    })
    .strict(),
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer: (p, [inp], ctx) => poolShape(p, inp, ctx, pair(p.dilation), false),
};

export const AvgPool2d: LayerSpec = {
  type: 'AvgPool2d',
  group: 'Pooling',
  doc: 'nn.AvgPool2d: the mean over each window.',
  paramDocs: { ...poolDocs, count_include_pad: 'count padding zeros in the mean', divisor_override: 'divide by this instead of the window size' },
  params: z
    .object({
      kernel_size: intPair(1),
      stride: intPair(1).nullable().default(null),
      padding: intPair(0).default(0),
      ceil_mode: z.boolean().default(false),
      count_include_pad: z.boolean().default(true),
      divisor_override: positiveInt.nullable().default(null),
    })
    .strict(),
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer: (p, [inp], ctx) => poolShape(p, inp, ctx, [1, 1], true),
};

export const AdaptiveAvgPool2d: LayerSpec = {
  type: 'AdaptiveAvgPool2d',
  group: 'Pooling',
  doc: 'nn.AdaptiveAvgPool2d: averages to a fixed output size whatever the input size (1 = global average pooling).',
  paramDocs: { output_size: 'output height and width: n, [h, w]; null keeps that input dimension' },
  params: z
    .object({ output_size: z.union([positiveInt, z.tuple([positiveInt.nullable(), positiveInt.nullable()])]) })
    .strict(),
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer(p, [inp], ctx) {
    if (inp.length !== 3) return fail(`expects an image input [batch, channels, height, width] but receives ${ctx.fmt(inp)}`, 'Pool before flattening.');
    const [c, h, w] = inp;
    const [oh, ow] = Array.isArray(p.output_size) ? [p.output_size[0] ?? h, p.output_size[1] ?? w] : [p.output_size as number, p.output_size as number];
    return ok([c, oh, ow]);
  },
};
