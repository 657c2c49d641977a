/**
 * Convolutions: nn.Conv2d, nn.Conv1d, nn.ConvTranspose2d, with torch's parameters and checks.
 * The shape rule resolves every geometric detail (padding "same" split, output size) into
 * params._conv, which lowering passes to the kernel unchanged.
 */
import { z } from 'zod';
import { defaultInit, fail, intPair, ok, pair, positiveInt, type LayerSpec, type ShapeCtx, type ShapeResult } from './types.js';

export interface ConvGeometry {
  cin: number; h: number; w: number;
  cout: number; kh: number; kw: number;
  sh: number; sw: number;
  ph0: number; ph1: number; pw0: number; pw1: number;
  dh: number; dw: number;
  groups: number;
  ho: number; wo: number;
}

const channels = z.union([z.literal('auto'), positiveInt]);

/** Shared checks for Conv1d/Conv2d once sizes are pairs. `what` = "Conv2d" etc. */
function convForward(
  p: Record<string, unknown>, cin: number, h: number, w: number,
  k: [number, number], s: [number, number], d: [number, number], padding: unknown, ctx: ShapeCtx, inp: readonly number[], oneD: boolean,
): ShapeResult {
  const cout = p.out_channels as number;
  const groups = p.groups as number;
  if (p.in_channels !== 'auto' && p.in_channels !== cin)
    return fail(`in_channels is ${p.in_channels} but the input ${ctx.fmt(inp)} has ${cin} channels`, `Set in_channels to ${cin}, or to "auto".`, { param: 'in_channels', value: cin });
  if (cin % groups !== 0 || cout % groups !== 0)
    return fail(`groups=${groups} must divide both in_channels=${cin} and out_channels=${cout}`, `Use a groups value that divides ${cin} and ${cout} (1 always works).`, { param: 'groups', value: 1 });
  let ph0: number, ph1: number, pw0: number, pw1: number;
  if (padding === 'same') {
    if (s[0] !== 1 || s[1] !== 1) return fail('padding="same" is not supported for strided convolutions (as in PyTorch)', 'Use stride 1, or give the padding as a number.');
    const th = d[0] * (k[0] - 1), tw = d[1] * (k[1] - 1);
    [ph0, ph1, pw0, pw1] = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  } else if (padding === 'valid') {
    [ph0, ph1, pw0, pw1] = [0, 0, 0, 0];
  } else {
    const [ph, pw] = pair(padding);
    [ph0, ph1, pw0, pw1] = [ph, ph, pw, pw];
  }
  const effH = d[0] * (k[0] - 1) + 1, effW = d[1] * (k[1] - 1) + 1;
  const padH = h + ph0 + ph1, padW = w + pw0 + pw1;
  if (effH > padH || effW > padW) {
    const kText = oneD ? `${k[1]}` : `${k[0]}x${k[1]}`;
    const eText = oneD ? `${effW}` : `${effH}x${effW}`;
    const pText = oneD ? `${padW}` : `${padH}x${padW}`;
    return fail(`kernel ${kText}${effH !== k[0] || effW !== k[1] ? ` (dilated: ${eText})` : ''} is larger than the padded input ${pText}`,
      'Lower kernel_size or dilation, add padding, or remove a pooling layer before this one.');
  }
  const ho = Math.floor((padH - effH) / s[0]) + 1;
  const wo = Math.floor((padW - effW) / s[1]) + 1;
  const geom: ConvGeometry = { cin, h, w, cout, kh: k[0], kw: k[1], sh: s[0], sw: s[1], ph0, ph1, pw0, pw1, dh: d[0], dw: d[1], groups, ho, wo };
  return ok(oneD ? [cout, wo] : [cout, ho, wo], { in_channels: cin, _conv: geom });
}

const convParams = (padding: z.ZodType) =>
  z
    .object({
      in_channels: channels.default('auto'),
      out_channels: positiveInt,
      kernel_size: intPair(1),
      stride: intPair(1).default(1),
      padding: padding.default(0),
      dilation: intPair(1).default(1),
      groups: positiveInt.default(1),
      bias: z.boolean().default(true),
      padding_mode: z.literal('zeros').default('zeros'),
    })
    .strict();

const convDocs = {
  in_channels: 'channels of the input; "auto" infers them',
  out_channels: 'channels produced (number of filters)',
  kernel_size: 'size of the filter: n or [height, width]',
  stride: 'step between filter positions',
  padding: 'zeros added on each side: n, [h, w], "valid" (none) or "same" (output size = input size, stride 1)',
  dilation: 'spacing between filter taps',
  groups: 'split channels into this many independent groups (must divide both channel counts)',
  bias: 'learn an additive bias per output channel',
  padding_mode: 'only "zeros" is supported',
};

export const Conv2d: LayerSpec = {
  type: 'Conv2d',
  group: 'Convolution',
  doc: 'nn.Conv2d: 2-D convolution over [channels, height, width] inputs.',
  paramDocs: convDocs,
  params: convParams(z.union([intPair(0), z.literal('same'), z.literal('valid')])),
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer(p, [inp], ctx) {
    if (inp.length !== 3) return fail(`expects an image input [batch, channels, height, width] but receives ${ctx.fmt(inp)}`, inp.length === 1 ? 'Remove the Flatten before it, or use a Linear layer here.' : 'Reshape the input to [channels, height, width].');
    return convForward(p, inp[0], inp[1], inp[2], pair(p.kernel_size), pair(p.stride), pair(p.dilation), p.padding, ctx, inp, false);
  },
  tensors(p, [inp]) {
    const [kh, kw] = pair(p.kernel_size);
    const cinG = inp[0] / (p.groups as number);
    return defaultInit([p.out_channels as number, cinG, kh, kw], cinG * kh * kw, p.bias as boolean);
  },
};

export const Conv1d: LayerSpec = {
  type: 'Conv1d',
  group: 'Convolution',
  doc: 'nn.Conv1d: 1-D convolution over [channels, length] inputs.',
  paramDocs: convDocs,
  params: convParams(z.union([z.number().int().min(0), z.literal('same'), z.literal('valid')])).extend({
    kernel_size: positiveInt,
    stride: positiveInt.default(1),
    dilation: positiveInt.default(1),
  }),
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer(p, [inp], ctx) {
    if (inp.length !== 2) return fail(`expects a sequence input [batch, channels, length] but receives ${ctx.fmt(inp)}`, 'Reshape the input to [channels, length].');
    const pad = typeof p.padding === 'number' ? [0, p.padding] : p.padding;
    return convForward(p, inp[0], 1, inp[1], [1, p.kernel_size as number], [1, p.stride as number], [1, p.dilation as number], pad, ctx, inp, true);
  },
  tensors(p, [inp]) {
    const cinG = inp[0] / (p.groups as number);
    const k = p.kernel_size as number;
    return defaultInit([p.out_channels as number, cinG, k], cinG * k, p.bias as boolean);
  },
};

export const ConvTranspose2d: LayerSpec = {
  type: 'ConvTranspose2d',
  group: 'Convolution',
  doc: 'nn.ConvTranspose2d: the gradient of a Conv2d, used to upsample (decoders, GANs).',
  paramDocs: { ...convDocs, padding: 'dilation*(kernel_size-1)-padding zeros are added to the input', output_padding: 'extra size added to one side of the output (must be smaller than stride or dilation)' },
  params: z
    .object({
      in_channels: channels.default('auto'),
      out_channels: positiveInt,
      kernel_size: intPair(1),
      stride: intPair(1).default(1),
      padding: intPair(0).default(0),
      output_padding: intPair(0).default(0),
      groups: positiveInt.default(1),
      bias: z.boolean().default(true),
      dilation: intPair(1).default(1),
      padding_mode: z.literal('zeros').default('zeros'),
    })
    .strict(),
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer(p, [inp], ctx) {
    if (inp.length !== 3) return fail(`expects an image input [batch, channels, height, width] but receives ${ctx.fmt(inp)}`, 'Reshape the input to [channels, height, width].');
    const [cin, h, w] = inp;
    const cout = p.out_channels as number, groups = p.groups as number;
    if (p.in_channels !== 'auto' && p.in_channels !== cin)
      return fail(`in_channels is ${p.in_channels} but the input ${ctx.fmt(inp)} has ${cin} channels`, `Set in_channels to ${cin}, or to "auto".`, { param: 'in_channels', value: cin });
    if (cin % groups !== 0 || cout % groups !== 0)
      return fail(`groups=${groups} must divide both in_channels=${cin} and out_channels=${cout}`, 'Use a groups value that divides both (1 always works).', { param: 'groups', value: 1 });
    const [kh, kw] = pair(p.kernel_size), [sh, sw] = pair(p.stride), [ph, pw] = pair(p.padding), [oh, ow] = pair(p.output_padding), [dh, dw] = pair(p.dilation);
    if (oh >= Math.max(sh, dh) || ow >= Math.max(sw, dw))
      return fail(`output_padding ${oh}x${ow} must be smaller than stride or dilation`, 'Lower output_padding (it only resolves the ambiguity of strided output sizes).', { param: 'output_padding', value: 0 });
    const ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1;
    const wo = (w - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1;
    if (ho <= 0 || wo <= 0) return fail(`padding ${ph}x${pw} leaves no output (size ${ho}x${wo})`, 'Lower the padding.');
    const geom: ConvGeometry = { cin, h, w, cout, kh, kw, sh, sw, ph0: ph, ph1: ph, pw0: pw, pw1: pw, dh, dw, groups, ho, wo };
    return ok([cout, ho, wo], { in_channels: cin, _conv: geom });
  },
  tensors(p, [inp]) {
    const [kh, kw] = pair(p.kernel_size);
    const coutG = (p.out_channels as number) / (p.groups as number);
    // torch computes fan_in from weight.size(1) * receptive field, i.e. out_channels/groups * kh * kw
    const fanIn = coutG * kh * kw;
    const t = defaultInit([inp[0], coutG, kh, kw], fanIn, false);
    if (p.bias) t.push({ key: 'bias', shape: [p.out_channels as number], init: { kind: 'uniform', bound: 1 / Math.sqrt(fanIn) } });
    return t;
  },
};
