/**
 * The layer catalog as the API sends it (LayerDto): each layer's documentation, the JSON Schema of
 * its parameters as the user types them, and the parameters a new node starts with.
 */
import { z } from 'zod';
import { NetloomError } from '../errors.js';
import type { LayerSpec } from '../graph/catalog.js';
import type { LayerDto } from '../contract/api.js';

/** Values for required parameters of a new node (PyTorch has no default for these). */
const REQUIRED_START: Readonly<Record<string, unknown>> = {
  out_features: 64,
  out_channels: 64,
  kernel_size: 3,
  output_size: 1,
  shape: [-1],
};
/** Per-layer exceptions: pooling windows start at 2 (MaxPool2d(2), as in most CNNs). */
const REQUIRED_START_BY_TYPE: Readonly<Record<string, Record<string, unknown>>> = {
  MaxPool2d: { kernel_size: 2 },
  AvgPool2d: { kernel_size: 2 },
};

/** The parameters a new node starts with: PyTorch's defaults plus a value for each required one. */
export function layerDefaults(spec: LayerSpec): Record<string, unknown> {
  const seed: Record<string, unknown> = {};
  const first = spec.params.safeParse({});
  if (first.success) return first.data;
  for (const issue of first.error.issues) {
    const key = issue.path[0];
    if (typeof key !== 'string') continue;
    const v = REQUIRED_START_BY_TYPE[spec.type]?.[key] ?? REQUIRED_START[key];
    if (v !== undefined) seed[key] = v;
  }
  const r = spec.params.safeParse(seed);
  if (!r.success)
    throw new NetloomError('NL_INTERNAL', `no starting parameters for ${spec.type}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      'Add a value for the required parameter to REQUIRED_START in engine/host/catalog-dto.ts.');
  return r.data;
}

/** JSON Schema of a layer's parameters (as the user types them), with each paramDoc as the description. */
export function layerParamsSchema(spec: LayerSpec): Record<string, unknown> {
  const schema = z.toJSONSchema(spec.params, { io: 'input' }) as Record<string, unknown>;
  const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (props)
    for (const [key, doc] of Object.entries(spec.paramDocs))
      if (props[key] && typeof props[key] === 'object') props[key] = { description: doc, ...props[key] };
  return schema;
}

export function layerDto(spec: LayerSpec): LayerDto {
  return {
    type: spec.type,
    group: spec.group,
    doc: spec.doc,
    paramDocs: { ...spec.paramDocs },
    paramsSchema: layerParamsSchema(spec),
    defaults: layerDefaults(spec),
    arity: { min: spec.arity.min, max: spec.arity.max },
    ports: [...spec.ports],
    isLoss: spec.isLoss ?? false,
  };
}
