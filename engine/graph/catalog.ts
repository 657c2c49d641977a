/**
 * The layer catalog: every layer Netloom knows, with PyTorch's names, parameters, defaults and
 * initialisation, and the rule that gives its output shape from its input shapes. One file per
 * family under catalog/; this module is the index.
 */
import { Input } from './catalog/input.js';
import { Linear } from './catalog/linear.js';
import { Conv1d, Conv2d, ConvTranspose2d } from './catalog/conv.js';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from './catalog/pool.js';
import { BatchNorm1d, BatchNorm2d, LayerNorm } from './catalog/norm.js';
import { ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh } from './catalog/activation.js';
import { Dropout } from './catalog/dropout.js';
import { Add, Concat, Flatten, Identity, Reshape } from './catalog/structure.js';
import { BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss } from './catalog/loss.js';
import type { LayerSpec, Shape } from './catalog/types.js';

export type { InitSpec, LayerGroup, LayerSpec, ParamTensor, Shape, ShapeCtx, ShapeResult } from './catalog/types.js';

export const CATALOG: ReadonlyMap<string, LayerSpec> = new Map(
  [
    Input,
    Linear,
    Conv2d, Conv1d, ConvTranspose2d,
    MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
    BatchNorm1d, BatchNorm2d, LayerNorm,
    ReLU, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softmax, LogSoftmax,
    Dropout,
    Flatten, Reshape, Identity, Add, Concat,
    CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, BCEWithLogitsLoss,
  ].map((s) => [s.type, s]),
);

export function layerSpec(type: string): LayerSpec | undefined {
  return CATALOG.get(type);
}

/** A per-sample shape with the batch in front, as PyTorch prints sizes: [64,1,28,28] or [N,784]. */
export function fmtShape(s: Shape, batch?: number): string {
  return `[${[batch ?? 'N', ...s].join(',')}]`;
}
