/**
 * Losses. Class losses (CrossEntropyLoss, NLLLoss) take the dataset's class labels as targets.
 * Point losses compare with a tensor: connect a second input (e.g. the flattened image, for an
 * autoencoder), or leave it open to use the labels one-hot encoded (F.one_hot(y, C).float()).
 */
import { z } from 'zod';
import { fail, float32, ok, type LayerSpec } from './types.js';

const reduction = z.enum(['mean', 'sum']).default('mean');
const reductionDoc = 'how per-sample losses combine: "mean" or "sum"';

function classLoss(type: string, doc: string, extra: z.ZodRawShape, extraDocs: Record<string, string>): LayerSpec {
  return {
    type,
    group: 'Loss',
    doc,
    paramDocs: {
      weight: 'optional weight per class (a list of C numbers)',
      ignore_index: 'samples with this label are left out',
      reduction: reductionDoc,
      ...extraDocs,
    },
    params: z
      .object({ weight: z.array(z.number().min(0)).nullable().default(null), ignore_index: z.number().int().default(-100), reduction, ...extra })
      .strict(),
    arity: { min: 1, max: 1 },
    ports: ['input'],
    isLoss: true,
    lossKind: 'class',
    infer(p, [inp], { fmt }) {
      if (inp.length !== 1) return fail(`expects class scores [batch, classes] but receives ${fmt(inp)}`, 'Feed it a Linear layer with out_features = number of classes.');
      const w = p.weight as number[] | null;
      if (w && w.length !== inp[0])
        return fail(`weight has ${w.length} entries but the input has ${inp[0]} classes`, `Give one weight per class (${inp[0]}), or none.`);
      return ok([]);
    },
  };
}

export const CrossEntropyLoss = classLoss(
  'CrossEntropyLoss',
  'nn.CrossEntropyLoss: softmax + negative log-likelihood of the target class. Targets are the dataset labels.',
  { label_smoothing: z.number().min(0).max(1).default(0) },
  { label_smoothing: 'mix the one-hot target with a uniform distribution (0 = off)' },
);
export const NLLLoss = classLoss('NLLLoss', 'nn.NLLLoss: negative log-likelihood of the target class, on log-probabilities (after LogSoftmax).', {}, {});

function pointLoss(type: string, doc: string, extra: z.ZodRawShape = {}, extraDocs: Record<string, string> = {}): LayerSpec {
  return {
    type,
    group: 'Loss',
    doc,
    paramDocs: { reduction: reductionDoc, ...extraDocs },
    params: z.object({ reduction, ...extra }).strict(),
    arity: { min: 1, max: 2 },
    ports: ['input', 'target'],
    isLoss: true,
    lossKind: 'point',
    infer(_p, [inp, target], { fmt }) {
      if (target && (target.length !== inp.length || target.some((d, i) => d !== inp[i])))
        return fail(`input ${fmt(inp)} and target ${fmt(target)} have different shapes`, 'Connect a target with the same shape as the prediction (PyTorch would broadcast and warn).');
      if (!target && inp.length !== 1)
        return fail(`without a target input the labels are one-hot encoded, which needs a [batch, classes] input, not ${fmt(inp)}`, 'Connect the target input, or flatten the prediction.');
      return ok([]);
    },
  };
}

export const MSELoss = pointLoss('MSELoss', 'nn.MSELoss: mean squared error.');
export const L1Loss = pointLoss('L1Loss', 'nn.L1Loss: mean absolute error.');
export const SmoothL1Loss = pointLoss('SmoothL1Loss', 'nn.SmoothL1Loss: squared below beta, absolute above.', { beta: float32(z.number().min(0)).default(1.0) }, { beta: 'where the loss switches from squared to absolute' });
export const BCEWithLogitsLoss = pointLoss('BCEWithLogitsLoss', 'nn.BCEWithLogitsLoss: sigmoid + binary cross-entropy, computed stably. Targets in [0, 1].');
