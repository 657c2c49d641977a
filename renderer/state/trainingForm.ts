/**
 * The Training panel's fields as data (pure): FieldSpecs (panels/paramSchema.ts) for the training
 * section's own keys, and the optimizer / scheduler forms the engine sends (trainingSchema), split
 * into the parameters shown at once and those behind "more".
 */
import type { ParamsFormDto } from '../../engine/contract/api';
import { DEFAULT_INTERVAL } from '../../engine/contract/schedulers';
import { RUN_DEFAULTS, SETTINGS, type SettingName } from '../../engine/contract/settings';
import { fieldSpecs, type FieldSpec, type NumberSpec } from '../panels/paramSchema';

const spec = (name: string, rest: Partial<FieldSpec>): FieldSpec => ({
  name, required: false, default: undefined, hasDefault: true, boolean: false, enumValues: null, consts: [], nullable: false, ...rest,
});

/** A setting's bounds as the engine declares them (engine/contract/settings.ts). */
function bounds(name: SettingName): NumberSpec {
  const r: { min: number; max: number; minExclusive?: boolean; maxExclusive?: boolean; integer?: boolean } = SETTINGS[name];
  return { integer: r.integer === true, ...(r.minExclusive ? { exclusiveMin: r.min } : { min: r.min }), ...(r.maxExclusive ? { exclusiveMax: r.max } : { max: r.max }) };
}

/** TrainingSchema's scalar keys as fields (defaults and bounds as the contract declares them). */
export const TRAINING_FIELDS = {
  epochs: spec('epochs', { default: RUN_DEFAULTS.epochs, number: bounds('epochs') }),
  batch_size: spec('batch_size', { default: RUN_DEFAULTS.batch_size, number: bounds('batch_size') }),
  seed: spec('seed', { default: RUN_DEFAULTS.seed, number: bounds('seed') }),
  /** empty: off (null) */
  clip_grad_norm: spec('clip_grad_norm', { default: RUN_DEFAULTS.clip_grad_norm, nullable: true, number: bounds('clip_grad_norm') }),
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

/** torch's default stepping of each scheduler type (SchedulerSchema's `interval` defaults); 'epoch' for one the contract does not know. */
export const defaultInterval = (type: string): 'epoch' | 'step' => (Object.hasOwn(DEFAULT_INTERVAL, type) ? DEFAULT_INTERVAL[type as keyof typeof DEFAULT_INTERVAL] : 'epoch');

/** The types a SequentialLR may chain (no nesting). */
export const childTypes = (forms: readonly ParamsFormDto[]) => forms.filter((f) => f.type !== 'SequentialLR').map((f) => f.type);
