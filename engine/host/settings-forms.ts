/**
 * Training settings as forms (ParamsFormDto): one per optimizer and scheduler type, with the
 * parameters shown first, built from the schemas the project file is checked with.
 */
import { z } from 'zod';
import type { ParamsFormDto } from '../contract/api.js';
import { OPTIMIZERS, OPTIMIZER_TYPES } from '../contract/optimizers.js';
import { SCHEDULER_PRIMARY } from '../contract/schedulers.js';

/** Parameters shown first for each optimizer / scheduler type; the others go behind "more". */
const PRIMARY_PARAMS: Readonly<Record<string, readonly string[]>> = {
  ...Object.fromEntries(OPTIMIZER_TYPES.map((t) => [t, OPTIMIZERS[t].primary])),
  ...SCHEDULER_PRIMARY,
};

/**
 * One form per type of a discriminated union of parameter objects (OptimizerSchema, SchedulerSchema):
 * the JSON Schema of each branch as the user types it, without `type` (the form's select) and, for
 * schedulers, `interval` (a control of its own). A branch whose `type` is an enum (Adam / AdamW) gives one form per value.
 */
export function paramForms(options: readonly z.ZodType[]): ParamsFormDto[] {
  const out: ParamsFormDto[] = [];
  for (const option of options) {
    const schema = z.toJSONSchema(option, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    const props = { ...(schema.properties as Record<string, Record<string, unknown>>) };
    const typeProp = props.type ?? {};
    const types = typeof typeProp.const === 'string' ? [typeProp.const] : Array.isArray(typeProp.enum) ? (typeProp.enum as string[]) : [];
    delete props.type;
    delete props.interval;
    const required = Array.isArray(schema.required) ? (schema.required as string[]).filter((k) => k !== 'type' && k !== 'interval') : [];
    for (const type of types)
      out.push({ type, schema: { ...schema, properties: props, required }, primary: [...(PRIMARY_PARAMS[type] ?? Object.keys(props).slice(0, 2))] });
  }
  return out;
}
