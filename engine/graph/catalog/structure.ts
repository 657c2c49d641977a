/** Structure: Flatten, Reshape/View, Identity (views, no copy), Add (residual), Concat. */
import { z } from 'zod';
import { fail, numel, ok, type LayerSpec } from './types.js';

export const Flatten: LayerSpec = {
  type: 'Flatten',
  group: 'Structure',
  doc: 'nn.Flatten: flattens dimensions start_dim..end_dim into one (a view, no copy).',
  paramDocs: {
    start_dim: 'first dimension to flatten (1 = the first after the batch dimension)',
    end_dim: 'last dimension to flatten (-1 = the last)',
  },
  params: z.object({ start_dim: z.number().int().default(1), end_dim: z.number().int().default(-1) }).strict(),
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer(p, [inp]) {
    // Dimensions count the batch like PyTorch does: the full shape is [N, ...inp].
    const rank = inp.length + 1;
    const norm = (d: number) => (d < 0 ? d + rank : d);
    const s = norm(p.start_dim as number);
    const e = norm(p.end_dim as number);
    if (s < 0 || s >= rank || e < 0 || e >= rank || s > e)
      return fail(`start_dim ${p.start_dim} / end_dim ${p.end_dim} do not fit an input of ${rank} dimensions`, 'Use start_dim=1, end_dim=-1 to flatten everything but the batch.');
    if (s === 0) return fail('flattening the batch dimension (start_dim=0) is not supported', 'Use start_dim=1.', { param: 'start_dim', value: 1 });
    const full = [0, ...inp];
    return ok([...full.slice(1, s), numel(full.slice(s, e + 1)), ...full.slice(e + 1)]);
  },
};

export const Reshape: LayerSpec = {
  type: 'Reshape',
  group: 'Structure',
  doc: 'Tensor.view / reshape: gives each sample a new shape with the same number of elements (a view, no copy).',
  paramDocs: { shape: 'new shape of one sample, without the batch dimension; one entry may be -1 (inferred)' },
  params: z.object({ shape: z.array(z.number().int().refine((v) => v === -1 || v > 0, 'entries must be positive or -1')).min(1) }).strict(),
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer(p, [inp], { fmt }) {
    const shape = p.shape as number[];
    const n = numel(inp);
    const free = shape.filter((d) => d === -1).length;
    if (free > 1) return fail('only one dimension of shape may be -1', 'Give all but one dimension explicitly.');
    const known = numel(shape.filter((d) => d !== -1));
    const out = free ? shape.map((d) => (d === -1 ? n / known : d)) : shape;
    if (out.some((d) => !Number.isInteger(d) || d <= 0) || numel(out) !== n)
      return fail(`cannot view ${fmt(inp)} (${n} values per sample) as [batch, ${shape.join(', ')}]`, `Choose a shape whose sizes multiply to ${n}.`);
    return ok(out);
  },
};

export const Identity: LayerSpec = {
  type: 'Identity',
  group: 'Structure',
  doc: 'nn.Identity: passes its input through unchanged (a placeholder, or a named tap point).',
  paramDocs: {},
  params: z.object({}).strict(),
  arity: { min: 1, max: 1 },
  ports: ['input'],
  infer: (_p, [inp]) => ok(inp),
};

export const Add: LayerSpec = {
  type: 'Add',
  group: 'Structure',
  doc: 'Elementwise sum of its inputs (x + y): the join of a residual connection. Inputs must have the same shape.',
  paramDocs: {},
  params: z.object({}).strict(),
  arity: { min: 2, max: 8 },
  ports: ['input'],
  infer(_p, inputs, { fmt }) {
    const first = inputs[0];
    for (const other of inputs.slice(1))
      if (other.length !== first.length || other.some((d, i) => d !== first[i]))
        return fail(`input shapes ${fmt(first)} and ${fmt(other)} differ`, 'Make both branches produce the same shape: e.g. a 1x1 Conv2d with stride on the skip path to match channels and size.');
    return ok(first);
  },
};

export const Concat: LayerSpec = {
  type: 'Concat',
  group: 'Structure',
  doc: 'torch.cat: joins its inputs along dim, in the order they are connected. Other dimensions must agree.',
  paramDocs: { dim: 'dimension to join along (counting the batch as 0; 1 = channels or features)' },
  params: z.object({ dim: z.number().int().default(1) }).strict(),
  arity: { min: 2, max: 8 },
  ports: ['input'],
  infer(p, inputs, { fmt }) {
    const rank = inputs[0].length + 1;
    const d = (p.dim as number) < 0 ? (p.dim as number) + rank : (p.dim as number);
    if (d < 1 || d >= rank) return fail(`dim ${p.dim} does not fit inputs of shape ${fmt(inputs[0])}`, 'Use dim=1 (channels or features).', { param: 'dim', value: 1 });
    const axis = d - 1;
    const first = inputs[0];
    for (const other of inputs.slice(1))
      if (other.length !== first.length || other.some((v, i) => i !== axis && v !== first[i]))
        return fail(`cannot concatenate ${fmt(first)} and ${fmt(other)} along dim ${d}: the other dimensions differ`, 'Make the inputs agree in every dimension except the one joined.');
    const out = [...first];
    out[axis] = inputs.reduce((s, x) => s + x[axis], 0);
    return ok(out, { _axis: axis });
  },
};
