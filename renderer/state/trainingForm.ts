/**
 * The Training panel's fields as data (pure): FieldSpecs (panels/paramSchema.ts) for the training
 * section's own keys, and the optimizer / scheduler forms the engine sends (trainingSchema), split
 * into the parameters shown at once and those behind "more".
 */
import type { ParamsFormDto } from '../../engine/host/api';
import { fieldSpecs, type FieldSpec } from '../panels/paramSchema';

const spec = (name: string, rest: Partial<FieldSpec>): FieldSpec => ({
  name, required: false, default: undefined, hasDefault: true, boolean: false, enumValues: null, consts: [], nullable: false, ...rest,
});

/** TrainingSchema's scalar keys as fields (bounds and defaults as engine/graph/document.ts has them). */
export const TRAINING_FIELDS = {
  epochs: spec('epochs', { default: 5, number: { integer: true, exclusiveMin: 0 } }),
  batch_size: spec('batch_size', { default: 64, number: { integer: true, exclusiveMin: 0 } }),
  seed: spec('seed', { default: 0, number: { integer: true, min: 0 } }),
  /** empty: off (null) */
  clip_grad_norm: spec('clip_grad_norm', { default: null, nullable: true, number: { integer: false, exclusiveMin: 0 } }),
} as const;

export interface FormSpecs {
  primary: FieldSpec[];
  more: FieldSpec[];
}

/** A form's fields: `primary` in the order the engine gives, the rest behind "more". SequentialLR's child list is edited apart. */
export function formSpecs(form: ParamsFormDto | undefined): FormSpecs {
  if (!form) return { primary: [], more: [] };
  const all = fieldSpecs(form.schema).filter((f) => f.name !== 'schedulers');
  const primary = form.primary.map((n) => all.find((f) => f.name === n)).filter((f): f is FieldSpec => !!f);
  return { primary, more: all.filter((f) => !primary.includes(f)) };
}

/** torch's default stepping of each scheduler type (SchedulerSchema's `interval` defaults). */
export const defaultInterval = (type: string): 'epoch' | 'step' => (type === 'OneCycleLR' ? 'step' : 'epoch');

/** The types a SequentialLR may chain (no nesting). */
export const childTypes = (forms: readonly ParamsFormDto[]) => forms.filter((f) => f.type !== 'SequentialLR').map((f) => f.type);
