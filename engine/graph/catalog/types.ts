/**
 * The types every catalog entry shares. Shapes are per sample (the batch dimension is implicit);
 * messages print them with the batch in front through ShapeCtx.fmt, e.g. [64,32,14,14].
 */
import { z } from 'zod';
import { FLOAT32_MAX } from '../../contract/settings.js';

export type Shape = readonly number[];

export type LayerGroup =
  | 'Input & data'
  | 'Linear'
  | 'Convolution'
  | 'Pooling'
  | 'Normalization'
  | 'Activation'
  | 'Dropout'
  | 'Structure'
  | 'Loss';

/** How a tensor is initialised (PyTorch's reset_parameters()). */
export type InitSpec =
  | { kind: 'kaiming_uniform'; a: number; fanIn: number } // bound = gain(a) * sqrt(3 / fan_in)
  | { kind: 'uniform'; bound: number }
  | { kind: 'ones' }
  | { kind: 'zeros' };

export interface ParamTensor {
  /** state-dict suffix: "weight", "bias", "running_mean" */
  readonly key: string;
  readonly shape: Shape;
  readonly init: InitSpec;
  /** 'param' is learnable (has a gradient, the optimizer updates it); 'buffer' is state (BatchNorm's running stats) */
  readonly kind?: 'param' | 'buffer';
  /** i64 only for num_batches_tracked, which torch stores as int64 */
  readonly dtype?: 'f32' | 'i64';
}

export type ShapeResult =
  | { ok: true; shape: Shape; resolved?: Record<string, unknown> }
  | { ok: false; message: string; hint: string; fix?: { param: string; value: unknown } };

export interface ShapeCtx {
  /** shape with the batch dimension in front: [64,784] (or [N,784] when the batch is unknown) */
  fmt(s: Shape): string;
}

export interface LayerSpec {
  readonly type: string;
  readonly group: LayerGroup;
  readonly doc: string;
  readonly paramDocs: Readonly<Record<string, string>>;
  /** zod schema with PyTorch defaults; parse() yields the full parameter set */
  readonly params: z.ZodType<Record<string, unknown>>;
  /** how many inputs connect (Input: 0; most layers 1; Add/Concat several; point losses 1 or 2) */
  readonly arity: { readonly min: number; readonly max: number };
  /** names of the input ports, for messages and the canvas (the last repeats for variadic nodes) */
  readonly ports: readonly string[];
  readonly isLoss?: boolean;
  /** 'class': targets are class indices (accuracy is meaningful); 'point': targets are tensors */
  readonly lossKind?: 'class' | 'point';
  infer(params: Record<string, unknown>, inputs: Shape[], ctx: ShapeCtx): ShapeResult;
  tensors?(params: Record<string, unknown>, inputs: Shape[]): ParamTensor[];
}

export const positiveInt = z.number().int().positive();

/**
 * A real parameter the kernels receive as float32 (a slope, an eps): beyond ±3.4e38 it is infinity
 * there, which the native program check would report as "alpha is not a finite number" with no
 * node or parameter name. Refused here instead, where the issue names both.
 */
export const float32 = (s: z.ZodNumber = z.number()) => {
  const error = (iss: { input?: unknown }) => `must be a finite float32 number, between -3.4e38 and 3.4e38 (got ${String(iss.input).replace('e+', 'e')})`;
  return s.min(-FLOAT32_MAX, { error }).max(FLOAT32_MAX, { error });
};
export const nonNegInt = z.number().int().min(0);
/** torch's `int or (int, int)` */
export const intPair = (min: number) => z.union([z.number().int().min(min), z.tuple([z.number().int().min(min), z.number().int().min(min)])]);
export const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [v as number, v as number]);

export const numel = (s: Shape) => s.reduce((a, b) => a * b, 1);
export const fail = (message: string, hint: string, fix?: { param: string; value: unknown }): ShapeResult => ({ ok: false, message, hint, fix });
export const ok = (shape: Shape, resolved?: Record<string, unknown>): ShapeResult => ({ ok: true, shape, resolved });

/** nn.Linear / nn.ConvNd default init for a weight of fan-in `fanIn` and its bias. */
export function defaultInit(weightShape: Shape, fanIn: number, bias: boolean): ParamTensor[] {
  const t: ParamTensor[] = [{ key: 'weight', shape: weightShape, init: { kind: 'kaiming_uniform', a: Math.sqrt(5), fanIn } }];
  if (bias) t.push({ key: 'bias', shape: [weightShape[0]], init: { kind: 'uniform', bound: fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0 } });
  return t;
}
